/**
 * A configuration's create or delete whose batch storage answers ambiguously (a timeout after the batch committed,
 * or one that never reached it) must end in a whole configuration or none, and say which: never one that lists a
 * priority but has no parent, nor a 503 for a create that stands. The group commit asks the batch's receipt
 * (lib/store/tenantCommitter.ts); when even that cannot be asked, the sweeper settles it later.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sweep } from '../../../lib/jobs/sweeper.js';
import { AssignmentStore, StoreError } from '../../../lib/store/assignmentStore.js';
import { ConfigurationStore, TENANT_PARTITION } from '../../../lib/store/configurationStore.js';
import { sweepRecordId } from '../../../lib/store/tenant.js';
import { isOutcomeUnknown } from '../../../lib/store/tenantCommitter.js';
import { startTestCosmos, type TestCosmos } from '../../helpers/cosmos.js';
import { type FaultyCosmos, startFaultyCosmos } from '../../helpers/faultProxy.js';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos?.close();
});

const TYPE = 'microsoft.graph.windowsOfficeClientConfiguration';
const payload = {
    property: 'policyPayload' as const,
    contentType: 'text/plain',
    bytes: new Uint8Array([1, 2, 3]),
    etag: '"p"',
};

/** A store whose next batches fail with a transport error, before or after Cosmos DB applied them. */
class Flaky extends AssignmentStore {
    static failNext: ('before' | 'after')[] = [];
    static batches = 0;
    override async batch(...args: Parameters<AssignmentStore['batch']>) {
        Flaky.batches += 1;
        const when = Flaky.failNext.shift();
        if (when === 'before') {
            throw new StoreError('unavailable', 'connection reset before the batch');
        }
        const result = await super.batch(...args);
        if (when === 'after') {
            throw new StoreError('unavailable', 'timed out after the batch committed');
        }
        return result;
    }
}

const stores = () => {
    const assignments = new Flaky(() => Promise.resolve(cosmos.container));
    return { assignments, configurations: new ConfigurationStore(assignments) };
};

/** Every tenant document naming `id`, besides the configuration itself: payloads, sweep records. */
async function leftovers(id: string): Promise<string[]> {
    const { resources } = await cosmos.container.items
        .query<{ id: string }>({
            query: 'SELECT c.id FROM c WHERE c.configurationId = @p AND CONTAINS(c.id, @id) AND c.id != @id',
            parameters: [
                { name: '@p', value: TENANT_PARTITION },
                { name: '@id', value: id },
            ],
        })
        .fetchAll();
    return resources.map((r) => r.id);
}

