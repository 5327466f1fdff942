/**
 * The store on the real SDK against the embedded Cosmos DB; faults that server cannot produce (throttling, an
 * unexpected status) are injected at the container, below the store.
 */
import type { Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AssignmentStore, type StoreCall, StoreError } from '../../lib/store.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
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
            removals: ['old'],
            additions: [{ id: 'new', target }],
            total: 1,
        });
        expect((await store.list('p6', { top: 10 })).items.map((i) => i.id)).toEqual(['new']);
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
        await observed.create('p8', { id: 'a', target });
        await observed.get('p8', 'a');
        await observed.delete('p8', 'missing').catch(() => undefined);
        expect(calls.map((c) => [c.operation, c.failure])).toEqual([
            ['create', undefined],
            ['read', undefined],
            ['delete', 'notFound'],
        ]);
        // The embedded server charges 1 RU for every request.
        expect(calls.map((c) => c.requestCharge)).toEqual([1, 1, 1]);
        calls.forEach((c) => expect(c.durationMs).toBeGreaterThanOrEqual(0));
    });

    it('reports throttling with the Retry-After Cosmos gave, and anything else as unexpected', async () => {
        const throwing = (error: object) =>
            new AssignmentStore(() =>
                Promise.resolve({
                    items: { create: () => Promise.reject(Object.assign(new Error('throttled'), error)) },
                } as unknown as Container),
            );
        const throttled = await failure(throwing({ code: 429, retryAfterInMs: 2500 }).create('p', { id: 'a', target }));
        expect(throttled).toMatchObject({ kind: 'throttled', retryAfterMs: 2500 });
        const forbidden = await failure(throwing({ code: 403 }).create('p', { id: 'a', target }));
        expect(forbidden.kind).toBe('unexpected');
        const timeout = await failure(throwing({ name: 'TimeoutError' }).create('p', { id: 'a', target }));
        expect(timeout.kind).toBe('unavailable');
    });
});
