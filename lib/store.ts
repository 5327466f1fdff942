/**
 * The Cosmos store of assignments. One container, partitioned by the configuration id, so that every operation of
 * the API stays inside one logical partition. Cosmos failures leave this module as a StoreError that says what kind
 * of failure it was, never as an SDK error: callers decide the HTTP answer from the kind alone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import {
    BulkOperationType,
    type Container,
    type ItemDefinition,
    type JSONObject,
    type OperationInput,
} from '@azure/cosmos';

import type { Assignment } from './odata.js';
import type { AssignmentTarget } from './schema.js';

export const PARTITION_KEY_PATH = '/configurationId';

/** Operations in one transactional batch: the Cosmos DB limit. */
const MAX_BATCH_OPERATIONS = 100;

/**
 * One document per configuration that every `assign` replaces, conditionally, inside its batch: two assigns that
 * read the same set cannot both apply, even when neither deletes anything the other does. Its id is no GUID, so no
 * assignment id can name it, and the queries leave it out.
 */
export const SET_VERSION_ID = 'assign-version';

/** Assignment changes one assign may make: the batch also carries the set version. */
export const MAX_SET_CHANGES = MAX_BATCH_OPERATIONS - 1;

export interface StoredAssignment extends Assignment {
    etag: string;
}

interface AssignmentDocument extends ItemDefinition {
    id: string;
    configurationId: string;
    target: AssignmentTarget;
    /** Hash of the create request that made it, when that request carried an Idempotency-Key. */
    requestHash?: string;
}

export type StoreErrorKind =
    | 'notFound'
    | 'conflict'
    | 'preconditionFailed'
    | 'throttled'
    | 'unavailable'
    | 'invalidContinuation'
    | 'unexpected';

export class StoreError extends Error {
    constructor(
        readonly kind: StoreErrorKind,
        message: string,
        /** From Cosmos on 429, else a suggestion for the client. */
        readonly retryAfterMs?: number,
        override readonly cause?: unknown,
    ) {
        super(message);
        this.name = 'StoreError';
    }
}

// Transport failures: the account is unreachable or the request ran out of time.
const UNAVAILABLE_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_SOCKET',
    'REQUEST_SEND_ERROR',
]);

function translate(error: unknown, operation: string): StoreError {
    if (error instanceof StoreError) {
        return error;
    }
    const e = (error ?? {}) as { code?: unknown; name?: unknown; retryAfterInMs?: unknown; message?: unknown };
    const retryAfterMs = typeof e.retryAfterInMs === 'number' ? e.retryAfterInMs : undefined;
    const at = `Cosmos DB ${operation}`;
    switch (e.code) {
        case 404:
            return new StoreError('notFound', `${at}: not found`, undefined, error);
        case 409:
            return new StoreError('conflict', `${at}: conflict`, undefined, error);
        case 412:
            return new StoreError('preconditionFailed', `${at}: precondition failed`, undefined, error);
        case 429:
            return new StoreError('throttled', `${at}: throttled`, retryAfterMs ?? 1000, error);
        case 408:
        case 503:
            return new StoreError('unavailable', `${at}: status ${e.code}`, undefined, error);
    }
    const transport =
        (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) ||
        e.name === 'TimeoutError' ||
        e.name === 'AbortError';
    if (transport) {
        return new StoreError('unavailable', `${at}: ${String(e.code ?? e.name)}`, undefined, error);
    }
    const reason = typeof e.message === 'string' ? e.message : `code ${String(e.code as string | number | undefined)}`;
    return new StoreError('unexpected', `${at}: ${reason}`, undefined, error);
}

/** HTTP ETags are quoted strings; Cosmos DB's `_etag` is one, the embedded server's is the bare value. */
function httpEtag(etag: unknown): string {
    const value = String(etag);
    return value.startsWith('"') ? value : `"${value}"`;
}

/**
 * The SDK wraps whatever ended a batch request in a plain Error ("Batch request error: …"), dropping the status.
 * A batch is atomic, so whatever failed changed nothing: throttling says so in the text, the rest is the account
 * being unreachable or too slow, and both are safe for the client to retry.
 */
