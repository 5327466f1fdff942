/**
 * Session consistency across clients, with the real SDK: a client that does not carry another client's session
 * token may read, for the replication lag, the version before that client's write (or a 404 when there was none);
 * with the token, or its own writes, or after the lag, it reads the latest; at Strong nothing is stale.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { type Container, CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type SimulatedCosmos, startSimulatedCosmos } from '../../../../lib/store/simulator/simulatedCosmos.js';
import { openContainer } from './sdkClient.js';

/** Long enough that "within the lag" holds on a slow machine; every wait past it is this long. */
const LAG_MS = 1000;

/** What a client of its own, holding no one's session token, reads of a document now: its `v`. */
async function readByNewClient(sim: SimulatedCosmos, id: string): Promise<number | undefined> {
    const c = await openContainer(sim);
    try {
        return (await c.container.item(id, 's').read<Doc>()).resource?.v;
    } finally {
        c.client.dispose();
    }
}

interface Doc {
    id: string;
    configurationId: string;
    v: number;
    _etag?: string;
}

const errorOf = (promise: Promise<unknown>) =>
    promise.then(
        () => undefined,
        (error: { code?: number }) => error,
    );

describe('Session consistency across clients', () => {
    let sim: SimulatedCosmos;
    let a: { client: CosmosClient; container: Container };
    let b: { client: CosmosClient; container: Container };

    beforeAll(async () => {
        sim = await startSimulatedCosmos({
            profile: 'local',
            overrides: { replication: { lagMs: LAG_MS, staleReplicaProbability: 1 } },
        });
        a = await openContainer(sim);
        b = await openContainer(sim);
    });

    afterAll(async () => {
        a.client.dispose();
        b.client.dispose();
        await sim.close();
    });

    it('answers session tokens in the SDK format, owned by the collection', async () => {
        const created = await a.container.items.create<Doc>({ id: 'token', configurationId: 's', v: 1 });
        expect(created.headers['x-ms-session-token']).toMatch(/^0:-1#\d+$/);
        const { resource } = await a.container.read();
        expect(created.headers['x-ms-content-path']).toBe(resource?._rid);
        expect(Buffer.from(String(resource?._rid), 'base64')).toHaveLength(8);
    });

    it('lets another client miss a create for the lag, but not with the writer’s token, and never the writer', async () => {
        const created = await a.container.items.create<Doc>({ id: 'new', configurationId: 's', v: 1 });
        const token = String(created.headers['x-ms-session-token']);
        const before = sim.stats().staleReads;

        const unseen = await b.container.item('new', 's').read<Doc>();
        expect(unseen.statusCode).toBe(404);
        expect(sim.stats().staleReads).toBe(before + 1);

        const own = await a.container.item('new', 's').read<Doc>();
        expect(own.resource?.v).toBe(1);

        const withToken = await b.container.item('new', 's').read<Doc>({ sessionToken: token });
        expect(withToken.resource?.v).toBe(1);

        await sleep(LAG_MS + 100);
        expect(await readByNewClient(sim, 'new')).toBe(1);
    });

    it('lets another client read the version before a replace, until the lag has passed', async () => {
        const first = await a.container.items.create<Doc>({ id: 'replaced', configurationId: 's', v: 1 });
        await sleep(LAG_MS + 100);
        await a.container.item('replaced', 's').replace<Doc>({ id: 'replaced', configurationId: 's', v: 2 });

        const old = await b.container.item('replaced', 's').read<Doc>();
        expect(old.resource?.v).toBe(1);
        expect(old.etag).toBe(first.etag);
        expect((await a.container.item('replaced', 's').read<Doc>()).resource?.v).toBe(2);

        await sleep(LAG_MS + 100);
        expect((await b.container.item('replaced', 's').read<Doc>()).resource?.v).toBe(2);
    });

    it('answers a 412 with a session token, so that the loser’s next read is fresh', async () => {
        await a.container.items.create<Doc>({ id: 'raced', configurationId: 's', v: 1 });
        await sleep(LAG_MS + 100);
        await a.container.item('raced', 's').replace<Doc>({ id: 'raced', configurationId: 's', v: 2 });

        const stale = await b.container.item('raced', 's').read<Doc>();
        expect(stale.resource?.v).toBe(1);
        const conflict = await errorOf(
            b.container
                .item('raced', 's')
                .replace<Doc>(
                    { id: 'raced', configurationId: 's', v: 3 },
                    { accessCondition: { type: 'IfMatch', condition: stale.etag } },
                ),
        );
        expect(conflict?.code).toBe(412);
        expect((conflict as { headers?: Record<string, unknown> }).headers?.['x-ms-session-token']).toMatch(
            /^0:-1#\d+$/,
        );

        const fresh = await b.container.item('raced', 's').read<Doc>();
        expect(fresh.resource?.v).toBe(2);
        // A client that got no such token still reads the old version.
        expect(await readByNewClient(sim, 'raced')).toBe(1);
    });

    it('serves a delete late too: the document is still there for the lag', async () => {
        await a.container.items.create<Doc>({ id: 'deleted', configurationId: 's', v: 1 });
        await sleep(LAG_MS + 100);
        await a.container.item('deleted', 's').delete();
        expect((await b.container.item('deleted', 's').read<Doc>()).resource?.v).toBe(1);
        expect((await a.container.item('deleted', 's').read<Doc>()).statusCode).toBe(404);
    });
});

describe('Strong consistency', () => {
    let sim: SimulatedCosmos;
    let a: { client: CosmosClient; container: Container };
    let b: { client: CosmosClient; container: Container };

    beforeAll(async () => {
        sim = await startSimulatedCosmos({
            profile: 'local',
            overrides: {
                consistency: { defaultLevel: 'Strong' },
                replication: { lagMs: LAG_MS, staleReplicaProbability: 1 },
            },
        });
        // No level of their own: they read at the account's.
        a = await openContainer(sim, { consistencyLevel: undefined });
        b = await openContainer(sim, { consistencyLevel: undefined });
    });

    afterAll(async () => {
        a.client.dispose();
        b.client.dispose();
        await sim.close();
    });

    it('never serves an older version', async () => {
        await a.container.items.create<Doc>({ id: 'strong', configurationId: 's', v: 1 });
        expect((await b.container.item('strong', 's').read<Doc>()).resource?.v).toBe(1);
        await a.container.item('strong', 's').replace<Doc>({ id: 'strong', configurationId: 's', v: 2 });
        expect((await b.container.item('strong', 's').read<Doc>()).resource?.v).toBe(2);
        expect(sim.stats().staleReads).toBe(0);
    });

    it('refuses a read that asks for more than the account’s level', async () => {
        sim.configure({ consistency: { defaultLevel: 'Session' } });
        try {
            const strong = await openContainer(sim, { consistencyLevel: 'Strong' });
            try {
                const error = await errorOf(strong.container.item('strong', 's').read());
                expect(error?.code).toBe(400);
            } finally {
                strong.client.dispose();
            }
        } finally {
            sim.configure({ consistency: { defaultLevel: 'Strong' } });
        }
    });
});
