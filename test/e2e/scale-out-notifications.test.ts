/**
 * Change notifications under scale-out: 3 app instances (each its own Cosmos client, its own delivery job every
 * 100 ms) against the Azure-like Cosmos DB, 1,000 acknowledged writes from concurrent clients, and a receiver that
 * fails 20% of its calls. Judged from the change log as stored: every notification its records make arrives at
 * least once (duplicates counted and reported), none arrives that no record makes, every acknowledged write has its
 * record, and once a subscription's DELETE is answered its receiver hears nothing more of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { notificationsOf } from '../../lib/notifications/changeNotifications.js';
import type { ChangeRecord } from '../../lib/store/changeLog.js';
import { TENANT_PARTITION } from '../../lib/store/tenant.js';
import { raceKit, TARGET, useRaceScaleOut, WINDOWS } from '../helpers/raceKit.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { seededRandom } from '../helpers/shuffle.js';

const so = useRaceScaleOut({
    CHANGE_RETENTION_DAYS: '30',
    NOTIFICATION_INTERVAL_SECONDS: '0.1',
    NOTIFICATION_RETRY_SECONDS: '0.05',
});
const { sleep, configurations, configuration, send } = raceKit(so);

const WRITES = 1000;
const WRITERS = 8;
const WATCHED = 3;

let receiver: Receiver;
beforeAll(async () => {
    receiver = await startReceiver({ failRate: 0.2, seed: 7 });
});
afterAll(async () => {
    await receiver.close();
});

/** A request retried as a client retries a 503, 429 or 409 (each changed nothing). */
async function retried(url: string, method: string, body?: unknown) {
    for (let attempt = 0; ; attempt++) {
        const answer = await send(url, method, body);
        if (![409, 429, 503].includes(answer.status) || attempt === 8) {
            return answer;
        }
        await sleep(50);
    }
}

async function subscribe(resource: string, clientState: string): Promise<string> {
    const answer = await retried(`${so().root}/subscriptions`, 'POST', {
        changeType: 'created,updated,deleted',
        notificationUrl: receiver.url(`/${clientState}`),
        resource,
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
        clientState,
    });
    expect(answer.status, JSON.stringify(answer.json)).toBe(201);
    return String(answer.json.id);
}

/** Every change record as stored, with the subscription it is notified to. */
async function storedRecords(): Promise<ChangeRecord[]> {
    const { resources } = await so()
        .stored.items.query<ChangeRecord>('SELECT * FROM c WHERE c.kind = "change"', { maxItemCount: 1_000_000 })
        .fetchAll();
    return resources;
}

