/**
 * The tenant partition's documents, named in one place: the configuration store writes them, the assignment store
 * reads a configuration's document to tell a configuration being deleted from one that is gone, and the sweeper
 * (lib/jobs/sweeper.ts) finds its work among them. docs/design.md has the whole picture.
 *
 * Every id here is of a form no other can take: configuration ids are lowercase GUIDs; the others carry a prefix or
 * a suffix a GUID never has (a keyed create's idempotency-key record: `idempotency-key-{hash}`, lib/store/
 * idempotency.ts).
 */
import type { ItemDefinition } from '@azure/cosmos';

import type { PayloadProperty } from '../graph/schema.js';

/** The partition key value of the tenant's configurations, payloads, order and bookkeeping: it holds a `/`. */
export const TENANT_PARTITION = '/officeConfiguration';

/** The order document's id; no GUID, so no configuration id can name it. */
export const ORDER_ID = 'priority-order';

/** Sweep records: `sweep-{configurationId}`. */
export const SWEEP_RECORD_PREFIX = 'sweep-';

/** Receipts of tenant batches: `receipt-{uuid}`. */
export const RECEIPT_PREFIX = 'receipt-';

/** The sweeper's lease (one sweeper at a time across instances). */
export const SWEEPER_LEASE_ID = 'sweeper-lease';

/**
 * How long a receipt (and a fence standing for a batch that never landed) is kept: far longer than Cosmos DB can
 * still apply a write its client gave up on. Cosmos DB removes it by itself (`ttl`); the sweeper removes what an
 * account without TTL keeps.
 */
export const RECEIPT_LIFETIME_SECONDS = 60 * 60;

export function payloadDocumentId(configurationId: string, property: PayloadProperty): string {
    return `${configurationId}.${property}`;
}

export function sweepRecordId(configurationId: string): string {
    return `${SWEEP_RECORD_PREFIX}${configurationId}`;
}

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

export interface ConfigurationDocument extends ItemDefinition, ConfigurationFields {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'configuration';
    payloads: Partial<Record<PayloadProperty, PayloadInfo>>;
}

export interface PayloadDocument extends ItemDefinition {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'payload';
    contentType: string;
    /** base64: Cosmos DB stores JSON. 1 MiB of bytes is 1.4 MB here, within the 2 MB item limit. */
    content: string;
    /** Absent on payloads stored before they carried their own; then the configuration's record has it. */
    etag?: string;
    size?: number;
}

export interface OrderDocument extends ItemDefinition {
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
    /**
     * The number of the partition's last recorded change (lib/store/changeLog): each batch that records changes
     * moves it on, on the order's own condition, so no two changes take one number.
     */
    sequence?: number;
}

/**
 * What the sweeper must remove of one configuration, and why:
 * - `creating`: written before anything else of a create, removed in the create's own batch. One left behind names
 *   a create that died or is still under way; past a grace time the sweeper fences it (`aborted`), so that the
 *   create's batch, conditional on this record's ETag, can never land, then removes what it wrote.
 * - `aborted`: a create that will never land: its parent and payloads go.
 * - `deleted`: written in a DELETE's batch: everything of the configuration goes (its partition, its payloads).
 */
export interface SweepRecord extends ItemDefinition {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'sweep';
    state: 'creating' | 'aborted' | 'deleted';
    /** The configuration it is about. */
    target: string;
    /** Milliseconds since the epoch, by the writer's clock. */
    at: number;
}

/** A tenant batch's receipt, created in the batch: its existence says whether an unanswered batch landed. */
export interface ReceiptDocument extends ItemDefinition {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'receipt';
    /** true: written as a fence, after the batch's answer was lost: the batch did not land and never will. */
    fence: boolean;
    at: number;
    ttl: number;
}

/** A configuration as a create's answer showed it: its entity, without the ETag (unknown until it is written). */
export interface FirstAnswer extends ConfigurationFields {
    id: string;
    /** As the create's batch left the order. */
    priority: number;
    payloads: Partial<Record<PayloadProperty, PayloadInfo>>;
}

/**
 * The idempotency-key record of a keyed configuration create (lib/store/idempotency.ts has the rules): id
 * `idempotency-key-{hash of the key}`, in the tenant partition, created in the create's own tenant batch, so that
 * Cosmos DB's uniqueness of ids settles concurrent requests with one key, whichever instance they reach.
 */
export interface ConfigurationKeyRecord extends ItemDefinition {
    id: string;
    configurationId: typeof TENANT_PARTITION;
    kind: 'idempotencyKey';
    requestHash: string;
    /** The first answer's entity. */
    configuration: FirstAnswer;
    /** Milliseconds since the epoch, from the service's clock. */
    createdAt: number;
    /** Seconds: Cosmos DB removes the record after its lifetime (the code checks `createdAt` as well). */
    ttl: number;
}

export interface LeaseDocument extends ItemDefinition {
    id: typeof SWEEPER_LEASE_ID;
    configurationId: typeof TENANT_PARTITION;
    kind: 'lease';
    holder: string;
    /** Milliseconds since the epoch: the lease is free after it. */
    until: number;
}
