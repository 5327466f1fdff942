/**
 * Request charges through the real SDK: what Learn documents for point reads by size, writes by size and indexed
 * terms, batches (the sum of their operations), queries, and reads at Strong consistency (twice Session's).
 */
import { type Container, CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openEmbeddedContainer } from '../../../../lib/store/cosmosClient.js';
import { deriveProfile, local } from '../../../../lib/store/simulator/profile.js';
import {
    createCharge,
    pointReadCharge,
    queryCharge,
    summarize,
} from '../../../../lib/store/simulator/requestCharge.js';
import { type SimulatedCosmos, startSimulatedCosmos } from '../../../../lib/store/simulator/simulatedCosmos.js';
import { testSettings } from '../../../helpers/cosmos.js';
import { openContainer } from './sdkClient.js';

/** As lib/store/cosmosClient.ts's ensureContainer creates it. */

const charge = (headers: Record<string, unknown>) => Number(headers['x-ms-request-charge']);

/** A document whose stored JSON (system properties included) is about `bytes` long. */
function documentOf(id: string, bytes: number): Record<string, unknown> {
    // The server adds about 170 bytes of system properties.
    return { id, configurationId: 'charges', padding: 'x'.repeat(Math.max(0, bytes - 230)) };
}

describe('request charges', () => {
    let sim: SimulatedCosmos;
    let client: CosmosClient;
    let container: Container;

    beforeAll(async () => {
        sim = await startSimulatedCosmos({ profile: 'local' });
        ({ client, container } = await openContainer(sim));
        await container.items.create(documentOf('small', 1024));
        await container.items.create(documentOf('large', 100 * 1024));
    });

    afterAll(async () => {
        client.dispose();
        await sim.close();
    });

    it('charges a 1 KB point read 1 RU and a 100 KB one 10 RU, as Learn documents', async () => {
        const small = await container.item('small', 'charges').read();
        const large = await container.item('large', 'charges').read();
        expect(small.requestCharge).toBeGreaterThanOrEqual(1);
        expect(small.requestCharge).toBeLessThan(1.05);
        expect(large.requestCharge).toBeGreaterThan(9.9);
        expect(large.requestCharge).toBeLessThan(10.1);
    });

    it('charges a write by its size and by the terms the indexing policy indexes', async () => {
        const doc = { id: 'w', configurationId: 'charges', a: 1, b: 'two', c: [3, 4], d: { e: true } };
        const created = await container.items.create(doc);
        const size = JSON.stringify(created.resource).length;
        // The container indexes /configurationId/? and /id/? only (infra/modules/cosmos.bicep): 2 terms.
        expect(created.requestCharge).toBeCloseTo(createCharge(local.charges, { size, terms: new Set(['a', 'b']) }), 2);
        // Everything indexed (the default policy): 7 terms, 1 RU more.
        const everything = deriveProfile(local, {
            charges: { indexingPolicy: { includedPaths: ['/*'], excludedPaths: [] } },
        });
        const summary = summarize(created.resource, everything.charges.indexingPolicy);
        expect(summary.terms.size).toBe(7);
        expect(createCharge(everything.charges, summary)).toBeCloseTo(created.requestCharge + 5 * 0.2, 2);
        // Replacing only a property that is not indexed changes no term: a delete and an insert of the size.
        const replaced = await container.item('w', 'charges').replace({ ...doc, a: 2 });
        expect(replaced.requestCharge).toBeGreaterThan(created.requestCharge);
        expect(replaced.requestCharge).toBeLessThan(2 * created.requestCharge);
    });

    it('charges a batch the sum of its operations, each in its own result', async () => {
        await container.items.create({ id: 'b1', configurationId: 'charges', n: 1 });
        const response = await container.items.batch(
            [
                { operationType: 'Create', resourceBody: { id: 'b2', configurationId: 'charges', n: 2 } },
                {
                    operationType: 'Replace',
                    id: 'b1',
                    partitionKey: 'charges',
                    resourceBody: { id: 'b1', configurationId: 'charges', n: 3 },
                },
                {
                    operationType: 'Patch',
                    id: 'b1',
                    partitionKey: 'charges',
                    resourceBody: { operations: [{ op: 'set', path: '/n', value: 4 }] },
                },
                { operationType: 'Read', id: 'small', partitionKey: 'charges' },
            ],
            'charges',
        );
        const results = response.result ?? [];
        expect(results.map((r) => r.statusCode)).toEqual([201, 200, 200, 200]);
        const perOperation = results.map((r) => r.requestCharge);
        perOperation.forEach((c) => expect(c).toBeGreaterThan(0));
        const sum = perOperation.reduce((a, b) => a + b, 0);
        expect(charge(response.headers)).toBeCloseTo(sum, 2);
        // The create in the batch costs what the same create costs alone.
        const alone = await container.items.create({ id: 'b3', configurationId: 'charges', n: 2 });
        expect(perOperation[0]).toBeCloseTo(alone.requestCharge, 1);
    });

    it('charges a query a base charge plus each item it loads', async () => {
        const response = await container.items
            .query(
                { query: 'SELECT * FROM c WHERE c.id = @id', parameters: [{ name: '@id', value: 'large' }] },
                { partitionKey: 'charges' },
            )
            .fetchAll();
        const size = Buffer.byteLength(JSON.stringify(response.resources[0]));
        expect(response.requestCharge).toBeCloseTo(queryCharge(local.charges, [size]), 2);
        expect(response.requestCharge).toBeCloseTo(local.charges.queryBase + pointReadCharge(local.charges, size), 1);
    });

    it('puts the charge on every answer: metadata, a missing item and an injected fault included', async () => {
        const account = await fetch(sim.endpoint);
        expect(account.headers.get('x-ms-request-charge')).not.toBeNull();
        const database = await client.database('simulator').read();
        expect(charge(database.headers)).toBeGreaterThan(0);
        // The SDK answers a missing item's 404 as a response, not an error.
        const missing = await container.item('missing', 'charges').read();
        expect(missing.statusCode).toBe(404);
        expect(missing.requestCharge).toBe(1);
        const fault = sim.intercept({ kind: 'pointRead', action: { type: 'status', status: 503 } });
        const failed = await container
            .item('small', 'charges')
            .read()
            .then(
                () => undefined,
                (error: { code?: number; headers?: Record<string, unknown> }) => error,
            );
        expect(fault.hits).toBe(1);
        expect(failed?.code).toBe(503);
        expect(failed?.headers?.['x-ms-request-charge']).toBe('0.00');
    });

    it('serves the app through openEmbeddedContainer', async () => {
        const opened = await openEmbeddedContainer(testSettings, sim);
        try {
            const created = await opened.container.items.create({ id: 'app', configurationId: 'charges' });
            expect(created.requestCharge).toBeGreaterThan(5);
        } finally {
            await opened.dispose();
        }
    });
});

