/**
 * The Cosmos store of assignments. One container, partitioned by the configuration id, so that every operation of
 * the API stays inside one logical partition. Cosmos failures leave this module as a StoreError that says what kind
 * of failure it was, never as an SDK error: callers decide the HTTP answer from the kind alone.
 *
 * Besides the assignments, a configuration's partition holds two kinds of bookkeeping documents, never listed:
 * - the *set document* (`assign-version`), also the configuration's *parent document*: written when the
 *   configuration is created and deleted first when it is deleted (lib/store/configurationStore.ts). Every write of
 *   an assignment carries it in its batch, so a write under a configuration that does not exist fails whole
 *   (`configurationNotFound`), however it races the delete. It holds the number of assignments (`total`) and a
 *   revision. Every write of the set (create, PATCH, DELETE, assign) changes it in the same transactional batch as the write itself. An assign
 *   replaces it only if it is still the version read before the set, so any write that lands in between makes the
 *   assign fail whole. Single writes patch it without a condition on its version (an increment), so concurrent
 *   creates never conflict with each other; the increment's filter (`total < limit`) enforces the limit on
 *   assignments per configuration inside the batch, so no race can exceed it.
 * - *idempotency-key records* (`kind: idempotencyKey`): the first response to a keyed create, written in the
 *   create's batch (lib/store/idempotency.ts has the rules).
 */
import { randomUUID } from 'node:crypto';

import {
    BulkOperationType,
    type Container,
    type ItemDefinition,
    type JSONObject,
    type OperationInput,
    type OperationResponse,
    PriorityLevel,
    type QueryIterator,
    type RequestOptions,
} from '@azure/cosmos';

import { GraphError } from '../graph/errors.js';
import type { Assignment } from '../graph/odata.js';
import type { AssignmentTarget } from '../graph/schema.js';
import type { RequestScope } from '../platform/requestScope.js';
import {
    ASSIGNMENT_RESOURCE_TYPE,
    auditValue,
    CHANGE_ID_PREFIX,
    type ChangeContext,
    type ChangeDraft,
    type ChangedResource,
    changeId,
    type ChangeLogSettings,
    type ChangeRecord,
    CONFIGURATION_RESOURCE_TYPE,
    DEFAULT_CHANGE_LOG,
    toRecord,
    UNAUTHENTICATED_ACTOR,
} from './changeLog.js';
import { type ConfigurationDocument, TENANT_PARTITION } from './tenant.js';

export const PARTITION_KEY_PATH = '/configurationId';

/** Operations in one transactional batch: the Cosmos DB limit. */
export const MAX_BATCH_OPERATIONS = 100;

/** The sweeper starts no page of deletes closer than this to the end of its run: a page is one batch. */
const SWEEP_PAGE_RESERVE_MS = 2000;

/** The set document's id. It is no GUID, so no assignment id can name it. */
export const SET_VERSION_ID = 'assign-version';

/** Assignment changes one assign may make: the batch also carries the set document and the change's record. */
export const MAX_SET_CHANGES = MAX_BATCH_OPERATIONS - 2;

/**
 * Assignments one configuration may hold. Graph's policies target groups, and a policy aimed at thousands of
 * groups is beyond any real tenant's use; the bound keeps a configuration's partition, its listing and `$count`
 * small, and it admits `npm run load`'s 10,000 creates on one configuration.
 */
export const MAX_ASSIGNMENTS_PER_CONFIGURATION = 10_000;

/** Cosmos DB's substatus of a 404 whose database or container (not item) is missing. */
const OWNER_RESOURCE_MISSING = 1003;

export interface StoredAssignment extends Assignment {
    /** Absent only on a replayed create whose assignment has changed since (lib/store/idempotency.ts). */
    etag?: string;
}

interface AssignmentDocument extends ItemDefinition {
    id: string;
    configurationId: string;
    target: AssignmentTarget;
}

/**
 * A DELETE of the configuration under way: set on the parent before the configuration's own batch, so that from then
 * on no assignment write lands (each one's batch requires the parent unmarked), whether that batch is refused,
 * answered or never answered. A refused DELETE takes its mark off; one that landed leaves the parent to the sweeper.
 */
export interface DeletionMark {
    /** The DELETE's own id: only it (or whoever finds its mark stale) takes the mark off. */
    attempt: string;
    /** Milliseconds since the epoch, by the DELETE's clock. */
    at: number;
}

interface SetDocument extends ItemDefinition {
    id: typeof SET_VERSION_ID;
    configurationId: string;
    /** Absent on set documents written before the limit existed: such a document is counted again first. */
    total?: number;
    revision?: number;
    deleting?: DeletionMark;
}

/**
 * A mark older than this belongs to a DELETE that can no longer land: past any request's time (the Functions timeout
 * is 30 s) and any late commit of its batch. A writer that finds one on a configuration that still exists takes it off.
 */
export const STALE_MARK_MS = 60_000;

/** Waits between looks at a configuration whose DELETE is under way: it usually settles within a few round trips. */
const MARK_WAIT_MS = [10, 20, 40, 80, 160, 320, 500] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface KeyRecord extends ItemDefinition {
    id: string;
    configurationId: string;
    kind: 'idempotencyKey';
    requestHash: string;
    /** The first response's entity. */
    assignment: { id: string; target: AssignmentTarget };
    createdAt: number;
    /** Seconds: Cosmos DB removes the record after its lifetime (the code checks `createdAt` as well). */
    ttl: number;
}

export type StoreErrorKind =
    | 'notFound'
    /** The configuration an assignment operation names does not exist (its set document is missing). */
    | 'configurationNotFound'
    | 'conflict'
    | 'preconditionFailed'
    | 'limitReached'
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

/**
 * Statuses worth a retry by the client: timeout, unavailable, 449 RetryWith (a concurrent update on the server),
 * 410 Gone (a partition moved). Anything else (401/403 without a data-plane role, 400, 413, a missing container)
 * is the deployment's or the code's fault: a logged 500, not a 503 that invites retries forever.
 */
const TRANSIENT_STATUSES = new Set([408, 410, 449, 503]);

function translate(error: unknown, operation: string): StoreError {
    if (error instanceof StoreError) {
        return error;
    }
    const e = (error ?? {}) as {
        code?: unknown;
        substatus?: unknown;
        name?: unknown;
        retryAfterInMs?: unknown;
        message?: unknown;
    };
    const retryAfterMs =
        typeof e.retryAfterInMs === 'number' && Number.isFinite(e.retryAfterInMs) ? e.retryAfterInMs : undefined;
    const at = `Cosmos DB ${operation}`;
    const reason = typeof e.message === 'string' ? e.message : `code ${String(e.code)}`;
    switch (e.code) {
        case 404:
            return e.substatus === OWNER_RESOURCE_MISSING
                ? new StoreError('unexpected', `${at}: the database or container does not exist`, undefined, error)
                : new StoreError('notFound', `${at}: not found`, undefined, error);
        case 409:
            return new StoreError('conflict', `${at}: conflict`, undefined, error);
        case 412:
            return new StoreError('preconditionFailed', `${at}: precondition failed`, undefined, error);
        case 429:
            return new StoreError('throttled', `${at}: throttled`, retryAfterMs ?? 1000, error);
    }
    if (typeof e.code === 'number') {
        return TRANSIENT_STATUSES.has(e.code)
            ? new StoreError('unavailable', `${at}: status ${e.code}`, undefined, error)
            : new StoreError('unexpected', `${at}: status ${e.code}: ${reason}`, undefined, error);
    }
    const transport =
        (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) ||
        e.name === 'TimeoutError' ||
        e.name === 'AbortError';
    if (transport) {
        return new StoreError('unavailable', `${at}: ${String(e.code ?? e.name)}`, undefined, error);
    }
    return new StoreError('unexpected', `${at}: ${reason}`, undefined, error);
}

/** HTTP ETags are quoted strings; Cosmos DB's `_etag` is one, the embedded server's is the bare value. */
export function httpEtag(etag: unknown): string {
    const value = String(etag);
    return value.startsWith('"') ? value : `"${value}"`;
}