describe('ConfigurationStore under ambiguous failures', () => {
    it('answers a create whose batch landed although its answer was lost: the receipt says so', async () => {
        const { assignments, configurations } = stores();
        const id = randomUUID();
        Flaky.failNext = ['after'];
        const created = await configurations.create(id, { odataType: TYPE }, (ids) => [...ids, id], [payload]);
        expect(created).toMatchObject({ id, odataType: TYPE, payloads: { policyPayload: { size: 3 } } });
        // Whole: listed with its priority, its parent there (assignments can be made), its payload readable.
        expect(await configurations.get(id)).toMatchObject({ id, etag: created.etag, priority: created.priority });
        expect(await assignments.hasConfiguration(id)).toBe(true);
        const read = await configurations.readPayload(id, 'policyPayload');
        expect(read.configuration && [...(read.payload?.bytes ?? [])]).toEqual([1, 2, 3]);
        expect(await leftovers(id)).toEqual([`${id}.policyPayload`]); // its sweep record went in its batch
        await configurations.delete(id, undefined);
        expect(await configurations.get(id)).toBeUndefined();
        expect(await configurations.readPayload(id, 'policyPayload')).toEqual({ configuration: false });
    });

    it('sends a create again when its unanswered batch never landed: the receipt fences it off first', async () => {
        const { configurations } = stores();
        const id = randomUUID();
        const before = (await configurations.order()).ids.length;
        Flaky.failNext = ['before'];
        Flaky.batches = 0;
        const created = await configurations.create(id, { odataType: TYPE }, (ids) => [...ids, id], [payload]);
        expect(Flaky.batches).toBe(2);
        expect(created.priority).toBe(before + 1);
        expect((await configurations.order()).ids.filter((other) => other === id)).toHaveLength(1);
        expect(await leftovers(id)).toEqual([`${id}.policyPayload`]);
    });

    it('removes what a create wrote when its batch is refused for good', async () => {
        const { assignments, configurations } = stores();
        const id = randomUUID();
        const refused = configurations.create(
            id,
            { odataType: TYPE },
            (ids) => {
                if (ids.includes('never')) {
                    return [...ids];
                }
                throw new StoreError('conflict', 'the tenant is full');
            },
            [payload],
        );
        // The reorder refuses at once: nothing but the sweep record was written, and it is gone too.
        await expect(refused).rejects.toThrow('the tenant is full');
        expect(await configurations.get(id)).toBeUndefined();
        expect(await assignments.hasConfiguration(id)).toBe(false);
        expect(await leftovers(id)).toEqual([]);
    });

    it('fences off a create refused after its parent and payloads were written, and sweeps it again later', async () => {
        const { assignments, configurations } = stores();
        const id = randomUUID();
        // Refused by the group commit, after the parent and the payload are written (the first call is the check).
        let calls = 0;
        const refused = configurations.create(
            id,
            { odataType: TYPE },
            (ids) => {
                if (calls++ === 0) {
                    return [...ids, id];
                }
                throw new StoreError('conflict', 'the tenant is full');
            },
            [payload],
        );
        await expect(refused).rejects.toThrow('the tenant is full');
        expect(await assignments.hasConfiguration(id)).toBe(false);
        // The record stays `aborted`: a write of the parent or a payload that went unanswered may still land.
        expect(await leftovers(id)).toEqual([sweepRecordId(id)]);
        expect((await sweep(assignments, { runForMs: 10_000 })).pending).toBeGreaterThanOrEqual(1);
        await sweep(assignments, { runForMs: 10_000, createGraceMs: 0 });
        expect(await leftovers(id)).toEqual([]);
    });
});

describe('ConfigurationStore when the store stops answering', () => {
    let faulty: FaultyCosmos;
    beforeAll(async () => {
        faulty = await startFaultyCosmos({ requestTimeoutMs: 60_000 });
    });
    afterAll(async () => {
        await faulty?.close();
    });

    it('says a create whose batch and receipt went unanswered is of unknown outcome; the sweeper settles it', async () => {
        const assignments = new AssignmentStore(() => Promise.resolve(faulty.opened.container));
        const id = randomUUID();
        const request = assignments.forRequest({ budget: { expired: false, deadline: Date.now() + 2000 } });
        faulty.fault = { kind: 'hang', on: 'batches' };
        let error: unknown;
        try {
            const creating = new ConfigurationStore(request).create(id, { odataType: TYPE }, (ids) => [...ids, id], []);
            // Once the create's batch hangs, every write does: the receipt that would settle it too.
            while (faulty.faulted === 0) {
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
            faulty.fault = { kind: 'hang', on: 'writes' };
            await creating.catch((e: unknown) => (error = e));
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(isOutcomeUnknown(error)).toBe(true);
        // The hung batch never reached Cosmos DB: the create's record is still `creating`, and its parent stands.
        const record = await faulty.opened.container.item(sweepRecordId(id), TENANT_PARTITION).read();
        expect(record.resource?.state).toBe('creating');
        expect(await assignments.hasConfiguration(id)).toBe(true);
        // Within its grace the sweeper leaves it; past it, fences it off and removes its parts.
        expect((await sweep(assignments, { runForMs: 10_000 })).pending).toBeGreaterThanOrEqual(1);
        const report = await sweep(assignments, { runForMs: 10_000, createGraceMs: 0 });
        expect(report.fenced).toBeGreaterThanOrEqual(1);
        expect(await assignments.hasConfiguration(id)).toBe(false);
        expect(
            (await faulty.opened.container.item(sweepRecordId(id), TENANT_PARTITION).read()).resource,
        ).toBeUndefined();
        expect(await new ConfigurationStore(assignments).get(id)).toBeUndefined();
    });
});