describe('reads at Strong consistency', () => {
    let sim: SimulatedCosmos;
    let session: CosmosClient;
    let strong: CosmosClient;

    beforeAll(async () => {
        sim = await startSimulatedCosmos({ profile: 'local', overrides: { consistency: { defaultLevel: 'Strong' } } });
        session = (await openContainer(sim)).client;
        // No level of its own: it reads at the account's, Strong.
        strong = new CosmosClient({
            endpoint: sim.endpoint,
            key: sim.key,
            connectionPolicy: { enableEndpointDiscovery: false },
        });
        await session.database('simulator').container('items').items.create(documentOf('d', 4096));
    });

    afterAll(async () => {
        session.dispose();
        strong.dispose();
        await sim.close();
    });

    it('cost twice a Session read, and a client may relax to Session for itself', async () => {
        const atStrong = await strong.database('simulator').container('items').item('d', 'charges').read();
        const atSession = await session.database('simulator').container('items').item('d', 'charges').read();
        expect(atStrong.requestCharge).toBeCloseTo(2 * atSession.requestCharge, 2);
        expect(atSession.requestCharge).toBeCloseTo(
            pointReadCharge(local.charges, JSON.stringify(atSession.resource).length),
            2,
        );
    });

    it('reports the profile consistency in the account read', async () => {
        const account = (await (await fetch(sim.endpoint)).json()) as {
            userConsistencyPolicy: { defaultConsistencyLevel: string };
        };
        expect(account.userConsistencyPolicy.defaultConsistencyLevel).toBe('Strong');
    });
});
