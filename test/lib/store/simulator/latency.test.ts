/**
 * Latency: the distribution each request kind draws from (a seeded log-normal with the profile's p50 and p99), and
 * where it is spent (half before the backend call, half after), with the real SDK. Shared machines add latency and
 * never remove it: timings are asserted from below only, and the end-to-end median is reported.
 */
import { type Container, CosmosClient, PartitionKeyKind } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { logNormalSampler, seededRandom } from '../../../../lib/store/simulator/profile.js';
import { type SimulatedCosmos, startSimulatedCosmos } from '../../../../lib/store/simulator/simulatedCosmos.js';

const sortedSamples = (sample: () => number, n: number) => Array.from({ length: n }, sample).sort((a, b) => a - b);
const at = (sorted: number[], p: number) => sorted[Math.floor(p * sorted.length)] ?? NaN;
const median = (values: number[]) =>
    at(
        [...values].sort((a, b) => a - b),
        0.5,
    );

describe('latency distributions', () => {
    it('have the configured p50 and p99', () => {
        const samples = sortedSamples(logNormalSampler({ p50: 5, p99: 12 }, seededRandom(7)), 50_000);
        expect(at(samples, 0.5)).toBeGreaterThan(5 * 0.97);
        expect(at(samples, 0.5)).toBeLessThan(5 * 1.03);
        expect(at(samples, 0.99)).toBeGreaterThan(12 * 0.95);
        expect(at(samples, 0.99)).toBeLessThan(12 * 1.05);
        // A long right tail: the mean is above the median.
        expect(samples.reduce((a, b) => a + b, 0) / samples.length).toBeGreaterThan(5);
    });

    it('replay with a seed', () => {
        const first = Array.from({ length: 100 }, logNormalSampler({ p50: 5, p99: 12 }, seededRandom(42)));
        const again = Array.from({ length: 100 }, logNormalSampler({ p50: 5, p99: 12 }, seededRandom(42)));
        const other = Array.from({ length: 100 }, logNormalSampler({ p50: 5, p99: 12 }, seededRandom(43)));
        expect(again).toEqual(first);
        expect(other).not.toEqual(first);
    });

    it('are nothing at a p50 of 0, and constant when p99 is p50', () => {
        expect(logNormalSampler({ p50: 0, p99: 0 }, seededRandom(1))()).toBe(0);
        expect(new Set(Array.from({ length: 10 }, logNormalSampler({ p50: 3, p99: 3 }, seededRandom(1))))).toEqual(
            new Set([3]),
        );
    });
});

describe('latency through the SDK', () => {
    let sim: SimulatedCosmos;
    let client: CosmosClient;
    let container: Container;
    let inspector: CosmosClient;

    beforeAll(async () => {
        sim = await startSimulatedCosmos({
            profile: 'local',
            overrides: { latencyMs: { pointRead: { p50: 40, p99: 80 }, pointWrite: { p50: 400, p99: 400 } } },
        });
        client = new CosmosClient({
            endpoint: sim.endpoint,
            key: sim.key,
            consistencyLevel: 'Session',
            connectionPolicy: { enableEndpointDiscovery: false },
        });
        const { database } = await client.databases.createIfNotExists({ id: 'simulator' });
        ({ container } = await database.containers.createIfNotExists({
            id: 'items',
            partitionKey: { paths: ['/configurationId'], kind: PartitionKeyKind.Hash, version: 2 },
        }));
        inspector = new CosmosClient({
            endpoint: sim.backend.endpoint,
            key: sim.backend.key,
            connectionPolicy: { enableEndpointDiscovery: false },
        });
    });

    afterAll(async () => {
        client.dispose();
        inspector.dispose();
        await sim.close();
    });

    it('puts the median point read near the configured p50', async () => {
        sim.configure({ latencyMs: { pointWrite: { p50: 0, p99: 0 } } });
        await container.items.create({ id: 'read', configurationId: 'latency' });
        const durations: number[] = [];
        for (let i = 0; i < 40; i += 1) {
            const started = performance.now();
            await container.item('read', 'latency').read();
            durations.push(performance.now() - started);
        }
        const observed = median(durations);
        console.log(`median point read: ${observed.toFixed(1)} ms (configured p50 40 ms, p99 80 ms)`);
        expect(observed).toBeGreaterThan(40 * 0.75);
        expect(sim.stats().byKind.pointRead.latencyMs.p50).toBeGreaterThan(40 * 0.75);
        sim.configure({ latencyMs: { pointWrite: { p50: 400, p99: 400 } } });
    });

    it('commits a write halfway through its latency, so that racing writes commit in a realistic order', async () => {
        const started = performance.now();
        let resolvedAt = 0;
        const creating = container.items.create({ id: 'halfway', configurationId: 'latency' }).then(() => {
            resolvedAt = performance.now() - started;
        });
        let storedAt = 0;
        while (storedAt === 0) {
            if (
                (await inspector.database('simulator').container('items').item('halfway', 'latency').read())
                    .statusCode === 200
            ) {
                storedAt = performance.now() - started;
            }
        }
        await creating;
        expect(storedAt).toBeGreaterThanOrEqual(190);
        expect(resolvedAt).toBeGreaterThanOrEqual(390);
        expect(storedAt).toBeLessThanOrEqual(resolvedAt);
    });
});