/**
 * RFC 9110 If-Match: `*` matches any current representation, a tag matches only strongly (a weak tag never does),
 * and nothing matches a missing representation. The one comparison of the service.
 */
export function ifMatchHolds(ifMatch: string, current: { etag?: string } | undefined): boolean {
    return current !== undefined && (ifMatch === '*' || (current.etag !== undefined && current.etag === ifMatch));
}

/**
 * What ended the last failing Cosmos request of a batch, as the SDK saw it (lib/store/cosmosClient records it). The SDK
 * rethrows a failed batch request as a plain Error that keeps only the message; the status comes from here. The
 * slot travels on the batch's options object, which the SDK hands its request plugins (`context.options`), under a
 * symbol the SDK neither reads nor sends: a plain property, where an AsyncLocalStorage would put a hook on every
 * promise of the process and a WeakMap an entry for the collector to trace on every batch.
 */
const FAILURE_SLOT = Symbol('lastCosmosFailure');
type FailureSlot = { error?: unknown };

/** Called by the client's request hook with every failed Cosmos request, and the options it was made with. */
export function noteCosmosFailure(error: unknown, options: object | undefined): void {
    const slot = (options as { [FAILURE_SLOT]?: FailureSlot } | undefined)?.[FAILURE_SLOT];
    if (slot) {
        slot.error = error;
    }
}

function batchFailure(error: unknown, seen: unknown): StoreError {
    if (seen !== undefined) {
        return translate(seen, 'batch');
    }
    const message = error instanceof Error ? error.message : String(error);
    return new StoreError('unexpected', `Cosmos DB batch: ${message}`, undefined, error);
}

function toAssignment(document: AssignmentDocument): StoredAssignment {
    return { id: document.id, target: document.target, etag: httpEtag(document._etag) };
}

export interface AssignmentPage {
    items: StoredAssignment[];
    /** Cosmos' continuation token when more items exist. */
    continuation?: string;
}

/**
 * The request a view of the store works for (`AssignmentStore.forRequest`): plain values the pipeline hands down,
 * read where a Cosmos call is about to start.
 */
export interface StoreRequest {
    /**
     * The request's time budget: once `expired` is set (the request was answered 503 for running out of time), no
     * further Cosmos call of the view starts, so the request cannot go on to write (a batch after its read, a patch
     * after its check). A call already in flight is not cancelled. `deadline` (milliseconds since the epoch) is when
     * the request will be answered whatever happens: a write that must settle an unanswered call before answering
     * keeps to it.
     */
    readonly budget?: { readonly expired: boolean; readonly deadline?: number };
    /** Whose calls these are, told to the observer with each one (telemetry's request-id). */
    readonly scope?: RequestScope;
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
    /** The request it was made for, when the store is a request's view. */
    scope?: RequestScope;
}

export type StoreObserver = (call: StoreCall) => void;

/** Adds up the request charge of each SDK response (or error) an operation sees, and keeps the last one's ids. */
export interface Meter {
    <R extends { requestCharge?: number; statusCode?: number; activityId?: string }>(response: R): R;
    /** The charge of a failed SDK call that the operation handles itself (the 409 of a used idempotency key). */
    failed(error: unknown): void;
}

/**
 * A refused Cosmos DB call whose status is one the caller expects and answers itself (a document already gone, a
 * condition no longer true): metered as the failure it is, and its status returned. Anything else is thrown on.
 */
export function expectedRefusal(meter: Meter, error: unknown, ...expected: number[]): number {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'number' || !expected.includes(code)) {
        throw error;
    }
    meter.failed(error);
    return code;
}

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

/**
 * Ids of idempotency-key records start with this; assignment ids are GUIDs, so never do. The queries leave the
 * records out by id, which the container indexes (infra/modules/cosmos.bicep), rather than by `kind`, which it
 * does not.
 */
export const KEY_RECORD_ID_PREFIX = 'idempotency-key-';

/** Assignments only, not the set document, key records or change records. */
const ASSIGNMENTS_FILTER =
    'c.configurationId = @configurationId AND c.id != @setVersion AND NOT STARTSWITH(c.id, @keyRecord) AND ' +
    'NOT STARTSWITH(c.id, @changeRecord)';

function assignmentsQuery(select: string, configurationId: string) {
    return {
        query: `SELECT ${select} FROM c WHERE ${ASSIGNMENTS_FILTER}`,
        parameters: [
            { name: '@configurationId', value: configurationId },
            { name: '@setVersion', value: SET_VERSION_ID },
            { name: '@keyRecord', value: KEY_RECORD_ID_PREFIX },
            { name: '@changeRecord', value: CHANGE_ID_PREFIX },
        ],
    };
}

/**
 * The number of assignments a `VALUE COUNT(1)` query answers. A single-partition query goes without a query plan,
 * so nothing in the SDK aggregates for us: Cosmos DB may answer a count as partial counts over several pages, and
 * each page's numbers are a share of the whole.
 */
async function countOf(meter: Meter, query: QueryIterator<number>): Promise<number> {
    const { resources } = meter(await query.fetchAll());
    return resources.reduce((total, share) => total + share, 0);
}

/** A failed transactional batch: which operation failed, and with what status. */
export class BatchRefused extends Error {
    constructor(
        readonly index: number,
        readonly statusCode: number,
    ) {
        super(`Cosmos DB batch: operation ${index} failed with status ${statusCode}`);
        this.name = 'BatchRefused';
    }
}

export interface KeyedCreate {
    /** The idempotency key record's id (lib/store/idempotency.ts). */
    recordId: string;
    requestHash: string;
    /** Milliseconds since the epoch, from the service's clock. */
    now: number;
    lifetimeSeconds: number;
}

export interface KeyedOutcome {
    stored: StoredAssignment;
    replayed: boolean;
    sameRequest: boolean;
}

export interface StoreOptions {
    /** Told of every operation, for telemetry; it must not throw. */
    observer?: StoreObserver;
    /** MAX_ASSIGNMENTS_PER_CONFIGURATION unless a test needs a small one. */
    maxAssignments?: number;
    /** The change log's retention, or the log off (the bench's baseline only). */
    changeLog?: Partial<ChangeLogSettings>;
}

/** The set document's version as an assign reads it: its ETag, and the number of its partition's last change. */
export interface SetVersion {
    etag: string;
    revision: number;
}

/** Keys of `AssignmentStore.shared`: the per-configuration group commits, and each one's last known change number. */
const SET_GROUPS = Symbol('setGroups');
const REVISIONS = Symbol('revisions');

/** A single write waiting for its configuration's next batch (`AssignmentStore.writeLogged`). */
interface SetMember {
    /** The member's own operation's meter: charged its share of the group's calls. */
    meter: Meter;
    operations: OperationInput[];
    delta: number;
    draft: ChangeDraft;
    context: ChangeContext;
    deadline: number | undefined;
    resolve(results: OperationResponse[]): void;
    reject(error: unknown): void;
}

interface SetGroup {
    queue: SetMember[];
    draining: boolean;
}

/** Members of one batch at most: each brings its operations and its record; the set document's patch is one more. */
const MAX_SET_MEMBERS = 40;
const MAX_SET_BATCH_BYTES = 1_500_000;
/** What one operation of a single write, or its record, takes at most: far above a target's or a record's size. */
const SINGLE_WRITE_BYTES = 8_000;

/** A meter that charges each member of a group an equal share of each call, and tells each the call's ids. */
function sharedMeter(members: readonly SetMember[]): Meter {
    const share = <R extends { requestCharge?: number; statusCode?: number; activityId?: string }>(response: R): R => {
        const part = { ...response, requestCharge: (response.requestCharge ?? 0) / members.length };
        members.forEach((member) => member.meter(part));
        return response;
    };
    const meter = share as Meter;
    meter.failed = (error) => members.forEach((member) => member.meter.failed(error));
    return meter;
}

