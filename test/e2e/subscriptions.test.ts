/**
 * Change notifications end to end over real HTTP: a receiver on a loopback port subscribes through the API (the
 * validation handshake answered for real), the delivery job runs as the local host runs it, and every write of
 * configurations and assignments reaches the receiver with its changeType, resource and clientState. The time from
 * a write's answer to its notification is reported (p50/p99), never asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DELIVERY, deliverNotifications } from '../../lib/jobs/notifier.js';
import { type Scheduler, startScheduler } from '../../lib/jobs/scheduler.js';
import { LOCAL_URL_POLICY } from '../../lib/notifications/notificationUrl.js';
import { configurationsUrl, newConfiguration } from '../helpers/configurations.js';
import { expectGraphError, JSON_HEADERS, useTestApp } from '../helpers/host.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

const app = useTestApp();
const TARGET = { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' };
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

let receiver: Receiver;
let scheduler: Scheduler;

beforeAll(async () => {
    receiver = await startReceiver();
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    scheduler = startScheduler(
        [
            {
                name: 'deliver',
                everyMs: 50,
                run: () =>
                    deliverNotifications(
                        app.cosmos.services.store,
                        { ...DEFAULT_DELIVERY, policy: LOCAL_URL_POLICY, tenantId: null, retryFirstMs: 100 },
                        { runForMs: 5000, logger: quiet },
                    ),
            },
        ],
        quiet,
    );
});

afterAll(async () => {
    await scheduler.stop();
    await receiver.close();
});

async function send(method: string, url: string, body?: unknown): Promise<Response> {
    return await fetch(url, {
        method,
        headers: JSON_HEADERS,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
}

async function subscribe(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await send('POST', `${app.root}/subscriptions`, {
        changeType: 'created,updated,deleted',
        notificationUrl: receiver.url(),
        expirationDateTime: inAnHour(),
        clientState: 'secret-client-state',
        ...body,
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    return JSON.parse(text) as Record<string, unknown>;
}

/** Waits until the receiver holds an item matching `match`; the time it arrived. */
async function notified(match: (n: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
        for (const post of receiver.posts) {
            if (post.status < 300 && post.body.value.some(match)) {
                return post.at;
            }
        }
        if (Date.now() > until) {
            throw new Error('no such notification arrived');
        }
        await new Promise((r) => setTimeout(r, 10));
    }
}

const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

describe('POST /subscriptions', () => {
    it('answers 201 with the subscription once the endpoint echoed its validationToken', async () => {
        const before = receiver.handshakes.length;
        const created = await subscribe({ resource: '/officeConfiguration/clientConfigurations' });
        expect(receiver.handshakes.length).toBe(before + 1);
        expect(created).toMatchObject({
            '@odata.context': `${app.root}/$metadata#subscriptions/$entity`,
            resource: 'officeConfiguration/clientConfigurations',
            changeType: 'created,updated,deleted',
            clientState: 'secret-client-state',
            notificationUrl: receiver.url(),
            includeResourceData: false,
        });
        const got = await fetch(`${app.root}/subscriptions/${String(created.id)}`);
        expect(got.status).toBe(200);
        const listed = (await (await fetch(`${app.root}/subscriptions`)).json()) as { value: { id: string }[] };
        expect(listed.value.map((s) => s.id)).toContain(created.id);
        expect((await send('DELETE', `${app.root}/subscriptions/${String(created.id)}`)).status).toBe(204);
        await expectGraphError(
            await fetch(`${app.root}/subscriptions/${String(created.id)}`),
            404,
            'ResourceNotFound',
            expect,
        );
    });
});

describe('POST /subscriptions in a $batch', () => {
    it('creates it as a part, with the handshake, within the batch', async () => {
        const before = receiver.handshakes.length;
        const response = await send('POST', `${app.root}/$batch`, {
            requests: [
                {
                    id: '1',
                    method: 'POST',
                    url: '/subscriptions',
                    headers: { 'Content-Type': 'application/json' },
                    body: {
                        changeType: 'created',
                        notificationUrl: receiver.url(),
                        resource: 'officeConfiguration/clientConfigurations',
                        expirationDateTime: inAnHour(),
                        clientState: 'batched',
                    },
                },
            ],
        });
        expect(response.status).toBe(200);
        const [part] = ((await response.json()) as { responses: { status: number; body: { id: string } }[] }).responses;
        expect(part?.status).toBe(201);
        expect(receiver.handshakes.length).toBe(before + 1);
        expect((await send('DELETE', `${app.root}/subscriptions/${part?.body.id}`)).status).toBe(204);
    });
});