describe('change notifications from 3 instances', () => {
    it('notifies every recorded change at least once to a receiver failing 20% of its calls, and nothing after a DELETE', async () => {
        const watched: string[] = [];
        for (let i = 0; i < WATCHED; i++) {
            const answer = await retried(configurations(), 'POST', {
                '@odata.type': WINDOWS,
                displayName: `watched ${i}`,
            });
            expect(answer.status).toBe(201);
            watched.push(String(answer.json.id));
        }
        // Subscriptions start at the log's current number: what came before is nobody's to be told.
        const subscriptions = new Map<string, { id: string; partition: string }>();
        subscriptions.set('configurations', {
            id: await subscribe('officeConfiguration/clientConfigurations', 'configurations'),
            partition: TENANT_PARTITION,
        });
        for (const [i, id] of watched.entries()) {
            subscriptions.set(`assignments-${i}`, {
                id: await subscribe(`officeConfiguration/clientConfigurations/${id}/assignments`, `assignments-${i}`),
                partition: id,
            });
        }
        const startedAt = new Map<string, number>();
        const records0 = await storedRecords();
        for (const { partition } of subscriptions.values()) {
            startedAt.set(
                partition,
                Math.max(0, ...records0.filter((r) => r.configurationId === partition).map((r) => r.sequence)),
            );
        }

        // 1,000 acknowledged writes of every kind, from concurrent clients through the round-robin front.
        const next = seededRandom(2026);
        const churn: string[] = [];
        const assignmentsOf = new Map<string, string[]>(watched.map((id) => [id, []]));
        const acknowledged: string[] = [];
        const statuses: Record<string, number> = {};
        let remaining = WRITES;
        const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
        const writer = async () => {
            while (remaining > 0) {
                remaining -= 1;
                const roll = next();
                let kind: string;
                let answer;
                if (roll < 0.2 || churn.length === 0) {
                    kind = 'configuration create';
                    answer = await retried(configurations(), 'POST', { '@odata.type': WINDOWS, displayName: 'churn' });
                    if (answer.status === 201) {
                        churn.push(String(answer.json.id));
                    }
                } else if (roll < 0.3) {
                    kind = 'configuration PATCH';
                    answer = await retried(configuration(pick(churn) ?? ''), 'PATCH', { displayName: `p${roll}` });
                } else if (roll < 0.37) {
                    kind = 'configuration DELETE';
                    const id = churn.splice(Math.floor(next() * churn.length), 1)[0] ?? '';
                    answer = await retried(configuration(id), 'DELETE');
                } else {
                    const parent = pick(watched) ?? '';
                    const mine = assignmentsOf.get(parent) ?? [];
                    const url = `${configuration(parent)}/assignments`;
                    if (roll < 0.7 || mine.length === 0) {
                        kind = 'assignment create';
                        answer = await retried(url, 'POST', { target: TARGET });
                        if (answer.status === 201) {
                            mine.push(String(answer.json.id));
                        }
                    } else if (roll < 0.85) {
                        kind = 'assignment PATCH';
                        answer = await retried(`${url}/${pick(mine) ?? ''}`, 'PATCH', { target: TARGET });
                    } else {
                        kind = 'assignment DELETE';
                        const id = mine.splice(Math.floor(next() * mine.length), 1)[0] ?? '';
                        answer = await retried(`${url}/${id}`, 'DELETE');
                    }
                }
                const key = `${kind} ${answer.status}`;
                statuses[key] = (statuses[key] ?? 0) + 1;
                if (answer.status < 300) {
                    acknowledged.push(answer.headers.get('request-id') ?? '');
                }
            }
        };
        await Promise.all(Array.from({ length: WRITERS }, writer));
        console.info(`writes: ${JSON.stringify(statuses)}`);
        expect(acknowledged.length).toBeGreaterThanOrEqual(WRITES * 0.95);

        // What the change log holds after each subscription's start is what must be notified, and only that.
        const records = (await storedRecords()).filter((r) =>
            [...subscriptions.values()].some(
                (s) => s.partition === r.configurationId && r.sequence > (startedAt.get(s.partition) ?? 0),
            ),
        );
        const recorded = new Set(records.map((r) => r.correlationId));
        expect(
            acknowledged.filter((id) => !recorded.has(id)),
            'acknowledged writes without a record',
        ).toEqual([]);
        const expected = new Set<string>();
        for (const record of records) {
            const subscription = [...subscriptions.values()].find((s) => s.partition === record.configurationId);
            const items = notificationsOf(
                record,
                { id: subscription?.id ?? '', expirationDateTime: '', clientState: '', tenantId: null },
                new Set(['created', 'updated', 'deleted']),
            );
            items.forEach((n) => expected.add(n.id));
        }
        expect(expected.size).toBeGreaterThan(WRITES * 0.9);

        const until = Date.now() + 120_000;
        let delivered = receiver.delivered();
        while (Date.now() < until) {
            delivered = receiver.delivered();
            const ids = new Set(delivered.map((n) => String(n.id)));
            if ([...expected].every((id) => ids.has(id))) {
                break;
            }
            await sleep(200);
        }
        const ids = delivered.map((n) => String(n.id));
        const unique = new Set(ids);
        expect(
            [...expected].filter((id) => !unique.has(id)),
            'changes never notified',
        ).toEqual([]);
        expect(
            [...unique].filter((id) => !expected.has(id)),
            'notifications of no recorded change',
        ).toEqual([]);
        for (const n of delivered) {
            const subscription = subscriptions.get(String(n.clientState));
            expect(n.subscriptionId).toBe(subscription?.id);
        }
        const posts = receiver.posts.length;
        const failed = receiver.posts.filter((p) => p.status >= 300).length;
        // A receiver that read a POST and then failed it has seen those changes: it is told them again.
        const received = receiver.posts.flatMap((p) => p.body.value.map((n) => String(n.id)));
        console.info(
            `notifications: ${expected.size} changes; ${ids.length} in ${posts - failed} POSTs answered 2xx ` +
                `(${ids.length - unique.size} duplicate(s)); ${failed} of ${posts} POSTs failed by the receiver, so ` +
                `it read ${received.length} items in all, ${received.length - new Set(received).size} of them again`,
        );

        // DELETE each subscription; writes go on; nothing reaches a deleted subscription's receiver.
        const deletedAt = new Map<string, number>();
        for (const [state, { id }] of subscriptions) {
            const answer = await retried(`${so().root}/subscriptions/${id}`, 'DELETE');
            expect(answer.status).toBe(204);
            deletedAt.set(state, Date.now());
        }
        for (let i = 0; i < 20; i++) {
            expect(
                (await retried(`${configuration(watched[i % WATCHED] ?? '')}/assignments`, 'POST', { target: TARGET }))
                    .status,
            ).toBe(201);
            expect(
                (await retried(configuration(watched[i % WATCHED] ?? ''), 'PATCH', { displayName: `after ${i}` }))
                    .status,
            ).toBe(204);
        }
        await sleep(2000);
        const late = receiver.posts.filter((p) => p.at >= (deletedAt.get(p.path.slice(1)) ?? Infinity));
        expect(late.map((p) => `${p.path} at +${p.at - (deletedAt.get(p.path.slice(1)) ?? 0)} ms`)).toEqual([]);
    }, 600_000);
});
