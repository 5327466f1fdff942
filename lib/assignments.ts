/**
 * The operations of the assignments resource and of the configuration's `assign` action. Each one reads its input,
 * validates it completely, and only then touches the store; nothing is written for a request that is refused.
 */
import { randomUUID } from 'node:crypto';

import { readJsonBody } from './body.js';
import { badRequest, GraphError, type GraphErrorDetail, notFound } from './errors.js';
import type { Operation, OperationCall } from './http.js';
import { idempotencyKeyOf, keyedAssignmentId, requestHash } from './idempotency.js';
import {
    actionResultContext,
    type Assignment,
    assignmentResource,
    assignmentsPath,
    assignmentUrl,
    collectionContext,
    entityContext,
} from './odata.js';
import { prefersRepresentation } from './prefer.js';
import {
    encodeSkipToken,
    nextPageQuery,
    parseCollectionOptions,
    parseEntityOptions,
    PROCESS_SKIPTOKEN_KEY,
} from './queryOptions.js';
import { type AssignmentTarget, bareTypeName, GUID_PATTERN } from './schema.js';
import { MAX_SET_CHANGES, type StoredAssignment, StoreError } from './store.js';
import { type BodyKind, validateBody } from './validation.js';

export const MAX_CONFIGURATION_ID_LENGTH = 128;
const GUID = new RegExp(GUID_PATTERN);

/** The contract's rule for `{configurationId}`: it becomes a partition key value and a URL segment. */
export function checkConfigurationId(value: string | undefined): string {
    const id = value ?? '';
    const problem =
        id.length === 0 || id.length > MAX_CONFIGURATION_ID_LENGTH
            ? `must have 1 to ${MAX_CONFIGURATION_ID_LENGTH} characters`
            : /[/\\?#\p{Cc}]/u.test(id)
              ? 'must not contain / \\ ? # or control characters'
              : id.trim() !== id
                ? 'must not begin or end with white space'
                : undefined;
    if (problem) {
        throw badRequest(`The configuration id ${problem}.`, [
            {
                code: 'InvalidValue',
                message: `The configuration id ${problem}.`,
                target: 'officeClientConfigurationId',
            },
        ]);
    }
    return id;
}

/** Assignment ids are GUIDs the service made; any other value names no assignment. */
function assignmentIdOf(call: OperationCall): string {
    const id = call.params.assignmentId ?? '';
    if (id.startsWith('$')) {
        // An OData path segment such as `$count` or `$ref`, which this service does not implement.
        throw badRequest(`The path segment '${id}' is not supported on this resource.`);
    }
    if (!GUID.test(id)) {
        throw notFound(`No assignment with id '${id}' exists.`);
    }
    return id.toLowerCase();
}

async function validBody<T>(call: OperationCall, kind: BodyKind): Promise<T> {
    const body = await readJsonBody(call.request);
    const result = validateBody(kind, body);
    if (!result.valid) {
        const [first] = result.details;
        const more = result.details.length > 1 ? ` (and ${result.details.length - 1} more, see details)` : '';
        throw badRequest(
            `Invalid request body: ${first?.message ?? 'it does not match the schema.'}${more}`,
            result.details,
        );
    }
    return body as T;
}

/** The target as stored and returned: its type and properties as sent, annotations other than the type dropped. */
function storedTarget(target: AssignmentTarget): AssignmentTarget {
    return Object.fromEntries(
        Object.entries(target).filter(([name]) => name === '@odata.type' || !name.includes('@')),
    ) as AssignmentTarget;
}

function entityHeaders(stored: StoredAssignment): Record<string, string> {
    return { ETag: stored.etag };
}

/** `If-Match`: one ETag or `*`; the quotes are optional on input, as several clients drop them. */
function ifMatchOf(call: OperationCall): string | undefined {
    const value = call.request.headers.get('if-match')?.trim();
    if (value === undefined || value === '') {
        return undefined;
    }
    if (value === '*') {
        return '*';
    }
    if (value.includes(',')) {
        throw badRequest('If-Match must carry a single ETag or *.');
    }
    // A weak tag stays weak, so it never equals a stored (strong) ETag: If-Match compares strongly (RFC 9110).
    if (value.startsWith('W/')) {
        return value;
    }
    return value.startsWith('"') ? value : `"${value}"`;
}

function wantsRepresentation(call: OperationCall): boolean {
    return prefersRepresentation(call.request.headers.get('prefer'));
}

function created(call: OperationCall, configurationId: string, stored: StoredAssignment, replayed = false) {
    return {
        status: 201,
        body: { '@odata.context': entityContext(call.root, configurationId), ...assignmentResource(stored) },
        headers: {
            ...entityHeaders(stored),
            Location: assignmentUrl(call.root, configurationId, stored.id),
            ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
    };
}

export const createAssignment: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const key = idempotencyKeyOf(call.request.headers.get('idempotency-key'));
    const body = await validBody<{ target: AssignmentTarget }>(call, 'create');
    const target = storedTarget(body.target);
    const { store } = call.services;
    if (key === undefined) {
        return created(call, configurationId, await store.create(configurationId, { id: randomUUID(), target }));
    }
    const id = keyedAssignmentId(configurationId, key);
    // The hash covers what the request asks to store, not what is ignored (`id`, annotations, spacing).
    const outcome = await store.createOnce(configurationId, { id, target }, requestHash(target));
    if (!outcome.sameRequest) {
        throw new GraphError(
            'UnprocessableEntity',
            'The Idempotency-Key was already used for a different request body; use a new key for a new request.',
        );
    }
    return created(call, configurationId, outcome.stored, outcome.replayed);
};

export const listAssignments: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const skipTokenKey = call.services.skipTokenKey ?? PROCESS_SKIPTOKEN_KEY;
    const options = parseCollectionOptions(call.query, configurationId, skipTokenKey);
    const { store } = call.services;
    const [page, count] = await Promise.all([
        store.list(configurationId, {
            top: options.top,
            ...(options.continuation ? { continuation: options.continuation } : {}),
        }),
        options.count ? store.count(configurationId) : Promise.resolve(undefined),
    ]);
    const next = page.continuation
        ? `${call.root}/${assignmentsPath(configurationId)}?${nextPageQuery(options, encodeSkipToken(skipTokenKey, configurationId, page.continuation))}`
        : undefined;
    return {
        status: 200,
        body: {
            '@odata.context': collectionContext(call.root, configurationId, options.select),
            ...(count !== undefined ? { '@odata.count': count } : {}),
            ...(next ? { '@odata.nextLink': next } : {}),
            value: page.items.map((a) => assignmentResource(a, options.select)),
        },
    };
};