/** The next batch's members, first come first served, while the batch has room (100 operations, 2 MB). */
function takeSetMembers(queue: SetMember[]): SetMember[] {
    const members: SetMember[] = [];
    let operations = 1;
    let bytes = 0;
    while (queue.length > 0 && members.length < MAX_SET_MEMBERS) {
        const next = queue[0] as SetMember;
        // A single write's documents are small (a target, a key record, a record of about 1 KB): a bound, not a
        // serialisation of each, which would cost every create the CPU of writing it twice.
        const size = SINGLE_WRITE_BYTES * (next.operations.length + 1);
        const count = next.operations.length + 1;
        if (members.length > 0 && (operations + count > MAX_BATCH_OPERATIONS || bytes + size > MAX_SET_BATCH_BYTES)) {
            break;
        }
        queue.shift();
        members.push(next);
        operations += count;
        bytes += size;
    }
    return members;
}

/** The number of a partition's last change record, 0 when it has none: one single-partition query by id. */
export async function lastChangeNumber(container: Container, meter: Meter, partition: string): Promise<number> {
    const { resources } = meter(
        await container.items
            .query<string>(
                {
                    query:
                        'SELECT TOP 1 VALUE c.id FROM c WHERE c.configurationId = @p AND c.id > @from AND ' +
                        'c.id <= @to ORDER BY c.id DESC',
                    parameters: [
                        { name: '@p', value: partition },
                        { name: '@from', value: CHANGE_ID_PREFIX },
                        { name: '@to', value: changeId(999_999_999_999) },
                    ],
                },
                { partitionKey: partition },
            )
            .fetchAll(),
    );
    const last = resources[0];
    return last === undefined ? 0 : Number(last.slice(CHANGE_ID_PREFIX.length)) || 0;
}

/** Change numbers remembered at most: past it, the map starts again (a miss costs one read of the set document). */
const MAX_REMEMBERED_REVISIONS = 10_000;

/** Waits after losing a change number to another instance: full jitter over 5 ms doubling up to 200 ms. */
const RACE_BACKOFF_BASE_MS = 5;
const RACE_BACKOFF_CAP_MS = 200;
/** Change numbers a write may lose to other instances before its client is told to retry (409). */
const MAX_LOST_NUMBERS = 12;

export class AssignmentStore {
    private readonly observer: StoreObserver | undefined;
    readonly maxAssignments: number;
    readonly changeLog: ChangeLogSettings;

    /** Whom this instance works for: nobody in particular, or one request (`forRequest`). */
    private request: StoreRequest = {};

    /**
     * What the store and its views share for the process (the configuration store's group commit), keyed by its
     * owner's symbol. Views read it through their prototype, so it is one object per container.
     */
    readonly shared = new Map<symbol, unknown>();

    /**
     * @param container resolves the container on first use (the client is created lazily).
     */
    constructor(
        private readonly container: () => Promise<Container>,
        options: StoreOptions | StoreObserver = {},
    ) {
        const { observer, maxAssignments, changeLog } =
            typeof options === 'function' ? { observer: options, changeLog: undefined } : options;
        this.observer = observer;
        this.maxAssignments = maxAssignments ?? MAX_ASSIGNMENTS_PER_CONFIGURATION;
        this.changeLog = { ...DEFAULT_CHANGE_LOG, ...changeLog };
    }

    /** Who and which request this view's writes are recorded for (lib/store/changeLog). */
    changeContext(): ChangeContext {
        const { scope } = this.request;
        return {
            actor: scope?.actor ?? UNAUTHENTICATED_ACTOR,
            correlationId: scope?.requestId ?? randomUUID(),
        };
    }

    private sharedMap<V>(key: symbol): Map<string, V> {
        let map = this.shared.get(key) as Map<string, V> | undefined;
        if (!map) {
            map = new Map<string, V>();
            this.shared.set(key, map);
        }
        return map;
    }

    /**
     * The same store working for one request: its calls stop starting once the request's budget expires, and carry
     * its scope. A view inherits everything else from this store (a subclass's overrides included) through its
     * prototype, so it costs one small object; what a method writes on `this` stays with the view.
     */
    forRequest(request: StoreRequest): this {
        const view = Object.create(this) as this;
        view.request = request;
        return view;
    }

    private checkDeadline(operation: string): void {
        if (this.request.budget?.expired) {
            throw new StoreError('unavailable', `Cosmos DB ${operation}: not started, the request ran out of time`);
        }
    }

    /** When this view's request is answered whatever happens (milliseconds since the epoch); none outside requests. */
    deadline(): number | undefined {
        return this.request.budget?.deadline;
    }

