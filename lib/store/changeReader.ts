/**
 * Reads of the change log (lib/store/changeLog): a partition's records after a number, for delta query; every
 * partition's records newest first, for the audit trail. All by indexed paths: a partition's records by id range
 * (the id is the number), the audit's by `activityDateTime` and `eventId` (lib/store/cosmos-container.json).
 */
import type { Assignment } from '../graph/odata.js';
import type { AssignmentTarget } from '../graph/schema.js';
import { type AssignmentStore, type StoredAssignment, StoreError } from './assignmentStore.js';
import { changeId, type ChangeRecord } from './changeLog.js';

/** The highest id a record can have: twelve nines. */
const LAST_CHANGE_ID = changeId(999_999_999_999);

/**
 * A partition's records numbered after `since`, first first, at most `limit`. A write's record lands with the write,
 * numbered on condition that the number before it was the partition's last, so the records a read returns have no
 * gap: one not yet visible here (a replica behind) has no later one visible either.
 */
export async function changesSince(
    store: AssignmentStore,
    partition: string,
    since: number,
    limit: number,
): Promise<ChangeRecord[]> {
    return await store.run('changes', async (container, meter) => {
        const { resources } = meter(
            await container.items
                .query<ChangeRecord>(
                    {
                        query:
                            `SELECT TOP ${Math.max(1, Math.floor(limit))} * FROM c WHERE c.configurationId = @p ` +
                            'AND c.id > @from AND c.id <= @to ORDER BY c.id',
                        parameters: [
                            { name: '@p', value: partition },
                            { name: '@from', value: changeId(since) },
                            { name: '@to', value: LAST_CHANGE_ID },
                        ],
                    },
                    { partitionKey: partition, maxItemCount: limit },
                )
                .fetchAll(),
        );
        return resources.filter((r) => r.kind === 'change');
    });
}

/** The assignments among `ids` that exist now, in one single-partition query by id. */
export async function assignmentsById(
    store: AssignmentStore,
    configurationId: string,
    ids: readonly string[],
): Promise<StoredAssignment[]> {
    if (ids.length === 0) {
        return [];
    }
    return await store.run('query', async (container, meter) => {
        const { resources } = meter(
            await container.items
                .query<{ id: string; target: AssignmentTarget; _etag?: string }>(
                    {
                        query: 'SELECT * FROM c WHERE c.configurationId = @p AND ARRAY_CONTAINS(@ids, c.id)',
                        parameters: [
                            { name: '@p', value: configurationId },
                            { name: '@ids', value: [...ids] },
                        ],
                    },
                    { partitionKey: configurationId, maxItemCount: ids.length },
                )
                .fetchAll(),
        );
        return resources.filter((d) => d.target !== undefined).map((d): Assignment => ({ id: d.id, target: d.target }));
    });
}

export interface AuditQuery {
    /** ISO 8601 UTC bounds, both inclusive. */
    from?: string;
    to?: string;
    top: number;
    continuation?: string;
}

export interface AuditPage {
    records: ChangeRecord[];
    continuation?: string;
}

/**
 * Records of every partition, newest first: a cross-partition query ordered by the indexed `activityDateTime`, so
 * each partition answers from its index. Its continuation token pages it.
 */
export async function auditPage(store: AssignmentStore, query: AuditQuery): Promise<AuditPage> {
    return await store.run('audit', async (container, meter) => {
        const conditions = ['c.activityDateTime >= @from'];
        const parameters = [{ name: '@from', value: query.from ?? '' }];
        if (query.to !== undefined) {
            conditions.push('c.activityDateTime <= @to');
            parameters.push({ name: '@to', value: query.to });
        }
        const iterator = container.items.query<ChangeRecord>(
            {
                query: `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.activityDateTime DESC`,
                parameters,
            },
            {
                maxItemCount: query.top,
                // Cosmos DB answers a cross-partition ORDER BY through the query plan, where the SDK gives and takes
                // continuation tokens only with query control on.
                enableQueryControl: true,
                ...(query.continuation ? { continuationToken: query.continuation } : {}),
            },
        );
        let response;
        try {
            response = meter(await iterator.fetchNext());
        } catch (error) {
            if (query.continuation && (error as { code?: unknown }).code === 400) {
                throw new StoreError('invalidContinuation', 'Cosmos DB query: invalid continuation', undefined, error);
            }
            throw error;
        }
        return {
            records: response.resources.filter((r) => r.kind === 'change'),
            ...(response.hasMoreResults && response.continuationToken
                ? { continuation: response.continuationToken }
                : {}),
        };
    });
}

/** One record by its audit event id, wherever its partition. */
export async function auditRecord(store: AssignmentStore, eventId: string): Promise<ChangeRecord | undefined> {
    return await store.run('audit', async (container, meter) => {
        const { resources } = meter(
            await container.items
                .query<ChangeRecord>({
                    query: 'SELECT * FROM c WHERE c.eventId = @id',
                    parameters: [{ name: '@id', value: eventId }],
                })
                .fetchAll(),
        );
        return resources.find((r) => r.kind === 'change');
    });
}
