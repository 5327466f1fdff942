/**
 * The store on the real SDK against the embedded Cosmos DB; faults that server cannot produce (throttling, an
 * unexpected status) are injected at the container, below the store.
 */
import { BulkOperationType, type Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
    AssignmentStore,
    createBatchOperations,
    noteCosmosFailure,
    SET_VERSION_ID,
    type StoreCall,
    StoreError,
} from '../../../lib/store/assignmentStore.js';
import type { ChangeRecord } from '../../../lib/store/changeLog.js';
import { checkContainer } from '../../../lib/store/cosmosClient.js';
import { startTestCosmos, type TestCosmos, testSettings } from '../../helpers/cosmos.js';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
    // The configurations the tests write under: their parent documents, as a configuration's create writes them.
    for (const configurationId of ['p1', 'p3', 'p4', 'p5', 'p5-other', 'p6', 'p8', 'p9', 'p-limit', 'view']) {
        await cosmos.services.store.createParent(configurationId);
    }
});
afterAll(async () => {
    await cosmos.close();
});

const target = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };

async function failure(promise: Promise<unknown>): Promise<StoreError> {
    const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
}

describe('AssignmentStore', () => {
    it('creates under the partition key and reads back with a quoted ETag', async () => {
        const { store } = cosmos.services;
        const created = await store.create('p1', { id: 'a', target });
        expect(created).toEqual({ id: 'a', target, etag: expect.stringMatching(/^".+"$/) });
        expect(await store.get('p1', 'a')).toEqual(created);
        expect(await store.get('p2', 'a')).toBeUndefined();
        expect(await store.count('p1')).toBe(1);
    });

    it('sends a create as the batch createBatchOperations describes (what the bench floor sends too)', async () => {
        const sent: unknown[] = [];
        const recording = new AssignmentStore(() =>
            Promise.resolve({
                // The set document, read once for the partition's last change number.
                item: () => ({
                    read: () =>
                        Promise.resolve({ statusCode: 200, resource: { id: SET_VERSION_ID, total: 0, revision: 4 } }),
                }),
                items: {
                    batch: (operations: { operationType: string; resourceBody?: object }[]) => {
                        sent.push(operations);
                        return Promise.resolve({
                            code: 200,
                            result: operations.map((o) => ({
                                statusCode: o.operationType === 'Create' ? 201 : 200,
                                resourceBody: { ...o.resourceBody, _etag: 'e' },
                            })),
                        });
                    },
                },
            } as unknown as Container),
        );
        await recording.create('p7', { id: 'a', target });
        const record = (sent[0] as { resourceBody: ChangeRecord }[])[2]?.resourceBody as ChangeRecord;
        expect(record).toMatchObject({ id: 'change-000000000005', sequence: 5, kind: 'change' });
        expect(sent).toEqual([createBatchOperations('p7', { id: 'a', target }, { record })]);
    });

    it('reports a duplicate id as a conflict, and a missing item as not found', async () => {
        const { store } = cosmos.services;
        await store.create('p3', { id: 'dup', target });
        expect((await failure(store.create('p3', { id: 'dup', target }))).kind).toBe('conflict');
        expect((await failure(store.delete('p3', 'nope'))).kind).toBe('notFound');
        expect((await failure(store.updateTarget('p3', 'nope', target))).kind).toBe('notFound');
    });

    it('checks If-Match before a replace or delete', async () => {
        const { store } = cosmos.services;
        const created = await store.create('p4', { id: 'x', target });
        const replaced = await store.updateTarget('p4', 'x', { ...target, n: 1 }, created.etag);
        expect((await failure(store.updateTarget('p4', 'x', target, created.etag))).kind).toBe('preconditionFailed');
        expect((await failure(store.delete('p4', 'x', created.etag))).kind).toBe('preconditionFailed');
        await store.delete('p4', 'x', replaced.etag);
        expect(await store.get('p4', 'x')).toBeUndefined();
    });

    it('pages with continuation tokens inside one partition', async () => {
        const { store } = cosmos.services;
        for (let i = 0; i < 5; i++) {
            await store.create('p5', { id: `i${i}`, target });
        }
        await store.create('p5-other', { id: 'elsewhere', target });
        const first = await store.list('p5', { top: 2 });
        expect(first.items.map((i) => i.id)).toEqual(['i0', 'i1']);
        const second = await store.list('p5', { top: 2, continuation: first.continuation });
        const third = await store.list('p5', { top: 2, continuation: second.continuation });
        expect([...second.items, ...third.items].map((i) => i.id)).toEqual(['i2', 'i3', 'i4']);
        expect(third.continuation).toBeUndefined();
    });

    it('runs a set replacement as one batch', async () => {
        const { store } = cosmos.services;
        await store.create('p6', { id: 'old', target });
        await store.applySet('p6', await store.setVersion('p6'), {
            removals: [{ id: 'old', target }],
            additions: [{ id: 'new', target }],
            total: 1,
        });
        expect((await store.list('p6', { top: 10 })).items.map((i) => i.id)).toEqual(['new']);
    });

    it('refuses every write under a configuration that does not exist, atomically, storing nothing', async () => {
        const { store } = cosmos.services;
        const key = { recordId: 'idempotency-key-none', requestHash: 'h', now: Date.now(), lifetimeSeconds: 60 };
        for (const attempt of [
            () => store.create('no-parent', { id: 'a', target }),
            () => store.createOnce('no-parent', { id: 'b', target }, key),
            () => store.applySet('no-parent', undefined, { removals: [], additions: [{ id: 'c', target }], total: 1 }),
            () => store.requireConfiguration('no-parent'),
        ]) {
            expect((await failure(attempt())).kind).toBe('configurationNotFound');
        }
        expect(await store.hasConfiguration('no-parent')).toBe(false);
        expect(await cosmos.documents('no-parent')).toEqual([]);
        expect(await cosmos.bookkeeping('no-parent')).toEqual([]);
    });

    it('once the parent is deleted, refuses writes; the sweep deletes everything left, in batches of 100', async () => {
        const { store } = cosmos.services;
        await store.createParent('p-gone');
        for (let i = 0; i < 250; i++) {
            await store.create('p-gone', { id: `g${i}`, target });
        }
        await store.deleteParent('p-gone');
        await store.deleteParent('p-gone'); // idempotent
        expect((await failure(store.create('p-gone', { id: 'late', target }))).kind).toBe('configurationNotFound');
        expect((await failure(store.updateTarget('p-gone', 'g1', target))).kind).toBe('configurationNotFound');
        expect((await failure(store.delete('p-gone', 'g2'))).kind).toBe('configurationNotFound');
        expect(await cosmos.documents('p-gone')).toHaveLength(250);
        const far = Date.now() + 60_000;
        // The assignments; the record of each one's create stays, the audit trail's, for the retention.
        expect(await store.sweepPartition('p-gone', far)).toEqual({ deleted: 250, done: true });
        expect(await store.sweepPartition('p-gone', far)).toEqual({ deleted: 0, done: true }); // idempotent
        expect(await cosmos.documents('p-gone')).toEqual([]);
        expect((await cosmos.bookkeeping('p-gone')).map((d) => d.kind)).toEqual(
            Array.from({ length: 250 }, () => 'change'),
        );
    });

    it('reports an unreachable account as unavailable', async () => {
        await cosmos.embedded.stop();
        try {
            const error = await failure(cosmos.services.store.create('p7', { id: 'a', target }));
            expect(error.kind).toBe('unavailable');
        } finally {
            await cosmos.embedded.resume();
        }
        expect(await cosmos.services.store.get('p7', 'a')).toBeUndefined();
    });

    it('tells its observer of each operation with the request charge Cosmos reported', async () => {
        const calls: StoreCall[] = [];
        const observed = new AssignmentStore(
            () => Promise.resolve(cosmos.container),
            (call) => calls.push(call),
        );
        await observed.create('p8', { id: 'first', target }); // also counts the configuration's set once
        calls.length = 0;
        await observed.create('p8', { id: 'a', target });
        await observed.get('p8', 'a');
        await observed.delete('p8', 'missing').catch(() => undefined);
        expect(calls.map((c) => [c.operation, c.failure])).toEqual([
            ['create', undefined],
            ['read', undefined],
            ['delete', 'notFound'],
        ]);
        // The embedded server charges 1 RU for each operation: a create is the assignment, the set document and the
        // create's change record; the partition's last change number is known from the first create, not read.
        expect(calls.map((c) => c.requestCharge)).toEqual([3, 1, 1]);
        calls.forEach((c) => expect(c.durationMs).toBeGreaterThanOrEqual(0));
    });

    it('counts the charge of the 409 an idempotent replay meets', async () => {
        const calls: StoreCall[] = [];
        const observed = new AssignmentStore(
            () => Promise.resolve(cosmos.container),
            (call) => calls.push(call),
        );
        const key = { recordId: 'idempotency-key-x', requestHash: 'h', now: Date.now(), lifetimeSeconds: 60 };
        await observed.createOnce('p9', { id: 'k1', target }, key);
        calls.length = 0;
        const replay = await observed.createOnce('p9', { id: 'k2', target }, key);
        expect(replay).toMatchObject({ replayed: true, sameRequest: true, stored: { id: 'k1' } });
        // The refused batch (its 409), the key's record, the assignment.
        expect(calls.map((c) => c.requestCharge)).toEqual([3]);
    });

    it('reports throttling with the Retry-After Cosmos gave (a number, or 1 s), and anything else as unexpected', async () => {
        // As the SDK fails a batch: the client's request hook sees the error (and the call's options, as the SDK
        // hands them on), the caller a plain Error.
        const throwing = (error: object) =>
            new AssignmentStore(() =>
                Promise.resolve({
                    items: {
                        batch: (_operations: unknown, _partitionKey: unknown, options: object) => {
                            noteCosmosFailure(Object.assign(new Error('failed'), error), options);
                            return Promise.reject(new Error('Batch request error: failed'));
                        },
                    },
                    item: () => ({ read: () => Promise.reject(Object.assign(new Error('failed'), error)) }),
                } as unknown as Container),
            );
        const kind = async (error: object) => await failure(throwing(error).create('p', { id: 'a', target }));
        expect(await kind({ code: 429, retryAfterInMs: 2500 })).toMatchObject({
            kind: 'throttled',
            retryAfterMs: 2500,
        });
        expect(await kind({ code: 429, retryAfterInMs: NaN })).toMatchObject({ kind: 'throttled', retryAfterMs: 1000 });
        for (const code of [408, 410, 449, 503]) {
            expect((await kind({ code })).kind).toBe('unavailable');
            expect((await failure(throwing({ code }).get('p', 'a'))).kind).toBe('unavailable');
        }
        for (const code of [400, 401, 403, 413]) {
            expect((await kind({ code })).kind).toBe('unexpected');
        }
        expect((await kind({ code: 'ECONNRESET' })).kind).toBe('unavailable');
        expect((await kind({ name: 'TimeoutError' })).kind).toBe('unavailable');
        // A batch failure the hook did not see is not called transient.
        const unseen = new AssignmentStore(() =>
            Promise.resolve({
                items: { batch: () => Promise.reject(new Error('Batch request error: ?')) },
            } as unknown as Container),
        );
        expect((await failure(unseen.create('p', { id: 'a', target }))).kind).toBe('unexpected');
    });

    it("works for one request in a view: no call starts once the request's budget has expired", async () => {
        const calls: StoreCall[] = [];
        const counted = { creates: 0 };
        class Counting extends AssignmentStore {
            override async create(...args: Parameters<AssignmentStore['create']>) {
                counted.creates += 1;
                return await super.create(...args);
            }
        }
        const store = new Counting(
            () => Promise.resolve(cosmos.container),
            (c) => calls.push(c),
        );
        const budget = { expired: false };
        const scope = { requestId: 'rid-1', invocationId: 'inv-1' };
        const view = store.forRequest({ budget, scope });
        await view.create('view', { id: 'v1', target });
        budget.expired = true;
        expect((await failure(view.create('view', { id: 'v2', target }))).kind).toBe('unavailable');
        expect((await failure(view.get('view', 'v1'))).kind).toBe('unavailable');
        // The view is the subclass (its override ran), and only the view is bound to the request.
        expect(view).toBeInstanceOf(Counting);
        expect(counted.creates).toBe(2);
        expect(calls.map((c) => [c.operation, c.failure, c.scope?.requestId])).toEqual([
            ['create', undefined, 'rid-1'],
            ['create', 'unavailable', 'rid-1'],
            ['read', 'unavailable', 'rid-1'],
        ]);
        expect(await store.get('view', 'v1')).toMatchObject({ id: 'v1' });
        expect(await store.get('view', 'v2')).toBeUndefined();
        expect(calls.at(-1)?.scope).toBeUndefined();
    });

    it('rolls a failing transactional batch back whole on the embedded server (real SDK)', async () => {
        const { container } = cosmos;
        const a = (await container.items.create({ id: 'rb-a', configurationId: 'rb', n: 1 })).resource;
        const b = (await container.items.create({ id: 'rb-b', configurationId: 'rb', n: 1 })).resource;
        const response = await container.items.batch(
            [
                { operationType: BulkOperationType.Delete, id: 'rb-a', partitionKey: 'rb' },
                {
                    operationType: BulkOperationType.Replace,
                    partitionKey: 'rb',
                    id: 'rb-b',
                    resourceBody: { id: 'rb-b', configurationId: 'rb', n: 2 },
                },
                {
                    operationType: BulkOperationType.Create,
                    partitionKey: 'rb',
                    resourceBody: { id: 'rb-c', configurationId: 'rb' },
                },
                {
                    operationType: BulkOperationType.Create,
                    partitionKey: 'rb',
                    resourceBody: { id: 'rb-b', configurationId: 'rb' },
                },
            ],
            'rb',
        );
        expect(response.result?.map((r) => r.statusCode)).toEqual([424, 424, 424, 409]);
        const documents = await cosmos.documents('rb');
        expect(documents.map((d) => [d.id, d.n, d._etag])).toEqual([
            ['rb-a', 1, a?._etag],
            ['rb-b', 1, b?._etag],
        ]);
    });

    it('holds the limit on assignments per configuration under concurrent creates', async () => {
        const small = new AssignmentStore(() => Promise.resolve(cosmos.container), { maxAssignments: 3 });
        const outcomes = await Promise.allSettled(
            Array.from({ length: 10 }, (_, i) => small.create('p-limit', { id: `l${i}`, target })),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
        const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as StoreError).kind] : []));
        expect(refusals).toEqual(Array(7).fill('limitReached'));
        expect(await small.count('p-limit')).toBe(3);
        const kept = outcomes.findIndex((o) => o.status === 'fulfilled');
        await small.delete('p-limit', `l${kept}`);
        expect(await small.create('p-limit', { id: 'again', target })).toMatchObject({ id: 'again' });
    });

    it('tells a missing container from a missing assignment', async () => {
        const { database } = await cosmos.container.database.read().then((r) => ({ database: r.database }));
        const { container } = await database.containers.create({ id: 'soon-gone', partitionKey: '/configurationId' });
        const store = new AssignmentStore(() => Promise.resolve(container));
        await store.createParent('g');
        await store.create('g', { id: 'a', target });
        await container.delete();
        for (const attempt of [
            () => store.get('g', 'a'),
            () => store.create('g', { id: 'b', target }),
            () => store.delete('g', 'a'),
            () => store.list('g', { top: 10 }),
            () => store.applySet('g', { etag: '"a version"', revision: 0 }, { removals: [], additions: [], total: 0 }),
        ]) {
            const error = await failure(attempt());
            expect(error.kind).toBe('unexpected');
        }
        await expect(checkContainer(container, { ...testSettings, container: 'soon-gone' })).rejects.toThrow(
            /container 'soon-gone' in database '.+' does not exist/,
        );
    });
});
