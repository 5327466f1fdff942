/**
 * Honest failures over real HTTP: throttling past the SDK's own retries, a storage call that hangs, and a shutdown
 * with requests in flight. Cosmos DB misbehaves through a proxy, so the app's real SDK client meets the faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import type { Services } from '../../lib/platform/services.js';
import { AssignmentStore } from '../../lib/store/assignmentStore.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { type FaultyCosmos, startFaultyCosmos } from '../helpers/faultProxy.js';
import { expectGraphError, JSON_HEADERS, SEED_REQUEST_BODY } from '../helpers/host.js';

let faulty: FaultyCosmos;
let host: LocalHost;
const logs: string[] = [];

const services = (overrides: Partial<Services> = {}): Services => ({
    store: new AssignmentStore(() => Promise.resolve(faulty.opened.container)),
    clock: () => new Date(),
    logger: { info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    ...overrides,
});

const url = (origin: string, cfg: string) =>
    `${origin}/beta/officeConfiguration/clientConfigurations/${cfg}/assignments`;

const create = (origin: string, cfg: string) =>
    fetch(url(origin, cfg), { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY });

async function stored(cfg: string): Promise<number> {
    const { resources } = await faulty.opened.container.items
        .query<number>({
            // Assignments only, not the set document or key records.
            query: "SELECT VALUE COUNT(1) FROM c WHERE c.configurationId = @id AND c.id != 'assign-version' AND NOT IS_DEFINED(c.kind)",
            parameters: [{ name: '@id', value: cfg }],
        })
        .fetchAll();
    return resources[0] ?? 0;
}

/** The configurations of the tests, made before any fault is set. */
const ids = new Map<string, string>();
const configurationNamed = (name: string) => ids.get(name) ?? '';

beforeAll(async () => {
    // A long SDK timeout: only the request budget may end a hung call here.
    faulty = await startFaultyCosmos({ requestTimeoutMs: 60_000 });
    for (const name of ['429', 'hang', 'log', 'shutdown', 'batch-faults', 'assign-race', 'assign-late']) {
        ids.set(name, await newStoredConfiguration(services().store));
    }
    host = await startLocalHost({ routes, services: services({ requestBudgetMs: 1500 }) });
});

afterAll(async () => {
    await host.close();
    await faulty.close();
});

describe('storage faults', () => {
    it('throttled past the SDK retries → 429 with the Retry-After Cosmos gave, nothing stored', async () => {
        faulty.fault = { kind: 'throttle', retryAfterMs: 50 };
        const before = faulty.faulted;
        try {
            const response = await create(host.origin, configurationNamed('429'));
            await expectGraphError(response, 429, 'TooManyRequests', expect);
            expect(response.headers.get('retry-after')).toBe('1');
        } finally {
            faulty.fault = { kind: 'none' };
        }
        // The first attempt and the SDK's 5 retries (lib/store/cosmosClient.ts) all met the throttle (a create is one batch).
        expect(faulty.faulted - before).toBe(6);
        expect(await stored(configurationNamed('429'))).toBe(0);
        expect((await create(host.origin, configurationNamed('429'))).status).toBe(201);
    });

    it('a hung storage call ends in a 503 within the request budget, not a host timeout', async () => {
        faulty.fault = { kind: 'hang' };
        const started = Date.now();
        try {
            const response = await create(host.origin, configurationNamed('hang'));
            await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        } finally {
            faulty.fault = { kind: 'none' };
        }
        // Loose on purpose: this asserts which mechanism answered (the 1.5 s budget, not the SDK's 60 s), not speed.
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(await stored(configurationNamed('hang'))).toBe(0);
    });

    it('a throttled answer carries a request-id and none of the storage internals', async () => {
        faulty.fault = { kind: 'throttle', retryAfterMs: 10 };
        let body: string;
        let requestId: string;
        try {
            const response = await create(host.origin, configurationNamed('log'));
            requestId = response.headers.get('request-id') ?? '';
            body = await response.text();
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(body).not.toMatch(/Request rate is large|x-ms-|cosmos/i);
        expect(requestId).not.toBe('');
    });
});

describe('graceful shutdown', () => {
    it('lets requests in flight finish before the host closes', async () => {
        const slow = await startLocalHost({ routes, services: services() });
        faulty.fault = { kind: 'delay', ms: 400 };
        try {
            const before = faulty.faulted;
            const inFlight = create(slow.origin, configurationNamed('shutdown'));
            // Close only once the create is inside the app, held at its Cosmos write.
            while (faulty.faulted === before) {
                await new Promise((resolve) => setTimeout(resolve, 10));
            }
            let closed = false;
            const closing = slow.close().then(() => (closed = true));
            const response = await inFlight;
            expect(response.status).toBe(201);
            await closing;
            expect(closed).toBe(true);
            // Closed now: new connections are refused.
            await expect(create(slow.origin, configurationNamed('shutdown'))).rejects.toThrow();
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(await stored(configurationNamed('shutdown'))).toBe(1);
    });
});

describe('assign under faults and races', () => {
    const assignUrl = (origin: string, cfg: string) =>
        `${origin}/beta/officeConfiguration/clientConfigurations/${cfg}/assign`;
    const assign = (origin: string, cfg: string, groupIds: string[]) =>
        fetch(assignUrl(origin, cfg), {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify({
                officeConfigurationAssignments: groupIds.map((groupId) => ({
                    target: { '@odata.type': 'microsoft.graph.officeConfigurationGroupAssignmentTarget', groupId },
                })),
            }),
        });
    const g = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

    it('a throttled batch → 429 with Retry-After, a batch that cannot reach Cosmos → 503; nothing changes', async () => {
        const cfg = configurationNamed('batch-faults');
        expect((await assign(host.origin, cfg, [g(1)])).status).toBe(200);
        faulty.fault = { kind: 'throttle', retryAfterMs: 20, on: 'batches' };
        try {
            const throttled = await assign(host.origin, cfg, [g(2)]);
            await expectGraphError(throttled, 429, 'TooManyRequests', expect);
            expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
            faulty.fault = { kind: 'hang', on: 'batches' };
            const hung = await assign(host.origin, cfg, [g(3)]);
            await expectGraphError(hung, 503, 'ServiceUnavailable', expect);
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(await stored(cfg)).toBe(1); // the first assignment
    });

    it('two concurrent assigns that read the same set: one wins, the other is a 409, never a union', async () => {
        const cfg = configurationNamed('assign-race');
        // Both read the (empty) set before either batch reaches Cosmos.
        faulty.fault = { kind: 'delay', ms: 1000, on: 'batches' };
        let statuses: number[];
        try {
            const responses = await Promise.all([assign(host.origin, cfg, [g(1)]), assign(host.origin, cfg, [g(2)])]);
            statuses = responses.map((r) => r.status).sort();
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(statuses).toEqual([200, 409]);
        const listed = await fetch(url(host.origin, cfg));
        const { value } = (await listed.json()) as { value: unknown[] };
        expect(value).toHaveLength(1);
    });

    it('a request out of time starts no further write: an assign answered 503 changes nothing later', async () => {
        const cfg = configurationNamed('assign-late');
        const slow = await startLocalHost({ routes, services: services({ requestBudgetMs: 300 }) });
        faulty.fault = { kind: 'delay', ms: 600, on: 'queries' };
        try {
            const response = await assign(slow.origin, cfg, [g(1)]);
            await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            await new Promise((resolve) => setTimeout(resolve, 1000)); // past the delayed query
        } finally {
            faulty.fault = { kind: 'none' };
            await slow.close();
        }
        expect(await stored(cfg)).toBe(0);
    });
});
