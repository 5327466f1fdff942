/**
 * The Cosmos store of client configurations, in the assignments' container (docs/design.md has the whole picture).
 *
 * - The *tenant partition* (partition key value `/officeConfiguration`: it holds a `/`, so no configuration id can
 *   name it) holds every configuration document, every payload document and one *order document*.
 * - The order document is the single source of truth for priorities: an array of configuration ids, priority =
 *   position + 1. Priorities are therefore dense (1..N) and unique by construction. Every change of the order is a
 *   replace on condition of the ETag read (`ifMatch`), in one transactional batch with the configuration it concerns;
 *   a 412 means another change landed in between, and the change is computed again on the new order.
 * - Each configuration also has a *parent document* in its own assignments partition (the assignments' set document,
 *   lib/store/assignmentStore.ts), which every assignment write needs in its batch: create writes it first, delete
 *   removes it first.
 */
import {
    BulkOperationType,
    type Container,
    type ItemDefinition,
    type JSONObject,
    type OperationInput,
} from '@azure/cosmos';

import { CONFIGURATION_TYPES, PAYLOAD_PROPERTIES, type PayloadProperty } from '../graph/schema.js';
import {
    type AssignmentStore,
    BatchRefused,
    httpEtag,
    ifMatchHolds,
    type Meter,
    refused,
    StoreError,
} from './assignmentStore.js';

/** The partition key value of the tenant's configurations, payloads and order. */
export const TENANT_PARTITION = '/officeConfiguration';

/** The order document's id; no GUID, so no configuration id can name it. */
export const ORDER_ID = 'priority-order';

/** Attempts at a change of the order before it is answered 409: each failed one lost to a concurrent change. */
const ORDER_ATTEMPTS = 8;

export interface PayloadInfo {
    contentType: string;
    /** An HTTP ETag of the bytes (a hash), so the same bytes always have the same tag. */
    etag: string;
    size: number;
}

export interface ConfigurationFields {
    /** The bare OData type name, `microsoft.graph.windowsOfficeClientConfiguration`. */
    odataType: string;
    displayName?: string | null;
    description?: string | null;
}

export interface StoredConfiguration extends ConfigurationFields {
    id: string;
    priority: number;
    payloads: Partial<Record<PayloadProperty, PayloadInfo>>;
    /** The configuration document's ETag (priority lives in the order document and does not change it). */
    etag: string;
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

interface ConfigurationDocument extends ItemDefinition, ConfigurationFields {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'configuration';
    payloads: Partial<Record<PayloadProperty, PayloadInfo>>;
}

interface OrderDocument extends ItemDefinition {
    id: typeof ORDER_ID;
    configurationId: typeof TENANT_PARTITION;
    kind: 'priorityOrder';
    ids: string[];
    /**
     * Each configuration's concrete type, one character an id, in the order of `ids`: the index of the type in
     * CONFIGURATION_TYPES. A type never changes, and a list answered from the order alone (`$select=priority`) still
     * writes each element's `@odata.type`, as OData requires for a derived type. One byte an id.
     */
    types: string;
}

interface PayloadDocument extends ItemDefinition {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'payload';
    contentType: string;
    /** base64: Cosmos DB stores JSON. 1 MiB of bytes is 1.4 MB here, within the 2 MB item limit. */
    content: string;
}

/** The tenant's order as read: the ids and the ETag to replace it on, absent while no configuration was made. */
export interface PriorityOrder {
    ids: string[];
    /** Each id's bare type name. */
    types: ReadonlyMap<string, string>;
    etag?: string;
}

/** A change of the order, computed from the current one; it may throw to refuse (a 400 of the caller's). */
export type Reorder = (ids: readonly string[]) => string[];

export function payloadDocumentId(configurationId: string, property: PayloadProperty): string {
    return `${configurationId}.${property}`;
}

function toConfiguration(document: ConfigurationDocument, priority: number): StoredConfiguration {
    return {
        id: document.id,
        odataType: document.odataType,
        ...(document.displayName !== undefined ? { displayName: document.displayName } : {}),
        ...(document.description !== undefined ? { description: document.description } : {}),
        priority,
        payloads: document.payloads,
        etag: httpEtag(document._etag),
    };
}

/** An operation of a tenant-partition batch (each operation must name the partition key). */
function tenantOperation(operation: { operationType: OperationInput['operationType'] } & Record<string, unknown>) {
    return { ...operation, partitionKey: TENANT_PARTITION } as unknown as OperationInput;
}

/** The order document's write: a create the first time, else a replace on condition that it is still as read. */
function orderWrite(order: PriorityOrder, ids: string[], added?: { id: string; odataType: string }): OperationInput {
    const typeOf = (id: string) => (id === added?.id ? added.odataType : order.types.get(id));
    const types = ids.map((id) => String(Math.max(0, CONFIGURATION_TYPES.indexOf(typeOf(id) as never)))).join('');
    const document: OrderDocument = {
        id: ORDER_ID,
        configurationId: TENANT_PARTITION,
        kind: 'priorityOrder',
        ids,
        types,
    };
    return order.etag === undefined
        ? tenantOperation({ operationType: BulkOperationType.Create, resourceBody: document as unknown as JSONObject })
        : tenantOperation({
              operationType: BulkOperationType.Replace,
              id: ORDER_ID,
              ifMatch: order.etag,
              resourceBody: document as unknown as JSONObject,
          });
}

/** A refusal of the order's write (412: replaced meanwhile; 409: created meanwhile): compute the change again. */
function lostRace(error: unknown, orderIndex: number): boolean {
    return error instanceof BatchRefused && error.index === orderIndex && [409, 412].includes(error.statusCode);
}

function raceLost(): StoreError {
    return new StoreError('conflict', 'Cosmos DB batch: the priority order kept changing concurrently');
}

export class ConfigurationStore {
    constructor(
        /** The container's store: its run/read/batch, and the assignments partitions' parent documents. */
        private readonly assignments: AssignmentStore,
    ) {}

