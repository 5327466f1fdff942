/**
 * The store-costs bench measures what it says, over 3 instances on the Azure-like Cosmos DB: each operation's calls
 * and request units come from the store's own charges. The change log is priced like with like: every write kind
 * through the app's request path without the log and with it, on the same simulator in the same run; at 1 instance
 * an assignment create stays one round trip to the store (one transactional batch, no read) either way, and the log
 * adds its record to every write. Counts are asserted; no timing is.
 */
import { describe, expect, it } from 'vitest';

import { describeStoreCosts, measureStoreCosts } from '../../bench/storeCosts.js';
import { repoRoot } from '../../scripts/paths.js';

/** Every write kind the comparison measures, in its order. */
const WRITES = [
    'assignment create',
    'assignment create, Idempotency-Key',
    'assignment PATCH',
    'assignment DELETE',
    'assign of 20',
    'configuration create',
    'configuration create, Idempotency-Key',
    'configuration PATCH',
    'configuration PATCH priority',
    'updatePriorities',
    'policyPayload PUT',
    'configuration DELETE',
];

describe('bench/storeCosts', () => {
    it('counts each operation’s store calls and request units, and prices the change log without it and with it', async () => {
        const costs = await measureStoreCosts(repoRoot, { samples: 2, creates: 64 });
        expect(costs.instances).toBe(3);
        expect(costs.consistency).toBe('Strong'); // the Bicep's account
        const create = costs.operations['assignment create'];
        expect(create?.calls.batch).toBeGreaterThanOrEqual(1);
        expect(create?.requestUnits).toBeGreaterThan(1); // Cosmos DB's documented costs, not the embedded 1 RU
        // A read costs less than a write; a page of 100 more than a point read.
        const get = costs.operations['configuration GET'];
        expect(get?.requestUnits).toBeLessThan(costs.operations['configuration create']?.requestUnits ?? 0);
        expect(costs.operations['assignment list, page of 100']?.requestUnits).toBeGreaterThan(get?.requestUnits ?? 0);
        // A keyed configuration create: its key's record read beside the order, and written in the create's batch.
        const keyed = costs.operations['configuration create, Idempotency-Key'];
        expect(keyed?.calls.batch).toBeGreaterThanOrEqual(1);
        expect(keyed?.requestUnits).toBeGreaterThan(get?.requestUnits ?? 0);
        for (const write of ['updatePriorities', 'policyPayload PUT']) {
            expect(costs.operations[write]?.calls.batch, write).toBeGreaterThanOrEqual(1);
        }
        // About 5 RU a document deleted: the 100 assignments, their change records, the parent.
        expect(costs.sweep.documents).toBeGreaterThanOrEqual(101);
        expect(costs.sweep.requestUnits).toBeGreaterThan(costs.sweep.documents * 5);
        expect(costs.latency.assignmentCreate.requests).toBe(64);
        expect(costs.latency.assignmentCreate.p99).toBeGreaterThanOrEqual(costs.latency.assignmentCreate.p50);

        // The change log, at 1 instance and at 3, every write kind on both sides.
        expect(costs.changeLog.map((c) => c.instances)).toEqual([1, 3]);
        for (const { writes } of costs.changeLog) {
            expect(Object.keys(writes)).toEqual(WRITES);
        }
        const single = costs.changeLog[0]!.writes;
        // At 1 instance an assignment create is one batch and no read, without the log and with it (the instance
        // knows the configuration's last change number from its own writes).
        expect(single['assignment create']?.without.calls).toEqual({ batch: 1 });
        expect(single['assignment create']?.with.calls).toEqual({ batch: 1 });
        for (const write of WRITES) {
            const cost = single[write]!;
            expect(cost.without.failed, `${write} without`).toBeUndefined();
            expect(cost.with.failed, `${write} with`).toBeUndefined();
            // The baseline records nothing; with the log, every write stores a record and costs more.
            expect(cost.recordBytes, write).toBeGreaterThan(100);
            expect(cost.with.requestUnits, write).toBeGreaterThan(cost.without.requestUnits);
            expect(cost.ratio.median, write).toBeGreaterThan(1);
            expect(cost.sentBytes.with, write).toBeGreaterThan(cost.sentBytes.without);
        }

        const described = describeStoreCosts(costs);
        expect(described).toMatch(/assignment create\s+[\d.]+\s+\d+ (pointRead, \d+ )?batch/);
        expect(described).toMatch(/write \(one request\), 1 instance\s+RU without\s+RU with/);
        expect(described).toMatch(
            /\nassignment create\s+[\d.]+\s+[\d.]+\s+[\d.]+× \([\d.]+–[\d.]+\)\s+\d+\s+\d+ → \d+/,
        );
    }, 240_000);
});
