/**
 * Reads over 3 instances, each its own Cosmos DB client and so its own session: a write with an ETag another instance
 * just answered, a GET right after another instance's 201, a payload GET while PUTs replace it; and why the Bicep
 * deploys Strong: at Session a replica may still serve what another instance just deleted.
 */
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { payloadEtag } from '../../lib/resources/configurations.js';
import { raceKit, TARGET, useRaceScaleOut, WINDOWS } from '../helpers/raceKit.js';
import { startScaleOut } from '../helpers/scaleOut.js';

const so = useRaceScaleOut();

const { configuration, send, create } = raceKit(so);

describe('reads served by replicas behind another instance (session consistency is per client)', () => {
    beforeAll(() => {
        // Every read without a session token that covers the latest write is served by a replica 300 ms behind.
        so().sim.configure({ replication: { staleReplicaProbability: 1, lagMs: 300 } });
    });
    afterAll(() => {
        so().sim.configure({ replication: { staleReplicaProbability: 0.25, lagMs: 10 } });
    });

    it('a write on one instance with the ETag another instance just answered is never a false 412', async () => {
        const [a, b] = so().instanceRoots as [string, string];
        const falses: string[] = [];
        for (let round = 0; round < 50; round++) {
            const { id } = await create();
            const first = await send(configuration(id, a), 'PATCH', { displayName: `a-${round}` });
            expect(first.status).toBe(204);
            const second = await send(
                configuration(id, b),
                'PATCH',
                { displayName: `b-${round}` },
                {
                    'If-Match': first.headers.get('etag') ?? '',
                },
            );
            if (second.status !== 204) {
                falses.push(`round ${round}: PATCH ${second.status}`);
            }
            const payload = await fetch(`${configuration(id, a)}/policyPayload`, { method: 'PUT', body: `p${round}` });
            const replaced = await fetch(`${configuration(id, b)}/policyPayload`, {
                method: 'PUT',
                body: `q${round}`,
                headers: { 'If-Match': payload.headers.get('etag') ?? '' },
            });
            if (replaced.status !== 204) {
                falses.push(`round ${round}: payload PUT ${replaced.status}`);
            }
            // The payload PUTs changed the configuration's document (its record of the payload): its ETag as `b`
            // answers it now, for a DELETE on `a`.
            const current = await send(configuration(id, b), 'GET');
            const deleted = await send(configuration(id, a), 'DELETE', undefined, {
                'If-Match': current.headers.get('etag') ?? '',
            });
            if (deleted.status !== 204) {
                falses.push(`round ${round}: DELETE ${deleted.status}`);
            }
        }
        expect(falses).toEqual([]);
    });

    it('a GET on one instance right after a 201 on another finds what was created', async () => {
        const [a, b, c] = so().instanceRoots as [string, string, string];
        const misses: string[] = [];
        const staleBefore = so().sim.stats().staleReads;
        for (let round = 0; round < 50; round++) {
            const created = await send(`${a}/officeConfiguration/clientConfigurations`, 'POST', {
                '@odata.type': WINDOWS,
            });
            expect(created.status).toBe(201);
            const id = String(created.json.id);
            const [entity, assignments] = await Promise.all([
                send(configuration(id, b), 'GET'),
                send(`${configuration(id, c)}/assignments`, 'POST', { target: TARGET }),
            ]);
            if (entity.status !== 200 || assignments.status !== 201) {
                misses.push(`round ${round}: GET ${entity.status}, assignment create ${assignments.status}`);
            }
        }
        expect(so().sim.stats().staleReads).toBeGreaterThan(staleBefore); // the replicas did lag
        expect(misses).toEqual([]);
    });

    it('a payload GET answers bytes, media type and ETag of one version while PUTs replace it', async () => {
        const [a, b, c] = so().instanceRoots as [string, string, string];
        const { id } = await create();
        const versions = Array.from({ length: 8 }, (_, i) => ({
            type: i % 2 === 0 ? 'text/plain' : 'application/octet-stream',
            bytes: createHash('sha256')
                .update(String(i))
                .digest()
                .subarray(0, 8 + i),
        }));
        let writing = true;
        const writer = (async () => {
            for (let i = 0; writing; i++) {
                const version = versions[i % versions.length]!;
                await fetch(`${configuration(id, a)}/policyPayload`, {
                    method: 'PUT',
                    headers: { 'Content-Type': version.type },
                    body: version.bytes,
                });
            }
        })();
        const mixed: string[] = [];
        let served = 0;
        for (let i = 0; i < 200; i++) {
            const response = await fetch(`${configuration(id, i % 2 === 0 ? b : c)}/policyPayload`);
            const bytes = new Uint8Array(await response.arrayBuffer());
            if (response.status !== 200) {
                continue;
            }
            served += 1;
            const type = response.headers.get('content-type') ?? '';
            if (response.headers.get('etag') !== payloadEtag(type, bytes)) {
                mixed.push(`read ${i}: ${type}, ${bytes.length} bytes, ETag ${response.headers.get('etag')}`);
            }
        }
        writing = false;
        await writer;
        expect(served).toBeGreaterThan(100);
        expect(mixed).toEqual([]);
    });
});

describe("reads at the Bicep's Strong consistency", () => {
    /** 40 rounds: create on `a`, read on `b`, DELETE on `a`, read on `b` again; how often `b` still found it. */
    async function foundAfterDelete(a: string, b: string): Promise<number> {
        let found = 0;
        for (let round = 0; round < 40; round++) {
            const created = await send(`${a}/officeConfiguration/clientConfigurations`, 'POST', {
                '@odata.type': WINDOWS,
            });
            const id = String(created.json.id);
            await send(configuration(id, b), 'GET');
            expect((await send(configuration(id, a), 'DELETE')).status).toBe(204);
            if ((await send(configuration(id, b), 'GET')).status !== 404) {
                found += 1;
            }
        }
        return found;
    }

    it('a GET on another instance right after a 204 DELETE finds nothing; at Session a replica may still serve it', async () => {
        const lagging = { replication: { staleReplicaProbability: 1, lagMs: 300 } };
        so().sim.configure(lagging);
        let atSession: number;
        try {
            const [a, b] = so().instanceRoots as [string, string];
            atSession = await foundAfterDelete(a, b);
        } finally {
            so().sim.configure({ replication: { staleReplicaProbability: 0.25, lagMs: 10 } });
        }
        // Instances read at the account's level, learnt when they connect: a Strong account needs its own.
        const strong = await startScaleOut({ instances: 2, profile: lagging });
        try {
            const [a, b] = strong.instanceRoots as [string, string];
            const atStrong = await foundAfterDelete(a, b);
            console.info(
                `GET after DELETE on another instance, 40 rounds each: still found at Session ${atSession}, at Strong ${atStrong}`,
            );
            expect(atSession).toBeGreaterThan(0); // why the Bicep deploys Strong
            expect(atStrong).toBe(0);
        } finally {
            await strong.close();
        }
    }, 120_000);
});
