/**
 * The store's side of the sweeper (lib/jobs/sweeper.ts): what a deleted configuration or a create that never landed
 * left behind, found through the sweep records of the tenant partition (lib/store/tenant.ts), and removed in steps
 * that each stand alone, so that a sweep cut short anywhere is finished by the next one. Also the receipts of tenant
 * batches past their lifetime, and the lease that keeps to one sweeper at a time across instances.
 */
import { type Container, PriorityLevel } from '@azure/cosmos';

import { PAYLOAD_PROPERTIES } from '../graph/schema.js';
import { type AssignmentStore, expectedRefusal, type Meter } from './assignmentStore.js';
import {
    type LeaseDocument,
    payloadDocumentId,
    RECEIPT_LIFETIME_SECONDS,
    RECEIPT_PREFIX,
    type ReceiptDocument,
    SWEEP_RECORD_PREFIX,
    SWEEPER_LEASE_ID,
    type SweepRecord,
    TENANT_PARTITION,
} from './tenant.js';

const LOW = { priorityLevel: PriorityLevel.Low };

/** A delete whose document is already gone has done its work. */
function goneIsDone(meter: Meter) {
    return (error: unknown) => {
        expectedRefusal(meter, error, 404);
    };
}

export interface SweptConfiguration {
    configurationId: string;
    /** Documents deleted from its partition by this call. */
    deleted: number;
    /** Nothing of it is left, its record included. */
    done: boolean;
}

export class SweepStore {
    constructor(private readonly assignments: AssignmentStore) {}