function batchFailure(error: unknown): StoreError {
    const message = error instanceof Error ? error.message : String(error);
    return /Request rate is large|\b429\b|TooManyRequests/i.test(message)
        ? new StoreError('throttled', `Cosmos DB batch: ${message}`, 1000, error)
        : new StoreError('unavailable', `Cosmos DB batch: ${message}`, undefined, error);
}

function toAssignment(document: AssignmentDocument): StoredAssignment {
    return { id: document.id, target: document.target, etag: httpEtag(document._etag) };
}

export interface AssignmentPage {
    items: StoredAssignment[];
    /** Cosmos' continuation token when more items exist. */
    continuation?: string;
}

const deadlines = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `action` under a deadline: once `signal` fires, no further Cosmos call of the store starts in it. A request
 * answered 503 for running out of time must not go on to write (a batch after its read, a patch after its check).
 */
export async function withDeadline<T>(signal: AbortSignal, action: () => Promise<T>): Promise<T> {
    return await deadlines.run(signal, action);
}

function checkDeadline(operation: string): void {
    if (deadlines.getStore()?.aborted) {
        throw new StoreError('unavailable', `Cosmos DB ${operation}: not started, the request ran out of time`);
    }
}

/** One Cosmos DB call of the store, as telemetry records it. */
export interface StoreCall {
    operation: string;
    /** Request units charged, summed over the SDK calls the operation made (Cosmos reports them even on failure). */
    requestCharge: number;
    durationMs: number;
    /** Undefined on success. */
    failure?: StoreErrorKind;
    /** HTTP status of the last Cosmos DB response the operation saw, when it got one. */
    statusCode?: number;
    /** Cosmos DB's id of that response (`x-ms-activity-id`): what Cosmos DB support asks for. */
    activityId?: string;
}

export type StoreObserver = (call: StoreCall) => void;

/** Adds up the request charge of each SDK response (or error) an operation sees, and keeps the last one's ids. */
type Meter = <R extends { requestCharge?: number; statusCode?: number; activityId?: string }>(response: R) => R;

function chargeOfError(error: unknown): number {
    const header = (error as { headers?: Record<string, unknown> } | undefined)?.headers?.['x-ms-request-charge'];
    return Number(header) || 0;
}

function responseOfError(error: unknown): { statusCode?: number; activityId?: string } {
    const e = (error ?? {}) as { code?: unknown; headers?: Record<string, unknown> };
    const activityId = e.headers?.['x-ms-activity-id'];
    return {
        ...(typeof e.code === 'number' ? { statusCode: e.code } : {}),
        ...(typeof activityId === 'string' ? { activityId } : {}),
    };
}

export class AssignmentStore {
    /**
     * @param container resolves the container on first use (the client is created lazily).
     * @param observer told of every operation, for telemetry; it must not throw.
     */
    constructor(
        private readonly container: () => Promise<Container>,
        private readonly observer?: StoreObserver,
    ) {}

