/**
 * What a storage failure becomes over real HTTP, with the app's real SDK client meeting Cosmos DB answers through a
 * proxy: transient statuses are 503s, a missing role or a bad request are logged 500s, a missing container is never
 * a 404, throttling never says `Retry-After: NaN`. Also the limit on assignments and how much assign reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import type { Services } from '../../lib/platform/services.js';
import { type AssignmentPage, AssignmentStore, type StoreOptions } from '../../lib/store/assignmentStore.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { type FaultyCosmos, startFaultyCosmos } from '../helpers/faultProxy.js';
import { expectGraphError, JSON_HEADERS, SEED_REQUEST_BODY } from '../helpers/host.js';

let faulty: FaultyCosmos;
let host: LocalHost;
const logs: string[] = [];

const services = (store: AssignmentStore): Services => ({
    store,
    clock: () => new Date(),
    logger: { info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) },
});

/** The configurations of the faulty store's tests, made before any fault is set. */
const ids = new Map<string, string>();
const configurationNamed = (name: string) => ids.get(name) ?? '';

beforeAll(async () => {
    faulty = await startFaultyCosmos();
    const store = new AssignmentStore(() => Promise.resolve(faulty.opened.container));
    for (const name of ['transient', 'denied', 'nan']) {
        ids.set(name, await newStoredConfiguration(store));
    }
    host = await startLocalHost({ routes, services: services(store) });
});

afterAll(async () => {
    await host.close();
    await faulty.close();
});

const collection = (origin: string, cfg: string) =>
    `${origin}/beta/officeConfiguration/clientConfigurations/${encodeURIComponent(cfg)}/assignments`;
const create = (origin: string, cfg: string) =>
    fetch(collection(origin, cfg), { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY });
const group = (n: number) => ({
    target: {
        '@odata.type': 'microsoft.graph.officeConfigurationGroupAssignmentTarget',
        groupId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    },
});
const assign = (origin: string, cfg: string, entries: unknown[]) =>
    fetch(collection(origin, cfg).replace(/\/assignments$/, '/assign'), {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ officeConfigurationAssignments: entries }),
    });

describe('a failed write batch', () => {
    it('is a 503 with Retry-After only for transient statuses (408, 410, 449, 503)', async () => {
        expect((await create(host.origin, configurationNamed('transient'))).status).toBe(201);
        for (const status of [408, 410, 449, 503]) {
            faulty.fault = { kind: 'status', status, message: `status ${status}`, on: 'batches' };
            try {
                const response = await create(host.origin, configurationNamed('transient'));
                await expectGraphError(response, 503, 'ServiceUnavailable', expect);
                expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
            } finally {
                faulty.fault = { kind: 'none' };
            }
        }
    });

    it('is a logged 500 for a missing role, a bad request or a too large one; the cause only in the log', async () => {
        expect((await create(host.origin, configurationNamed('denied'))).status).toBe(201);
        for (const status of [401, 403, 400, 413]) {
            const message = `Request blocked by Auth (test ${status})`;
            faulty.fault = { kind: 'status', status, message, on: 'batches' };
            logs.length = 0;
            try {
                const response = await create(host.origin, configurationNamed('denied'));
                const body = await expectGraphError(response, 500, 'InternalServerError', expect);
                expect(JSON.stringify(body)).not.toContain('Blocked');
                expect(response.headers.get('retry-after')).toBeNull();
                const requestId = response.headers.get('request-id') ?? '';
                expect(logs.find((line) => line.includes(requestId))).toMatch(new RegExp(`status ${status}`));
            } finally {
                faulty.fault = { kind: 'none' };
            }
        }
    });

    it('throttled with a retry-after Cosmos did not give as a number: Retry-After is 1, never NaN', async () => {
        faulty.fault = { kind: 'throttle', retryAfterMs: Number.NaN, on: 'batches' };
        try {
            const response = await create(host.origin, configurationNamed('nan'));
            await expectGraphError(response, 429, 'TooManyRequests', expect);
            expect(response.headers.get('retry-after')).toBe('1');
        } finally {
            faulty.fault = { kind: 'none' };
        }
    });
});

describe('a missing container', () => {
    it('is a logged 500 for every operation, never "the assignment does not exist"', async () => {
        const database = faulty.opened.container.database;
        const { container } = await database.containers.create({ id: 'gone', partitionKey: '/configurationId' });
        const gone = await startLocalHost({
            routes,
            services: services(new AssignmentStore(() => Promise.resolve(container))),
        });
        try {
            const goneId = await newStoredConfiguration(new AssignmentStore(() => Promise.resolve(container)));
            const created = (await (await create(gone.origin, goneId)).json()) as { id: string };
            await container.delete();
            logs.length = 0;
            const item = `${collection(gone.origin, goneId)}/${created.id}`;
            const requests = [
                () => create(gone.origin, goneId),
                () => fetch(item),
                () => fetch(item, { method: 'DELETE' }),
                () => fetch(item, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(group(1)) }),
                () => fetch(collection(gone.origin, goneId)),
                () => assign(gone.origin, goneId, [group(1)]),
            ];
            for (const request of requests) {
                await expectGraphError(await request(), 500, 'InternalServerError', expect);
            }
            expect(logs.filter((line) => /database or container does not exist/.test(line))).toHaveLength(
                requests.length,
            );
        } finally {
            await gone.close();
        }
    });
});

describe('the limit on assignments per configuration', () => {
    let cosmos: TestCosmos;
    let limited: LocalHost;
    const reads = { items: 0 };

    /** Counts the assignments the app reads, to show where assign stops. */
    class CountingStore extends AssignmentStore {
        override async list(configurationId: string, page: { top: number; continuation?: string }) {
            const result: AssignmentPage = await super.list(configurationId, page);
            reads.items += result.items.length;
            return result;
        }
    }

    beforeAll(async () => {
        cosmos = await startTestCosmos();
        const options: StoreOptions = { maxAssignments: 3 };
        limited = await startLocalHost({
            routes,
            services: services(new CountingStore(() => Promise.resolve(cosmos.container), options)),
        });
    });
    afterAll(async () => {
        await limited.close();
        await cosmos.close();
    });

    it('refuses a create or an assign past the limit with 409, changing nothing', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const statuses = await Promise.all(
            Array.from({ length: 6 }, async () => (await create(limited.origin, cfg)).status),
        );
        expect(statuses.sort()).toEqual([201, 201, 201, 409, 409, 409]);
        const refused = await create(limited.origin, cfg);
        const body = await expectGraphError(refused, 409, 'Conflict', expect);
        expect(body.error.message).toMatch(/at most|most assignments allowed \(3\)/);
        await expectGraphError(await assign(limited.origin, cfg, [1, 2, 3, 4].map(group)), 409, 'Conflict', expect);
        expect(await cosmos.documents(cfg)).toHaveLength(3);
        expect((await assign(limited.origin, cfg, [1, 2].map(group))).status).toBe(200);
        expect((await create(limited.origin, cfg)).status).toBe(201);
    });

    it('assign stops reading the set once it knows the answer', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const store = new AssignmentStore(() => Promise.resolve(cosmos.container));
        for (let i = 0; i < 250; i++) {
            await store.create(cfg, { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ...group(i) });
        }
        reads.items = 0;
        const response = await assign(limited.origin, cfg, [group(9999)]);
        await expectGraphError(response, 400, 'BadRequest', expect);
        // 99 removals are allowed; the 100th unmatched assignment settles it, within the second page of 100.
        expect(reads.items).toBeLessThanOrEqual(200);
        expect(reads.items).toBeGreaterThan(99);
    });
});