    private async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        return await this.assignments.run(`sweep.${operation}`, action);
    }

    /** Every sweep record, oldest first: one query of the tenant partition, by id prefix (indexed). */
    async records(): Promise<SweepRecord[]> {
        return await this.run('query', async (container, meter) => {
            const { resources } = meter(
                await container.items
                    .query<SweepRecord>(
                        {
                            query: 'SELECT * FROM c WHERE c.configurationId = @tenant AND STARTSWITH(c.id, @prefix)',
                            parameters: [
                                { name: '@tenant', value: TENANT_PARTITION },
                                { name: '@prefix', value: SWEEP_RECORD_PREFIX },
                            ],
                        },
                        { partitionKey: TENANT_PARTITION, ...LOW },
                    )
                    .fetchAll(),
            );
            return resources.filter((r) => r.kind === 'sweep').sort((a, b) => a.at - b.at);
        });
    }

    /**
     * Fences a create that has stayed unfinished past its grace time: its record becomes `aborted`, on condition of
     * the ETag its batch names, so the batch can never land. Resolves to the fenced record, or undefined when the
     * record changed or went meanwhile (the create landed, or another sweeper got there first).
     */
    async abortCreate(record: SweepRecord): Promise<SweepRecord | undefined> {
        return await this.run('replace', async (container, meter) => {
            try {
                const { resource } = meter(
                    await container
                        .item(record.id, TENANT_PARTITION)
                        .replace<SweepRecord>(
                            { ...record, state: 'aborted' },
                            { accessCondition: { type: 'IfMatch', condition: String(record._etag) }, ...LOW },
                        ),
                );
                return resource;
            } catch (error) {
                expectedRefusal(meter, error, 404, 412);
                return undefined;
            }
        });
    }

    /**
     * Removes what an `aborted` or `deleted` record names, until `until` (milliseconds since the epoch) draws near:
     * the configuration's partition (parent first, then a page of 100 at a time), its payload documents, then the
     * record, on condition that it is unchanged.
     */
    async sweep(record: SweepRecord, until: number): Promise<SweptConfiguration> {
        const configurationId = record.target;
        const partition = await this.assignments.sweepPartition(configurationId, until);
        if (!partition.done) {
            return { configurationId, deleted: partition.deleted, done: false };
        }
        await this.run('delete', async (container, meter) => {
            await Promise.all(
                PAYLOAD_PROPERTIES.map(
                    async (property) =>
                        await container
                            .item(payloadDocumentId(configurationId, property), TENANT_PARTITION)
                            .delete(LOW)
                            .then(meter, goneIsDone(meter)),
                ),
            );
            await container
                .item(record.id, TENANT_PARTITION)
                .delete({ accessCondition: { type: 'IfMatch', condition: String(record._etag) }, ...LOW })
                .then(meter, (error: unknown) => {
                    if ((error as { code?: unknown }).code !== 412) {
                        goneIsDone(meter)(error);
                    } else {
                        meter.failed(error); // changed meanwhile: the next sweep reads it again
                    }
                });
        });
        return { configurationId, deleted: partition.deleted, done: true };
    }

    /**
     * Receipts of tenant batches past their lifetime, where the account does not remove them itself (TTL): a page
     * of them at a time. Resolves to the number deleted.
     */
    async dropReceipts(now: number, until: number): Promise<number> {
        return await this.run('receipts', async (container, meter) => {
            const cutoff = now - RECEIPT_LIFETIME_SECONDS * 1000;
            // By id prefix only (the container indexes ids, not `at`): the age is looked at here.
            const iterator = container.items.query<ReceiptDocument>(
                {
                    query: 'SELECT * FROM c WHERE c.configurationId = @tenant AND STARTSWITH(c.id, @prefix)',
                    parameters: [
                        { name: '@tenant', value: TENANT_PARTITION },
                        { name: '@prefix', value: RECEIPT_PREFIX },
                    ],
                },
                { partitionKey: TENANT_PARTITION, maxItemCount: 100, ...LOW },
            );
            let deleted = 0;
            while (iterator.hasMoreResults() && Date.now() < until) {
                const { resources } = meter(await iterator.fetchNext());
                for (const receipt of resources.filter((r) => r.at < cutoff)) {
                    if (Date.now() >= until) {
                        break;
                    }
                    await container.item(receipt.id, TENANT_PARTITION).delete(LOW).then(meter, goneIsDone(meter));
                    deleted += 1;
                }
            }
            return deleted;
        });
    }

    /**
     * Takes the sweeper's lease until `until` for `holder`, when it is free (absent, expired, or already theirs):
     * a conditional write, so that two instances can never both hold it. Resolves to whether it was taken.
     */
    async takeLease(holder: string, now: number, until: number): Promise<boolean> {
        return await this.run('lease', async (container, meter) => {
            const current = await this.assignments.read<LeaseDocument>(
                container,
                meter,
                TENANT_PARTITION,
                SWEEPER_LEASE_ID,
            );
            if (current && current.until > now && current.holder !== holder) {
                return false;
            }
            const lease: LeaseDocument = {
                id: SWEEPER_LEASE_ID,
                configurationId: TENANT_PARTITION,
                kind: 'lease',
                holder,
                until,
            };
            try {
                meter(
                    current
                        ? await container.item(SWEEPER_LEASE_ID, TENANT_PARTITION).replace(lease, {
                              accessCondition: { type: 'IfMatch', condition: String(current._etag) },
                          })
                        : await container.items.create(lease),
                );
                return true;
            } catch (error) {
                expectedRefusal(meter, error, 409, 412); // another instance took it first
                return false;
            }
        });
    }

    /** Gives the lease back, if it is still `holder`'s. */
    async releaseLease(holder: string): Promise<void> {
        await this.run('lease', async (container, meter) => {
            const current = await this.assignments.read<LeaseDocument>(
                container,
                meter,
                TENANT_PARTITION,
                SWEEPER_LEASE_ID,
            );
            if (current?.holder !== holder) {
                return;
            }
            await container
                .item(SWEEPER_LEASE_ID, TENANT_PARTITION)
                .replace(
                    { ...current, until: 0 },
                    { accessCondition: { type: 'IfMatch', condition: String(current._etag) } },
                )
                .then(meter, (error: unknown) => meter.failed(error));
        });
    }
}
