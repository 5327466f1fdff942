/**
 * The operations of the assignments resource and of the configuration's `assign` action. Each one reads its input,
 * validates it completely, and only then touches the store; nothing is written for a request that is refused.
 */
import { randomUUID } from 'node:crypto';

import { badRequest, GraphError, type GraphErrorDetail, notFound } from '../graph/errors.js';
import {
    actionResultContext,
    type Assignment,
    assignmentResource,
    assignmentsPath,
    assignmentUrl,
    collectionContext,
    entityContext,
} from '../graph/odata.js';
import {
    encodeSkipToken,
    nextPageQuery,
    parseCollectionOptions,
    parseEntityOptions,
    PROCESS_SKIPTOKEN_KEY,
} from '../graph/queryOptions.js';
import { type AssignmentTarget, bareTypeName, GUID_PATTERN } from '../graph/schema.js';
import type { Operation, OperationCall } from '../http/pipeline.js';
import { ifMatchHolds, MAX_SET_CHANGES, type StoredAssignment, StoreError } from '../store/assignmentStore.js';
import { idempotencyKeyOf, KEY_LIFETIME_SECONDS, keyRecordId, requestHash } from '../store/idempotency.js';
import {
    existsAlready,
    ifMatchOf,
    ifNoneMatchAny,
    keyReusedForAnotherBody,
    validBody,
    wantsRepresentation,
} from './requests.js';

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
    // The service writes configuration ids as lowercase GUIDs; a client may write them in either case.
    return GUID.test(id) ? id.toLowerCase() : id;
}

export function configurationNotFoundError(configurationId: string): GraphError {
    return notFound(`The configuration '${configurationId}' does not exist.`);
}

/**
 * Translates what the store says when the configuration is gone. Writes name it atomically (their batch carries the
 * configuration's set document: `configurationNotFound`); a write refused for another reason (the assignment is
 * missing, or a stale If-Match) is looked at once more, as the configuration may be gone with its assignments.
 */
async function inConfiguration<T>(call: OperationCall, configurationId: string, action: Promise<T>): Promise<T> {
    try {
        return await action;
    } catch (error) {
        if (error instanceof StoreError && error.kind === 'configurationNotFound') {
            throw configurationNotFoundError(configurationId);
        }
        const maybeGone =
            (error instanceof StoreError && ['notFound', 'conflict', 'preconditionFailed'].includes(error.kind)) ||
            (error instanceof GraphError &&
                ['ResourceNotFound', 'PreconditionFailed', 'Conflict'].includes(error.code));
        if (maybeGone && !(await call.services.store.hasConfiguration(configurationId))) {
            throw configurationNotFoundError(configurationId);
        }
        throw error;
    }
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

/** The target as stored and returned: its type and properties as sent, annotations other than the type dropped. */
function storedTarget(target: AssignmentTarget): AssignmentTarget {
    const stored: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(target)) {
        if (name === '@odata.type' || !name.includes('@')) {
            stored[name] = value;
        }
    }
    return stored as AssignmentTarget;
}

function entityHeaders(stored: StoredAssignment): Record<string, string> {
    return stored.etag === undefined ? {} : { ETag: stored.etag };
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
        const stored = await inConfiguration(
            call,
            configurationId,
            store.create(configurationId, { id: randomUUID(), target }),
        );
        return created(call, configurationId, stored);
    }
    // The hash covers what the request asks to store, not what is ignored (`id`, annotations, spacing).
    const keyed = store.createOnce(
        configurationId,
        { id: randomUUID(), target },
        {
            recordId: keyRecordId(key),
            requestHash: requestHash(target),
            now: call.services.clock().getTime(),
            lifetimeSeconds: KEY_LIFETIME_SECONDS,
        },
    );
    const outcome = await inConfiguration(call, configurationId, keyed);
    if (!outcome.sameRequest) {
        throw keyReusedForAnotherBody();
    }
    return created(call, configurationId, outcome.stored, outcome.replayed);
};

export const listAssignments: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const skipTokenKey = call.services.skipTokenKey ?? PROCESS_SKIPTOKEN_KEY;
    const options = parseCollectionOptions(call.query, configurationId, skipTokenKey);
    const { store } = call.services;
    // The configuration's own document is read alongside the page: one point read more, no wait more.
    const [, page, count] = await inConfiguration(
        call,
        configurationId,
        Promise.all([
            store.requireConfiguration(configurationId),
            store.list(configurationId, {
                top: options.top,
                ...(options.continuation ? { continuation: options.continuation } : {}),
            }),
            options.count ? store.count(configurationId) : Promise.resolve(undefined),
        ]),
    );
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
    const { store } = call.services;
    const [, stored] = await inConfiguration(
        call,
        configurationId,
        Promise.all([store.requireConfiguration(configurationId), store.get(configurationId, id)]),
    );
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

