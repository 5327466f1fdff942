/**
 * The client configurations collection (`/officeConfiguration/clientConfigurations`), one configuration, and the
 * collection's `updatePriorities` action. Priorities are positions in the tenant's one order (lib/store/
 * configurationStore.ts): a dense 1..N, unique by construction, as the Office cloud policy service shows them. Moving
 * one configuration shifts the others between its old and new place by one, keeping their relative order.
 */
import { createHash, randomUUID } from 'node:crypto';

import { badRequest, GraphError, type GraphErrorDetail, notFound } from '../graph/errors.js';
import { DEFAULT_MEDIA_TYPE, isMediaType, MEDIA_TYPE_RULE } from '../graph/mediaType.js';
import {
    configurationEntityContext,
    configurationResource,
    CONFIGURATIONS_PATH,
    configurationsContext,
    configurationUrl,
} from '../graph/odata.js';
import {
    nextConfigurationsQuery,
    parseConfigurationEntityOptions,
    parseConfigurationOptions,
    PROCESS_SKIPTOKEN_KEY,
} from '../graph/queryOptions.js';
import {
    bareTypeName,
    CONFIGURATION_BASE_TYPE,
    CONFIGURATION_TYPES,
    GUID_PATTERN,
    MAX_CONFIGURATIONS,
    PAYLOAD_PROPERTIES,
    type PayloadProperty,
} from '../graph/schema.js';
import { MAX_BODY_BYTES } from '../http/body.js';
import type { Operation, OperationCall, OperationResult } from '../http/pipeline.js';
import { StoreError } from '../store/assignmentStore.js';
import {
    type ConfigurationFields,
    ConfigurationStore,
    type KeyedConfiguration,
    type NewPayload,
    type PriorityOrder,
    type Reorder,
    type StoredConfiguration,
} from '../store/configurationStore.js';
import { idempotencyKeyOf, KEY_LIFETIME_SECONDS, keyRecordId, requestHash } from '../store/idempotency.js';
import {
    existsAlready,
    ifMatchOf,
    ifNoneMatchAny,
    keyReusedForAnotherBody,
    validBody,
    wantsRepresentation,
} from './requests.js';

/**
 * The bytes one stream property may hold. Stored base64 (1.4 MB), a payload document stays within Cosmos DB's 2 MB
 * item limit, and a payload PUT's batch (that document and the configuration's) within the 2 MB batch limit.
 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** A create carries both payloads inline at most, base64-encoded, besides the usual JSON. */
export const MAX_CREATE_CONFIGURATION_BODY_BYTES =
    MAX_BODY_BYTES + PAYLOAD_PROPERTIES.length * base64Length(MAX_PAYLOAD_BYTES);

/**
 * `updatePriorities` may list every configuration: 5,000 ids of about 43 bytes with their priorities is 215 KB, past the
 * 64 KiB of other JSON bodies.
 */
export const MAX_UPDATE_PRIORITIES_BODY_BYTES = 256 * 1024;

/** The media type of payloads that do not state one (`policyPayload@odata.mediaContentType`, a PUT's Content-Type). */
export const DEFAULT_PAYLOAD_TYPE = DEFAULT_MEDIA_TYPE;

const GUID = new RegExp(GUID_PATTERN);

/** Details one refused updatePriorities lists at most. */
const MAX_DETAILS = 20;

/** The store of configurations: stateless over the container's store, so one per call costs nothing. */
export function configurationsOf(call: OperationCall): ConfigurationStore {
    return new ConfigurationStore(call.services.store);
}

/** Configuration ids are GUIDs the service made; any other value names no configuration. */
export function configurationIdOf(call: OperationCall): string {
    const id = call.params.configurationId ?? '';
    if (id.startsWith('$')) {
        throw badRequest(`The path segment '${id}' is not supported on this resource.`);
    }
    if (!GUID.test(id)) {
        throw missingConfiguration(id);
    }
    return id.toLowerCase();
}

export function missingConfiguration(id: string): GraphError {
    return notFound(`No client configuration with id '${id}' exists.`);
}

/** A strong ETag of a payload: a hash of its media type and bytes, so the same content always has the same tag. */
export function payloadEtag(contentType: string, bytes: Uint8Array): string {
    return `"${createHash('sha256').update(contentType).update('\n').update(bytes).digest('base64url').slice(0, 27)}"`;
}

function tooLargePayload(property: string): GraphError {
    return new GraphError(
        'RequestEntityTooLarge',
        `The ${property} is larger than ${MAX_PAYLOAD_BYTES} bytes, the most a stream property holds.`,
    );
}

