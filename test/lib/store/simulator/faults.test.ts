/**
 * Failures the embedded server never produces, with the real SDK: writes that commit after their client gave up,
 * answers lost after commit, transient statuses at a rate (nothing applied), and faults aimed at one request.
 */
import { type Container, CosmosClient } from '@azure/cosmos';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { FaultGroup, TransientStatus } from '../../../../lib/store/simulator/profile.js';
import { type SimulatedCosmos, startSimulatedCosmos } from '../../../../lib/store/simulator/simulatedCosmos.js';
import { openContainer } from './sdkClient.js';

const PK = 'faults';

type Failure = { code?: number | string; message?: string } | undefined;

const errorOf = (promise: Promise<unknown>): Promise<Failure> =>
    promise.then(
        () => undefined,
        (error: Failure) => error ?? { message: 'rejected' },
    );

describe('faults', () => {
    let sim: SimulatedCosmos;
    let app: { client: CosmosClient; container: Container };
    /** Straight to the embedded server: what is stored, whatever the simulation does. */
    let inspector: { client: CosmosClient; container: Container };

    const stored = async (id: string) => (await inspector.container.item(id, PK).read()).statusCode === 200;

    beforeAll(async () => {
        sim = await startSimulatedCosmos({ profile: 'local' });
        app = await openContainer(sim, { connectionPolicy: { requestTimeout: 300 } });
        inspector = await openContainer(sim.backend);
    });

    afterAll(async () => {
        app.client.dispose();
        inspector.client.dispose();
        await sim.close();
    });

    describe('writes the client gave up on', () => {
        it('commits a create about afterMs after its client timed out', async () => {
            const afterMs = 1000;
            const rule = sim.intercept({ kind: 'create', id: 'late', action: { type: 'lateCommit', afterMs } });
            const error = await errorOf(app.container.items.create({ id: 'late', configurationId: PK }));
            const rejectedAt = performance.now();
            expect(error).toBeDefined();
            expect(rule.hits).toBe(1);
            expect(await stored('late')).toBe(false);
            while (!(await stored('late'))) {
                expect(performance.now() - rejectedAt).toBeLessThan(10_000);
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            expect(performance.now() - rejectedAt).toBeGreaterThan(afterMs * 0.8);
            expect(sim.stats().lateCommits).toBe(1);
        });

        it('cuts a client that waits past holdMs, then commits', async () => {
            const patient = await openContainer(sim, {
                connectionPolicy: { requestTimeout: 10_000 },
            });
            try {
                sim.intercept({ kind: 'batch', id: 'held', action: { type: 'lateCommit', afterMs: 200, holdMs: 100 } });
                const error = await errorOf(
                    patient.container.items.batch(
                        [{ operationType: 'Create', resourceBody: { id: 'held', configurationId: PK } }],
                        PK,
                    ),
                );
                expect(error).toBeDefined();
                const deadline = performance.now() + 5000;
                while (!(await stored('held')) && performance.now() < deadline) {
                    await new Promise((resolve) => setTimeout(resolve, 20));
                }
                expect(await stored('held')).toBe(true);
            } finally {
                patient.client.dispose();
            }
        });

        it('applies a write whose answer is lost: the SDK rejects, the document is stored', async () => {
            sim.intercept({ kind: 'create', id: 'lost', action: { type: 'lostAnswer' } });
            const error = await errorOf(app.container.items.create({ id: 'lost', configurationId: PK }));
            expect(error).toBeDefined();
            expect(await stored('lost')).toBe(true);
            expect(sim.stats().lostAnswers).toBe(1);
        });
    });

    describe('transient statuses at a rate', () => {
        const rates = (group: FaultGroup, status: TransientStatus) => ({
            faults: { rates: { [group]: { 408: 0, 410: 0, 449: 0, 503: 0, [status]: 1 } } },
        });

        afterEach(() => {
            const none = { 408: 0, 410: 0, 449: 0, 503: 0 };
            sim.configure({ faults: { rates: { reads: none, writes: none, batches: none, queries: none } } });
        });

        it('answers writes 503 and applies nothing', async () => {
            sim.configure(rates('writes', 503));
            const error = await errorOf(app.container.items.create({ id: 'w503', configurationId: PK }));
            expect(error?.code).toBe(503);
            expect(await stored('w503')).toBe(false);
        });

        it('answers writes 449 and applies nothing', async () => {
            sim.configure(rates('writes', 449));
            const error = await errorOf(app.container.items.upsert({ id: 'w449', configurationId: PK }));
            expect(error?.code).toBe(449);
            expect(await stored('w449')).toBe(false);
        });

        it('answers batches 449 and applies nothing', async () => {
            sim.configure(rates('batches', 449));
            const before = sim.stats().faults['449'] ?? 0;
            const error = await errorOf(
                app.container.items.batch(
                    [{ operationType: 'Create', resourceBody: { id: 'b449', configurationId: PK } }],
                    PK,
                ),
            );
            // The SDK rethrows a failed batch as a plain Error with the answer's message.
            expect(error?.message).toMatch(/Conflicting request/);
            expect(sim.stats().faults['449']).toBe(before + 1);
            expect(await stored('b449')).toBe(false);
        });

        it('answers reads 410 and 408 (with the documented substatus), which reach the SDK', async () => {
            await inspector.container.items.create({ id: 'r', configurationId: PK });
            sim.configure(rates('reads', 410));
            const gone = (await errorOf(app.container.item('r', PK).read())) as { code?: number; substatus?: number };
            expect(gone.code).toBe(410);
            expect(gone.substatus).toBe(1002);
            sim.configure(rates('reads', 408));
            expect((await errorOf(app.container.item('r', PK).read()))?.code).toBe(408);
            // 449 is for writes only: reads are untouched by it.
            sim.configure(rates('reads', 449));
            expect((await app.container.item('r', PK).read()).statusCode).toBe(200);
        });

        it('answers queries 503', async () => {
            sim.configure(rates('queries', 503));
            const error = await errorOf(app.container.items.query('SELECT * FROM c', { partitionKey: PK }).fetchAll());
            expect(error?.code).toBe(503);
        });

        it('answers a fraction of requests at a fractional rate, the same ones for the same seed', async () => {
            const run = async () => {
                const s = await startSimulatedCosmos({ profile: 'local', overrides: rates('reads', 503) });
                s.configure({ faults: { rates: { reads: { 503: 0.3 } } } });
                const c = await openContainer(s);
                try {
                    await c.container.items.create({ id: 'x', configurationId: PK });
                    const outcomes: boolean[] = [];
                    for (let i = 0; i < 200; i += 1) {
                        outcomes.push((await errorOf(c.container.item('x', PK).read())) === undefined);
                    }
                    return outcomes;
                } finally {
                    c.client.dispose();
                    await s.close();
                }
            };
            const first = await run();
            const failed = first.filter((ok) => !ok).length;
            expect(failed).toBeGreaterThan(30);
            expect(failed).toBeLessThan(90);
            expect(await run()).toEqual(first);
        });
    });

    describe('intercept rules', () => {
        it('hit the given number of times, then retire', async () => {
            const rule = sim.intercept({
                kind: 'create',
                partitionKey: PK,
                action: { type: 'status', status: 503 },
                times: 2,
            });
            expect((await errorOf(app.container.items.create({ id: 't1', configurationId: PK })))?.code).toBe(503);
            expect((await errorOf(app.container.items.create({ id: 't1', configurationId: PK })))?.code).toBe(503);
            expect(await errorOf(app.container.items.create({ id: 't1', configurationId: PK }))).toBeUndefined();
            expect(rule.hits).toBe(2);
        });

        it('match on the partition key, the document id, a batch’s operations and the body', async () => {
            const other = sim.intercept({ partitionKey: 'elsewhere', action: { type: 'status', status: 503 } });
            const byBody = sim.intercept({
                kind: 'upsert',
                where: (request) => (request.body as { flag?: boolean }).flag === true,
                action: { type: 'status', status: 503 },
            });
            const inBatch = sim.intercept({ kind: 'batch', id: 'second', action: { type: 'status', status: 503 } });
            await app.container.items.upsert({ id: 'm1', configurationId: PK, flag: false });
            await app.container.items.batch(
                [{ operationType: 'Create', resourceBody: { id: 'first', configurationId: PK } }],
                PK,
            );
            expect(other.hits + byBody.hits + inBatch.hits).toBe(0);
            await errorOf(app.container.items.upsert({ id: 'm1', configurationId: PK, flag: true }));
            await errorOf(
                app.container.items.batch(
                    [
                        { operationType: 'Create', resourceBody: { id: 'x2', configurationId: PK } },
                        { operationType: 'Create', resourceBody: { id: 'second', configurationId: PK } },
                    ],
                    PK,
                ),
            );
            expect(byBody.hits).toBe(1);
            expect(inBatch.hits).toBe(1);
            expect(await stored('second')).toBe(false);
            other.remove();
        });

        it('can be removed before they hit', async () => {
            const rule = sim.intercept({ kind: 'create', id: 'kept', action: { type: 'status', status: 503 } });
            rule.remove();
            expect(await errorOf(app.container.items.create({ id: 'kept', configurationId: PK }))).toBeUndefined();
            expect(rule.hits).toBe(0);
        });

        it('delay a request', async () => {
            await app.container.items.create({ id: 'slow', configurationId: PK });
            sim.intercept({ kind: 'pointRead', id: 'slow', action: { type: 'delay', ms: 150 } });
            const started = performance.now();
            expect((await app.container.item('slow', PK).read()).statusCode).toBe(200);
            expect(performance.now() - started).toBeGreaterThanOrEqual(140);
        });

        it('answer a status with a substatus and a retry-after the SDK honours', async () => {
            const patient = await openContainer(sim);
            try {
                await patient.container.items.create({ id: 'throttled', configurationId: PK });
                const rule = sim.intercept({
                    kind: 'pointRead',
                    id: 'throttled',
                    action: { type: 'status', status: 429, retryAfterMs: 100, substatus: 3200 },
                });
                const started = performance.now();
                expect((await patient.container.item('throttled', PK).read()).statusCode).toBe(200);
                expect(rule.hits).toBe(1);
                expect(performance.now() - started).toBeGreaterThanOrEqual(90);
            } finally {
                patient.client.dispose();
            }
        });
    });
});