    /** Runs one operation of the store (this one's, or the configuration store's on the same container). */
    async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        const started = performance.now();
        let requestCharge = 0;
        let last: { statusCode?: number; activityId?: string } = {};
        const meter = ((response) => {
            requestCharge += response.requestCharge ?? 0;
            // Plain assignments, not spreads of conditional objects: this runs for every Cosmos DB response.
            const seen: typeof last = {};
            if (response.statusCode !== undefined) {
                seen.statusCode = response.statusCode;
            }
            if (response.activityId) {
                seen.activityId = response.activityId;
            }
            last = seen;
            return response;
        }) as Meter;
        meter.failed = (error) => {
            requestCharge += chargeOfError(error);
            const response = responseOfError(error);
            if (response.statusCode !== undefined) {
                last = response;
            }
        };
        const { observer } = this;
        const { scope } = this.request;
        const report = (failure?: StoreErrorKind) => {
            if (observer !== undefined) {
                const call: StoreCall = { operation, requestCharge, durationMs: performance.now() - started, failure };
                Object.assign(call, last);
                if (scope !== undefined) {
                    call.scope = scope;
                }
                observer(call);
            }
        };
        try {
            this.checkDeadline(operation);
            const result = await action(await this.container(), meter);
            report();
            return result;
        } catch (error) {
            if (error instanceof GraphError) {
                // The caller's own refusal, computed from what was read (a priority out of range): no storage failure.
                report();
                throw error;
            }
            const translated = translate(error, operation);
            meter.failed(error);
            report(translated.kind);
            throw translated;
        }
    }

    /** Reads one document; a missing container is an error, not a missing document. */
    async read<D extends ItemDefinition>(
        container: Container,
        meter: Meter,
        configurationId: string,
        id: string,
    ): Promise<D | undefined> {
        const response = meter(await container.item(id, configurationId).read<D>());
        if (response.statusCode === 404 && response.substatus === OWNER_RESOURCE_MISSING) {
            throw new StoreError('unexpected', 'Cosmos DB read: the database or container does not exist');
        }
        return response.resource;
    }

    /** Runs a transactional batch; resolves to each operation's result, or throws BatchRefused for the first failure. */
    async batch(
        container: Container,
        meter: Meter,
        configurationId: string,
        operations: OperationInput[],
        requestOptions: Pick<RequestOptions, 'abortSignal' | 'priorityLevel'> = {},
    ): Promise<OperationResponse[]> {
        this.checkDeadline('batch');
        let response: Awaited<ReturnType<Container['items']['batch']>>;
        const seen: FailureSlot = {};
        const options: RequestOptions & { [FAILURE_SLOT]: FailureSlot } = { ...requestOptions, [FAILURE_SLOT]: seen };
        try {
            // Copies: the SDK rewrites each operation's partitionKey in place, and a batch sent again (a lost race, a
            // member refused) would then name a partition that does not exist.
            response = await container.items.batch(
                operations.map((operation) => ({ ...operation })),
                configurationId,
                options,
            );
        } catch (error) {
            throw batchFailure(error, seen.error);
        }
        const { result, code, headers } = response;
        // 424 marks operations that failed only because another one did; the first real status says why.
        const index = (result ?? []).findIndex((r) => r.statusCode >= 400 && r.statusCode !== 424);
        // Telemetry's status is the write's own (a create's 201), or the failing operation's, not the batch's 200.
        const statusCode = result?.[Math.max(index, 0)]?.statusCode ?? code;
        const activityId: unknown = headers?.['x-ms-activity-id'];
        meter({
            requestCharge: (result ?? []).reduce((sum, r) => sum + (r.requestCharge ?? 0), 0),
            ...(statusCode !== undefined ? { statusCode } : {}),
            ...(typeof activityId === 'string' ? { activityId } : {}),
        });
        if (!result) {
            throw new StoreError('unexpected', 'Cosmos DB batch: no results in the response');
        }
        if (index >= 0) {
            throw new BatchRefused(index, result[index]?.statusCode ?? 500);
        }
        if (result.some((r) => r.statusCode >= 400)) {
            throw new StoreError('unexpected', 'Cosmos DB batch: failed without a reason');
        }
        return result;
    }

    /**
     * Writes the set document's count from the assignments themselves: for a configuration written before the set
     * document counted them. No write can land meanwhile, as each needs the count, and two first writes settle by
     * the create's uniqueness or the replace's condition.
     */
    private async countSet(container: Container, meter: Meter, configurationId: string, existing?: SetDocument) {
        const total = await countOf(
            meter,
            container.items.query<number>(assignmentsQuery('VALUE COUNT(1)', configurationId), {
                partitionKey: configurationId,
            }),
        );
        const document: SetDocument = {
            id: SET_VERSION_ID,
            configurationId,
            total,
            revision: existing?.revision ?? 0,
        };
        this.checkDeadline('write');
        try {
            meter(
                existing
                    ? await container.item(SET_VERSION_ID, configurationId).replace(document, {
                          accessCondition: { type: 'IfMatch', condition: String(existing._etag) },
                      })
                    : await container.items.create(document),
            );
        } catch (error) {
            expectedRefusal(meter, error, 409, 412); // another first write counted it
        }
    }

    /**
     * Runs a single write (`operations`) with the set document's patch after it, in one transactional batch.
     * Resolves to the results of `operations`; a failure of one of them is thrown as BatchRefused.
     */
    private async writeWithSet(
        container: Container,
        meter: Meter,
        configurationId: string,
        operations: OperationInput[],
        delta: number,
        draft?: ChangeDraft,
    ): Promise<OperationResponse[]> {
        if (draft !== undefined && this.changeLog.enabled) {
            return await this.writeLogged(meter, operations, configurationId, delta, draft);
        }
        const setIndex = operations.length;
        let waits = 0;
        for (let attempt = 0; ; attempt++) {
            try {
                return await this.batch(
                    container,
                    meter,
                    configurationId,
                    withSetPatch(configurationId, operations, delta, this.maxAssignments),
                );
            } catch (error) {
                if (!(error instanceof BatchRefused) || error.index !== setIndex) {
                    throw error;
                }
                const set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
                if (!set) {
                    // The configuration's own document: without it the batch wrote nothing, and nothing may be written.
                    throw configurationNotFound(configurationId);
                }
                if (set.deleting) {
                    // A DELETE of the configuration is under way (or was, and lost its answer): wait for its outcome.
                    await this.settleDeletion(container, meter, configurationId, set.deleting, waits++);
                    attempt--;
                    continue;
                }
                if (attempt >= 2) {
                    // Lost to concurrent writes of the set every time: the client's request was fine, retry it.
                    throw new StoreError('conflict', 'Cosmos DB batch: the set document kept changing concurrently');
                }
                if (typeof set.total === 'number') {
                    if (error.statusCode === 412 && delta > 0 && set.total >= this.maxAssignments) {
                        throw new StoreError(
                            'limitReached',
                            `The configuration holds the most assignments allowed (${this.maxAssignments})`,
                        );
                    }
                    continue; // counted meanwhile by another first write
                }
                await this.countSet(container, meter, configurationId, set);
            }
        }
    }

    /**
     * A single write with its change record (lib/store/changeLog), through the configuration's group commit: writes
     * of this instance to one configuration that arrive while a batch is under way wait and go together in the next
     * one, as the tenant's do (lib/store/tenantCommitter.ts): their operations, one patch of the set document on
     * condition that the partition's last change is still number N (and the count within the limit), and the records
     * of changes N + 1, N + 2, … Whatever lands in between (another instance's write) makes the batch fail whole, and
     * it goes again with the number read anew; a member whose own operation is refused leaves, the others go again.
     */
    private async writeLogged(
        meter: Meter,
        operations: OperationInput[],
        configurationId: string,
        delta: number,
        draft: ChangeDraft,
    ): Promise<OperationResponse[]> {
        this.checkDeadline('write');
        return await new Promise<OperationResponse[]>((resolve, reject) => {
            const groups = this.sharedMap<SetGroup>(SET_GROUPS);
            let group = groups.get(configurationId);
            if (!group) {
                group = { queue: [], draining: false };
                groups.set(configurationId, group);
            }
            group.queue.push({
                meter,
                operations,
                delta,
                draft,
                context: this.changeContext(),
                deadline: this.deadline(),
                resolve,
                reject,
            });
            if (!group.draining) {
                void this.drainSet(configurationId, group);
            }
        });
    }

    private async drainSet(configurationId: string, group: SetGroup): Promise<void> {
        group.draining = true;
        // Outside any one request: each member keeps to its own deadline, and is charged its share of each call (its
        // own operation's telemetry has it, under its request-id).
        const store = this.forRequest({});
        try {
            while (group.queue.length > 0) {
                const members = takeSetMembers(group.queue);
                const shared = sharedMeter(members);
                await this.container()
                    .then(async (container) => await store.commitSet(container, shared, configurationId, members))
                    .catch((error: unknown) => members.forEach((member) => member.reject(error)));
            }
        } finally {
            group.draining = false;
            if (group.queue.length === 0) {
                this.sharedMap<SetGroup>(SET_GROUPS).delete(configurationId);
            }
        }
    }

    /** Commits one group, answering each member exactly once (a second answer to a promise is ignored). */
    private async commitSet(
        container: Container,
        meter: Meter,
        configurationId: string,
        members: SetMember[],
    ): Promise<void> {
        const revisions = this.sharedMap<number>(REVISIONS);
        /** The set document's revision the batch is conditioned on, and the last number taken (usually the same). */
        let expected = revisions.get(configurationId);
        let base = expected;
        let live = members;
        let waits = 0;
        let lost = 0;
        /** The revision the last refused batch was conditioned on: a refusal on one still current is the limit's. */
        let refusedOn: number | undefined;
        try {
            for (;;) {
                const now = Date.now();
                live = live.filter((member) => {
                    if (member.deadline !== undefined && now >= member.deadline) {
                        member.reject(
                            new StoreError('unavailable', 'Cosmos DB batch: not started, the request ran out of time'),
                        );
                        return false;
                    }
                    return true;
                });
                if (live.length === 0) {
                    return;
                }
                if (expected === undefined || base === undefined) {
                    const set = await this.readSet(container, meter, configurationId);
                    if (set.deleting) {
                        await this.settleDeletion(container, meter, configurationId, set.deleting, waits++);
                        continue;
                    }
                    if (typeof set.total !== 'number') {
                        await this.countSet(container, meter, configurationId, set);
                        continue;
                    }
                    const current = set.revision ?? 0;
                    if (refusedOn === current) {
                        // Refused on a number still current: the limit, for one of the creates at least.
                        if (live.length > 1) {
                            for (const member of live) {
                                await this.commitSet(container, meter, configurationId, [member]);
                            }
                            return;
                        }
                        if ((live[0]?.delta ?? 0) > 0 && set.total >= this.maxAssignments) {
                            live[0]?.reject(
                                new StoreError(
                                    'limitReached',
                                    `The configuration holds the most assignments allowed (${this.maxAssignments})`,
                                ),
                            );
                            return;
                        }
                    }
                    expected = current;
                    base = current;
                }
                const first = base;
                const operations: OperationInput[] = [];
                const starts: number[] = [];
                let delta = 0;
                let creates = 0;
                for (const member of live) {
                    starts.push(operations.length);
                    operations.push(...member.operations);
                    delta += member.delta;
                    creates += Math.max(0, member.delta);
                }
                const setIndex = operations.length;
                const at = new Date();
                operations.push(
                    setPatchOperation(configurationId, delta, this.maxAssignments, {
                        expected,
                        next: first + live.length,
                        creates,
                    }),
                    ...live.map((member, i): OperationInput => ({
                        operationType: BulkOperationType.Create,
                        partitionKey: configurationId,
                        resourceBody: toRecord(
                            configurationId,
                            first + i + 1,
                            member.draft,
                            member.context,
                            this.changeLog,
                            randomUUID(),
                            at,
                        ) as unknown as JSONObject,
                    })),
                );
                // Bounded by the members' time: a slow or throttled batch must not hold the writes queued behind it
                // past theirs. One given up on may still land, with its records: its members are answered 503.
                const sendBy = Math.min(...live.map((m) => m.deadline ?? Infinity));
                let results: OperationResponse[];
                try {
                    results = await this.batch(
                        container,
                        meter,
                        configurationId,
                        operations,
                        Number.isFinite(sendBy) ? { abortSignal: AbortSignal.timeout(Math.max(1, sendBy - now)) } : {},
                    );
                } catch (error) {
                    revisions.delete(configurationId);
                    if (!(error instanceof BatchRefused)) {
                        throw error; // no answer: each member's write may or may not have landed (a 503 for each)
                    }
                    if (error.index < setIndex) {
                        // One member's own operation was refused: it alone leaves; the others go again at once.
                        const index = starts.findLastIndex((start) => start <= error.index);
                        const member = live[index] as SetMember;
                        member.reject(new BatchRefused(error.index - (starts[index] ?? 0), error.statusCode));
                        live = live.filter((other) => other !== member);
                        continue;
                    }
                    if (error.index > setIndex && error.statusCode === 409) {
                        // A record's number is taken though the set document does not say so (written by a build
                        // that did not move it): the numbers go on from the partition's last record.
                        base = Math.max(first, await lastChangeNumber(container, meter, configurationId));
                        continue;
                    }
                    // The number moved on (another instance's write), a DELETE marked the parent, or the limit.
                    refusedOn = expected;
                    expected = undefined;
                    base = undefined;
                    const latest = Math.max(...live.map((m) => m.deadline ?? Infinity));
                    if (lost++ >= MAX_LOST_NUMBERS || Date.now() >= latest - 100) {
                        throw new StoreError(
                            'conflict',
                            'Cosmos DB batch: the set document kept changing concurrently',
                        );
                    }
                    if (lost > 1) {
                        await sleep(Math.random() * Math.min(RACE_BACKOFF_CAP_MS, RACE_BACKOFF_BASE_MS * 2 ** lost));
                    }
                    continue;
                }
                if (revisions.size >= MAX_REMEMBERED_REVISIONS) {
                    revisions.clear();
                }
                revisions.set(configurationId, first + live.length);
                live.forEach((member, i) => {
                    const start = starts[i] ?? 0;
                    member.resolve(results.slice(start, start + member.operations.length));
                });
                return;
            }
        } catch (error) {
            live.forEach((member) => member.reject(error));
        }
    }

    /** The set document, asked of the primary when a replica has not seen it (another instance's create). */
    private async readSet(container: Container, meter: Meter, configurationId: string): Promise<SetDocument> {
        let set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
        if (!set && (await this.probe(container, meter, configurationId, SET_VERSION_ID))) {
            set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
        }
        if (!set) {
            throw configurationNotFound(configurationId);
        }
        return set;
    }

    /** Resolves only once Cosmos has acknowledged the write. */
    async create(configurationId: string, assignment: Assignment): Promise<StoredAssignment> {
        return await this.run('create', async (container, meter) => {
            const [created] = await this.writeWithSet(
                container,
                meter,
                configurationId,
                [createOperation(configurationId, assignment)],
                1,
                createdDraft(assignment),
            ).catch(refusedAs('create'));
            return toAssignment(created?.resourceBody as AssignmentDocument);
        });
    }

    /**
     * The create of a request that carries an idempotency key: the key's record is created in the same batch as the
     * assignment, so Cosmos' uniqueness of ids settles every race, and the record holds the first response. A
     * record past its lifetime is replaced, as if the key were new.
     */
    async createOnce(configurationId: string, assignment: Assignment, key: KeyedCreate): Promise<KeyedOutcome> {
        return await this.run('create', async (container, meter) => {
            const record: KeyRecord = {
                id: key.recordId,
                configurationId,
                kind: 'idempotencyKey',
                requestHash: key.requestHash,
                assignment: { id: assignment.id, target: assignment.target },
                createdAt: key.now,
                ttl: key.lifetimeSeconds,
            };
            let expired: KeyRecord | undefined;
            for (let attempt = 0; attempt < 3; attempt++) {
                const recordWrite: OperationInput = expired
                    ? {
                          operationType: BulkOperationType.Replace,
                          id: record.id,
                          partitionKey: configurationId,
                          ifMatch: String(expired._etag),
                          resourceBody: record as unknown as JSONObject,
                      }
                    : {
                          operationType: BulkOperationType.Create,
                          partitionKey: configurationId,
                          resourceBody: record as unknown as JSONObject,
                      };
                try {
                    const [, created] = await this.writeWithSet(
                        container,
                        meter,
                        configurationId,
                        [recordWrite, createOperation(configurationId, assignment)],
                        1,
                        createdDraft(assignment),
                    );
                    return {
                        stored: toAssignment(created?.resourceBody as AssignmentDocument),
                        replayed: false,
                        sameRequest: true,
                    };
                } catch (error) {
                    // The key's record exists (409) or changed since it was found expired (412): look again.
                    const keyUsed =
                        error instanceof BatchRefused && error.index === 0 && [409, 412].includes(error.statusCode);
                    if (!keyUsed) {
                        throw refused('create', error);
                    }
                }
                const found = await this.read<KeyRecord>(container, meter, configurationId, record.id);
                if (found && key.now - found.createdAt < found.ttl * 1000) {
                    return await this.replay(container, meter, configurationId, found, key.requestHash);
                }
                expired = found;
            }
            throw new StoreError('conflict', 'Cosmos DB create: the idempotency key changed concurrently');
        });
    }

    /** The first response again. Its ETag only while the assignment is still as that response showed it. */
    private async replay(
        container: Container,
        meter: Meter,
        configurationId: string,
        record: KeyRecord,
        requestHash: string,
    ): Promise<KeyedOutcome> {
        const { id, target } = record.assignment;
        const current = await this.read<AssignmentDocument>(container, meter, configurationId, id);
        const unchanged = current !== undefined && JSON.stringify(current.target) === JSON.stringify(target);
        return {
            stored: { id, target, ...(unchanged ? { etag: httpEtag(current._etag) } : {}) },
            replayed: true,
            sameRequest: record.requestHash === requestHash,
        };
    }

    async get(configurationId: string, id: string): Promise<StoredAssignment | undefined> {
        return await this.run('read', async (container, meter) => {
            const document = await this.read<AssignmentDocument>(container, meter, configurationId, id);
            return document && !isBookkeeping(document) ? toAssignment(document) : undefined;
        });
    }

    /**
     * One page of the configuration's assignments, in the partition's insertion order. The query names the partition
     * in its SQL as well as in the options: it is then a single-partition query on every Cosmos implementation.
     */
    async list(configurationId: string, page: { top: number; continuation?: string }): Promise<AssignmentPage> {
        return await this.run('query', async (container, meter) => {
            const query = container.items.query<AssignmentDocument>(assignmentsQuery('*', configurationId), {
                partitionKey: configurationId,
                maxItemCount: page.top,
                ...(page.continuation ? { continuationToken: page.continuation } : {}),
            });
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
            return await countOf(
                meter,
                container.items.query<number>(assignmentsQuery('VALUE COUNT(1)', configurationId), {
                    partitionKey: configurationId,
                }),
            );
        });
    }

    /**
     * Sets the target; `ifMatch` (an HTTP ETag) makes it conditional. A partial update rather than a replace, so
     * the document keeps whatever else it holds. With the change log, the assignment is read first, for the audit's
     * old value, and the patch is on condition of the version read: the old value recorded is the one replaced.
     */
    async updateTarget(
        configurationId: string,
        id: string,
        target: AssignmentTarget,
        ifMatch?: string,
    ): Promise<StoredAssignment> {
        return await this.run('patch', async (container, meter) => {
            const condition = writeCondition(ifMatch);
            const patch = (condition: { ifMatch?: string }, draft?: ChangeDraft) =>
                this.writeWithSet(
                    container,
                    meter,
                    configurationId,
                    [
                        {
                            operationType: BulkOperationType.Patch,
                            id,
                            partitionKey: configurationId,
                            ...condition,
                            resourceBody: { operations: [{ op: 'set', path: '/target', value: target }] },
                        },
                    ],
                    0,
                    draft,
                ).catch(refusedUnless(ifMatch, 'patch'));
            if (!this.changeLog.enabled) {
                const [patched] = await patch(condition);
                return toAssignment(patched?.resourceBody as AssignmentDocument);
            }
            for (let attempt = 0; ; attempt++) {
                let current = await this.read<AssignmentDocument>(container, meter, configurationId, id);
                if (!current || (condition.ifMatch !== undefined && httpEtag(current._etag) !== condition.ifMatch)) {
                    // Perhaps a replica behind another instance's write that the client has seen: ask the primary.
                    await this.probe(container, meter, configurationId, id);
                    current = await this.read<AssignmentDocument>(container, meter, configurationId, id);
                }
                if (!current || isBookkeeping(current)) {
                    if (ifMatch !== undefined) {
                        throw new StoreError('preconditionFailed', 'If-Match: the document does not exist');
                    }
                    throw translate({ code: 404 }, 'patch');
                }
                const etag = httpEtag(current._etag);
                if (condition.ifMatch !== undefined && etag !== condition.ifMatch) {
                    throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
                }
                try {
                    const [patched] = await patch({ ifMatch: String(current._etag) }, patchedDraft(current, target));
                    return toAssignment(patched?.resourceBody as AssignmentDocument);
                } catch (error) {
                    // Changed (or deleted) since it was read, with no If-Match of the client's to fail: read it again.
                    const raced =
                        error instanceof StoreError && ['preconditionFailed', 'notFound'].includes(error.kind);
                    // `If-Match: *` asks only that it exist: a version that moved meanwhile is no 412 of the client's.
                    if (!raced || condition.ifMatch !== undefined) {
                        throw error;
                    }
                    if (attempt >= 2) {
                        throw new StoreError('conflict', 'Cosmos DB patch: the assignment kept changing concurrently');
                    }
                }
            }
        });
    }

    async delete(configurationId: string, id: string, ifMatch?: string): Promise<void> {
        await this.run('delete', async (container, meter) => {
            const condition = writeCondition(ifMatch);
            await this.writeWithSet(
                container,
                meter,
                configurationId,
                [{ operationType: BulkOperationType.Delete, id, partitionKey: configurationId, ...condition }],
                -1,
                {
                    activityType: 'Delete OfficeClientConfigurationAssignment',
                    activityOperationType: 'Delete',
                    resources: [
                        {
                            resourceId: id,
                            type: ASSIGNMENT_RESOURCE_TYPE,
                            displayName: null,
                            modifiedProperties: [],
                            removed: true,
                        },
                    ],
                },
            ).catch(refusedUnless(ifMatch, 'delete'));
        });
    }

    /**
     * The configuration's own document in its assignments partition: the set document, with no assignment yet. The
     * configuration store writes it before the configuration itself (lib/store/configurationStore.ts).
     */
    async createParent(configurationId: string): Promise<void> {
        await this.run('configuration.createParent', async (container, meter) => {
            const set: SetDocument = { id: SET_VERSION_ID, configurationId, total: 0, revision: 0 };
            meter(await container.items.create(set));
        });
    }

    /** Idempotent: a parent already gone is fine. From then on, every assignment write in the partition fails. */
    async deleteParent(configurationId: string): Promise<void> {
        await this.run('configuration.deleteParent', async (container, meter) => {
            try {
                meter(await container.item(SET_VERSION_ID, configurationId).delete());
            } catch (error) {
                expectedRefusal(meter, error, 404);
            }
        });
    }

    /**
     * Whether the configuration exists, as the assignment routes see it: its parent does, and is not marked by a
     * DELETE that has landed (the configuration's own document then is gone).
     */
    async hasConfiguration(configurationId: string): Promise<boolean> {
        return await this.run('read', async (container, meter) => {
            const set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
            if (!set) {
                return false;
            }
            return !set.deleting || (await this.configurationExists(container, meter, configurationId));
        });
    }

    /**
     * Whether the configuration exists, a miss confirmed at the primary: for a decision that must not rest on a
     * replica behind this client (ending a subscription, refusing one).
     */
    async confirmedConfiguration(configurationId: string): Promise<boolean> {
        if (await this.hasConfiguration(configurationId)) {
            return true;
        }
        const present = await this.run('read', (container, meter) =>
            this.probe(container, meter, configurationId, SET_VERSION_ID),
        );
        // The probe brought this client's session up to date: the same question again, answered from there.
        return present && (await this.hasConfiguration(configurationId));
    }

    /**
     * Whether a document exists, asked of the partition's primary replica: a conditional Patch whose filter no
     * document meets answers 404 when there is none and 412 when there is one, and changes nothing. A read may be
     * served by a replica that has not yet seen another instance's write (session consistency is per client); the
     * probe's answer carries the session token that brings this client's next read up to date. Used only where a
     * read found nothing and the answer matters (a 404 to a client, a DELETE's outcome).
     */
    async probe(container: Container, meter: Meter, partition: string, id: string): Promise<boolean> {
        this.checkDeadline('probe');
        try {
            meter(
                await container.item(id, partition).patch({
                    condition: 'FROM c WHERE false',
                    operations: [{ op: 'set', path: '/probe', value: 0 }],
                }),
            );
            return true; // cannot happen (the filter holds for no document): treat as present
        } catch (error) {
            return expectedRefusal(meter, error, 404, 412) === 412;
        }
    }

    /** The configuration's own document in the tenant partition, confirmed at the primary when it is not found. */
    async configurationExists(container: Container, meter: Meter, configurationId: string): Promise<boolean> {
        const document = await this.read<ConfigurationDocument>(container, meter, TENANT_PARTITION, configurationId);
        if (document) {
            return document.kind === 'configuration';
        }
        return await this.probe(container, meter, TENANT_PARTITION, configurationId);
    }

    /**
     * Waits for the outcome of a DELETE whose mark a write met: the configuration gone is `configurationNotFound`; a
     * mark too old to belong to a DELETE that can still land is taken off; otherwise a short wait, then the caller
     * looks again. Past the request's time, or after every wait, a 409 the client may retry.
     */
    async settleDeletion(
        container: Container,
        meter: Meter,
        configurationId: string,
        mark: DeletionMark,
        waits: number,
    ): Promise<void> {
        if (!(await this.configurationExists(container, meter, configurationId))) {
            throw configurationNotFound(configurationId);
        }
        if (Date.now() - mark.at > STALE_MARK_MS) {
            await this.clearMark(container, meter, configurationId, mark.attempt);
            return;
        }
        const wait = MARK_WAIT_MS[waits];
        const deadline = this.deadline();
        if (wait === undefined || (deadline !== undefined && Date.now() + 2 * wait >= deadline)) {
            throw new StoreError('conflict', 'Cosmos DB: a DELETE of the configuration is under way');
        }
        await sleep(wait);
    }

    /**
     * Marks the parent for a DELETE (see DeletionMark): resolves to false when there is no parent. Another DELETE's
     * mark is waited on: the configuration gone is `configurationNotFound`, a DELETE still under way past the wait a
     * `conflict`.
     */
    async markParent(configurationId: string, attempt: string): Promise<boolean> {
        return await this.run('configuration.markParent', async (container, meter) => {
            for (let waits = 0; ; waits++) {
                const at = Date.now();
                try {
                    meter(
                        await container.item(SET_VERSION_ID, configurationId).patch({
                            condition: `FROM c WHERE NOT IS_DEFINED(c.deleting) OR c.deleting.at < ${at - STALE_MARK_MS}`,
                            operations: [{ op: 'set', path: '/deleting', value: { attempt, at } }],
                        }),
                    );
                    return true;
                } catch (error) {
                    if (expectedRefusal(meter, error, 404, 412) === 404) {
                        return false;
                    }
                }
                const set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
                if (set?.deleting?.attempt === attempt) {
                    return true; // this DELETE's own mark: its write landed though its answer said otherwise
                }
                if (set?.deleting) {
                    await this.settleDeletion(container, meter, configurationId, set.deleting, waits);
                }
            }
        });
    }

    /** Takes a DELETE's mark off the parent, if it is still that DELETE's: best effort for a refused DELETE. */
    async unmarkParent(configurationId: string, attempt: string): Promise<void> {
        await this.run('configuration.unmarkParent', async (container, meter) => {
            await this.clearMark(container, meter, configurationId, attempt);
        });
    }

    private async clearMark(container: Container, meter: Meter, configurationId: string, attempt: string) {
        try {
            meter(
                await container.item(SET_VERSION_ID, configurationId).patch({
                    condition: `FROM c WHERE c.deleting.attempt = '${attempt.replace(/[^0-9a-f-]/gi, '')}'`,
                    operations: [{ op: 'remove', path: '/deleting' }],
                }),
            );
        } catch (error) {
            expectedRefusal(meter, error, 404, 412); // gone, or another mark: not this one to take off
        }
    }

    /**
     * The number of the configuration's last assignment change (its set document's revision), read with the same
     * document that says whether the configuration exists (as `hasConfiguration`); undefined when it does not.
     */
    async revisionOf(configurationId: string): Promise<number | undefined> {
        return await this.run('read', async (container, meter) => {
            const set = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
            if (!set || (set.deleting && !(await this.configurationExists(container, meter, configurationId)))) {
                return undefined;
            }
            return set.revision ?? 0;
        });
    }

    /** Resolves when the configuration exists; rejects with `configurationNotFound` otherwise. */
    async requireConfiguration(configurationId: string): Promise<void> {
        if (!(await this.hasConfiguration(configurationId))) {
            throw configurationNotFound(configurationId);
        }
    }

    /**
     * Deletes what is left in a deleted configuration's partition (its parent, assignments, idempotency-key records),
     * a page of at most 100 ids at a time, each page in one transactional batch, until the partition is empty or
     * `until` (milliseconds since the epoch) comes near: the sweeper's work, resumable, as each page stands alone.
     * The parent goes first: from then on no assignment write can land, so the pages that follow see all there is.
     * Its calls ask for low priority (Cosmos DB's priority-based execution throttles them before the API's own).
     */
    async sweepPartition(configurationId: string, until: number): Promise<{ deleted: number; done: boolean }> {
        return await this.run('configuration.sweepPartition', async (container, meter) => {
            const low = { priorityLevel: PriorityLevel.Low };
            let deleted = 0;
            let refusals = 0;
            await container
                .item(SET_VERSION_ID, configurationId)
                .delete(low)
                .then(meter, (error: unknown) => expectedRefusal(meter, error, 404));
            while (Date.now() < until - SWEEP_PAGE_RESERVE_MS) {
                const ids = await this.firstIds(container, meter, configurationId, MAX_BATCH_OPERATIONS);
                if (ids.length === 0) {
                    return { deleted, done: true };
                }
                try {
                    await this.batch(
                        container,
                        meter,
                        configurationId,
                        ids.map((id): OperationInput => ({
                            operationType: BulkOperationType.Delete,
                            id,
                            partitionKey: configurationId,
                        })),
                        low,
                    );
                    deleted += ids.length;
                } catch (error) {
                    // A document deleted meanwhile (another sweeper) fails the page with 404: read the ids again.
                    // Bounded: each refusal means another sweeper made progress.
                    if (!(error instanceof BatchRefused && error.statusCode === 404) || ++refusals > 5) {
                        throw error;
                    }
                }
            }
            return { deleted, done: false };
        });
    }

    /**
     * Up to `count` ids of the partition. A query page may come back short, or even empty with more to come: pages
     * are read until one has ids or there are no more.
     */
    private async firstIds(container: Container, meter: Meter, configurationId: string, count: number) {
        const iterator = container.items.query<string>(
            {
                // Not the change records: they are the audit trail's, kept for the retention (Cosmos DB's TTL).
                query:
                    'SELECT VALUE c.id FROM c WHERE c.configurationId = @configurationId AND ' +
                    'NOT STARTSWITH(c.id, @changeRecord)',
                parameters: [
                    { name: '@configurationId', value: configurationId },
                    { name: '@changeRecord', value: CHANGE_ID_PREFIX },
                ],
            },
            { partitionKey: configurationId, maxItemCount: count, priorityLevel: PriorityLevel.Low },
        );
        while (iterator.hasMoreResults()) {
            const { resources } = meter(await iterator.fetchNext());
            if (resources.length > 0) {
                return resources.slice(0, count);
            }
        }
        return [];
    }

    /**
     * The set document's version (its `_etag`, and its partition's last change number), or undefined while the
     * configuration has none. A set marked by a DELETE under way is waited on: an assign replaces the whole set
     * document, and must never replace a mark.
     */
    async setVersion(configurationId: string): Promise<SetVersion | undefined> {
        return await this.run('read', async (container, meter) => {
            for (let waits = 0; ; waits++) {
                const document = await this.read<SetDocument>(container, meter, configurationId, SET_VERSION_ID);
                if (!document) {
                    return undefined;
                }
                if (!document.deleting) {
                    return { etag: String(document._etag), revision: document.revision ?? 0 };
                }
                try {
                    await this.settleDeletion(container, meter, configurationId, document.deleting, waits);
                } catch (error) {
                    if (error instanceof StoreError && error.kind === 'configurationNotFound') {
                        return undefined;
                    }
                    throw error;
                }
            }
        });
    }

    /**
     * Applies a whole new set in one transactional batch: Cosmos DB runs it atomically within the partition, so a
     * failure leaves the previous set as it was. The batch first replaces the set document, on condition that it is
     * still the version read before the set itself (`version`), so any write since makes it fail whole; with the
     * change log, it also creates the record of the partition's next change. Each operation names its partition key,
     * as batches require.
     */
    async applySet(
        configurationId: string,
        version: SetVersion | undefined,
        change: { removals: readonly Assignment[]; additions: readonly Assignment[]; total: number },
    ): Promise<void> {
        const { removals, additions, total } = change;
        if (removals.length + additions.length > MAX_SET_CHANGES) {
            throw new StoreError('unexpected', `one assign makes at most ${MAX_SET_CHANGES} changes`);
        }
        if (version === undefined) {
            throw configurationNotFound(configurationId);
        }
        const logged = this.changeLog.enabled;
        const context = this.changeContext();
        const draft = assignDraft(configurationId, removals, additions);
        const operationsFor = (revision: number): OperationInput[] => [
            {
                operationType: BulkOperationType.Replace,
                partitionKey: configurationId,
                id: SET_VERSION_ID,
                resourceBody: { id: SET_VERSION_ID, configurationId, total, revision },
                ifMatch: version.etag,
            },
            ...removals.map((a): OperationInput => ({
                operationType: BulkOperationType.Delete,
                id: a.id,
                partitionKey: configurationId,
            })),
            ...additions.map((a) => createOperation(configurationId, a)),
            ...(logged
                ? [
                      {
                          operationType: BulkOperationType.Create,
                          partitionKey: configurationId,
                          resourceBody: toRecord(
                              configurationId,
                              revision,
                              draft,
                              context,
                              this.changeLog,
                              randomUUID(),
                              new Date(),
                          ) as unknown as JSONObject,
                      } as OperationInput,
                  ]
                : []),
        ];
        // Not queued behind this process's single writes: the set document's ETag is the batch's condition, so no
        // write can land between the read and the batch, and the number after the read's is the assign's own.
        await this.run('batch', async (container, meter) => {
            try {
                const operations = operationsFor(logged ? version.revision + 1 : 0);
                try {
                    await this.batch(container, meter, configurationId, operations);
                } catch (error) {
                    const recordTaken =
                        logged &&
                        error instanceof BatchRefused &&
                        error.index === operations.length - 1 &&
                        error.statusCode === 409;
                    if (!recordTaken) {
                        throw error;
                    }
                    // A number taken though the set document does not say so (a build that did not move it): the
                    // numbers go on from the partition's last record, on the same condition.
                    const last = await lastChangeNumber(container, meter, configurationId);
                    await this.batch(container, meter, configurationId, operationsFor(last + 1));
                }
            } catch (error) {
                refusedAs('batch')(error);
            } finally {
                this.sharedMap<number>(REVISIONS).delete(configurationId);
            }
        });
    }
}

