/**
 * Group commit of the tenant partition's writes (docs/design.md, "Writing the tenant partition").
 *
 * Every change of a configuration's existence or priority is one transactional batch in the tenant partition that
 * also replaces the one order document, on condition of the ETag it was read with. Changes racing each other for
 * that document would mostly lose (412) and read it again; so, within one instance, changes that arrive while a
 * batch is under way wait and go together in the next one: one conditional replace of the order for all of them.
 * Across instances a lost race is retried after a jittered wait that doubles each time, within each request's time.
 *
 * Each batch also creates a receipt under a fresh id. When its answer is lost (a timeout, a reset: Cosmos DB may
 * still apply it), creating that receipt ourselves settles the question for good: 201 means the batch did not land
 * and now never can (its own create of the receipt would fail); 409 means it landed. Members that did not land are
 * sent again; those that landed are told so without their results. Only when that question cannot be asked either
 * (the store does not answer) is the outcome unknown, and said to be.
 */
import { randomUUID } from 'node:crypto';

import {
    BulkOperationType,
    type Container,
    type JSONObject,
    type OperationInput,
    type OperationResponse,
    PriorityLevel,
} from '@azure/cosmos';

import { CONFIGURATION_TYPES } from '../graph/schema.js';
import {
    type AssignmentStore,
    BatchRefused,
    expectedRefusal,
    lastChangeNumber,
    MAX_BATCH_OPERATIONS,
    type Meter,
    StoreError,
} from './assignmentStore.js';
import { type ChangeContext, type ChangeDraft, priorityChanges, toRecord } from './changeLog.js';
import {
    ORDER_ID,
    type OrderDocument,
    RECEIPT_LIFETIME_SECONDS,
    RECEIPT_PREFIX,
    type ReceiptDocument,
    TENANT_PARTITION,
} from './tenant.js';

/** The tenant's order as read: the ids and the ETag to replace it on, absent while no configuration was made. */
export interface PriorityOrder {
    ids: string[];
    /** Each id's bare type name. */
    types: ReadonlyMap<string, string>;
    etag?: string;
    /** The number of the tenant partition's last recorded change (lib/store/changeLog); 0 before the first. */
    sequence: number;
}

/** A change of the order, computed from the current one; it may throw to refuse (a 400 of the caller's). */
export type Reorder = (ids: readonly string[]) => string[];

export interface TenantChange {
    /** The change's own operations (configuration documents, sweep records); the partition key is added here. */
    operations: OperationInput[];
    /**
     * The same operations completed with the order as the batch that carries them leaves it (a keyed create's record
     * keeps the priority its answer shows): as many as `operations`, of about their size (`operations` is what a
     * batch counts and sizes).
     */
    completed?: (ids: readonly string[]) => OperationInput[];
    /** How the order changes; absent: it does not (the change still rides on the order's condition). */
    reorder?: Reorder;
    /** A configuration the change adds to the order, with its concrete type. */
    added?: { id: string; odataType: string };
    /** When the change's request is answered whatever happens (milliseconds since the epoch). */
    deadline?: number;
    /**
     * The change's record (lib/store/changeLog), from the order before and after it: written in the same batch,
     * numbered after the order's last change. Absent: nothing is recorded (the log is off).
     */
    record?: { draft: (before: readonly string[], after: readonly string[]) => ChangeDraft; context: ChangeContext };
}

export interface TenantCommit {
    /** The results of the change's own operations; absent when the batch landed but its answer was lost. */
    results?: OperationResponse[];
    /** The order as the batch left it. */
    ids: readonly string[];
}

/** The outcome of a change is unknown: its batch was sent, no answer came, and the store could not be asked. */
export class OutcomeUnknown extends Error {
    constructor(
        override readonly cause: unknown,
        /** The batch's receipt: `TenantCommitter.settleLater` can still ask whether it landed, once the store answers. */
        readonly receiptId: string,
    ) {
        super('the batch was sent but neither its answer nor its receipt could be read');
        this.name = 'OutcomeUnknown';
    }
}

export function isOutcomeUnknown(error: unknown): boolean {
    return outcomeUnknown(error) !== undefined;
}

