/**
 * Idempotency-Key on configuration create over 3 instances against Azure-like Cosmos DB (see scale-out-creates.test.ts,
 * and configuration-idempotency.test.ts for the rules on one instance): the same key sent at once through every
 * instance, and creates whose answer was lost (to the app: its batch committed after it gave up and its receipt could
 * not be asked; to the client: it gave up itself), retried with the key. Judged from storage: one configuration a key.
 */
import { describe, expect, it } from 'vitest';

import { TENANT_PARTITION } from '../../lib/store/tenant.js';
import { raceKit, useRaceScaleOut, WINDOWS } from '../helpers/raceKit.js';

const so = useRaceScaleOut();

const { configurations, send, retried, settled, tally, expectWhole, everything, sleep } = raceKit(so);

const RACE_ROUNDS = 30;
const LOST_ROUNDS = 40;

/** The configuration documents named `name`, as stored (listed or not). */
async function named(name: string): Promise<string[]> {
    const { resources } = await so()
        .stored.items.query<{ id: string; kind?: string; displayName?: string }>(
            {
                query: 'SELECT * FROM c WHERE c.configurationId = @tenant',
                parameters: [{ name: '@tenant', value: TENANT_PARTITION }],
            },
            { partitionKey: TENANT_PARTITION },
        )
        .fetchAll();
    return resources.filter((d) => d.kind === 'configuration' && d.displayName === name).map((d) => d.id);
}