export const getAssignment: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const { select } = parseEntityOptions(call.query);
    const id = assignmentIdOf(call);
    const stored = await call.services.store.get(configurationId, id);
    if (!stored) {
        throw notFound(`No assignment with id '${id}' exists.`);
    }
    return {
        status: 200,
        body: {
            '@odata.context': entityContext(call.root, configurationId, select),
            ...assignmentResource(stored, select),
        },
        headers: entityHeaders(stored),
    };
};

/** Cosmos answers 404 for a missing item and 412 for a stale ETag; both become the client's answer unchanged. */
function missingAs404(id: string) {
    return (error: unknown) => {
        if (error instanceof StoreError && error.kind === 'notFound') {
            throw notFound(`No assignment with id '${id}' exists.`);
        }
        throw error;
    };
}

export const updateAssignment: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const id = assignmentIdOf(call);
    const ifMatch = ifMatchOf(call);
    const body = await validBody<{ id?: string; target?: AssignmentTarget }>(call, 'update');
    if (body.id !== undefined && body.id.toLowerCase() !== id) {
        throw badRequest(`The id '${body.id}' in the body does not match the id '${id}' in the path.`, [
            { code: 'InvalidValue', message: 'The id cannot be changed.', target: 'id' },
        ]);
    }
    const { store } = call.services;
    let stored: StoredAssignment;
    if (body.target) {
        // A target is replaced whole: its type may change, so merging the old properties in would be wrong.
        stored = await store
            .updateTarget(configurationId, id, storedTarget(body.target), ifMatch)
            .catch(missingAs404(id));
    } else {
        const current = await store.get(configurationId, id);
        // As the store does for writes: If-Match is false without a current representation (RFC 9110).
        if (ifMatch && (!current || (ifMatch !== '*' && ifMatch !== current.etag))) {
            throw new GraphError('PreconditionFailed', 'The If-Match ETag does not match the current assignment.');
        }
        if (!current) {
            throw notFound(`No assignment with id '${id}' exists.`);
        }
        stored = current;
    }
    if (!wantsRepresentation(call)) {
        return { status: 204, headers: entityHeaders(stored) };
    }
    return {
        status: 200,
        body: { '@odata.context': entityContext(call.root, configurationId), ...assignmentResource(stored) },
        headers: { ...entityHeaders(stored), 'Preference-Applied': 'return=representation' },
    };
};

