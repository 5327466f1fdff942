/**
 * The Cosmos store of client configurations, in the assignments' container (docs/design.md has the whole picture).
 *
 * - The *tenant partition* (lib/store/tenant.ts) holds every configuration document, every payload document, one
 *   *order document* (priority = position + 1: dense and unique by construction) and the sweeper's records.
 * - A configuration's existence and priority change in one transactional batch with the order, sent through the
 *   process's group commit (lib/store/tenantCommitter.ts).
 * - Each configuration also has a *parent document* in its own assignments partition (the assignments' set document,
 *   lib/store/assignmentStore.ts), which every assignment write needs unmarked in its batch.
 * - Conditions travel with the writes (`ifMatch`, a patch filter), so Cosmos DB checks them where the write lands:
 *   a read made here may come from a replica that has not seen another instance's latest write.
 * - What a DELETE leaves (the partition, the payloads) and what a dead create left goes outside requests, through
 *   the sweep records (lib/store/sweepStore.ts, lib/jobs/sweeper.ts).
 */
import { randomUUID } from 'node:crypto';

import {
    BulkOperationType,
    type Container,
    type JSONObject,
    type OperationInput,
    type PatchOperation,
} from '@azure/cosmos';

import { PAYLOAD_PROPERTIES, type PayloadProperty } from '../graph/schema.js';
import {
    type AssignmentStore,
    BatchRefused,
    expectedRefusal,
    httpEtag,
    ifMatchHolds,
    type KeyedCreate,
    type Meter,
    StoreError,
    writeCondition,
} from './assignmentStore.js';
import { type AuditProperty, auditValue, type ChangeDraft, CONFIGURATION_RESOURCE_TYPE } from './changeLog.js';
import {
    type ConfigurationDocument,
    type ConfigurationFields,
    type ConfigurationKeyRecord,
    type FirstAnswer,
    ORDER_ID,
    type OrderDocument,
    type PayloadDocument,
    payloadDocumentId,
    type PayloadInfo,
    type SweepRecord,
    sweepRecordId,
    TENANT_PARTITION,
} from './tenant.js';
import {
    committerOf,
    isOutcomeUnknown,
    outcomeUnknown,
    type PriorityOrder,
    type Reorder,
    type TenantCommit,
    type TenantCommitter,
    toPriorityOrder,
} from './tenantCommitter.js';

export type { ConfigurationFields, PayloadInfo } from './tenant.js';
export { ORDER_ID, payloadDocumentId, TENANT_PARTITION } from './tenant.js';
export type { PriorityOrder, Reorder } from './tenantCommitter.js';

export interface StoredConfiguration extends ConfigurationFields {
    id: string;
    priority: number;
    payloads: Partial<Record<PayloadProperty, PayloadInfo>>;
    /** The configuration document's ETag. */
    etag: string;
}

/** The answer of a keyed create: the configuration it created, or, replayed, the first answer for its key. */
export interface KeyedConfiguration {
    /** A replay has its ETag only while the configuration is still as the first answer showed it. */
    stored: FirstAnswer & { etag?: string };
    replayed: boolean;
    /** False: the key was first used with another request body (a 422). */
    sameRequest: boolean;
}

export interface NewPayload {
    property: PayloadProperty;
    contentType: string;
    bytes: Uint8Array;
    etag: string;
}

export interface StoredPayload extends PayloadInfo {
    bytes: Buffer;
}

/** A page of the list and the order it was taken from, of one moment (ConfigurationStore.page). */
export interface ListedPage {
    order: PriorityOrder;
    configurations: StoredConfiguration[];
}

/** Queries a list makes at most for a page whose documents all came with the order they were picked from. */
const PAGE_LOOKS = 4;

/** A payload read: whether the configuration exists, and its payload when it has one. */
export type PayloadRead = { configuration: false } | { configuration: true; payload?: StoredPayload };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits of `later`: about half a minute in all. */
const LATER_WAITS_MS = [1000, 2000, 4000, 8000, 16_000] as const;

/**
 * Runs a clean-up a request could not finish, in the background, once the store answers again: a few tries over
 * about half a minute, then left to what backs it up (the sweeper, a stale mark taken off by a writer).
 */
function later(task: () => Promise<unknown>): void {
    void (async () => {
        for (const wait of LATER_WAITS_MS) {
            await sleep(wait);
            if (
                await task().then(
                    () => true,
                    () => false,
                )
            ) {
                return;
            }
        }
    })();
}

/** Whether a key's record still names its first request (Cosmos DB's `ttl` may remove it later than that). */
function isLive(record: ConfigurationKeyRecord, key: KeyedCreate): boolean {
    return key.now - record.createdAt < record.ttl * 1000;
}

/** Whether a configuration's document is still as a create's first answer showed it (its priority aside). */
function sameEntity(document: ConfigurationDocument, first: FirstAnswer): boolean {
    const payloads = (p: ConfigurationDocument['payloads']) =>
        JSON.stringify(
            PAYLOAD_PROPERTIES.map((property) => p[property] ?? null),
            ['contentType', 'etag', 'size'],
        );
    return (
        document.odataType === first.odataType &&
        (document.displayName ?? null) === (first.displayName ?? null) &&
        (document.description ?? null) === (first.description ?? null) &&
        payloads(document.payloads ?? {}) === payloads(first.payloads)
    );
}