describe('Idempotency-Key on configuration create, over 3 instances', () => {
    it(`the same key sent 9 times at once through 3 instances, ${RACE_ROUNDS} rounds: one configuration, one id`, async () => {
        const statuses: Record<string, number> = {};
        const roots = so().instanceRoots;
        for (let round = 0; round < RACE_ROUNDS; round++) {
            const name = `keyed-race-${round}`;
            const body = {
                '@odata.type': WINDOWS,
                displayName: name,
                ...(round % 3 === 0 ? { priority: 1 } : {}),
                ...(round % 2 === 0 ? { policyPayload: Buffer.from(`<p n="${round}"/>`).toString('base64') } : {}),
            };
            const answers = await Promise.all(
                Array.from({ length: 9 }, (_, i) =>
                    send(`${roots[i % roots.length] ?? ''}/officeConfiguration/clientConfigurations`, 'POST', body, {
                        'Idempotency-Key': `race-${round}`,
                    }),
                ),
            );
            answers.forEach((a) =>
                tally(statuses, a.headers.get('idempotent-replayed') ? 'replayed' : 'create', a.status),
            );
            const label = `round ${round}: ${JSON.stringify(answers.map((a) => a.status))}`;
            // 409 and 503 are the documented "retry" answers; anything else is wrong.
            expect(
                answers.filter((a) => ![201, 409, 503].includes(a.status)),
                label,
            ).toEqual([]);
            const ids = new Set(answers.filter((a) => a.status === 201).map((a) => String(a.json.id)));
            expect(ids.size, label).toBe(1);
            expect(
                answers.filter((a) => a.status === 201 && !a.headers.get('idempotent-replayed')).length,
                label,
            ).toBeLessThanOrEqual(1);
            const [id] = [...ids];
            expect(await named(name), label).toEqual([id]);
            await expectWhole(id ?? '', label, 0);
        }
        // Whatever the requests that lost the race wrote before their batch (a parent, a payload) went with them.
        await settled('keyed races', 0);
        console.info(`the same key 9 times at once, ${RACE_ROUNDS} rounds: ${JSON.stringify(statuses)}`);
        expect(statuses['create 201']).toBeGreaterThan(RACE_ROUNDS * 0.95);
        expect(statuses['replayed 201']).toBeGreaterThan(RACE_ROUNDS * 8 * 0.95);
    }, 600_000);

    it(`a create whose answer was lost, retried with its key, ${LOST_ROUNDS} rounds: the same configuration, never a second`, async () => {
        const outcomes: Record<string, number> = {};
        const answered = new Map<
            string,
            { label: string; id: string; again: { status: number; headers: Headers; json: Record<string, unknown> } }
        >();
        const lanes = 2;
        await Promise.all(
            Array.from({ length: lanes }, async (_, lane) => {
                for (let round = lane; round < LOST_ROUNDS; round += lanes) {
                    const name = `keyed-lost-${round}`;
                    const key = { 'Idempotency-Key': `lost-${round}` };
                    const body = { '@odata.type': WINDOWS, displayName: name };
                    let receipt: string | undefined;
                    // The create's batch is held, cut off after 150 ms and applied 0–50 ms after that: the app never
                    // hears how it went. Applied at once it lands before the retry; later, it may meet the retry's.
                    const batch = so().sim.intercept({
                        kind: 'batch',
                        where: (request) => {
                            const ops = request.operations ?? [];
                            const mine = ops.some(
                                (op) =>
                                    op.operationType === 'Create' &&
                                    (op.resourceBody as { displayName?: unknown } | undefined)?.displayName === name,
                            );
                            if (mine) {
                                receipt = (ops[0]?.resourceBody as { id?: string } | undefined)?.id;
                            }
                            return mine;
                        },
                        action: { type: 'lateCommit', afterMs: [0, 10, 50][round % 3] ?? 0, holdMs: 150 },
                    });
                    // Even rounds: the app cannot ask the batch's receipt either, and answers 503. Odd rounds: the app
                    // settles it and answers, but the client has given up and never reads that answer.
                    const fence =
                        round % 2 === 0
                            ? so().sim.intercept({
                                  kind: 'create',
                                  where: (request) => receipt !== undefined && request.id === receipt,
                                  action: { type: 'status', status: 503 },
                                  times: 20,
                              })
                            : undefined;
                    let first: { status: number; json: Record<string, unknown> } | undefined;
                    if (fence) {
                        first = await send(configurations(), 'POST', body, key);
                    } else {
                        const abort = new AbortController();
                        const sent = fetch(configurations(), {
                            method: 'POST',
                            headers: { 'Content-Type': 'application/json', ...key },
                            body: JSON.stringify(body),
                            signal: abort.signal,
                        }).catch(() => undefined);
                        for (let waited = 0; batch.hits === 0 && waited < 5000; waited += 5) {
                            await sleep(5);
                        }
                        abort.abort();
                        await sent;
                    }
                    fence?.remove();
                    const retry = await retried(configurations(), 'POST', body, key);
                    batch.remove();
                    const label = `round ${round}: first ${first?.status ?? 'lost'}, retry ${retry.status}`;
                    const replayed = retry.headers.get('idempotent-replayed') ? ' replayed' : '';
                    tally(
                        outcomes,
                        `first ${first?.status ?? 'lost'} (batch hit ${batch.hits}), retry${replayed}`,
                        retry.status,
                    );
                    expect(retry.status, label).toBe(201);
                    if (first?.status === 201) {
                        expect(first.json.id, label).toBe(retry.json.id);
                    }
                    // Asked again, the key names the same configuration.
                    const again = await retried(configurations(), 'POST', body, key);
                    answered.set(name, { label, id: String(retry.json.id), again });
                }
            }),
        );
        // Once every first request has finished (none has a create under way): storage holds one configuration a key,
        // the one its retries were answered with.
        for (let waited = 0; waited < 15_000; waited += 250) {
            if (!(await so().audit()).pending.some((p) => p.endsWith('(creating)'))) {
                break;
            }
            await sleep(250);
        }
        for (const [name, { label, id, again }] of answered) {
            expect(await named(name), label).toEqual([id]);
            expect(again.headers.get('idempotent-replayed'), label).toBe('true');
            expect(again.json.id, label).toBe(id);
        }
        await settled('lost answers', 0);
        const stored = (await everything()).filter(
            (d) => d.kind === 'configuration' && String(d.displayName).startsWith('keyed-lost-'),
        );
        expect(stored).toHaveLength(LOST_ROUNDS);
        console.info(`a lost create retried with its key, ${LOST_ROUNDS} rounds: ${JSON.stringify(outcomes)}`);
        // A first create that landed before its retry is replayed; one whose batch comes later than the retry's fails
        // whole on the key's record. Both happen; neither ever leaves two configurations.
        const replays = Object.entries(outcomes).filter(([k]) => k.includes('replayed 201'));
        expect(replays.reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(LOST_ROUNDS / 8);
    }, 600_000);
});