    /** Telemetry names them `configuration.<operation>`, apart from the assignments' operations. */
    private async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        return await this.assignments.run(`configuration.${operation}`, action);
    }

    private async readOrder(container: Container, meter: Meter): Promise<PriorityOrder> {
        const document = await this.assignments.read<OrderDocument>(container, meter, TENANT_PARTITION, ORDER_ID);
        if (!document) {
            return { ids: [], types: new Map() };
        }
        const types = new Map(
            document.ids.map((id, i) => [
                id,
                CONFIGURATION_TYPES[Number(document.types[i] ?? 0)] ?? CONFIGURATION_TYPES[0],
            ]),
        );
        return { ids: document.ids, types, etag: String(document._etag) };
    }

    private async readDocument(container: Container, meter: Meter, id: string) {
        const document = await this.assignments.read<ConfigurationDocument>(container, meter, TENANT_PARTITION, id);
        return document?.kind === 'configuration' ? document : undefined;
    }

    /** The tenant's order of configuration ids, first priority first. One point read. */
    async order(): Promise<PriorityOrder> {
        return await this.run('read', async (container, meter) => await this.readOrder(container, meter));
    }

    /**
     * Creates a configuration: its parent document first (in its own partition), the payloads (each its own write:
     * two at 1.4 MB would pass a transactional batch's 2 MB), then one batch in the tenant partition with the
     * configuration and the order. The id is returned only once all of it stands. When the batch fails, what was
     * written before is deleted (best effort); a crash in between leaves documents no id ever returned names.
     */
    async create(
        id: string,
        fields: ConfigurationFields,
        reorder: Reorder,
        payloads: readonly NewPayload[],
    ): Promise<StoredConfiguration> {
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
        // Refuse a bad priority before writing anything.
        reorder((await this.order()).ids);
        await this.assignments.createParent(id);
        try {
            return await this.run('create', async (container, meter) => {
                for (const payload of payloads) {
                    meter(await container.items.create(payloadDocument(id, payload)));
                }
                for (let attempt = 0; attempt < ORDER_ATTEMPTS; attempt++) {
                    const order = await this.readOrder(container, meter);
                    const ids = reorder(order.ids);
                    try {
                        const [created] = await this.assignments.batch(container, meter, TENANT_PARTITION, [
                            tenantOperation({
                                operationType: BulkOperationType.Create,
                                resourceBody: document as unknown as JSONObject,
                            }),
                            orderWrite(order, ids, { id, odataType: fields.odataType }),
                        ]);
                        return toConfiguration(
                            created?.resourceBody as unknown as ConfigurationDocument,
                            ids.indexOf(id) + 1,
                        );
                    } catch (error) {
                        if (!lostRace(error, 1)) {
                            throw refused('create', error);
                        }
                    }
                }
                throw raceLost();
            });
        } catch (error) {
            // Cleaned up outside the request's budget: a create that ran out of time must not leave its parts behind.
            const cleanup = this.unbudgeted();
            if (error instanceof StoreError && error.kind === 'unavailable') {
                // A batch that timed out may have landed all the same: then the configuration is whole, and stays.
                const landed = await cleanup.get(id).then(
                    (found) => found !== undefined,
                    () => true, // cannot tell: leave everything rather than break a configuration that exists
                );
                if (landed) {
                    throw error;
                }
            }
            await cleanup
                .discard(
                    id,
                    payloads.map((p) => p.property),
                )
                .catch(() => undefined);
            throw error;
        }
    }