export const deleteAssignment: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const id = assignmentIdOf(call);
    const ifMatch = ifMatchOf(call);
    await call.services.store.delete(configurationId, id, ifMatch).catch(missingAs404(id));
    return { status: 204 };
};

/** Two targets are the same assignment when they name the same type and group, whatever the spelling. */
function targetKey(target: AssignmentTarget): string {
    return `${bareTypeName(target['@odata.type']).toLowerCase()}|${(target.groupId ?? '').toLowerCase()}`;
}

async function currentSet(call: OperationCall, configurationId: string): Promise<StoredAssignment[]> {
    const all: StoredAssignment[] = [];
    let continuation: string | undefined;
    do {
        const page = await call.services.store.list(configurationId, {
            top: 1000,
            ...(continuation ? { continuation } : {}),
        });
        all.push(...page.items);
        continuation = page.continuation;
    } while (continuation);
    return all;
}

/**
 * `assign` replaces the configuration's whole set. Assignments whose target is unchanged keep their id; the rest of
 * the old set is deleted and the new targets created, all in one transactional batch.
 */
export const assign: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const body = await validBody<{ officeConfigurationAssignments: { target: AssignmentTarget }[] }>(call, 'assign');
    const targets = body.officeConfigurationAssignments.map((a) => storedTarget(a.target));
    const duplicates: GraphErrorDetail[] = [];
    const seen = new Map<string, number>();
    targets.forEach((target, index) => {
        const key = targetKey(target);
        const first = seen.get(key);
        if (first === undefined) {
            seen.set(key, index);
            return;
        }
        duplicates.push({
            code: 'DuplicateTarget',
            message: `officeConfigurationAssignments[${index}] assigns the same target as officeConfigurationAssignments[${first}].`,
            target: `officeConfigurationAssignments[${index}].target${target.groupId !== undefined ? '.groupId' : ''}`,
        });
    });
    if (duplicates.length > 0) {
        throw badRequest(`Invalid request body: ${duplicates[0]?.message ?? ''}`, duplicates);
    }

    // The version first: a concurrent assign that lands after this read makes the batch below fail whole.
    const version = await call.services.store.setVersion(configurationId);
    const current = await currentSet(call, configurationId);
    const unused = [...current];
    const result: Assignment[] = [];
    const additions: Assignment[] = [];
    for (const target of targets) {
        const index = unused.findIndex((a) => targetKey(a.target) === targetKey(target));
        const kept = index >= 0 ? unused.splice(index, 1)[0] : undefined;
        if (kept) {
            result.push(kept);
        } else {
            const added = { id: randomUUID(), target };
            additions.push(added);
            result.push(added);
        }
    }
    const changes = unused.length + additions.length;
    if (changes > MAX_SET_CHANGES) {
        throw badRequest(
            `This assign needs ${changes} changes (${unused.length} removals, ${additions.length} additions); ` +
                `one atomic transaction holds at most ${MAX_SET_CHANGES}.`,
        );
    }
    await call.services.store
        .applySet(
            configurationId,
            version,
            unused.map((a) => a.id),
            additions,
        )
        .catch((error: unknown) => {
            // The set changed between our reads and the batch: another assign, or a delete of what this one deletes.
            const raced = ['notFound', 'conflict', 'preconditionFailed'];
            if (error instanceof StoreError && raced.includes(error.kind)) {
                throw new GraphError(
                    'Conflict',
                    'The assignments changed while this assign ran; nothing was changed. Retry it.',
                );
            }
            throw error;
        });
    return {
        status: 200,
        body: { '@odata.context': actionResultContext(call.root), value: result.map((a) => assignmentResource(a)) },
    };
};