/** ETags this service makes for payloads (a quoted base64url hash); no other value can match one. */
const PAYLOAD_ETAG = /^"[A-Za-z0-9_-]{1,64}"$/;

function toConfiguration(document: ConfigurationDocument, priority: number): StoredConfiguration {
    return {
        id: document.id,
        odataType: document.odataType,
        ...(document.displayName !== undefined ? { displayName: document.displayName } : {}),
        ...(document.description !== undefined ? { description: document.description } : {}),
        priority,
        payloads: document.payloads ?? {},
        etag: httpEtag(document._etag),
    };
}

/** An operation of a tenant-partition batch (each operation must name the partition key). */
function tenantOperation(operation: { operationType: OperationInput['operationType'] } & Record<string, unknown>) {
    return { ...operation, partitionKey: TENANT_PARTITION } as unknown as OperationInput;
}

function payloadDocument(id: string, payload: NewPayload): PayloadDocument {
    return {
        id: payloadDocumentId(id, payload.property),
        configurationId: TENANT_PARTITION,
        kind: 'payload',
        contentType: payload.contentType,
        content: Buffer.from(payload.bytes).toString('base64'),
        etag: payload.etag,
        size: payload.bytes.byteLength,
    };
}

/** The patch operations that set the fields a PATCH names; one that changes nothing still rewrites the document. */
function fieldOperations(fields: Partial<ConfigurationFields>): PatchOperation[] {
    const operations: PatchOperation[] = [];
    if (fields.displayName !== undefined) {
        operations.push({ op: 'set', path: '/displayName', value: fields.displayName });
    }
    if (fields.description !== undefined) {
        operations.push({ op: 'set', path: '/description', value: fields.description });
    }
    return operations.length > 0 ? operations : [{ op: 'set', path: '/kind', value: 'configuration' }];
}

/** What a refused member of a tenant batch means to the caller. */
function memberRefusal(operation: string) {
    return (error: unknown): never => {
        if (error instanceof BatchRefused) {
            switch (error.statusCode) {
                case 404:
                    throw new StoreError('notFound', `Cosmos DB ${operation}: the configuration does not exist`);
                case 412:
                    throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
                case 409:
                    throw new StoreError('conflict', `Cosmos DB ${operation}: conflict`);
            }
            throw new StoreError('unexpected', `Cosmos DB ${operation}: status ${error.statusCode}`);
        }
        throw error;
    };
}

export class ConfigurationStore {
    constructor(
        /** The container's store: its run/read/batch, and the assignments partitions' parent documents. */
        private readonly assignments: AssignmentStore,
    ) {}

    private get committer(): TenantCommitter {
        return committerOf(this.assignments);
    }

