/**
 * The change log: one record of every acknowledged write, from which both delta query and the audit trail are
 * answered, so the two can never disagree (docs/design.md, "The change log").
 *
 * A record is written in the same transactional batch as the write it describes, in the partition the write lands
 * in: configuration writes in the tenant partition, assignment writes in their configuration's partition. So a
 * record exists if and only if its write happened. Each partition numbers its records 1, 2, 3, … in the order it
 * applied the writes: the number comes from a document every write of the partition already changes on condition
 * (the order document, the set document), so two writes can never take one number and a number is never skipped.
 * The record's id is its number, zero-padded, so that a range of numbers is a range of ids (the one path besides
 * the partition key that the container indexes).
 *
 * Cosmos DB removes a record after the retention (`ttl`). Nothing here depends on Cosmos DB's change feed, which in
 * latest-version mode shows no deletes.
 */
import type { ItemDefinition } from '@azure/cosmos';

/** `change-{sequence, 12 digits}`: no GUID and no other bookkeeping id has this form. */
export const CHANGE_ID_PREFIX = 'change-';
const SEQUENCE_DIGITS = 12;

/** The default retention of the log, and so of delta tokens and audit events: 30 days. */
export const DEFAULT_CHANGE_RETENTION_DAYS = 30;

/**
 * Records outlive the tokens that point at them by this margin: a record written a moment before the read that
 * issued a token (on another instance, its answer still in flight) must not expire before the token does. An hour,
 * or a tenth of a retention shorter than ten hours (seconds would do: it covers a write's own time).
 */
export const RETENTION_MARGIN_SECONDS = 60 * 60;

export function recordLifetime(retentionSeconds: number): number {
    return retentionSeconds + Math.min(RETENTION_MARGIN_SECONDS, Math.ceil(retentionSeconds / 10));
}

export function changeId(sequence: number): string {
    return `${CHANGE_ID_PREFIX}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;
}

/** Who made a change, as Intune's `microsoft.graph.auditActor` says it. */
export interface AuditActor {
    /** `ItPro` for a user's (delegated) token, `Application` for an app's, `Unknown` when nobody was authenticated. */
    auditActorType: 'ItPro' | 'Application' | 'Unknown';
    type: string;
    userId: string | null;
    userPrincipalName: string | null;
    applicationId: string | null;
    applicationDisplayName: string | null;
    servicePrincipalName: string | null;
    ipAddress: string | null;
    userPermissions: string[];
}

/** The actor of a change made while authentication is off (a local run): said plainly, never left empty. */
export const UNAUTHENTICATED_ACTOR: AuditActor = {
    auditActorType: 'Unknown',
    type: 'Unauthenticated',
    userId: null,
    userPrincipalName: null,
    applicationId: null,
    applicationDisplayName: 'Authentication is off (no AUTH_TENANT_ID): the caller is unknown',
    servicePrincipalName: null,
    ipAddress: null,
    userPermissions: [],
};

export interface AuditProperty {
    displayName: string;
    /** JSON text of the value, as Intune writes them; null when there was none. */
    oldValue: string | null;
    newValue: string | null;
}

export const CONFIGURATION_RESOURCE_TYPE = 'officeClientConfiguration';
export const ASSIGNMENT_RESOURCE_TYPE = 'officeClientConfigurationAssignment';

export interface ChangedResource {
    resourceId: string;
    type: typeof CONFIGURATION_RESOURCE_TYPE | typeof ASSIGNMENT_RESOURCE_TYPE;
    displayName: string | null;
    modifiedProperties: AuditProperty[];
    /** The write removed it: delta reports it `@removed`. */
    removed?: true;
}

export type OperationType = 'Create' | 'Patch' | 'Delete' | 'Action';

/** A change as its write describes it; the store numbers it when the write is sent (`toRecord`). */
export interface ChangeDraft {
    activityType: string;
    activityOperationType: OperationType;
    resources: ChangedResource[];
    /**
     * What an action was called on, when it is not among `resources` (an assign's configuration): shown by the
     * audit, never by delta (it is no member of the collection that changed).
     */
    target?: { resourceId: string; type: ChangedResource['type'] };
}

/** Whom and which request a change was made for: from the request's scope. */
export interface ChangeContext {
    actor: AuditActor;
    /** The request-id the write was answered with (a `$batch` part's own). */
    correlationId: string;
}

/**
 * One record of the log. `priorityChanges` holds the configurations whose priority the write moved, as
 * `[id, old, new]` (a create at priority 1 moves every other one): about 50 bytes each, where audit resources would
 * take three times that; they are shown as resources when read.
 */
export interface ChangeRecord extends ItemDefinition {
    id: string;
    configurationId: string;
    kind: 'change';
    sequence: number;
    /** The audit event's id, a GUID. */
    eventId: string;
    /** ISO 8601, milliseconds, UTC: the writer's clock when the batch was sent. */
    activityDateTime: string;
    activityType: string;
    activityOperationType: OperationType;
    actor: AuditActor;
    correlationId: string;
    resources: ChangedResource[];
    target?: ChangeDraft['target'];
    priorityChanges?: [string, number, number][];
    ttl: number;
}

export interface ChangeLogSettings {
    /** Off only for the bench's baseline: writes then record nothing and number nothing. */
    enabled: boolean;
    /** How long records (and so tokens and audit events) are kept, in seconds. */
    retentionSeconds: number;
}

export const DEFAULT_CHANGE_LOG: ChangeLogSettings = {
    enabled: true,
    retentionSeconds: DEFAULT_CHANGE_RETENTION_DAYS * 24 * 60 * 60,
};

/** A write's record, numbered. */
export function toRecord(
    partition: string,
    sequence: number,
    draft: ChangeDraft,
    context: ChangeContext,
    settings: ChangeLogSettings,
    eventId: string,
    now: Date,
    priorityChanges?: [string, number, number][],
): ChangeRecord {
    return {
        id: changeId(sequence),
        configurationId: partition,
        kind: 'change',
        sequence,
        eventId,
        activityDateTime: now.toISOString(),
        activityType: draft.activityType,
        activityOperationType: draft.activityOperationType,
        actor: context.actor,
        correlationId: context.correlationId,
        resources: draft.resources,
        ...(draft.target ? { target: draft.target } : {}),
        ...(priorityChanges && priorityChanges.length > 0 ? { priorityChanges } : {}),
        ttl: recordLifetime(settings.retentionSeconds),
    };
}

/**
 * The configurations whose priority a change of the order moved, with their old and new priorities; a configuration
 * the change adds or removes is not among them (its own resource says so). Linear in the order's length.
 */
export function priorityChanges(before: readonly string[], after: readonly string[]): [string, number, number][] {
    const old = new Map<string, number>();
    before.forEach((id, i) => old.set(id, i + 1));
    const moved: [string, number, number][] = [];
    after.forEach((id, i) => {
        const was = old.get(id);
        if (was !== undefined && was !== i + 1) {
            moved.push([id, was, i + 1]);
        }
    });
    return moved;
}

/** What a record changed, for delta: ids whose current state is to be sent, and ids removed. */
export function changedIds(record: ChangeRecord): { changed: string[]; removed: string[] } {
    const changed: string[] = [];
    const removed: string[] = [];
    for (const resource of record.resources) {
        (resource.removed ? removed : changed).push(resource.resourceId);
    }
    for (const [id] of record.priorityChanges ?? []) {
        changed.push(id);
    }
    return { changed, removed };
}

/** A JSON value as an audit property's text; undefined and null are null. */
export function auditValue(value: unknown): string | null {
    return value === undefined || value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
}