    /** The same store with no request budget: for clean-ups that must finish even after the request's time ran out. */
    private unbudgeted(): ConfigurationStore {
        return new ConfigurationStore(this.assignments.forRequest({}));
    }

    /** Deletes the payload documents of a configuration that is gone, whichever exist: idempotent. */
    private async sweepPayloads(id: string): Promise<void> {
        await this.run('delete', async (container, meter) => {
            for (const property of PAYLOAD_PROPERTIES) {
                await container
                    .item(payloadDocumentId(id, property), TENANT_PARTITION)
                    .delete()
                    .then(meter, (error: unknown) => {
                        meter.failed(error);
                        if ((error as { code?: unknown }).code !== 404) {
                            throw error; // not swept: the client's retry of the DELETE sweeps again
                        }
                    });
            }
        });
    }

    /** Best effort, after a failed create: the parent and the payloads it wrote. */
    private async discard(id: string, properties: readonly PayloadProperty[]): Promise<void> {
        await this.assignments.deleteParent(id);
        await this.run('delete', async (container, meter) => {
            for (const property of properties) {
                await container
                    .item(payloadDocumentId(id, property), TENANT_PARTITION)
                    .delete()
                    .then(meter, (error: unknown) => meter.failed(error));
            }
        });
    }

    /** One configuration with its priority: two point reads (the document and the order), side by side. */
    async get(id: string): Promise<StoredConfiguration | undefined> {
        return await this.run('read', async (container, meter) => {
            const [document, order] = await Promise.all([
                this.readDocument(container, meter, id),
                this.readOrder(container, meter),
            ]);
            const index = order.ids.indexOf(id);
            return document && index >= 0 ? toConfiguration(document, index + 1) : undefined;
        });
    }

    /**
     * The documents of `ids` (a page of the order), with one single-partition query, in the order of `ids`; an id
     * whose document is gone meanwhile is left out. `priorities` gives each id's priority.
     */
    async documents(ids: readonly string[], priorities: ReadonlyMap<string, number>): Promise<StoredConfiguration[]> {
        if (ids.length === 0) {
            return [];
        }
        return await this.run('query', async (container, meter) => {
            const { resources } = meter(
                await container.items
                    .query<ConfigurationDocument>(
                        {
                            // By id only (indexed): payload and order documents have ids no configuration id equals.
                            query: 'SELECT * FROM c WHERE c.configurationId = @tenant AND ARRAY_CONTAINS(@ids, c.id)',
                            parameters: [
                                { name: '@tenant', value: TENANT_PARTITION },
                                { name: '@ids', value: [...ids] },
                            ],
                        },
                        { partitionKey: TENANT_PARTITION, maxItemCount: ids.length },
                    )
                    .fetchAll(),
            );
            const byId = new Map(resources.filter((d) => d.kind === 'configuration').map((d) => [d.id, d]));
            return ids.flatMap((id) => {
                const document = byId.get(id);
                const priority = priorities.get(id);
                return document && priority !== undefined ? [toConfiguration(document, priority)] : [];
            });
        });
    }

