/**
 * The envelope rules and the scheduler of lib/http/batch, without HTTP: what a malformed batch is, and that parts
 * run in dependsOn order, at most BATCH_CONCURRENCY at once, with 424 cascading through dependents.
 */
import { describe, expect, it } from 'vitest';

import {
    BATCH_CONCURRENCY,
    type BatchRequest,
    type BatchResponse,
    MAX_BATCH_REQUESTS,
    parseBatch,
    schedule,
} from '../../../lib/http/batch.js';

const part = (id: string, dependsOn: string[] = []): BatchRequest => ({
    id,
    method: 'GET',
    url: '/x',
    headers: {},
    dependsOn,
});

/** A serve whose parts finish only when the test says, counting how many run at once. */
function controlledServe(statusOf: (id: string) => number = () => 200) {
    const waiting = new Map<string, () => void>();
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    const serve = (p: BatchRequest) =>
        new Promise<BatchResponse>((resolve) => {
            running += 1;
            peak = Math.max(peak, running);
            order.push(p.id);
            waiting.set(p.id, () => {
                running -= 1;
                resolve({ id: p.id, status: statusOf(p.id), headers: {} });
            });
        });
    const finish = async (id: string) => {
        const done = waiting.get(id);
        expect(done, `'${id}' is running`).toBeDefined();
        waiting.delete(id);
        done!();
        await new Promise((r) => setImmediate(r));
    };
    return { serve, finish, order, waiting, peak: () => peak };
}

const failed = (p: BatchRequest): BatchResponse => ({ id: p.id, status: 424, headers: {} });

describe('schedule', () => {
    it('runs independent parts at most BATCH_CONCURRENCY at once, and all of them', async () => {
        const parts = Array.from({ length: MAX_BATCH_REQUESTS }, (_, i) => part(String(i)));
        const control = controlledServe();
        const answers = schedule(parts, control.serve, failed);
        await new Promise((r) => setImmediate(r));
        expect(control.waiting.size).toBe(BATCH_CONCURRENCY);
        while (control.waiting.size > 0) {
            await control.finish([...control.waiting.keys()][0]!);
            expect(control.waiting.size).toBeLessThanOrEqual(BATCH_CONCURRENCY);
        }
        expect(control.peak()).toBe(BATCH_CONCURRENCY);
        expect((await answers).map((a) => a.id)).toEqual(parts.map((p) => p.id));
    });

    it('starts a part only once its dependencies succeeded; a failure makes its dependents 424, transitively', async () => {
        const control = controlledServe((id) => (id === 'b' ? 503 : 200));
        const parts = [
            part('a'),
            part('b'),
            part('c', ['A']),
            part('d', ['b']),
            part('e', ['d']),
            part('f', ['c', 'e']),
        ];
        const answers = schedule(parts, control.serve, failed);
        await new Promise((r) => setImmediate(r));
        expect([...control.waiting.keys()].sort()).toEqual(['a', 'b']);
        await control.finish('a');
        expect([...control.waiting.keys()].sort()).toEqual(['b', 'c']);
        await control.finish('b');
        await control.finish('c');
        const statuses = Object.fromEntries((await answers).map((a) => [a.id, a.status]));
        expect(statuses).toEqual({ a: 200, b: 503, c: 200, d: 424, e: 424, f: 424 });
        expect(control.order).toEqual(['a', 'b', 'c']);
    });
});

describe('parseBatch', () => {
    it('accepts Graph’s format, keeping a null body as a body', () => {
        const [first] = parseBatch({
            requests: [{ id: '1', method: 'patch', url: '/x', headers: { a: 'b' }, body: null, dependsOn: [] }],
        });
        expect(first).toEqual({
            id: '1',
            method: 'PATCH',
            url: '/x',
            headers: { a: 'b' },
            body: { value: null },
            dependsOn: [],
        });
    });

    it('keeps one dependency for an id named many times, in any case', () => {
        const [, second] = parseBatch({
            requests: [part('a'), part('b', [...Array.from({ length: 1000 }, () => 'a'), 'A'])],
        });
        expect(second!.dependsOn).toEqual(['A']);
    });

    it('names the cycle, however long, and refuses a chain through it', () => {
        const chain = Array.from({ length: 20 }, (_, i) => part(String(i), [String((i + 1) % 20)]));
        expect(() => parseBatch({ requests: chain })).toThrow(/form a cycle/);
    });
});
