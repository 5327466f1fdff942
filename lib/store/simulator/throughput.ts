/**
 * The RU/s budget. Azure answers 429 (substatus 3200, with the time to wait in `x-ms-retry-after-ms`) once a
 * container, or one of its physical partitions, has spent its request units; the embedded server never does, so
 * code that retries on 429 never runs against it. As in Cosmos DB, a request is admitted while its partition's
 * budget is positive and charged once it has run, so a burst can leave a debt; every request then gets 429 until
 * the debt is repaid at the budget's rate, and the wait it is told is the time until the budget is positive again.
 * Low priority requests (priority-based execution) are throttled first: they are admitted only while a share of a
 * second's budget is left, so that high priority requests find the rest.
 */
import type { ThroughputProfile } from './profile.js';

type Settings = Pick<
    ThroughputProfile,
    'budgetRuPerSecond' | 'physicalPartitions' | 'perPhysicalPartitionMaxRuPerSecond' | 'capacitySeconds'
> &
    Partial<Pick<ThroughputProfile, 'lowPriorityShare'>>;

interface Bucket {
    /** Request units left; negative: owed. */
    balance: number;
    /** When `balance` was last brought up to date, in ms. */
    at: number;
}

export class ThroughputBudget {
    #settings: Settings;
    #buckets: Bucket[] = [];
    readonly #now: () => number;

    constructor(settings: Settings, now: () => number = () => performance.now()) {
        this.#now = now;
        this.#settings = settings;
        this.configure(settings);
    }

    /** Each physical partition's share of the container's budget, within a physical partition's own limit. */
    get ratePerPartition(): number | null {
        const { budgetRuPerSecond, physicalPartitions, perPhysicalPartitionMaxRuPerSecond } = this.#settings;
        if (budgetRuPerSecond === null) {
            return null;
        }
        return Math.min(budgetRuPerSecond / Math.max(1, physicalPartitions), perPhysicalPartitionMaxRuPerSecond);
    }

    /** A new budget mid-run: what is owed stays owed, a full bucket is cut down to the new capacity. */
    configure(settings: Settings): void {
        const wasUnlimited = this.#settings.budgetRuPerSecond === null;
        this.#settings = settings;
        const rate = this.ratePerPartition;
        const partitions = Math.max(1, settings.physicalPartitions);
        if (rate === null) {
            this.#buckets = [];
            return;
        }
        const capacity = rate * settings.capacitySeconds;
        const now = this.#now();
        this.#buckets = Array.from({ length: partitions }, (_, i) => {
            const bucket = wasUnlimited ? undefined : this.#buckets[i];
            return { balance: Math.min(capacity, bucket ? this.#refilled(bucket, now) : capacity), at: now };
        });
    }

    /** The physical partition of a partition key (as sent in `x-ms-documentdb-partitionkey`). */
    partitionOf(partitionKey: string | undefined): number {
        const partitions = this.#buckets.length;
        if (partitions <= 1 || partitionKey === undefined) {
            return 0;
        }
        let hash = 0x811c9dc5;
        for (let i = 0; i < partitionKey.length; i += 1) {
            hash = Math.imul(hash ^ partitionKey.charCodeAt(i), 0x01000193);
        }
        return (hash >>> 0) % partitions;
    }

    /**
     * 0 when the request may run; otherwise how long, in ms, until the partition's budget is positive again (for a
     * low priority request: until its share is left again).
     */
    admit(partition: number, priority: 'High' | 'Low' = 'High'): number {
        const bucket = this.#buckets[partition];
        const rate = this.ratePerPartition;
        if (!bucket || rate === null) {
            return 0;
        }
        const now = this.#now();
        bucket.balance = this.#refilled(bucket, now);
        bucket.at = now;
        const floor = priority === 'Low' ? rate * (this.#settings.lowPriorityShare ?? 0) : 0;
        if (bucket.balance > floor) {
            return 0;
        }
        return Math.max(1, Math.ceil(((floor - bucket.balance) / rate) * 1000));
    }

    /** Spends what a request cost, once it has run. */
    charge(partition: number, requestUnits: number): void {
        const bucket = this.#buckets[partition];
        if (!bucket) {
            return;
        }
        const now = this.#now();
        bucket.balance = this.#refilled(bucket, now) - requestUnits;
        bucket.at = now;
    }

    #refilled(bucket: Bucket, now: number): number {
        const rate = this.ratePerPartition ?? 0;
        return Math.min(rate * this.#settings.capacitySeconds, bucket.balance + (rate * (now - bucket.at)) / 1000);
    }
}