/** `@odata.type` as sent; the abstract base type is refused by name before the schema's list of the concrete ones. */
function checkConcreteType(body: unknown): void {
    const type = (body as { '@odata.type'?: unknown } | null)?.['@odata.type'];
    if (typeof type === 'string' && bareTypeName(type) === CONFIGURATION_BASE_TYPE) {
        throw badRequest(
            `The type '${CONFIGURATION_BASE_TYPE}' is abstract; create a '${CONFIGURATION_TYPES.join("' or a '")}'.`,
            [{ code: 'AbstractType', message: `'${CONFIGURATION_BASE_TYPE}' is abstract.`, target: '@odata.type' }],
        );
    }
}

function entityHeaders(stored: StoredConfiguration): Record<string, string> {
    return { ETag: stored.etag };
}

/** Inserts `id` at `priority` (1-based; omitted: last). 1..N+1, else a 400 naming the range. */
function insertAt(id: string, priority: number | undefined): Reorder {
    return (ids) => {
        if (ids.length >= MAX_CONFIGURATIONS) {
            throw new GraphError(
                'Conflict',
                `The tenant holds the most client configurations allowed (${MAX_CONFIGURATIONS}).`,
            );
        }
        const position = priority ?? ids.length + 1;
        if (position > ids.length + 1) {
            throw priorityOutOfRange(position, ids.length + 1);
        }
        const next = ids.filter((other) => other !== id);
        next.splice(position - 1, 0, id);
        return next;
    };
}

/** Moves `id` to `priority` (1..N); the others keep their relative order. */
function moveTo(id: string, priority: number): Reorder {
    return (ids) => {
        if (!ids.includes(id)) {
            throw missingConfiguration(id);
        }
        if (priority > ids.length) {
            throw priorityOutOfRange(priority, ids.length);
        }
        const next = ids.filter((other) => other !== id);
        next.splice(priority - 1, 0, id);
        return next;
    };
}

function priorityOutOfRange(priority: number, max: number): GraphError {
    const message = `The priority ${priority} is out of range: it must be from 1 to ${max}.`;
    return badRequest(message, [{ code: 'InvalidValue', message, target: 'priority' }]);
}

interface ConfigurationBody {
    '@odata.type'?: string;
    id?: string;
    displayName?: string | null;
    description?: string | null;
    priority?: number;
    policyPayload?: string;
    userPreferencePayload?: string;
    [annotation: string]: unknown;
}

function fieldsOf(body: ConfigurationBody): Partial<ConfigurationFields> {
    return {
        ...(body['@odata.type'] !== undefined ? { odataType: bareTypeName(body['@odata.type']) } : {}),
        ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
    };
}

/** `policyPayload@odata.mediaContentType`: absent (or null) for the default, else a media type it is sent back as. */
function statedMediaType(body: ConfigurationBody, property: PayloadProperty): string {
    const annotation = `${property}@odata.mediaContentType`;
    const stated = body[annotation];
    if (stated === undefined || stated === null) {
        return DEFAULT_PAYLOAD_TYPE;
    }
    const value = typeof stated === 'string' ? stated.trim() : undefined;
    if (value === undefined || !isMediaType(value)) {
        throw badRequest(`Invalid request body: '${annotation}' must be ${MEDIA_TYPE_RULE}.`);
    }
    return value;
}

/** Inline payloads of a create: base64 (standard or URL-safe), each within the payload limit. */
function inlinePayloads(body: ConfigurationBody): NewPayload[] {
    return PAYLOAD_PROPERTIES.flatMap((property): NewPayload[] => {
        const text = body[property];
        if (text === undefined) {
            return [];
        }
        if (base64Length(MAX_PAYLOAD_BYTES) < text.length) {
            throw tooLargePayload(property);
        }
        const bytes = Buffer.from(text, 'base64');
        if (bytes.byteLength > MAX_PAYLOAD_BYTES) {
            throw tooLargePayload(property);
        }
        const contentType = statedMediaType(body, property);
        return [{ property, contentType, bytes, etag: payloadEtag(contentType, bytes) }];
    });
}

function representation(call: OperationCall, stored: StoredConfiguration, status: number): OperationResult {
    return {
        status,
        body: { '@odata.context': configurationEntityContext(call.root), ...configurationResource(call.root, stored) },
        headers: entityHeaders(stored),
    };
}

