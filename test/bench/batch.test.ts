/**
 * The batching bench measures what it says: every create of every side is a 201 and is stored, and each round
 * times all three sides (no timing is asserted).
 */
import { describe, expect, it } from 'vitest';

import { BATCH_SIZE, describeBatch, measureBatch } from '../../bench/batch.js';
import { repoRoot } from '../../scripts/paths.js';

describe('bench/batch', () => {
    it('creates 20 per side and round through the built app, all acknowledged and stored', async () => {
        const result = await measureBatch(repoRoot, { rounds: 2, warmup: 0 });
        expect(result.creates).toBe(BATCH_SIZE);
        expect(result.failures).toEqual({});
        expect(result.storedMatches).toBe(true);
        for (const side of ['batch', 'sequential', 'concurrent'] as const) {
            expect(result.ms[side].min).toBeGreaterThan(0);
        }
        expect(describeBatch(result)).toMatch(/batch ÷ sequential singles: [\d.]+×/);
    }, 60_000);
});
