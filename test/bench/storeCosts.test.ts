/**
 * The store-costs bench measures what it says, over 3 instances on the Azure-like Cosmos DB: each operation's calls
 * and request units come from the store's own charges, and an assignment create stays one round trip to the store
 * (one transactional batch, no read). Counts are asserted; no timing is.
 */
import { describe, expect, it } from 'vitest';

import { describeStoreCosts, measureStoreCosts } from '../../bench/storeCosts.js';
import { repoRoot } from '../../scripts/paths.js';

describe('bench/storeCosts', () => {
    it('counts each operation’s store calls and request units; an assignment create is one batch, no read', async () => {
        const costs = await measureStoreCosts(repoRoot, { samples: 2, creates: 64 });
        expect(costs.instances).toBe(3);
        expect(costs.consistency).toBe('Strong'); // the Bicep's account
        const create = costs.operations['assignment create'];
        expect(create?.calls).toEqual({ batch: 1 });
        expect(create?.requestUnits).toBeGreaterThan(1); // Cosmos DB's documented costs, not the embedded 1 RU
        // A read costs less than a write; a page of 100 more than a point read.
        const get = costs.operations['configuration GET'];
        expect(get?.requestUnits).toBeLessThan(costs.operations['configuration create']?.requestUnits ?? 0);
        expect(costs.operations['assignment list, page of 100']?.requestUnits).toBeGreaterThan(get?.requestUnits ?? 0);
        // A keyed configuration create: its key's record read beside the order, and written in the create's batch.
        const keyed = costs.operations['configuration create, Idempotency-Key'];
        expect(keyed?.calls.batch).toBeGreaterThanOrEqual(1);
        expect(keyed?.requestUnits).toBeGreaterThan(get?.requestUnits ?? 0);
        expect(costs.sweep.requestUnits).toBeGreaterThan(100 * 5); // about 5 RU a document deleted, 101 of them
        expect(costs.latency.assignmentCreate.requests).toBe(64);
        expect(costs.latency.assignmentCreate.p99).toBeGreaterThanOrEqual(costs.latency.assignmentCreate.p50);
        expect(describeStoreCosts(costs)).toMatch(/assignment create\s+[\d.]+\s+1 batch/);
    }, 180_000);
});