    /** Telemetry names them `configuration.<operation>`, apart from the assignments' operations. */
    private async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        return await this.assignments.run(`configuration.${operation}`, action);
    }

    private async readDocument(container: Container, meter: Meter, id: string) {
        const document = await this.assignments.read<ConfigurationDocument>(container, meter, TENANT_PARTITION, id);
        return document?.kind === 'configuration' ? document : undefined;
    }

    /** The tenant's order of configuration ids, first priority first. One point read. */
    async order(): Promise<PriorityOrder> {
        return await this.run('read', async (container, meter) => await this.committer.readOrder(container, meter));
    }

    /** The order with every change that has landed, asked of the primary first (TenantCommitter `freshOrder`). */
    async freshOrder(): Promise<PriorityOrder> {
        return await this.run('read', async (container, meter) => await this.committer.freshOrder(container, meter));
    }

    /**
     * Creates a configuration. Its sweep record comes first (`creating`), so that nothing written after it can be
     * left behind by a create that dies; then its parent and payloads; then one batch in the tenant partition
     * creates the configuration, places it in the order and removes the sweep record on condition of its ETag, so
     * that once the sweeper has fenced the record (`aborted`) that batch can never land.
     */
    async create(
        id: string,
        fields: ConfigurationFields,
        reorder: Reorder,
        payloads: readonly NewPayload[],
    ): Promise<StoredConfiguration> {
        const outcome = await this.insert(id, fields, reorder, payloads, undefined);
        if (!('created' in outcome)) {
            throw new StoreError('unexpected', 'Cosmos DB create: a create without a key was replayed');
        }
        return outcome.created;
    }

    /**
     * The create of a request that carries an idempotency key (lib/store/idempotency.ts): as `create`, and the key's
     * record is created in the create's own tenant batch, so that Cosmos DB's uniqueness of ids settles every race
     * between requests with the key, on any instance: of those batches one lands, the others fail whole (409 on the
     * record) and answer the record's first answer again. A record past its lifetime is replaced, on condition of its
     * ETag, as if the key were new.
     */
    async createOnce(
        id: string,
        fields: ConfigurationFields,
        reorder: Reorder,
        payloads: readonly NewPayload[],
        key: KeyedCreate,
    ): Promise<KeyedConfiguration> {
        const outcome = await this.insert(id, fields, reorder, payloads, key);
        return 'created' in outcome ? { stored: outcome.created, replayed: false, sameRequest: true } : outcome.replay;
    }

    private async insert(
        id: string,
        fields: ConfigurationFields,
        reorder: Reorder,
        payloads: readonly NewPayload[],
        key: KeyedCreate | undefined,
    ): Promise<{ created: StoredConfiguration } | { replay: KeyedConfiguration }> {
        const document: ConfigurationDocument = {
            id,
            configurationId: TENANT_PARTITION,
            kind: 'configuration',
            ...fields,
            payloads: Object.fromEntries(
                payloads.map((p) => [
                    p.property,
                    { contentType: p.contentType, etag: p.etag, size: p.bytes.byteLength },
                ]),
            ),
        };
        const record: SweepRecord = {
            id: sweepRecordId(id),
            configurationId: TENANT_PARTITION,
            kind: 'sweep',
            state: 'creating',
            target: id,
            at: Date.now(),
        };
        // A retry finds its key's record here, most often: answered from it, it writes nothing but the sweep record.
        // A read from a replica behind another instance's create misses it; that create's record then refuses ours.
        const [order, recordEtag, used] = await Promise.all([
            this.order(),
            this.run('create', async (container, meter) => String(meter(await container.items.create(record)).etag)),
            key ? this.readKey(key.recordId, false) : undefined,
        ]);
        const dropRecord = async () =>
            await this.unbudgeted()
                .run('delete', async (container, meter) => {
                    meter(
                        await container
                            .item(record.id, TENANT_PARTITION)
                            .delete({ accessCondition: { type: 'IfMatch', condition: recordEtag } }),
                    );
                })
                .catch(() => undefined); // left behind, the sweeper removes it past its grace
        if (key && used && isLive(used, key)) {
            // Nothing but the record was written: it goes at once (its ETag as created: nothing else can change it).
            await dropRecord();
            return { replay: await this.replay(used, key.requestHash) };
        }
        const written = payloads.map((p) => p.property);
        try {
            // A bad priority is refused before the parent or a payload is written; on an order known to be current.
            try {
                reorder(order.ids);
            } catch {
                reorder((await this.run('read', async (c, m) => await this.committer.freshOrder(c, m))).ids);
            }
        } catch (error) {
            await dropRecord();
            throw error;
        }
        const own: OperationInput[] = [
            { operationType: BulkOperationType.Create, resourceBody: document as unknown as JSONObject },
            { operationType: BulkOperationType.Delete, id: record.id, ifMatch: recordEtag } as OperationInput,
        ];
        /** A record found past its lifetime (not yet removed by its `ttl`): replaced on condition of its ETag. */
        let expired = used;
        const keyWrite = (ids: readonly string[]): OperationInput[] => {
            if (!key) {
                return [];
            }
            const keyRecord: ConfigurationKeyRecord = {
                id: key.recordId,
                configurationId: TENANT_PARTITION,
                kind: 'idempotencyKey',
                requestHash: key.requestHash,
                configuration: {
                    id,
                    ...fields,
                    priority: ids.indexOf(id) + 1,
                    payloads: document.payloads,
                },
                createdAt: key.now,
                ttl: key.lifetimeSeconds,
            };
            const resourceBody = keyRecord as unknown as JSONObject;
            return [
                expired
                    ? {
                          operationType: BulkOperationType.Replace,
                          id: key.recordId,
                          ifMatch: String(expired._etag),
                          resourceBody,
                      }
                    : { operationType: BulkOperationType.Create, resourceBody },
            ];
        };
        let commit: TenantCommit | undefined;
        let replay: ConfigurationKeyRecord | undefined;
        try {
            await Promise.all([
                this.assignments.createParent(id),
                this.run('create', async (container, meter) => {
                    await Promise.all(
                        payloads.map(async (payload) =>
                            meter(await container.items.create(payloadDocument(id, payload))),
                        ),
                    );
                }),
            ]);
            for (let attempt = 0; ; attempt++) {
                try {
                    commit = await this.committer.submit({
                        operations: [...own, ...keyWrite([...order.ids, id])],
                        completed: (ids) => [...own, ...keyWrite(ids)],
                        reorder,
                        added: { id, odataType: fields.odataType },
                        deadline: this.assignments.deadline(),
                        ...this.recorded((_, after) => createdDraft(document, after.indexOf(id) + 1)),
                    });
                    break;
                } catch (error) {
                    // The key's record is there (409), or changed or went since it was found expired (412, 404).
                    const keyTaken =
                        key !== undefined &&
                        error instanceof BatchRefused &&
                        error.index === own.length &&
                        [404, 409, 412].includes(error.statusCode);
                    if (!keyTaken) {
                        // Its own operations refused: the sweeper fenced its record (it took past the grace time).
                        throw error instanceof BatchRefused
                            ? new StoreError('conflict', 'Cosmos DB create: the create was fenced off')
                            : error;
                    }
                }
                // Refused whole, so nothing of this create's batch landed: the record that refused it is read (at the
                // primary, if a replica has not seen it), and answers; one past its lifetime is replaced.
                const found = await this.readKey(key.recordId, true);
                if (found && isLive(found, key)) {
                    replay = found;
                    break;
                }
                if (attempt >= 2) {
                    throw new StoreError('conflict', 'Cosmos DB create: the idempotency key changed concurrently');
                }
                expired = found;
            }
        } catch (error) {
            const discard = () => this.unbudgeted().discardCreate(record, recordEtag, written);
            if (!isOutcomeUnknown(error)) {
                // Nothing of the batch landed, nor can it now: what was written before it goes. Outside the request's
                // budget; whatever is left (a failure here) the sweeper finds through the record.
                await discard().catch(() => undefined);
            } else {
                // Perhaps landed: once the store answers again, fencing the record settles it (the create's batch
                // needs the record as it was), in the background; past its grace the sweeper does the same.
                later(discard);
            }
            throw error;
        }
        if (replay) {
            // Another request with the key created the configuration: what this one wrote before its batch goes.
            await this.unbudgeted()
                .discardCreate(record, recordEtag, written)
                .catch(() => undefined);
            return { replay: await this.replay(replay, (key as KeyedCreate).requestHash) };
        }
        // It landed: whatever happens from here (a read-back that fails) must not undo it.
        return { created: await this.committed(id, commit as TenantCommit) };
    }

    /** A key's record; `confirmed`: one a replica has not seen yet is asked of the primary (`probe`) and read again. */
    private async readKey(recordId: string, confirmed: boolean): Promise<ConfigurationKeyRecord | undefined> {
        return await this.run('read', async (container, meter) => {
            const read = async () => {
                const found = await this.assignments.read<ConfigurationKeyRecord>(
                    container,
                    meter,
                    TENANT_PARTITION,
                    recordId,
                );
                return found?.kind === 'idempotencyKey' ? found : undefined;
            };
            const found = await read();
            if (found || !confirmed || !(await this.assignments.probe(container, meter, TENANT_PARTITION, recordId))) {
                return found;
            }
            return await read();
        });
    }

    /**
     * The first answer again, from the key's record. Its ETag only while the configuration is still as that answer
     * showed it (a PATCH since: none; deleted since: none, and the replay does not create it again).
     */
    private async replay(record: ConfigurationKeyRecord, requestHash: string): Promise<KeyedConfiguration> {
        const first = record.configuration;
        if (record.requestHash !== requestHash) {
            return { stored: first, replayed: true, sameRequest: false };
        }
        const current = await this.run('read', async (container, meter) => {
            const read = await this.readDocument(container, meter, first.id);
            if (read || !(await this.assignments.probe(container, meter, TENANT_PARTITION, first.id))) {
                return read;
            }
            return await this.readDocument(container, meter, first.id);
        });
        const unchanged = current !== undefined && sameEntity(current, first);
        return {
            stored: { ...first, ...(unchanged ? { etag: httpEtag(current._etag) } : {}) },
            replayed: true,
            sameRequest: true,
        };
    }

    /**
     * The stored configuration a commit made or changed: from its results, or, when its answer was lost though it
     * landed, read back (outside the request's budget, a few times: the change stands, and its answer should too).
     */
    private async committed(id: string, commit: TenantCommit): Promise<StoredConfiguration> {
        const document = commit.results?.[0]?.resourceBody as ConfigurationDocument | undefined;
        if (document) {
            return toConfiguration(document, commit.ids.indexOf(id) + 1);
        }
        for (let attempt = 0; ; attempt++) {
            try {
                const stored = await this.unbudgeted().get(id);
                if (!stored) {
                    throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
                }
                return stored;
            } catch (error) {
                if (attempt === 2 || !(error instanceof StoreError) || error.kind === 'notFound') {
                    throw error;
                }
                await sleep(100 * (attempt + 1));
            }
        }
    }

    /** The same store with no request budget: for clean-ups that must finish even after the request's time ran out. */
    private unbudgeted(): ConfigurationStore {
        return new ConfigurationStore(this.assignments.forRequest({}));
    }

    /**
     * After a create that did not land: the record fenced (`aborted`, so the create's batch can never land), the parent
     * and payloads deleted. The record stays: a write of the parent or a payload that went unanswered may still land,
     * and the sweeper, past the record's grace time, looks again.
     */
    private async discardCreate(record: SweepRecord, etag: string, properties: readonly PayloadProperty[]) {
        const fenced = await this.run('replace', async (container, meter) => {
            try {
                meter(
                    await container
                        .item(record.id, TENANT_PARTITION)
                        .replace<SweepRecord>(
                            { ...record, state: 'aborted', at: Date.now() },
                            { accessCondition: { type: 'IfMatch', condition: etag } },
                        ),
                );
                return true;
            } catch (error) {
                // 404: the create's batch landed (it removed the record); 412: the sweeper fenced it first.
                expectedRefusal(meter, error, 404, 412);
                return false;
            }
        });
        if (!fenced) {
            return;
        }
        await this.assignments.deleteParent(record.target);
        await this.run('delete', async (container, meter) => {
            for (const property of properties) {
                await container
                    .item(payloadDocumentId(record.target, property), TENANT_PARTITION)
                    .delete()
                    .then(meter, (error: unknown) => expectedRefusal(meter, error, 404));
            }
        });
    }

    /** One configuration with its priority: two point reads (the document and the order), side by side. */
    async get(id: string): Promise<StoredConfiguration | undefined> {
        return await this.run('read', async (container, meter) => {
            for (let look = 0; look < 2; look++) {
                const [document, order] = await Promise.all([
                    this.readDocument(container, meter, id),
                    this.committer.readOrder(container, meter),
                ]);
                const index = order.ids.indexOf(id);
                if (document && index >= 0) {
                    return toConfiguration(document, index + 1);
                }
                // Nothing, or the two reads of different moments: ask the primary whether it exists, once.
                if (look > 0 || !(await this.assignments.probe(container, meter, TENANT_PARTITION, id))) {
                    return undefined;
                }
            }
            return undefined;
        });
    }

    /**
     * A page of the list: the order, and the documents of the ids `pick` takes from it, both from one query of the
     * tenant partition (the order document and the page's documents by id), so that they are of one moment: the page
     * is computed again on the order the query saw, and answered once every document it names came with it. A
     * configuration deleted between the order's read and the query would otherwise leave a gap in the priorities.
     * Under writes that keep changing the page, the last look answers what it has.
     */
    async page(pick: (ids: readonly string[]) => string[]): Promise<ListedPage> {
        return await this.run('query', async (container, meter) => {
            let order = await this.committer.readOrder(container, meter);
            let listed: ListedPage = { order, configurations: [] };
            for (let look = 0; look < PAGE_LOOKS; look++) {
                const ids = pick(order.ids);
                const { resources } = meter(
                    await container.items
                        .query<ConfigurationDocument | OrderDocument>(
                            {
                                // By id only (indexed): the order, and configuration ids no other document has.
                                query:
                                    'SELECT * FROM c WHERE c.configurationId = @tenant AND ' +
                                    '(c.id = @order OR ARRAY_CONTAINS(@ids, c.id))',
                                parameters: [
                                    { name: '@tenant', value: TENANT_PARTITION },
                                    { name: '@order', value: ORDER_ID },
                                    { name: '@ids', value: ids },
                                ],
                            },
                            { partitionKey: TENANT_PARTITION, maxItemCount: ids.length + 1 },
                        )
                        .fetchAll(),
                );
                order = toPriorityOrder(resources.find((d): d is OrderDocument => d.kind === 'priorityOrder'));
                const byId = new Map(
                    resources
                        .filter((d): d is ConfigurationDocument => d.kind === 'configuration')
                        .map((d) => [d.id, d]),
                );
                const seen = pick(order.ids);
                const priorities = new Map(order.ids.map((id, i) => [id, i + 1]));
                listed = {
                    order,
                    configurations: seen.flatMap((id) => {
                        const document = byId.get(id);
                        return document ? [toConfiguration(document, priorities.get(id) ?? 0)] : [];
                    }),
                };
                if (listed.configurations.length === seen.length) {
                    return listed;
                }
            }
            // Still changing: the documents the last order named but its query did not ask for are read on their
            // own; each keeps its priority from that order, the moment the page shows.
            const seen = pick(listed.order.ids);
            const have = new Set(listed.configurations.map((c) => c.id));
            const priorities = new Map(listed.order.ids.map((id, i) => [id, i + 1]));
            const late = await Promise.all(
                seen.filter((id) => !have.has(id)).map(async (id) => await this.readDocument(container, meter, id)),
            );
            const byId = new Map([
                ...listed.configurations.map((c): [string, StoredConfiguration] => [c.id, c]),
                ...late.flatMap((d): [string, StoredConfiguration][] =>
                    d ? [[d.id, toConfiguration(d, priorities.get(d.id) ?? 0)]] : [],
                ),
            ]);
            const configurations = seen.flatMap((id) => byId.get(id) ?? []);
            if (configurations.length < seen.length) {
                // Deleted since: a page with a gap in its priorities would be wrong; the client asks again.
                throw new StoreError('unavailable', 'Cosmos DB query: the page kept changing while it was read');
            }
            return { order: listed.order, configurations };
        });
    }

    /**
     * Changes the fields and/or the priority. The client's If-Match is the configuration document's write condition;
     * `odataType`, when the PATCH names one, is a condition too (a type never changes). Fields alone are one Patch;
     * a priority goes with the order, through the group commit.
     */
    async update(
        id: string,
        fields: Partial<ConfigurationFields>,
        reorder: Reorder | undefined,
        ifMatch: string | undefined,
    ): Promise<StoredConfiguration> {
        const values: Partial<ConfigurationFields> = { ...fields };
        delete values.odataType; // a type never changes: the caller has checked it
        if (!reorder && Object.keys(values).length === 0) {
            return await this.unchanged(id, ifMatch);
        }
        const condition = writeCondition(ifMatch);
        const patch = { operations: fieldOperations(values), condition: "FROM c WHERE c.kind = 'configuration'" };
        if (this.assignments.changeLog.enabled) {
            return await this.updateLogged(id, values, reorder, condition.ifMatch, patch);
        }
        if (!reorder) {
            return await this.run('patch', async (container, meter) => {
                const patched = await container
                    .item(id, TENANT_PARTITION)
                    .patch<ConfigurationDocument>(
                        patch,
                        condition.ifMatch ? { accessCondition: { type: 'IfMatch', condition: condition.ifMatch } } : {},
                    )
                    .then(meter, (error: unknown) =>
                        memberRefusal('patch')(new BatchRefused(0, expectedRefusal(meter, error, 404, 412))),
                    );
                const order = await this.committer.readOrder(container, meter);
                const document = patched.resource as ConfigurationDocument;
                let index = order.ids.indexOf(id);
                if (index < 0) {
                    index = (await this.committer.freshOrder(container, meter)).ids.indexOf(id);
                }
                if (index < 0) {
                    // Deleted by another request right after this PATCH landed: gone, as a GET would say now.
                    throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
                }
                return toConfiguration(document, index + 1);
            });
        }
        const commit = await this.committer
            .submit({
                operations: [
                    {
                        operationType: BulkOperationType.Patch,
                        id,
                        ...condition,
                        resourceBody: patch,
                    },
                ],
                reorder,
                deadline: this.assignments.deadline(),
            })
            .catch(memberRefusal('patch'));
        return await this.committed(id, commit);
    }

    /**
     * A PATCH with its change record: the document is read first, for the audit's old values, and the patch goes on
     * condition of the version read, so the old values recorded are the ones replaced. Fields and priority alike go
     * through the group commit, which numbers the record on the order's condition. A PATCH without If-Match that
     * loses its version to another write reads it again.
     */
    private async updateLogged(
        id: string,
        values: Partial<ConfigurationFields>,
        reorder: Reorder | undefined,
        ifMatch: string | undefined,
        patch: { operations: PatchOperation[]; condition: string },
    ): Promise<StoredConfiguration> {
        const holds = (document: ConfigurationDocument) =>
            ifMatch === undefined || httpEtag(document._etag) === ifMatch;
        // Read again only without the client's If-Match: with it, the version that moved was the one it named.
        const retried = ifMatch === undefined;
        return await this.onCurrentVersion(
            id,
            holds,
            'If-Match does not match the stored ETag',
            retried,
            'patch',
            async (current) => {
                const commit = await this.committer
                    .submit({
                        operations: [
                            {
                                operationType: BulkOperationType.Patch,
                                id,
                                ifMatch: String(current._etag),
                                resourceBody: patch,
                            },
                        ],
                        ...(reorder ? { reorder } : {}),
                        deadline: this.assignments.deadline(),
                        ...this.recorded((before, after) =>
                            patchedDraft(current, values, reorder ? [before, after] : undefined),
                        ),
                    })
                    .catch(memberRefusal('patch'));
                return await this.committed(id, commit);
            },
        );
    }

    /**
     * Runs `write` on the configuration's document as it is now; the write goes on condition of that version (its
     * `ifMatch`). A document that does not meet the client's condition (`holds`, confirmed at the primary) is a 412
     * (`refusal`). A version that moved before the write landed is read again, up to three times when `retried`, then
     * a 409 to retry: losing to other writes is never the client's 412.
     */
    private async onCurrentVersion<T>(
        id: string,
        holds: (document: ConfigurationDocument) => boolean,
        refusal: string,
        retried: boolean,
        operation: string,
        write: (current: ConfigurationDocument) => Promise<T>,
    ): Promise<T> {
        for (let attempt = 0; ; attempt++) {
            const current = await this.current(id, holds);
            if (!holds(current)) {
                throw new StoreError('preconditionFailed', refusal);
            }
            try {
                return await write(current);
            } catch (error) {
                const raced = error instanceof StoreError && error.kind === 'preconditionFailed';
                if (!raced || !retried) {
                    throw error;
                }
                if (attempt >= 2) {
                    throw new StoreError(
                        'conflict',
                        `Cosmos DB ${operation}: the configuration kept changing concurrently`,
                    );
                }
            }
        }
    }

    /**
     * The configuration's document as a write is about to change it: one missing, or failing the client's condition
     * (`holds`), is read again after asking the primary, as a replica behind another instance's write may have
     * answered.
     */
    private async current(
        id: string,
        holds: (document: ConfigurationDocument) => boolean,
    ): Promise<ConfigurationDocument> {
        return await this.run('read', async (container, meter) => {
            let document = await this.readDocument(container, meter, id);
            if (!document || !holds(document)) {
                await this.assignments.probe(container, meter, TENANT_PARTITION, id);
                document = await this.readDocument(container, meter, id);
            }
            if (!document) {
                throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
            }
            return document;
        });
    }

    /** The record a change carries through the group commit, when the change log is on. */
    private recorded(draft: (before: readonly string[], after: readonly string[]) => ChangeDraft) {
        return this.assignments.changeLog.enabled
            ? { record: { draft, context: this.assignments.changeContext() } }
            : {};
    }

    /**
     * A PATCH that changes nothing keeps the ETag, so nothing is written: If-Match is compared here, and a mismatch
     * is confirmed after the primary was asked, so that a replica behind another instance's write cannot answer it.
     */
    private async unchanged(id: string, ifMatch: string | undefined) {
        let stored = await this.get(id);
        if (stored && ifMatch !== undefined && !ifMatchHolds(ifMatch, stored)) {
            await this.run('read', async (container, meter) => {
                await this.assignments.probe(container, meter, TENANT_PARTITION, id);
            });
            stored = await this.get(id);
        }
        if (!stored) {
            throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
        }
        if (ifMatch !== undefined && !ifMatchHolds(ifMatch, stored)) {
            throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
        }
        return stored;
    }

    /** `updatePriorities`: the order alone, through the group commit. */
    async reorder(reorder: Reorder): Promise<void> {
        await this.committer.submit({
            operations: [],
            reorder,
            deadline: this.assignments.deadline(),
            // Every configuration it moved is in the record's priority changes: the action has no resource of its own.
            ...this.recorded(() => ({
                activityType: 'updatePriorities OfficeClientConfiguration',
                activityOperationType: 'Action',
                resources: [],
            })),
        });
    }

    /**
     * Deletes a configuration: (1) its parent is marked, so that no assignment write lands from here on, whatever
     * comes next; (2) one batch in the tenant partition deletes the configuration document (on condition of the
     * client's If-Match), removes it from the order and writes its sweep record (`deleted`). From then on every
     * route answers 404; the sweeper removes its partition and payloads later, outside any request. A DELETE
     * refused at (2) takes its mark off again: it has changed nothing.
     */
    async delete(id: string, ifMatch: string | undefined): Promise<void> {
        const condition = writeCondition(ifMatch);
        const attempt = randomUUID();
        const unmark = async () =>
            await this.assignments
                .forRequest({})
                .unmarkParent(id, attempt)
                .catch(() => undefined); // a mark left behind goes stale: writers take it off then
        const marked = await this.assignments.markParent(id, attempt).catch(async (error: unknown) => {
            if (error instanceof StoreError && error.kind === 'configurationNotFound') {
                throw new StoreError('notFound', 'Cosmos DB: the configuration does not exist');
            }
            // The mark's own write may have landed unanswered: take it off before answering that nothing changed.
            await unmark();
            throw error;
        });
        const record: SweepRecord = {
            id: sweepRecordId(id),
            configurationId: TENANT_PARTITION,
            kind: 'sweep',
            state: 'deleted',
            target: id,
            at: Date.now(),
        };
        try {
            await this.committer
                .submit({
                    operations: [
                        // The SDK's type leaves `ifMatch` out of a Delete; Cosmos DB honours it there as anywhere.
                        { operationType: BulkOperationType.Delete, id, ...condition },
                        { operationType: BulkOperationType.Create, resourceBody: record as unknown as JSONObject },
                    ],
                    reorder: (ids) => {
                        if (!ids.includes(id)) {
                            throw new StoreError('notFound', 'Cosmos DB: the configuration is not in the order');
                        }
                        return ids.filter((other) => other !== id);
                    },
                    deadline: this.assignments.deadline(),
                    ...this.recorded((before) => ({
                        activityType: 'Delete OfficeClientConfiguration',
                        activityOperationType: 'Delete',
                        resources: [
                            {
                                resourceId: id,
                                type: CONFIGURATION_RESOURCE_TYPE,
                                displayName: null,
                                modifiedProperties: [
                                    {
                                        displayName: 'priority',
                                        oldValue: String(before.indexOf(id) + 1),
                                        newValue: null,
                                    },
                                ],
                                removed: true,
                            },
                        ],
                    })),
                })
                .catch(memberRefusal('delete'));
        } catch (error) {
            const unknown = outcomeUnknown(error);
            if (marked && !unknown) {
                await unmark();
            } else if (marked && unknown) {
                // Perhaps landed: ask its receipt again once the store answers, and take the mark off if it did not.
                const { committer } = this;
                later(async () => {
                    if (!(await committer.settleLater(unknown.receiptId))) {
                        await unmark();
                    }
                });
            }
            throw error;
        }
    }

    /**
     * A payload's bytes, media type and ETag, all from its own document (one version, whatever runs meanwhile),
     * read beside the configuration's document, which says whether the configuration exists.
     */
    async readPayload(id: string, property: PayloadProperty): Promise<PayloadRead> {
        return await this.run('read', async (container, meter) => {
            const read = () =>
                Promise.all([
                    this.readDocument(container, meter, id),
                    this.assignments.read<PayloadDocument>(
                        container,
                        meter,
                        TENANT_PARTITION,
                        payloadDocumentId(id, property),
                    ),
                ]);
            let [document, payload] = await read();
            if (!document) {
                if (!(await this.assignments.probe(container, meter, TENANT_PARTITION, id))) {
                    return { configuration: false };
                }
                [document, payload] = await read();
                if (!document) {
                    return { configuration: false };
                }
            }
            if (!payload) {
                return { configuration: true };
            }
            const bytes = Buffer.from(payload.content, 'base64');
            const etag = payload.etag ?? document.payloads?.[property]?.etag;
            return {
                configuration: true,
                payload: {
                    contentType: payload.contentType,
                    etag: etag ?? httpEtag(payload._etag),
                    size: payload.size ?? bytes.byteLength,
                    bytes,
                },
            };
        });
    }

    /**
     * Replaces a payload in one batch with no read before it: a Patch of the configuration's record of it, whose
     * filter requires the configuration and the client's If-Match on the payload's ETag, then the payload document.
     */
    async writePayload(id: string, payload: NewPayload, ifMatch: string | undefined): Promise<PayloadInfo> {
        if (this.assignments.changeLog.enabled) {
            return await this.writePayloadLogged(id, payload, ifMatch);
        }
        const info: PayloadInfo = {
            contentType: payload.contentType,
            etag: payload.etag,
            size: payload.bytes.byteLength,
        };
        let filter = `FROM c WHERE c.kind = 'configuration'`;
        if (ifMatch === '*') {
            filter += ` AND IS_DEFINED(c.payloads.${payload.property})`;
        } else if (ifMatch !== undefined) {
            if (!PAYLOAD_ETAG.test(ifMatch)) {
                throw new StoreError('preconditionFailed', 'If-Match does not match the payload ETag');
            }
            filter += ` AND c.payloads.${payload.property}.etag = '${ifMatch}'`;
        }
        return await this.run('replace', async (container, meter) => {
            await this.assignments
                .batch(container, meter, TENANT_PARTITION, [
                    tenantOperation({
                        operationType: BulkOperationType.Patch,
                        id,
                        resourceBody: {
                            operations: [{ op: 'set', path: `/payloads/${payload.property}`, value: { ...info } }],
                            condition: filter,
                        },
                    }),
                    tenantOperation({
                        operationType: BulkOperationType.Upsert,
                        resourceBody: payloadDocument(id, payload),
                    }),
                ])
                .catch((error: unknown) => {
                    if (error instanceof BatchRefused && error.index === 0 && error.statusCode === 412) {
                        throw new StoreError('preconditionFailed', 'If-Match does not match the payload ETag');
                    }
                    return memberRefusal('replace')(error);
                });
            return info;
        });
    }

    /**
     * A payload PUT with its change record, through the group commit: the configuration's document is read first
     * (its record of the payload is the audit's old value, and the client's If-Match is compared with it), and the
     * patch goes on condition of that version; one that lost its version to another write reads it again.
     */
    private async writePayloadLogged(
        id: string,
        payload: NewPayload,
        ifMatch: string | undefined,
    ): Promise<PayloadInfo> {
        const info: PayloadInfo = {
            contentType: payload.contentType,
            etag: payload.etag,
            size: payload.bytes.byteLength,
        };
        const matches = (document: ConfigurationDocument) => {
            const stored = document.payloads?.[payload.property];
            return ifMatch === undefined || (ifMatch === '*' ? stored !== undefined : stored?.etag === ifMatch);
        };
        // Always read again: the client's If-Match names the payload's ETag, which the next read checks anew.
        return await this.onCurrentVersion(
            id,
            matches,
            'If-Match does not match the payload ETag',
            true,
            'replace',
            async (current) => {
                const old = current.payloads?.[payload.property];
                await this.committer
                    .submit({
                        operations: [
                            {
                                operationType: BulkOperationType.Patch,
                                id,
                                ifMatch: String(current._etag),
                                resourceBody: {
                                    operations: [
                                        { op: 'set', path: `/payloads/${payload.property}`, value: { ...info } },
                                    ],
                                    condition: "FROM c WHERE c.kind = 'configuration'",
                                },
                            },
                            {
                                operationType: BulkOperationType.Upsert,
                                resourceBody: payloadDocument(id, payload) as unknown as JSONObject,
                            },
                        ],
                        deadline: this.assignments.deadline(),
                        ...this.recorded(() => ({
                            activityType: `Put ${payload.property} OfficeClientConfiguration`,
                            activityOperationType: 'Patch',
                            resources: [
                                {
                                    resourceId: id,
                                    type: CONFIGURATION_RESOURCE_TYPE,
                                    displayName: current.displayName ?? null,
                                    modifiedProperties: [
                                        {
                                            displayName: payload.property,
                                            oldValue: auditValue(old ? payloadValue(old) : undefined),
                                            newValue: auditValue(payloadValue(info)),
                                        },
                                    ],
                                },
                            ],
                        })),
                    })
                    .catch(memberRefusal('replace'));
                return info;
            },
        );
    }
}