describe('delivery', () => {
    it('notifies every configuration and assignment write with its changeType, resource and clientState', async () => {
        const latencies: number[] = [];
        const configurations = await subscribe({
            resource: 'officeConfiguration/clientConfigurations',
            clientState: 'configurations-state',
        });
        const timed = async (response: Response, match: (n: Record<string, unknown>) => boolean) => {
            const answered = Date.now();
            latencies.push((await notified(match)) - answered);
        };
        const byState = (state: string, changeType: string, resource: string) => (n: Record<string, unknown>) =>
            n.clientState === state && n.changeType === changeType && n.resource === resource;

        for (let round = 0; round < 10; round++) {
            const created = await send('POST', configurationsUrl(app.root), {
                '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration',
                displayName: `round ${round}`,
            });
            expect(created.status).toBe(201);
            const id = ((await created.json()) as { id: string }).id;
            const path = `officeConfiguration/clientConfigurations/${id}`;
            await timed(created, byState('configurations-state', 'created', path));

            const patched = await send('PATCH', `${configurationsUrl(app.root)}/${id}`, { displayName: 'renamed' });
            expect(patched.status).toBe(204);
            await timed(patched, byState('configurations-state', 'updated', path));

            const deleted = await send('DELETE', `${configurationsUrl(app.root)}/${id}`);
            expect(deleted.status).toBe(204);
            await timed(deleted, byState('configurations-state', 'deleted', path));
        }
        const item = receiver.delivered().find((n) => n.clientState === 'configurations-state');
        expect(item).toMatchObject({
            subscriptionId: configurations.id,
            subscriptionExpirationDateTime: configurations.expirationDateTime,
            tenantId: null,
            resourceData: { '@odata.type': '#microsoft.graph.officeClientConfiguration' },
        });

        const configurationId = await newConfiguration(app.root);
        await subscribe({
            resource: `officeConfiguration/clientConfigurations/${configurationId}/assignments`,
            clientState: 'assignments-state',
        });
        const assignments = app.assignmentsUrl(configurationId);
        for (let round = 0; round < 10; round++) {
            const created = await send('POST', assignments, { target: TARGET });
            expect(created.status).toBe(201);
            const id = ((await created.json()) as { id: string }).id;
            const path = `officeConfiguration/clientConfigurations/${configurationId}/assignments/${id}`;
            await timed(created, byState('assignments-state', 'created', path));
            const patched = await send('PATCH', `${assignments}/${id}`, { target: TARGET });
            expect(patched.status).toBe(204);
            await timed(patched, byState('assignments-state', 'updated', path));
            const deleted = await send('DELETE', `${assignments}/${id}`);
            expect(deleted.status).toBe(204);
            await timed(deleted, byState('assignments-state', 'deleted', path));
        }
        const assigned = await send('POST', `${configurationsUrl(app.root)}/${configurationId}/assign`, {
            officeConfigurationAssignments: [{ target: TARGET }],
        });
        expect(assigned.status).toBe(200);
        const [made] = ((await assigned.json()) as { value: { id: string }[] }).value;
        await timed(
            assigned,
            byState(
                'assignments-state',
                'created',
                `officeConfiguration/clientConfigurations/${configurationId}/assignments/${made?.id}`,
            ),
        );
        // Only the assignments subscription hears of assignments, only the configurations one of configurations.
        const wrong = receiver
            .delivered()
            .filter((n) =>
                n.clientState === 'assignments-state'
                    ? !String(n.resource).includes('/assignments/')
                    : n.clientState === 'configurations-state' && String(n.resource).includes('/assignments/'),
            );
        expect(wrong).toEqual([]);
        console.info(
            `change notifications, from a write's answer to its arrival (local host, delivery every 50 ms), ` +
                `${latencies.length} writes: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
        );
    }, 120_000);
});

/**
 * A receiver that holds every notification POST, subscribed to the configurations, with one delivery to it under
 * way (a configuration created, its POST held): the test runs with it, then it is released and closed.
 */
async function withHeldDelivery(clientState: string, test: (hanging: Receiver, id: string) => Promise<void>) {
    const hanging = await startReceiver({ hold: true });
    try {
        const response = await send('POST', `${app.root}/subscriptions`, {
            changeType: 'created,updated,deleted',
            notificationUrl: hanging.url(),
            resource: 'officeConfiguration/clientConfigurations',
            expirationDateTime: inAnHour(),
            clientState,
        });
        expect(response.status).toBe(201);
        const { id } = (await response.json()) as { id: string };
        await newConfiguration(app.root);
        const until = Date.now() + 10_000;
        while (hanging.held() === 0 && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 10));
        }
        expect(hanging.held(), 'a delivery is waiting on the receiver').toBe(1);
        await test(hanging, id);
    } finally {
        hanging.release();
        await hanging.close();
    }
}

describe('a receiver that hangs', () => {
    it('holds no write: writes are answered while a delivery to it waits', async () => {
        await withHeldDelivery('hanging', async (hanging, id) => {
            // A few writes: well within the 3 s the delivery waits for its receiver, however loaded the machine.
            for (let i = 0; i < 5; i++) {
                expect(
                    (
                        await send('PATCH', `${configurationsUrl(app.root)}/${await newConfiguration(app.root)}`, {
                            displayName: `while it hangs ${i}`,
                        })
                    ).status,
                ).toBe(204);
            }
            expect(hanging.held(), 'still waiting when every write was answered').toBe(1);
            hanging.release();
            expect((await send('DELETE', `${app.root}/subscriptions/${id}`)).status).toBe(204);
        });
    });

    it('makes a DELETE wait for the delivery under way, so that nothing reaches the receiver after its 204', async () => {
        await withHeldDelivery('deleted-while-delivering', async (hanging, id) => {
            let answeredAt = 0;
            const deleting = send('DELETE', `${app.root}/subscriptions/${id}`).then((r) => {
                answeredAt = Date.now();
                return r.status;
            });
            await new Promise((r) => setTimeout(r, 300));
            expect(answeredAt, 'the DELETE waits while the POST is held').toBe(0);
            const releasedAt = Date.now();
            hanging.release();
            expect(await deleting).toBe(204);
            expect(answeredAt).toBeGreaterThanOrEqual(releasedAt);
            await new Promise((r) => setTimeout(r, 300));
            expect(hanging.posts.filter((p) => p.at > answeredAt)).toEqual([]);
        });
    });
});
