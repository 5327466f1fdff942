/**
 * The load run of `npm run load`, in a small size: the app as a process, autocannon, the embedded Cosmos DB. The
 * full size (10,000 creates at concurrency 64) is only run by `npm run load`; figures are reported, not asserted.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';

import { runLoad } from '../../scripts/load.js';
import { timedAutocannon } from '../../scripts/timedAutocannon.js';

describe('load without loss', () => {
    it('500 creates at concurrency 16 after a warm-up: every one acknowledged and stored, the warm-up apart', async () => {
        const report = await runLoad({ requests: 500, concurrency: 16, warmup: 100 });
        expect(report.warmup).toBe(100);
        // The warm-up went to a configuration of its own: none of it is counted or stored with the run.
        expect(report.requests).toBe(500);
        expect(report.statusCounts).toEqual({ 201: 500 });
        expect(report.acknowledged).toBe(500);
        expect(report.stored).toBe(500);
        expect(report.lost).toBe(0);
        // The rate comes from the measured duration, which is printed to the millisecond: the rate lies between
        // the rates of the durations that round to it (a run of 0.1 s moves by 25 requests/s per half millisecond).
        const slowest = 500 / (report.durationSeconds + 0.0005);
        const fastest = 500 / Math.max(report.durationSeconds - 0.0005, 0.0005);
        expect(report.requestsPerSecond).toBeGreaterThanOrEqual(Math.floor(slowest));
        expect(report.requestsPerSecond).toBeLessThanOrEqual(Math.ceil(fastest));
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

describe('timing a load run', () => {
    it("spans the first request to the last answer, not autocannon's whole-second sample ticks", async () => {
        // A server that answers at once and notes when it first saw a request and last answered one.
        let firstSeen = Number.POSITIVE_INFINITY;
        let lastAnswered = 0;
        const server = http.createServer((request, response) => {
            firstSeen = Math.min(firstSeen, performance.now());
            request.resume();
            request.on('end', () => {
                response.statusCode = 201;
                response.end('{}');
                lastAnswered = performance.now();
            });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const options = { url, connections: 4, amount: 200, method: 'POST' as const, body: '{}' };
        try {
            // The baseline, measured in this test: autocannon's own duration, as `npm run load` used to report it.
            const own = await autocannon(options);
            firstSeen = Number.POSITIVE_INFINITY;
            const called = performance.now();
            const timed = await timedAutocannon(options);
            const returned = performance.now();

            expect(own['2xx']).toBe(200);
            expect(timed.answered).toBe(200);
            expect(timed.result['2xx']).toBe(200);
            // Bracketed by the server's own span and the caller's...
            expect(timed.seconds * 1000).toBeGreaterThanOrEqual(lastAnswered - firstSeen);
            expect(timed.seconds * 1000).toBeLessThanOrEqual(returned - called);
            // ...and not stretched to the next sample tick, as autocannon's own duration is with `amount` set.
            expect(timed.seconds).toBeLessThan(own.duration);
        } finally {
            server.closeAllConnections();
            server.close();
        }
    });
});

describe('npm run load, as printed', () => {
    it("gives rates per second only: not autocannon's table, whose Req/Sec counts a 10 ms sample", async () => {
        // The script `npm run load` runs, built by the global setup, at a small size.
        const script = fileURLToPath(new URL('../../dist/scripts/load.js', import.meta.url));
        const { stdout, stderr } = await promisify(execFile)(
            process.execPath,
            [script, '--requests', '200', '--concurrency', '4', '--warmup', '0'],
            { timeout: 120_000 },
        );
        const output = `${stdout}\n${stderr}`;
        expect(output).toMatch(/1 instance: \d+ requests\/s, p50 \d+ ms/);
        expect(output).not.toMatch(/Req\/Sec|Bytes\/Sec|sampled every/);
    }, 120_000);
});