/** The record of an assignment's create: its target, new. */
function createdDraft(assignment: Assignment): ChangeDraft {
    return {
        activityType: 'Create OfficeClientConfigurationAssignment',
        activityOperationType: 'Create',
        resources: [
            {
                resourceId: assignment.id,
                type: ASSIGNMENT_RESOURCE_TYPE,
                displayName: null,
                modifiedProperties: [
                    { displayName: 'target', oldValue: null, newValue: auditValue(assignment.target) },
                ],
            },
        ],
    };
}

function patchedDraft(current: AssignmentDocument, target: AssignmentTarget): ChangeDraft {
    return {
        activityType: 'Patch OfficeClientConfigurationAssignment',
        activityOperationType: 'Patch',
        resources: [
            {
                resourceId: current.id,
                type: ASSIGNMENT_RESOURCE_TYPE,
                displayName: null,
                modifiedProperties: [
                    { displayName: 'target', oldValue: auditValue(current.target), newValue: auditValue(target) },
                ],
            },
        ],
    };
}

/** An assign's record: the configuration it was called on, each assignment it removed and each it added. */
function assignDraft(
    configurationId: string,
    removals: readonly Assignment[],
    additions: readonly Assignment[],
): ChangeDraft {
    const resource = (a: Assignment, removed: boolean): ChangedResource => ({
        resourceId: a.id,
        type: ASSIGNMENT_RESOURCE_TYPE,
        displayName: null,
        modifiedProperties: [
            {
                displayName: 'target',
                oldValue: removed ? auditValue(a.target) : null,
                newValue: removed ? null : auditValue(a.target),
            },
        ],
        ...(removed ? { removed: true as const } : {}),
    });
    return {
        activityType: 'assign OfficeClientConfiguration',
        activityOperationType: 'Action',
        resources: [
            // The configuration acted on: not a member of the assignments collection, so never in its delta.
            ...removals.map((a) => resource(a, true)),
            ...additions.map((a) => resource(a, false)),
        ],
        target: { resourceId: configurationId, type: CONFIGURATION_RESOURCE_TYPE },
    };
}