export function outcomeUnknown(error: unknown): OutcomeUnknown | undefined {
    return error instanceof StoreError && error.cause instanceof OutcomeUnknown ? error.cause : undefined;
}

/**
 * The time kept back, before a request's deadline, to settle a batch whose answer was lost: a second, or a quarter
 * of the time the request had left when its change came, if less.
 */
export const SETTLE_RESERVE_MS = 1000;

function settleReserve(deadline: number | undefined): number {
    return deadline === undefined ? SETTLE_RESERVE_MS : Math.min(SETTLE_RESERVE_MS, (deadline - Date.now()) / 4);
}

/** Waits after losing the order to another instance: full jitter over 10 ms doubling up to 400 ms. */
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 400;

/** Order races one group may lose outside any request's time (a request's own deadline bounds it otherwise). */
const MAX_LOST_RACES = 30;

/**
 * A batch holds at most 100 operations and 2 MB: members are taken while both have room, the order document's own
 * size counted (about 40 bytes an id). Changes of the order alone (updatePriorities) carry no operation: at most 50
 * members a group, so that each pass's reorders stay few.
 */
const MAX_BATCH_BYTES = 1_800_000;
/** A change record's own size, its resources and actor (lib/store/changeLog), at most about. */
const RECORD_BYTES = 4000;
const MAX_MEMBERS = 50;

/** Transport failures after which the request surely never reached Cosmos DB: no fence needed. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Statuses Cosmos DB answers to a request it did not apply: refusals of the request itself (a malformed or forbidden
 * one, a missing container, one too large), and the transient ones documented as not applied (410 Gone, 429, 449
 * RetryWith). A 408, a 500 or a 503 may have been applied.
 */
const NOT_APPLIED = new Set([400, 401, 403, 404, 409, 410, 412, 413, 429, 449]);

/** Attempts and waits of `settleLater`: about half a minute in all. */
const LATER_WAITS_MS = [1000, 2000, 4000, 8000, 16_000] as const;

interface Pending {
    change: TenantChange;
    bytes: number;
    /** SETTLE_RESERVE_MS for this change. */
    reserve: number;
    resolve(commit: TenantCommit): void;
    reject(error: unknown): void;
}

function tenantOperation(operation: OperationInput): OperationInput {
    return { ...operation, partitionKey: TENANT_PARTITION };
}

/** The ids of the documents a change writes whole (creates, replaces, upserts). */
function writtenIds(change: TenantChange): string[] {
    return change.operations.flatMap((operation) => {
        const id = (operation as { resourceBody?: { id?: unknown } }).resourceBody?.id;
        return operation.operationType !== BulkOperationType.Patch &&
            operation.operationType !== BulkOperationType.Delete &&
            typeof id === 'string'
            ? [id]
            : [];
    });
}

function typeIndex(type: string | undefined): string {
    return String(Math.max(0, CONFIGURATION_TYPES.indexOf(type as never)));
}

export function toPriorityOrder(document: OrderDocument | undefined): PriorityOrder {
    if (!document) {
        return { ids: [], types: new Map(), sequence: 0 };
    }
    const types = new Map(
        document.ids.map((id, i) => [
            id,
            CONFIGURATION_TYPES[Number(document.types[i] ?? 0)] ?? CONFIGURATION_TYPES[0],
        ]),
    );
    return { ids: document.ids, types, etag: String(document._etag), sequence: document.sequence ?? 0 };
}

/** The order document's write: a create the first time, else a replace on condition that it is still as read. */
function orderWrite(
    order: PriorityOrder,
    ids: string[],
    types: ReadonlyMap<string, string>,
    sequence: number,
): OperationInput {
    const document: OrderDocument = {
        id: ORDER_ID,
        configurationId: TENANT_PARTITION,
        kind: 'priorityOrder',
        ids,
        types: ids.map((id) => typeIndex(types.get(id))).join(''),
        ...(sequence > 0 ? { sequence } : {}),
    };
    return tenantOperation(
        order.etag === undefined
            ? { operationType: BulkOperationType.Create, resourceBody: document as unknown as JSONObject }
            : {
                  operationType: BulkOperationType.Replace,
                  id: ORDER_ID,
                  ifMatch: order.etag,
                  resourceBody: document as unknown as JSONObject,
              },
    );
}

