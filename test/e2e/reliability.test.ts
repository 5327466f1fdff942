/**
 * Honest failures over real HTTP: throttling past the SDK's own retries, a storage call that hangs, and a shutdown
 * with requests in flight. Cosmos DB misbehaves through a proxy, so the app's real SDK client meets the faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/localHost.js';
import type { Services } from '../../lib/services.js';
import { AssignmentStore } from '../../lib/store.js';
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
            query: 'SELECT VALUE COUNT(1) FROM c WHERE c.configurationId = @id',
            parameters: [{ name: '@id', value: cfg }],
        })
        .fetchAll();
    return resources[0] ?? 0;
}

beforeAll(async () => {
    // A long SDK timeout: only the request budget may end a hung call here.
    faulty = await startFaultyCosmos({ requestTimeoutMs: 60_000 });
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
            const response = await create(host.origin, 'cfg-429');
            await expectGraphError(response, 429, 'TooManyRequests', expect);
            expect(response.headers.get('retry-after')).toBe('1');
        } finally {
            faulty.fault = { kind: 'none' };
        }
        // The first attempt and the SDK's 5 retries (lib/cosmosClient.ts) all met the throttle.
        expect(faulty.faulted - before).toBe(6);
        expect(await stored('cfg-429')).toBe(0);
        expect((await create(host.origin, 'cfg-429')).status).toBe(201);
    });

    it('a hung storage call ends in a 503 within the request budget, not a host timeout', async () => {
        faulty.fault = { kind: 'hang' };
        const started = Date.now();
        try {
            const response = await create(host.origin, 'cfg-hang');
            await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        } finally {
            faulty.fault = { kind: 'none' };
        }
        // Loose on purpose: this asserts which mechanism answered (the 1.5 s budget, not the SDK's 60 s), not speed.
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(await stored('cfg-hang')).toBe(0);
    });

    it('a throttled answer carries a request-id and none of the storage internals', async () => {
        faulty.fault = { kind: 'throttle', retryAfterMs: 10 };
        let body = '';
        let requestId = '';
        try {
            const response = await create(host.origin, 'cfg-log');
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
            const inFlight = create(slow.origin, 'cfg-shutdown');
            await new Promise((resolve) => setTimeout(resolve, 100));
            let closed = false;
            const closing = slow.close().then(() => (closed = true));
            const response = await inFlight;
            expect(response.status).toBe(201);
            await closing;
            expect(closed).toBe(true);
            // Closed now: new connections are refused.
            await expect(create(slow.origin, 'cfg-shutdown')).rejects.toThrow();
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(await stored('cfg-shutdown')).toBe(1);
    });
});