/** A payload as the audit shows it: its media type, size and ETag, not its bytes. */
function payloadValue(info: PayloadInfo) {
    return { contentType: info.contentType, size: info.size, etag: info.etag };
}

function configurationValues(fields: Partial<ConfigurationFields>): [string, unknown][] {
    return (['displayName', 'description'] as const)
        .filter((name) => fields[name] !== undefined)
        .map((name) => [name, fields[name]]);
}

/** A create's record: every property it set, its priority as its batch placed it. */
function createdDraft(document: ConfigurationDocument, priority: number): ChangeDraft {
    const added = (name: string, value: unknown): AuditProperty => ({
        displayName: name,
        oldValue: null,
        newValue: auditValue(value),
    });
    return {
        activityType: 'Create OfficeClientConfiguration',
        activityOperationType: 'Create',
        resources: [
            {
                resourceId: document.id,
                type: CONFIGURATION_RESOURCE_TYPE,
                displayName: document.displayName ?? null,
                modifiedProperties: [
                    added('@odata.type', `#${document.odataType}`),
                    ...configurationValues(document).map(([name, value]) => added(name, value)),
                    added('priority', String(priority)),
                    ...PAYLOAD_PROPERTIES.flatMap((property) => {
                        const info = document.payloads[property];
                        return info ? [added(property, payloadValue(info))] : [];
                    }),
                ],
            },
        ],
    };
}

/** A PATCH's record: each property it named, old and new, and its priority when it moved it. */
function patchedDraft(
    current: ConfigurationDocument,
    values: Partial<ConfigurationFields>,
    orders: [before: readonly string[], after: readonly string[]] | undefined,
): ChangeDraft {
    const modified: AuditProperty[] = configurationValues(values).map(([name, value]) => ({
        displayName: name,
        oldValue: auditValue(current[name as 'displayName' | 'description']),
        newValue: auditValue(value),
    }));
    if (orders) {
        const [before, after] = orders;
        modified.push({
            displayName: 'priority',
            oldValue: String(before.indexOf(current.id) + 1),
            newValue: String(after.indexOf(current.id) + 1),
        });
    }
    return {
        activityType: 'Patch OfficeClientConfiguration',
        activityOperationType: 'Patch',
        resources: [
            {
                resourceId: current.id,
                type: CONFIGURATION_RESOURCE_TYPE,
                displayName: values.displayName ?? current.displayName ?? null,
                modifiedProperties: modified,
            },
        ],
    };
}