export function configurationNotFound(configurationId: string): StoreError {
    return new StoreError('configurationNotFound', `Cosmos DB: the configuration '${configurationId}' does not exist`);
}

/**
 * The set document's patch that every single write carries: the count moves by `delta`, the revision by one (with
 * the change log, to the group's last number, on condition of the number before its first). Any
 * write gives the document a new `_etag`, on which a concurrent assign's replace is conditional, so that assign
 * fails; the revision only makes each write visible in the document itself, a PATCH (delta 0) included. Its
 * filter holds the limit for a create, and for any write refuses a set document that has no count yet.
 */
function setPatchOperation(
    configurationId: string,
    delta: number,
    maxAssignments: number,
    numbered?: { expected: number; next: number; creates: number },
): OperationInput {
    // Creates keep within the limit; any other write needs the count to be a number (a set document that was counted).
    const creates = numbered?.creates ?? Math.max(0, delta);
    const count = creates > 0 ? `<= ${maxAssignments - creates}` : '>= 0';
    // With the change log, the writes take the partition's next change numbers: only if no other took them.
    const unnumbered = numbered === undefined;
    return {
        operationType: BulkOperationType.Patch,
        id: SET_VERSION_ID,
        partitionKey: configurationId,
        resourceBody: {
            operations: [
                { op: 'incr', path: '/total', value: delta },
                unnumbered
                    ? { op: 'incr', path: '/revision', value: 1 }
                    : { op: 'set', path: '/revision', value: numbered.next },
            ],
            // No write lands while a DELETE of the configuration has marked its parent (DeletionMark).
            condition:
                `FROM c WHERE c.total ${count} AND NOT IS_DEFINED(c.deleting)` +
                (unnumbered ? '' : ` AND c.revision = ${numbered.expected}`),
        },
    };
}