function receipt(id: string, fence: boolean): ReceiptDocument {
    return {
        id,
        configurationId: TENANT_PARTITION,
        kind: 'receipt',
        fence,
        at: Date.now(),
        ttl: RECEIPT_LIFETIME_SECONDS,
    };
}

/**
 * Whether a failed batch may still have been applied. Only an answer that says it was not counts as one: a refused
 * operation, a status Cosmos DB answers without applying, a connection that never opened. Anything else (a timeout,
 * a reset, an answer that could not be read, a 408, 500 or 503) is asked of the batch's receipt.
 */
function mayHaveLanded(error: unknown): boolean {
    if (error instanceof BatchRefused || (error instanceof StoreError && error.kind === 'throttled')) {
        return false;
    }
    const cause = ((error instanceof StoreError ? error.cause : error) ?? {}) as { code?: unknown };
    if (typeof cause.code === 'number') {
        return !NOT_APPLIED.has(cause.code);
    }
    return !(typeof cause.code === 'string' && NOT_SENT.has(cause.code));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const KEY = Symbol('tenantCommitter');

/** The committer of the store's container: one a process, shared by every request's view of the store. */
export function committerOf(store: AssignmentStore): TenantCommitter {
    let committer = store.shared.get(KEY) as TenantCommitter | undefined;
    if (!committer) {
        committer = new TenantCommitter(store.forRequest({}));
        store.shared.set(KEY, committer);
    }
    return committer;
}

export class TenantCommitter {
    private readonly queue: Pending[] = [];
    private draining = false;
    /** The order as this instance's last batch left it: the next batch needs no read unless another one lands. */
    private known: PriorityOrder | undefined;

    constructor(private readonly store: AssignmentStore) {}

    /** One point read of the order (not the cached one: a listing must see other instances' changes). */
    async readOrder(container: Container, meter: Meter): Promise<PriorityOrder> {
        return toPriorityOrder(await this.store.read<OrderDocument>(container, meter, TENANT_PARTITION, ORDER_ID));
    }

    /**
     * The order including every change that has landed: the primary is asked first (lib/store/assignmentStore
     * `probe`), whose answer brings this client's session past other instances' writes, then it is read.
     */
    async freshOrder(container: Container, meter: Meter): Promise<PriorityOrder> {
        await this.store.probe(container, meter, TENANT_PARTITION, ORDER_ID);
        return await this.readOrder(container, meter);
    }

    submit(change: TenantChange): Promise<TenantCommit> {
        return new Promise<TenantCommit>((resolve, reject) => {
            const bytes = JSON.stringify(change.operations).length;
            this.queue.push({ change, bytes, reserve: settleReserve(change.deadline), resolve, reject });
            if (!this.draining) {
                void this.drain();
            }
        });
    }

    private async drain(): Promise<void> {
        this.draining = true;
        try {
            while (this.queue.length > 0) {
                const group = this.take([]);
                await this.store
                    .run('configuration.batch', async (container, meter) => {
                        await this.commit(container, meter, group);
                    })
                    // Before the commit could start (the container cannot be opened): the group gets that answer.
                    // The commit answers its own members whatever happens in it.
                    .catch((error: unknown) => group.forEach((member) => member.reject(error)));
            }
        } finally {
            this.draining = false;
        }
    }

    /** Tops `group` up from the queue, first come first served, while the batch has room. */
    private take(
        group: Pending[],
        orderLength = this.known?.ids.length ?? 0,
        queue: Pending[] = this.queue,
    ): Pending[] {
        // The receipt and the order, and each member's operations and change record. A record names each
        // configuration whose priority its change moves: about 50 bytes each, as many as the order has at most.
        const size = (p: Pending) => p.bytes + (p.change.record ? RECORD_BYTES + orderLength * 50 : 0);
        let operations = group.reduce((n, p) => n + p.change.operations.length + (p.change.record ? 1 : 0), 2);
        let bytes = group.reduce((n, p) => n + size(p), orderLength * 41 + 1000);
        while (queue.length > 0 && group.length < MAX_MEMBERS) {
            const next = queue[0] as Pending;
            const added = next.change.operations.length + (next.change.record ? 1 : 0);
            const fits = operations + added <= MAX_BATCH_OPERATIONS && bytes + size(next) <= MAX_BATCH_BYTES;
            if (!fits && group.length > 0) {
                break;
            }
            queue.shift();
            group.push(next);
            operations += added;
            bytes += size(next);
        }
        return group;
    }

    /**
     * The members of `group` that fit one batch on an order of `orderLength` (taken before the order's length was
     * known: at start-up, after a lost race); the rest go back to the front of the queue, in order.
     */
    private fit(group: Pending[], orderLength: number): Pending[] {
        const kept = this.take([], orderLength, [...group]);
        this.queue.unshift(...group.slice(kept.length));
        return kept;
    }

    /**
     * Members whose request is about to be answered leave the group unsent: a 409 to retry when the time went on
     * lost races for the order, else a 503. Either way nothing of theirs was written.
     */
    private live(group: Pending[], lost: number): Pending[] {
        const now = Date.now();
        return group.filter((member) => {
            const { deadline } = member.change;
            const late = deadline === undefined ? lost > MAX_LOST_RACES : deadline - now < 2 * member.reserve;
            if (late) {
                member.reject(
                    lost > 0
                        ? new StoreError('conflict', 'Cosmos DB batch: the priority order kept changing concurrently')
                        : new StoreError('unavailable', 'Cosmos DB batch: not started, the request ran out of time'),
                );
                return false;
            }
            return true;
        });
    }

    /**
     * Commits one group, answering each member exactly once: with its results, with its own refusal, or, when the
     * store fails in a way no member can get past (the order cannot be read, the receipt cannot be asked), with that.
     */
    private async commit(container: Container, meter: Meter, initial: Pending[]): Promise<void> {
        let group = initial;
        try {
            await this.commitGroup(
                container,
                meter,
                () => group,
                (next) => (group = next),
            );
        } catch (error) {
            group.forEach((member) => member.reject(error));
        }
    }

    private async commitGroup(
        container: Container,
        meter: Meter,
        current: () => Pending[],
        set: (group: Pending[]) => void,
    ): Promise<void> {
        // How far `order` can be trusted to hold every change that has landed: `cached` (as this instance's last batch
        // left it), `read` (a plain read, at Strong consistency current, at Session perhaps behind another instance),
        // `fresh` (read after asking the primary). A refusal (a 400 for a priority past the end, a 404 for an id not
        // listed) is answered only when computed on a fresh order; before that, the order is read again.
        let trust: 'cached' | 'read' | 'fresh' = this.known ? 'cached' : 'read';
        let order = this.known ?? (await this.readOrder(container, meter));
        for (let lost = 0; ;) {
            set(this.live(this.take(this.fit(current(), order.ids.length), order.ids.length), lost));
            if (current().length === 0) {
                return;
            }
            // Each member's change, in turn, on the order the previous ones left. One that refuses on the order as it
            // stands is refused; one that refuses only after the others' changes waits for the next group, as those
            // may yet be refused themselves.
            let ids = order.ids;
            const types = new Map(order.types);
            const members: { pending: Pending; start: number; before: readonly string[]; after: string[] }[] = [];
            const deferred: Pending[] = [];
            const receiptId = `${RECEIPT_PREFIX}${randomUUID()}`;
            // The receipt goes first: a batch sent twice (a retry below the SDK) fails on it, and so reads as landed.
            const operations: OperationInput[] = [
                tenantOperation({
                    operationType: BulkOperationType.Create,
                    resourceBody: receipt(receiptId, false) as unknown as JSONObject,
                }),
            ];
            let stale = false;
            // Documents the members so far write whole: a second write of one in the same batch (two keyed creates with
            // one key) would fail it; that member waits for the next group, where it meets the first one's result.
            const claimed = new Set<string>();
            for (const pending of current()) {
                const writes = writtenIds(pending.change);
                if (writes.some((id) => claimed.has(id))) {
                    deferred.push(pending);
                    continue;
                }
                let next: string[];
                try {
                    next = pending.change.reorder ? pending.change.reorder(ids) : [...ids];
                } catch (error) {
                    if (members.length > 0 && this.acceptsAlone(pending, order.ids)) {
                        deferred.push(pending);
                        continue;
                    }
                    if (trust !== 'fresh') {
                        stale = true; // perhaps only this instance's view: look again before refusing anyone
                        break;
                    }
                    pending.reject(error);
                    continue;
                }
                const before = ids;
                ids = next;
                if (pending.change.added) {
                    types.set(pending.change.added.id, pending.change.added.odataType);
                }
                members.push({ pending, start: operations.length, before, after: next });
                operations.push(...pending.change.operations.map(tenantOperation));
                writes.forEach((id) => claimed.add(id));
            }
            if (stale) {
                if (trust === 'cached') {
                    order = await this.readOrder(container, meter);
                    trust = 'read';
                } else {
                    order = await this.freshOrder(container, meter);
                    trust = 'fresh';
                }
                continue;
            }
            this.queue.unshift(...deferred);
            set(members.map((m) => m.pending));
            if (current().length === 0) {
                return;
            }
            for (const { pending, start } of members) {
                const { completed } = pending.change;
                if (completed) {
                    operations.splice(start, pending.change.operations.length, ...completed(ids).map(tenantOperation));
                }
            }
            const orderIndex = operations.length;
            // Each member's record after the order: numbered from the order's last change, in the members' order.
            // A record's number taken by another batch means the order changed too, and the order fails first.
            const now = new Date();
            const records = members.flatMap(({ pending, before, after }) => {
                const { record } = pending.change;
                return record && this.store.changeLog.enabled ? [{ record, before, after }] : [];
            });
            const sequence = order.sequence + records.length;
            operations.push(orderWrite(order, ids, types, sequence));
            records.forEach(({ record, before, after }, i) => {
                const draft = record.draft(before, after);
                const own = new Set(draft.resources.map((r) => r.resourceId));
                const moved = priorityChanges(before, after).filter(([id]) => !own.has(id));
                const written = toRecord(
                    TENANT_PARTITION,
                    order.sequence + i + 1,
                    draft,
                    record.context,
                    this.store.changeLog,
                    randomUUID(),
                    now,
                    moved,
                );
                operations.push(
                    tenantOperation({
                        operationType: BulkOperationType.Create,
                        resourceBody: written as unknown as JSONObject,
                    }),
                );
            });
            const group = current();
            const sendFor = Math.min(...group.map((p) => (p.change.deadline ?? Infinity) - p.reserve)) - Date.now();
            let results: OperationResponse[];
            try {
                results = await this.store.batch(
                    container,
                    meter,
                    TENANT_PARTITION,
                    operations,
                    Number.isFinite(sendFor)
                        ? { abortSignal: AbortSignal.timeout(Math.max(1, Math.ceil(sendFor))) }
                        : {},
                );
            } catch (error) {
                let landed: boolean;
                if (error instanceof BatchRefused && error.index === 0 && error.statusCode === 409) {
                    landed = true; // the receipt exists: this very batch landed before (sent twice below the SDK)
                } else if (error instanceof BatchRefused && error.index > orderIndex && error.statusCode === 409) {
                    // A record's number is taken though the order did not say so (written by a build that did not
                    // move it): the numbers go on from the partition's last record, on the same order.
                    order = {
                        ...order,
                        sequence: Math.max(order.sequence, await lastChangeNumber(container, meter, TENANT_PARTITION)),
                    };
                    continue;
                } else if (error instanceof BatchRefused && error.index >= orderIndex) {
                    // The order, or a record's number (taken only by a batch that changed the order as well).
                    // Another instance changed the order since it was read: read it and go again, at once the first
                    // time (the order known here was simply behind), after a jittered, growing wait after that.
                    this.known = undefined;
                    if (lost++ > 0) {
                        await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (lost - 1)));
                    }
                    // The refusal's answer carried the session token past the change that beat this batch.
                    order = await this.readOrder(container, meter);
                    trust = 'fresh';
                    continue;
                } else if (error instanceof BatchRefused) {
                    const member = members.findLast((m) => m.start <= error.index);
                    if (!member) {
                        throw error;
                    }
                    // One member's own operation was refused: it alone leaves; the others go again at once.
                    member.pending.reject(new BatchRefused(error.index - member.start, error.statusCode));
                    set(group.filter((p) => p !== member.pending));
                    continue;
                } else if (!mayHaveLanded(error)) {
                    throw error;
                } else {
                    this.known = undefined;
                    // Asked within the latest deadline of the group: a member with little time left must not cut the
                    // question short for the others (its own request is answered by its own budget meanwhile).
                    const latest = Math.max(
                        ...group.map((p) => p.change.deadline ?? Date.now() + 2 * SETTLE_RESERVE_MS),
                    );
                    landed = await this.settle(container, meter, receiptId, latest).catch((settling: unknown) => {
                        throw new StoreError(
                            'unavailable',
                            'Cosmos DB batch: no answer, and its receipt could not be read',
                            undefined,
                            new OutcomeUnknown(settling, receiptId),
                        );
                    });
                }
                if (landed) {
                    this.dropReceipt(receiptId);
                    group.forEach((p) => p.resolve({ ids }));
                    return;
                }
                // Fenced off: nothing of it landed, nor ever will. Read the order again and send the group again.
                order = await this.freshOrder(container, meter);
                trust = 'fresh';
                continue;
            }
            const written = results[orderIndex]?.resourceBody as OrderDocument | undefined;
            this.known = written ? toPriorityOrder(written) : undefined;
            this.dropReceipt(receiptId);
            members.forEach(({ pending, start }) =>
                pending.resolve({
                    results: results.slice(start, start + pending.change.operations.length),
                    ids,
                }),
            );
            return;
        }
    }

    /** Whether a change whose reorder refused after others' changes would be taken on the order as it stands. */
    private acceptsAlone(pending: Pending, ids: readonly string[]): boolean {
        try {
            pending.change.reorder?.(ids);
            return true;
        } catch {
            return false;
        }
    }

    /**
     * A receipt is needed only while its batch's answer may be lost; once answered, it goes, in the background and at
     * low priority: no request waits for it. One that fails to go expires (`ttl`), or the sweeper removes it.
     */
    private dropReceipt(receiptId: string): void {
        this.store
            .run('configuration.receipt', async (container, meter) => {
                meter(await container.item(receiptId, TENANT_PARTITION).delete({ priorityLevel: PriorityLevel.Low }));
            })
            .catch(() => undefined);
    }

    /**
     * Whether an unanswered batch landed: our own create of its receipt fences it off (201: it did not land, and now
     * never can), or finds it there (409). A 409 is read back: a create retried below the SDK may have met the
     * fence it wrote itself a moment before.
     */
    private async settle(container: Container, meter: Meter, receiptId: string, settleBy: number): Promise<boolean> {
        const time = Math.max(200, Math.ceil(settleBy - Date.now() - 50));
        const signal = { abortSignal: AbortSignal.timeout(time) };
        try {
            meter(await container.items.create(receipt(receiptId, true), signal));
            return false;
        } catch (error) {
            expectedRefusal(meter, error, 409);
            const found = await this.store.read<ReceiptDocument>(container, meter, TENANT_PARTITION, receiptId);
            return found?.fence !== true;
        }
    }

    /**
     * Asks again, for a while, whether a batch of unknown outcome landed: for the work its request could not finish
     * (taking a DELETE's mark off, removing what a create wrote), run in the background once the request has been
     * answered. Resolves to whether it landed; rejects when the store never answered.
     */
    async settleLater(receiptId: string): Promise<boolean> {
        let last: unknown;
        for (const wait of LATER_WAITS_MS) {
            await sleep(wait);
            try {
                return await this.store.run(
                    'configuration.settle',
                    async (container, meter) =>
                        await this.settle(container, meter, receiptId, Date.now() + 2 * SETTLE_RESERVE_MS),
                );
            } catch (error) {
                last = error;
            }
        }
        throw last;
    }
}