/** A create's 201: the entity, its `Location`, its ETag (none on a replay of a configuration changed since). */
function created(call: OperationCall, stored: KeyedConfiguration['stored'], replayed = false): OperationResult {
    return {
        status: 201,
        body: { '@odata.context': configurationEntityContext(call.root), ...configurationResource(call.root, stored) },
        headers: {
            ...(stored.etag === undefined ? {} : { ETag: stored.etag }),
            Location: configurationUrl(call.root, stored.id),
            ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
    };
}

/**
 * What a keyed create's hash covers: what the request asks to store (its type, names, priority, each payload's media
 * type and bytes, by their ETag), not what is ignored (`id`, other annotations, spacing, the base64 alphabet).
 */
function createRequest(fields: ConfigurationFields, priority: number | undefined, payloads: readonly NewPayload[]) {
    return {
        fields,
        priority: priority ?? null,
        payloads: payloads.map((p) => ({ property: p.property, contentType: p.contentType, etag: p.etag })),
    };
}

export const createConfiguration: Operation = async (call) => {
    const key = idempotencyKeyOf(call.request.headers.get('idempotency-key'));
    const body = await validBody<ConfigurationBody>(
        call,
        'createConfiguration',
        MAX_CREATE_CONFIGURATION_BODY_BYTES,
        checkConcreteType,
    );
    const payloads = inlinePayloads(body);
    const id = randomUUID();
    const fields = fieldsOf(body) as ConfigurationFields; // the schema requires `@odata.type`
    const store = configurationsOf(call);
    if (key === undefined) {
        return created(call, await store.create(id, fields, insertAt(id, body.priority), payloads));
    }
    const outcome = await store.createOnce(id, fields, insertAt(id, body.priority), payloads, {
        recordId: keyRecordId(key),
        requestHash: requestHash(createRequest(fields, body.priority, payloads)),
        now: call.services.clock().getTime(),
        lifetimeSeconds: KEY_LIFETIME_SECONDS,
    });
    if (!outcome.sameRequest) {
        throw keyReusedForAnotherBody();
    }
    return created(call, outcome.stored, outcome.replayed);
};

export const listConfigurations: Operation = async (call) => {
    const skipTokenKey = call.services.skipTokenKey ?? PROCESS_SKIPTOKEN_KEY;
    const options = parseConfigurationOptions(call.query, skipTokenKey);
    const store = configurationsOf(call);
    const window = (ids: readonly string[]) => {
        const ranked = options.descending ? [...ids].reverse() : [...ids];
        return ranked.slice(options.offset, options.offset + options.top);
    };
    // `id` and `priority` are the order's own: a page of them needs no other read.
    const orderOnly = options.select?.every((p) => p === 'id' || p === 'priority') === true;
    let order: PriorityOrder;
    let items: Record<string, unknown>[];
    if (orderOnly) {
        order = await store.order();
        // Positions once, not an indexOf per item: linear in the order's length, whatever the page's.
        const priorities = new Map(order.ids.map((id, i) => [id, i + 1]));
        const priorityOf = (id: string) => priorities.get(id) ?? 0;
        items = window(order.ids).map((id) => ({
            '@odata.type': `#${order.types.get(id) ?? CONFIGURATION_TYPES[0]}`,
            ...(options.select?.includes('id') ? { id } : {}),
            ...(options.select?.includes('priority') ? { priority: priorityOf(id) } : {}),
        }));
    } else {
        const page = await store.page(window);
        order = page.order;
        items = page.configurations.map((c) => configurationResource(call.root, c, options.select));
    }
    const total = order.ids.length;
    const end = options.offset + Math.max(0, Math.min(options.top, total - options.offset));
    const next =
        end < total
            ? `${call.root}/${CONFIGURATIONS_PATH}?${nextConfigurationsQuery(options, skipTokenKey, end)}`
            : undefined;
    return {
        status: 200,
        body: {
            '@odata.context': configurationsContext(call.root, options.select),
            ...(options.count ? { '@odata.count': total } : {}),
            ...(next ? { '@odata.nextLink': next } : {}),
            value: items,
        },
    };
};

export const getConfiguration: Operation = async (call) => {
    const id = configurationIdOf(call);
    const { select } = parseConfigurationEntityOptions(call.query);
    const stored = await configurationsOf(call).get(id);
    if (!stored) {
        throw missingConfiguration(id);
    }
    return {
        status: 200,
        body: {
            '@odata.context': configurationEntityContext(call.root, select),
            ...configurationResource(call.root, stored, select),
        },
        headers: entityHeaders(stored),
    };
};

/** The store's word on a configuration that is gone or changed, as the Graph error that names it. */
function storeRefusal(id: string) {
    return (error: unknown): never => {
        if (error instanceof StoreError && error.kind === 'notFound') {
            throw missingConfiguration(id);
        }
        if (error instanceof StoreError && error.kind === 'preconditionFailed') {
            throw new GraphError('PreconditionFailed', 'The If-Match ETag does not match the current configuration.');
        }
        throw error;
    };
}

export const updateConfiguration: Operation = async (call) => {
    const id = configurationIdOf(call);
    const ifMatch = ifMatchOf(call);
    const body = await validBody<ConfigurationBody>(call, 'updateConfiguration', MAX_BODY_BYTES, checkConcreteType);
    if (body.id !== undefined && body.id.toLowerCase() !== id) {
        throw badRequest(`The id '${body.id}' in the body does not match the id '${id}' in the path.`, [
            { code: 'InvalidValue', message: 'The id cannot be changed.', target: 'id' },
        ]);
    }
    const store = configurationsOf(call);
    const { odataType, ...fields } = fieldsOf(body);
    if (odataType !== undefined || ifNoneMatchAny(call)) {
        const current = await store.get(id);
        if (!current) {
            throw missingConfiguration(id);
        }
        if (ifNoneMatchAny(call)) {
            throw existsAlready('configuration');
        }
        if (odataType !== undefined && current.odataType !== odataType) {
            throw badRequest(`The type of a configuration cannot change: it is '${current.odataType}'.`, [
                { code: 'InvalidValue', message: 'The type cannot be changed.', target: '@odata.type' },
            ]);
        }
    }
    const reorder = body.priority !== undefined ? moveTo(id, body.priority) : undefined;
    const stored = await store.update(id, fields, reorder, ifMatch).catch(storeRefusal(id));
    if (!wantsRepresentation(call)) {
        return { status: 204, headers: entityHeaders(stored) };
    }
    const result = representation(call, stored, 200);
    return { ...result, headers: { ...result.headers, 'Preference-Applied': 'return=representation' } };
};

export const deleteConfiguration: Operation = async (call) => {
    const id = configurationIdOf(call);
    const ifMatch = ifMatchOf(call);
    await configurationsOf(call).delete(id, ifMatch).catch(storeRefusal(id));
    return { status: 204 };
};

/**
 * The new order of `updatePriorities`: each listed id at its requested priority, the others in the remaining places
 * in their previous relative order. Refused whole (400) for arrays of unequal length, an unknown or repeated id, a
 * repeated priority or one outside 1..N.
 */
export function prioritiesApplied(current: readonly string[], ids: readonly string[], priorities: readonly number[]) {
    const problems: GraphErrorDetail[] = [];
    if (ids.length !== priorities.length) {
        problems.push({
            code: 'InvalidValue',
            message: `officeConfigurationPolicyIds has ${ids.length} items and officeConfigurationPriorities ${priorities.length}: they must pair up.`,
            target: 'officeConfigurationPriorities',
        });
    }
    const known = new Set(current);
    const seenIds = new Map<string, number>();
    ids.forEach((raw, index) => {
        const id = raw.toLowerCase();
        const target = `officeConfigurationPolicyIds[${index}]`;
        if (!known.has(id)) {
            problems.push({
                code: 'InvalidValue',
                message: `No client configuration with id '${raw}' exists.`,
                target,
            });
        } else if (seenIds.has(id)) {
            problems.push({
                code: 'InvalidValue',
                message: `${target} repeats officeConfigurationPolicyIds[${seenIds.get(id)}].`,
                target,
            });
        }
        seenIds.set(id, seenIds.get(id) ?? index);
    });
    const seenPriorities = new Map<number, number>();
    priorities.forEach((priority, index) => {
        const target = `officeConfigurationPriorities[${index}]`;
        if (priority < 1 || priority > current.length) {
            problems.push({
                code: 'InvalidValue',
                message: `The priority ${priority} is out of range: it must be from 1 to ${current.length}.`,
                target,
            });
        } else if (seenPriorities.has(priority)) {
            problems.push({
                code: 'InvalidValue',
                message: `${target} repeats officeConfigurationPriorities[${seenPriorities.get(priority)}].`,
                target,
            });
        }
        seenPriorities.set(priority, seenPriorities.get(priority) ?? index);
    });
    if (problems.length > 0) {
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more, see details)` : '';
        // A few details say what is wrong; thousands (5,000 bad ids) would only make the answer as large as the body.
        throw badRequest(`Invalid request body: ${problems[0]?.message ?? ''}${more}`, problems.slice(0, MAX_DETAILS));
    }
    // Array.from, not `new Array(n)`: map skips the holes of a sparse array.
    const placed = Array.from({ length: current.length }, (): string | undefined => undefined);
    ids.forEach((id, index) => {
        placed[(priorities[index] as number) - 1] = id.toLowerCase();
    });
    const moved = new Set(ids.map((id) => id.toLowerCase()));
    const rest = current.filter((id) => !moved.has(id));
    let next = 0;
    return placed.map((id) => id ?? (rest[next++] as string));
}

export const updatePriorities: Operation = async (call) => {
    const body = await validBody<{ officeConfigurationPolicyIds: string[]; officeConfigurationPriorities: number[] }>(
        call,
        'updatePriorities',
        MAX_UPDATE_PRIORITIES_BODY_BYTES,
    );
    await configurationsOf(call).reorder((current) =>
        prioritiesApplied(current, body.officeConfigurationPolicyIds, body.officeConfigurationPriorities),
    );
    return { status: 204 };
};
