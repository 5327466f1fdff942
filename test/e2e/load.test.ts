/**
 * The load run of `npm run load`, in a small size: the app as a process, autocannon, the embedded Cosmos DB. The
 * full size (10,000 creates at concurrency 64) is only run by `npm run load`; figures are reported, not asserted.
 */
import { describe, expect, it } from 'vitest';

import { runLoad } from '../../scripts/load.js';

describe('load without loss', () => {
    it('500 creates at concurrency 16: every one acknowledged and stored', async () => {
        const report = await runLoad({ requests: 500, concurrency: 16 });
        expect(report.statusCounts).toEqual({ 201: 500 });
        expect(report.acknowledged).toBe(500);
        expect(report.stored).toBe(500);
        expect(report.lost).toBe(0);
    });

    it('storage stopped mid-run: every 201 stored, every failure a 503 or 429 with Retry-After, then recovery', async () => {
        const report = await runLoad({ requests: 600, concurrency: 16, outageMs: 1000 });
        expect(report.requests).toBe(600);
        expect(report.lost).toBe(0);
        expect(report.badFailures).toBe(0);
        expect(report.stored).toBeGreaterThanOrEqual(report.acknowledged);
        expect(report.non201).toBeGreaterThan(0); // the outage was felt
        expect(Object.keys(report.statusCounts).sort()).toEqual(expect.arrayContaining(['201']));
        expect(report.outage?.recoveredAfterMs).toBeGreaterThanOrEqual(0); // and the service recovered by itself
    });
});