    /**
     * Changes the fields and/or the priority, in one batch: the configuration document on condition of its ETag (the
     * client's If-Match, else the one read), and the order on condition of its own. `reorder` is absent when the
     * priority does not change.
     */
    async update(
        id: string,
        fields: Partial<ConfigurationFields>,
        reorder: Reorder | undefined,
        ifMatch: string | undefined,
    ): Promise<StoredConfiguration> {
        return await this.run('patch', async (container, meter) => {
            for (let attempt = 0; attempt < ORDER_ATTEMPTS; attempt++) {
                const [document, order] = await Promise.all([
                    this.readDocument(container, meter, id),
                    this.readOrder(container, meter),
                ]);
                if (!document || !order.ids.includes(id)) {
                    throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
                }
                if (ifMatch !== undefined && !ifMatchHolds(ifMatch, { etag: httpEtag(document._etag) })) {
                    throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
                }
                if (!reorder && Object.keys(fields).length === 0) {
                    // Nothing to change: the ETag stays what it was.
                    return toConfiguration(document, order.ids.indexOf(id) + 1);
                }
                const ids = reorder ? reorder(order.ids) : order.ids;
                const changed: ConfigurationDocument = { ...document, ...fields };
                const operations: OperationInput[] = [
                    tenantOperation({
                        operationType: BulkOperationType.Replace,
                        id,
                        ifMatch: String(document._etag),
                        resourceBody: changed as unknown as JSONObject,
                    }),
                    ...(reorder ? [orderWrite(order, ids)] : []),
                ];
                try {
                    const [replaced] = await this.assignments.batch(container, meter, TENANT_PARTITION, operations);
                    return toConfiguration(
                        replaced?.resourceBody as unknown as ConfigurationDocument,
                        ids.indexOf(id) + 1,
                    );
                } catch (error) {
                    // Either document changed since it was read: read both again (If-Match is checked again too).
                    if (!(error instanceof BatchRefused && error.statusCode === 412)) {
                        throw refused('patch', error);
                    }
                }
            }
            throw raceLost();
        });
    }

    /** `updatePriorities`: one conditional replace of the order, computed again if another change lands first. */
    async reorder(reorder: Reorder): Promise<void> {
        await this.run('replace', async (container, meter) => {
            for (let attempt = 0; attempt < ORDER_ATTEMPTS; attempt++) {
                const order = await this.readOrder(container, meter);
                const ids = reorder(order.ids);
                try {
                    await this.assignments.batch(container, meter, TENANT_PARTITION, [orderWrite(order, ids)]);
                    return;
                } catch (error) {
                    if (!lostRace(error, 0)) {
                        throw refused('replace', error);
                    }
                }
            }
            throw raceLost();
        });
    }