/** A single write's operations with the set document's patch after them: the batch every single write sends. */
function withSetPatch(
    configurationId: string,
    operations: OperationInput[],
    delta: number,
    maxAssignments: number,
): OperationInput[] {
    return [...operations, setPatchOperation(configurationId, delta, maxAssignments)];
}

/**
 * A single write's operations with the change log: the set document's patch, on condition that the partition's
 * last change is the one before `record`'s, then the record.
 */
function numberedOperations(
    configurationId: string,
    operations: OperationInput[],
    delta: number,
    maxAssignments: number,
    record: ChangeRecord,
): OperationInput[] {
    return [
        ...operations,
        setPatchOperation(configurationId, delta, maxAssignments, {
            expected: record.sequence - 1,
            next: record.sequence,
            creates: Math.max(0, delta),
        }),
        {
            operationType: BulkOperationType.Create,
            partitionKey: configurationId,
            resourceBody: record as unknown as JSONObject,
        },
    ];
}

/**
 * The transactional batch of a create, as `create` sends it: the assignment, then the set document's patch, then
 * (with the change log) the create's record, numbered. bench/libraryFloor and bench/rawCreates send the same, so
 * that they do the store's work.
 */
export function createBatchOperations(
    configurationId: string,
    assignment: Assignment,
    options: { maxAssignments?: number; record?: ChangeRecord } = {},
): OperationInput[] {
    const maxAssignments = options.maxAssignments ?? MAX_ASSIGNMENTS_PER_CONFIGURATION;
    const operations = [createOperation(configurationId, assignment)];
    return options.record
        ? numberedOperations(configurationId, operations, 1, maxAssignments, options.record)
        : withSetPatch(configurationId, operations, 1, maxAssignments);
}