    private async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        const started = performance.now();
        let requestCharge = 0;
        let last: { statusCode?: number; activityId?: string } = {};
        const meter: Meter = (response) => {
            requestCharge += response.requestCharge ?? 0;
            last = {
                ...(response.statusCode !== undefined ? { statusCode: response.statusCode } : {}),
                ...(response.activityId ? { activityId: response.activityId } : {}),
            };
            return response;
        };
        const report = (failure?: StoreErrorKind) =>
            this.observer?.({ operation, requestCharge, durationMs: performance.now() - started, failure, ...last });
        try {
            checkDeadline(operation);
            const result = await action(await this.container(), meter);
            report();
            return result;
        } catch (error) {
            const translated = translate(error, operation);
            requestCharge += chargeOfError(error);
            const response = responseOfError(error);
            if (response.statusCode !== undefined) {
                last = response;
            }
            report(translated.kind);
            throw translated;
        }
    }

    /** Resolves only once Cosmos has acknowledged the write. */
    async create(configurationId: string, assignment: Assignment): Promise<StoredAssignment> {
        return await this.run('create', async (container, meter) => {
            const document: AssignmentDocument = { id: assignment.id, configurationId, target: assignment.target };
            const { resource } = meter(await container.items.create<AssignmentDocument>(document));
            if (!resource) {
                throw new StoreError('unexpected', 'Cosmos DB create: no resource in the response');
            }
            return toAssignment(resource);
        });
    }

    /**
     * The create of a request that carries an idempotency key: the id is derived from the key, so Cosmos' own
     * uniqueness decides every race. A 409 means the key was used before: the stored document says whether by the
     * same request (its hash), and is returned as the original result.
     */
    async createOnce(
        configurationId: string,
        assignment: Assignment,
        requestHash: string,
    ): Promise<{ stored: StoredAssignment; replayed: boolean; sameRequest: boolean }> {
        return await this.run('create', async (container, meter) => {
            const document: AssignmentDocument = {
                id: assignment.id,
                configurationId,
                target: assignment.target,
                requestHash,
            };
            try {
                const { resource } = meter(await container.items.create<AssignmentDocument>(document));
                if (!resource) {
                    throw new StoreError('unexpected', 'Cosmos DB create: no resource in the response');
                }
                return { stored: toAssignment(resource), replayed: false, sameRequest: true };
            } catch (error) {
                if ((error as { code?: unknown }).code !== 409) {
                    throw error;
                }
            }
            const { resource } = meter(await container.item(assignment.id, configurationId).read<AssignmentDocument>());
            if (!resource) {
                // Deleted between our create and this read: the key is free again, as after any delete.
                throw new StoreError('conflict', 'Cosmos DB create: the keyed assignment changed concurrently');
            }
            return {
                stored: toAssignment(resource),
                replayed: true,
                sameRequest: resource.requestHash === requestHash,
            };
        });
    }

    async get(configurationId: string, id: string): Promise<StoredAssignment | undefined> {
        return await this.run('read', async (container, meter) => {
            const { resource } = meter(await container.item(id, configurationId).read<AssignmentDocument>());
            return resource ? toAssignment(resource) : undefined;
        });
    }

    /**
     * One page of the configuration's assignments, in the partition's insertion order. The query names the partition
     * in its SQL as well as in the options: it is then a single-partition query on every Cosmos implementation.
     */
    async list(configurationId: string, page: { top: number; continuation?: string }): Promise<AssignmentPage> {
        return await this.run('query', async (container, meter) => {
            const query = container.items.query<AssignmentDocument>(
                {
                    query: 'SELECT * FROM c WHERE c.configurationId = @configurationId AND c.id != @setVersion',
                    parameters: [
                        { name: '@configurationId', value: configurationId },
                        { name: '@setVersion', value: SET_VERSION_ID },
                    ],
                },
                {
                    partitionKey: configurationId,
                    maxItemCount: page.top,
                    ...(page.continuation ? { continuationToken: page.continuation } : {}),
                },
            );
            let response;
            try {
                response = meter(await query.fetchNext());
            } catch (error) {
                // A continuation token Cosmos cannot parse is the client's fault, not the store's.
                if (page.continuation && (error as { code?: unknown }).code === 400) {
                    throw new StoreError(
                        'invalidContinuation',
                        'Cosmos DB query: invalid continuation',
                        undefined,
                        error,
                    );
                }
                throw error;
            }
            return {
                items: response.resources.map(toAssignment),
                ...(response.hasMoreResults && response.continuationToken
                    ? { continuation: response.continuationToken }
                    : {}),
            };
        });
    }

    async count(configurationId: string): Promise<number> {
        return await this.run('count', async (container, meter) => {
            const { resources } = meter(
                await container.items
                    .query<number>(
                        {
                            query: 'SELECT VALUE COUNT(1) FROM c WHERE c.configurationId = @configurationId AND c.id != @setVersion',
                            parameters: [
                                { name: '@configurationId', value: configurationId },
                                { name: '@setVersion', value: SET_VERSION_ID },
                            ],
                        },
                        { partitionKey: configurationId },
                    )
                    .fetchAll(),
            );
            return resources[0] ?? 0;
        });
    }

    /**
     * Checks a client's If-Match against the stored document, then returns the condition to send Cosmos: the
     * document's own `_etag`, so that a change between this read and the write still fails as a precondition.
     */
    private async condition(container: Container, meter: Meter, configurationId: string, id: string, ifMatch?: string) {
        if (ifMatch === undefined) {
            return {};
        }
        const { resource } = meter(await container.item(id, configurationId).read<AssignmentDocument>());
        // RFC 9110: If-Match, `*` included, is false when there is no current representation, and compares strongly
        // (a weak tag never matches).
        if (!resource || (ifMatch !== '*' && httpEtag(resource._etag) !== ifMatch)) {
            throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
        }
        checkDeadline('write');
        return { accessCondition: { type: 'IfMatch', condition: String(resource._etag) } };
    }

    /**
     * Sets the target; `ifMatch` (an HTTP ETag) makes it conditional. A partial update rather than a replace, so
     * the document keeps what the API does not expose (the create's request hash).
     */
    async updateTarget(
        configurationId: string,
        id: string,
        target: AssignmentTarget,
        ifMatch?: string,
    ): Promise<StoredAssignment> {
        return await this.run('patch', async (container, meter) => {
            const options = await this.condition(container, meter, configurationId, id, ifMatch);
            const { resource } = meter(
                await container
                    .item(id, configurationId)
                    .patch<AssignmentDocument>([{ op: 'set', path: '/target', value: target }], options),
            );
            if (!resource) {
                throw new StoreError('unexpected', 'Cosmos DB patch: no resource in the response');
            }
            return toAssignment(resource);
        });
    }

    async delete(configurationId: string, id: string, ifMatch?: string): Promise<void> {
        await this.run('delete', async (container, meter) => {
            const options = await this.condition(container, meter, configurationId, id, ifMatch);
            meter(await container.item(id, configurationId).delete(options));
        });
    }

    /** The set version's `_etag` as Cosmos wrote it, or undefined while no assign has run for the configuration. */
    async setVersion(configurationId: string): Promise<string | undefined> {
        return await this.run('read', async (container, meter) => {
            const { resource } = meter(await container.item(SET_VERSION_ID, configurationId).read<ItemDefinition>());
            return resource ? String(resource._etag) : undefined;
        });
    }

    /**
     * Applies a whole new set in one transactional batch: Cosmos DB runs it atomically within the partition, so a
     * failure leaves the previous set as it was. The batch first moves the set version on from the one read before
     * the set itself (`version`), so a concurrent assign makes it fail whole. Each operation names its partition key,
     * as batches require.
     */
    async applySet(
        configurationId: string,
        version: string | undefined,
        removals: readonly string[],
        additions: readonly Assignment[],
    ): Promise<void> {
        if (removals.length + additions.length > MAX_SET_CHANGES) {
            throw new StoreError('unexpected', `one assign makes at most ${MAX_SET_CHANGES} changes`);
        }
        const marker = { id: SET_VERSION_ID, configurationId };
        const operations: OperationInput[] = [
            version === undefined
                ? { operationType: BulkOperationType.Create, partitionKey: configurationId, resourceBody: marker }
                : {
                      operationType: BulkOperationType.Replace,
                      partitionKey: configurationId,
                      id: SET_VERSION_ID,
                      resourceBody: marker,
                      ifMatch: version,
                  },
            ...removals.map(
                (id): OperationInput => ({
                    operationType: BulkOperationType.Delete,
                    id,
                    partitionKey: configurationId,
                }),
            ),
            ...additions.map(
                (a): OperationInput => ({
                    operationType: BulkOperationType.Create,
                    partitionKey: configurationId,
                    resourceBody: { id: a.id, configurationId, target: a.target as JSONObject },
                }),
            ),
        ];
        await this.run('batch', async (container, meter) => {
            let response: Awaited<ReturnType<Container['items']['batch']>>;
            try {
                response = await container.items.batch(operations, configurationId);
            } catch (error) {
                throw batchFailure(error);
            }
            const { result, code } = response;
            meter({
                requestCharge: (result ?? []).reduce((sum, r) => sum + (r.requestCharge ?? 0), 0),
                ...(code !== undefined ? { statusCode: code } : {}),
            });
            const failed = (result ?? []).find((r) => r.statusCode >= 400 && r.statusCode !== 424);
            if (!result || failed) {
                // 424 marks operations that failed only because another one did; the first real status says why.
                throw translate({ code: failed?.statusCode ?? 500 }, 'batch');
            }
        });
    }
}