    /**
     * Deletes a configuration and everything that belongs to it, each step idempotent, so a DELETE retried after a
     * crash finishes the job: (1) the parent document, after which every assignment route answers 404 and no
     * assignment write can land; (2) every document of its assignments partition, in batches of 100; (3) one batch in
     * the tenant partition: the configuration, its payloads, and the order without it. `ifMatch` is checked against
     * the configuration document before anything is deleted.
     */
    async delete(id: string, ifMatch: string | undefined): Promise<void> {
        const current = await this.run(
            'read',
            async (container, meter) => await this.readDocument(container, meter, id),
        );
        if (!current) {
            // A DELETE cut short after its tenant batch leaves payload documents: a retry sweeps them.
            await this.sweepPayloads(id);
            throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
        }
        if (ifMatch !== undefined && !ifMatchHolds(ifMatch, { etag: httpEtag(current._etag) })) {
            throw new StoreError('preconditionFailed', 'If-Match does not match the stored ETag');
        }
        await this.assignments.deleteParent(id);
        await this.assignments.deleteEverything(id);
        await this.run('batch', async (container, meter) => {
            for (let attempt = 0; attempt < ORDER_ATTEMPTS; attempt++) {
                const [document, order] = await Promise.all([
                    this.readDocument(container, meter, id),
                    this.readOrder(container, meter),
                ]);
                if (!document) {
                    return; // another DELETE finished first
                }
                // The payload documents go after the batch (sweepPayloads): one the document names but that is
                // missing (a create whose clean-up ran) would fail the batch with a 404 on every attempt.
                const operations: OperationInput[] = [
                    tenantOperation({ operationType: BulkOperationType.Delete, id, ifMatch: String(document._etag) }),
                    ...(order.ids.includes(id)
                        ? [
                              orderWrite(
                                  order,
                                  order.ids.filter((other) => other !== id),
                              ),
                          ]
                        : []),
                ];
                try {
                    await this.assignments.batch(container, meter, TENANT_PARTITION, operations);
                    return;
                } catch (error) {
                    // 412: the configuration (a payload PUT) or the order changed meanwhile; 404: another DELETE.
                    if (!(error instanceof BatchRefused && [404, 412].includes(error.statusCode))) {
                        throw refused('batch', error);
                    }
                }
            }
            throw raceLost();
        });
        // Once the configuration is gone no payload PUT can land (its batch replaces the configuration's document).
        await this.sweepPayloads(id);
    }

    /** A payload's bytes and media type; undefined when the configuration has none (or does not exist). */
    async readPayload(id: string, property: PayloadProperty): Promise<StoredPayload | undefined> {
        return await this.run('read', async (container, meter) => {
            const [document, payload] = await Promise.all([
                this.readDocument(container, meter, id),
                this.assignments.read<PayloadDocument>(
                    container,
                    meter,
                    TENANT_PARTITION,
                    payloadDocumentId(id, property),
                ),
            ]);
            const info = document?.payloads[property];
            if (!info || !payload) {
                return undefined;
            }
            return { ...info, bytes: Buffer.from(payload.content, 'base64') };
        });
    }

    /**
     * Replaces a payload: the payload document and the configuration's record of it (media type, ETag, size) in one
     * batch, on condition that the configuration is still as read; `ifMatch` is compared with the payload's ETag.
     */
    async writePayload(id: string, payload: NewPayload, ifMatch: string | undefined): Promise<PayloadInfo> {
        return await this.run('replace', async (container, meter) => {
            for (let attempt = 0; attempt < ORDER_ATTEMPTS; attempt++) {
                const document = await this.readDocument(container, meter, id);
                if (!document) {
                    throw new StoreError('notFound', 'Cosmos DB read: the configuration does not exist');
                }
                if (ifMatch !== undefined && !ifMatchHolds(ifMatch, document.payloads[payload.property])) {
                    throw new StoreError('preconditionFailed', 'If-Match does not match the payload ETag');
                }
                const info: PayloadInfo = {
                    contentType: payload.contentType,
                    etag: payload.etag,
                    size: payload.bytes.byteLength,
                };
                const changed: ConfigurationDocument = {
                    ...document,
                    payloads: { ...document.payloads, [payload.property]: info },
                };
                try {
                    await this.assignments.batch(container, meter, TENANT_PARTITION, [
                        tenantOperation({
                            operationType: BulkOperationType.Replace,
                            id,
                            ifMatch: String(document._etag),
                            resourceBody: changed as unknown as JSONObject,
                        }),
                        tenantOperation({
                            operationType: BulkOperationType.Upsert,
                            resourceBody: payloadDocument(id, payload) as unknown as JSONObject,
                        }),
                    ]);
                    return info;
                } catch (error) {
                    if (
                        !(error instanceof BatchRefused && error.index === 0 && [404, 412].includes(error.statusCode))
                    ) {
                        throw refused('replace', error);
                    }
                }
            }
            throw raceLost();
        });
    }
}

function payloadDocument(id: string, payload: NewPayload): PayloadDocument {
    return {
        id: payloadDocumentId(id, payload.property),
        configurationId: TENANT_PARTITION,
        kind: 'payload',
        contentType: payload.contentType,
        content: Buffer.from(payload.bytes).toString('base64'),
    };
}