/** A missing item, from the store, as the 404 that names the assignment (a stale ETag stays the store's 412). */
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
    if (ifNoneMatchAny(call)) {
        const current = await inConfiguration(call, configurationId, store.get(configurationId, id));
        throw current ? existsAlready('assignment') : notFound(`No assignment with id '${id}' exists.`);
    }
    let stored: StoredAssignment;
    if (body.target) {
        // A target is replaced whole: its type may change, so merging the old properties in would be wrong.
        stored = await inConfiguration(
            call,
            configurationId,
            store.updateTarget(configurationId, id, storedTarget(body.target), ifMatch).catch(missingAs404(id)),
        );
    } else {
        const [, current] = await inConfiguration(
            call,
            configurationId,
            Promise.all([store.requireConfiguration(configurationId), store.get(configurationId, id)]),
        );
        if (ifMatch && !ifMatchHolds(ifMatch, current)) {
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
    await inConfiguration(
        call,
        configurationId,
        call.services.store.delete(configurationId, id, ifMatch).catch(missingAs404(id)),
    );
    return { status: 204 };
};

/** Two targets are the same assignment when they name the same type and group, whatever the spelling. */
function targetKey(target: AssignmentTarget): string {
    return `${bareTypeName(target['@odata.type']).toLowerCase()}|${(target.groupId ?? '').toLowerCase()}`;
}

/** 400 for two entries of the request that name the same target. */
function checkDistinct(targets: readonly AssignmentTarget[]): void {
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
}

/** What an assign changes: the assignments it keeps (by target), removes and adds, and the resulting set. */
interface SetChange {
    result: Assignment[];
    removals: Assignment[];
    additions: Assignment[];
}

function tooManyChanges(removals: number, additions: number): GraphError {
    return badRequest(
        `This assign needs ${removals + additions} changes or more (${removals} removals, ${additions} additions); ` +
            `one atomic transaction holds at most ${MAX_SET_CHANGES}.`,
    );
}

/**
 * Reads the current set page by page and matches it against the requested targets. It stops as soon as the answer
 * is known: once more assignments than one transaction may remove are unmatched, the assign is a 400 whatever the
 * rest of the set holds, so at most (targets + MAX_SET_CHANGES + one page) assignments are ever read.
 */
async function diffSet(
    call: OperationCall,
    configurationId: string,
    targets: readonly AssignmentTarget[],
): Promise<SetChange> {
    const wanted = new Map(targets.map((target, index) => [targetKey(target), index]));
    const kept = new Map<number, StoredAssignment>();
    const removals: Assignment[] = [];
    let continuation: string | undefined;
    do {
        const page = await call.services.store.list(configurationId, {
            top: 100,
            ...(continuation ? { continuation } : {}),
        });
        for (const current of page.items) {
            const index = wanted.get(targetKey(current.target));
            if (index !== undefined && !kept.has(index)) {
                kept.set(index, current);
            } else {
                removals.push({ id: current.id, target: current.target });
            }
        }
        if (removals.length > MAX_SET_CHANGES) {
            throw tooManyChanges(removals.length, targets.length - kept.size);
        }
        continuation = page.continuation;
    } while (continuation);
    const additions: Assignment[] = [];
    const result = targets.map((target, index): Assignment => {
        const existing = kept.get(index);
        if (existing) {
            return existing;
        }
        const added = { id: randomUUID(), target };
        additions.push(added);
        return added;
    });
    if (removals.length + additions.length > MAX_SET_CHANGES) {
        throw tooManyChanges(removals.length, additions.length);
    }
    return { result, removals, additions };
}

/** A batch refused because the set changed since it was read: a 409 the client may retry as it is. */
function raceAsConflict(error: unknown): never {
    if (error instanceof StoreError && ['notFound', 'conflict', 'preconditionFailed'].includes(error.kind)) {
        throw new GraphError(
            'Conflict',
            'The assignments changed while this assign ran; nothing was changed. Retry it.',
        );
    }
    throw error;
}

/**
 * `assign` replaces the configuration's whole set. Assignments whose target is unchanged keep their id; the rest of
 * the old set is deleted and the new targets created, all in one transactional batch that also moves the set
 * document on from the version read first: any write that lands in between makes it fail whole, as a 409.
 */
export const assign: Operation = async (call) => {
    const configurationId = checkConfigurationId(call.params.configurationId);
    const body = await validBody<{ officeConfigurationAssignments: { target: AssignmentTarget }[] }>(call, 'assign');
    const targets = body.officeConfigurationAssignments.map((a) => storedTarget(a.target));
    checkDistinct(targets);
    const { store } = call.services;
    if (targets.length > store.maxAssignments) {
        throw new GraphError(
            'Conflict',
            `The configuration may hold at most ${store.maxAssignments} assignments; this assign lists ${targets.length}.`,
        );
    }
    const version = await store.setVersion(configurationId);
    if (version === undefined) {
        throw configurationNotFoundError(configurationId);
    }
    const change = await diffSet(call, configurationId, targets);
    await inConfiguration(
        call,
        configurationId,
        store
            .applySet(configurationId, version, {
                removals: change.removals,
                additions: change.additions,
                total: change.result.length,
            })
            .catch(raceAsConflict),
    );
    return {
        status: 200,
        body: {
            '@odata.context': actionResultContext(call.root),
            value: change.result.map((a) => assignmentResource(a)),
        },
    };
};