/** The record of a create (lib/store/changeLog), numbered: what the store writes with it. */
export function createRecord(
    configurationId: string,
    assignment: Assignment,
    sequence: number,
    context: ChangeContext,
    settings: ChangeLogSettings = DEFAULT_CHANGE_LOG,
): ChangeRecord {
    return toRecord(configurationId, sequence, createdDraft(assignment), context, settings, randomUUID(), new Date());
}

function createOperation(configurationId: string, assignment: Assignment): OperationInput {
    return {
        operationType: BulkOperationType.Create,
        partitionKey: configurationId,
        resourceBody: { id: assignment.id, configurationId, target: assignment.target as JSONObject },
    };
}

function isBookkeeping(document: ItemDefinition): boolean {
    const id = document.id ?? '';
    return id === SET_VERSION_ID || id.startsWith(KEY_RECORD_ID_PREFIX) || id.startsWith(CHANGE_ID_PREFIX);
}

/** A refused batch as the StoreError of its failing operation's status; anything else unchanged. */
export function refused(operation: string, error: unknown): unknown {
    return error instanceof BatchRefused ? translate({ code: error.statusCode }, operation) : error;
}

/**
 * A client's If-Match as the write's own condition, checked by Cosmos DB where the write lands: a comparison with a
 * read made here could be against a version another instance has already replaced. `*` asks only that the document
 * exist, which the write requires anyway; a weak tag never matches (RFC 9110 compares strongly).
 */
export function writeCondition(ifMatch: string | undefined): { ifMatch?: string } {
    if (ifMatch === undefined || ifMatch === '*') {
        return {};
    }
    if (ifMatch.startsWith('W/')) {
        throw new StoreError('preconditionFailed', 'If-Match names a weak ETag: it never matches');
    }
    return { ifMatch };
}

/**
 * As refusedAs, for a write on condition of a client's If-Match: a missing document fails the condition (RFC 9110:
 * If-Match, `*` included, is false when there is no current representation), so its 404 is a 412.
 */
function refusedUnless(ifMatch: string | undefined, operation: string) {
    return (error: unknown): never => {
        if (ifMatch !== undefined && error instanceof BatchRefused && error.index === 0 && error.statusCode === 404) {
            throw new StoreError('preconditionFailed', 'If-Match: the document does not exist');
        }
        throw refused(operation, error);
    };
}

export function refusedAs(operation: string) {
    return (error: unknown): never => {
        throw refused(operation, error);
    };
}
