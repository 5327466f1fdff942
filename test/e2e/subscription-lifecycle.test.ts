/**
 * What delivery does besides notifying: a receiver that keeps failing is retried with growing waits, then told
 * `missed` once its retry window has passed; a subscription whose configuration is deleted is removed by the service
 * with `subscriptionRemoved`; an expired subscription gets nothing and is removed. Each run of the delivery job is
 * called here directly, as the timer would call it, with the retry window shortened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DELIVERY, deliverNotifications, type DeliverySettings, retryWait } from '../../lib/jobs/notifier.js';
import { LOCAL_URL_POLICY } from '../../lib/notifications/notificationUrl.js';
import { SubscriptionStore } from '../../lib/store/subscriptionStore.js';
import { configurationsUrl, newConfiguration } from '../helpers/configurations.js';
import { JSON_HEADERS, useTestApp } from '../helpers/host.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

const app = useTestApp();
let receiver: Receiver;
beforeAll(async () => {
    receiver = await startReceiver();
});
afterAll(async () => {
    await receiver.close();
});

const settings = (overrides: Partial<DeliverySettings> = {}): DeliverySettings => ({
    ...DEFAULT_DELIVERY,
    policy: LOCAL_URL_POLICY,
    tenantId: null,
    ...overrides,
});
const run = (overrides: Partial<DeliverySettings> = {}) =>
    deliverNotifications(app.cosmos.services.store, settings(overrides), { runForMs: 10_000 });

async function subscribe(resource: string, clientState: string, expirationDateTime?: string): Promise<string> {
    const response = await fetch(`${app.root}/subscriptions`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({
            changeType: 'created,updated,deleted',
            notificationUrl: receiver.url(`/${clientState}`),
            lifecycleNotificationUrl: receiver.url(`/${clientState}/lifecycle`),
            resource,
            expirationDateTime: expirationDateTime ?? new Date(Date.now() + 3600_000).toISOString(),
            clientState,
        }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    return (JSON.parse(text) as { id: string }).id;
}

const postsTo = (path: string) => receiver.posts.filter((p) => p.path === path);
const store = () => new SubscriptionStore(app.cosmos.services.store);

describe('a receiver that keeps failing', () => {
    it('is retried with doubling waits, then told `missed` when its window has passed, and delivery goes on after', async () => {
        const id = await subscribe('officeConfiguration/clientConfigurations', 'failing');
        await newConfiguration(app.root);
        receiver.setFailRate(1);
        const first = await run({ retryFirstMs: 60_000 });
        expect(first.failures).toBe(1);
        const afterFirst = await store().get(id);
        expect(afterFirst).toMatchObject({ attempts: 1 });
        expect((afterFirst?.nextAttemptAt ?? 0) - Date.now()).toBeGreaterThan(50_000);
        // Within its back-off nothing is sent.
        const sent = postsTo('/failing').length;
        await run({ retryFirstMs: 60_000 });
        expect(postsTo('/failing').length).toBe(sent);
        expect([1, 2, 3, 4, 20].map((n) => retryWait(n, DEFAULT_DELIVERY))).toEqual([
            10_000,
            20_000,
            40_000,
            80_000,
            30 * 60_000,
        ]);
        // Past the window (here 0 ms, as if 4 hours had gone by): the changes are passed over and it is told.
        await store().settle(
            id,
            { cursor: afterFirst?.cursor ?? 0 },
            {
                cursor: afterFirst?.cursor ?? 0,
                attempts: 1,
                firstFailureAt: Date.now() - 1000,
                nextAttemptAt: 0,
            },
        );
        const last = await run({ retryWindowMs: 500 });
        expect(last.missed).toBe(1);
        const lifecycle = postsTo('/failing/lifecycle');
        expect(lifecycle.at(-1)?.body.value[0]).toMatchObject({
            subscriptionId: id,
            lifecycleEvent: 'missed',
            clientState: 'failing',
        });
        expect(await store().get(id)).toMatchObject({ attempts: 0 });
        // A receiver that recovers hears of what happens next.
        receiver.setFailRate(0);
        const later = await newConfiguration(app.root);
        await run();
        expect(
            receiver.delivered().some((n) => n.resource === `officeConfiguration/clientConfigurations/${later}`),
        ).toBe(true);
        expect((await fetch(`${app.root}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    });
});

describe('the retry window', () => {
    it('starts at the first failure, and the first attempt due after it sends `missed` instead', async () => {
        const id = await subscribe('officeConfiguration/clientConfigurations', 'window');
        receiver.setFailRate(1);
        await newConfiguration(app.root);
        const window = { retryFirstMs: 1, retryWindowMs: 300 };
        const first = await run(window);
        expect(first.failures).toBe(1);
        const failing = await store().get(id);
        expect(failing?.attempts).toBe(1);
        expect(failing?.firstFailureAt).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 350));
        const last = await run(window);
        expect(last.missed).toBe(1);
        expect(postsTo('/window')).toHaveLength(1);
        expect(postsTo('/window/lifecycle').map((p) => p.body.value[0]?.lifecycleEvent)).toEqual(['missed']);
        expect(await store().get(id)).toMatchObject({ attempts: 0 });
        receiver.setFailRate(0);
        expect((await fetch(`${app.root}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    });
});

describe('the service ends a subscription', () => {
    it('removes one whose configuration was deleted, after its last changes, with `subscriptionRemoved`', async () => {
        const configurationId = await newConfiguration(app.root);
        const id = await subscribe(
            `officeConfiguration/clientConfigurations/${configurationId}/assignments`,
            'removed',
        );
        const made = await fetch(app.assignmentsUrl(configurationId), {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify({ target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' } }),
        });
        expect(made.status).toBe(201);
        expect((await fetch(`${configurationsUrl(app.root)}/${configurationId}`, { method: 'DELETE' })).status).toBe(
            204,
        );
        await run();
        await run();
        expect(postsTo('/removed').flatMap((p) => p.body.value.map((n) => n.changeType))).toEqual(['created']);
        expect(postsTo('/removed/lifecycle').map((p) => p.body.value[0]?.lifecycleEvent)).toEqual([
            'subscriptionRemoved',
        ]);
        expect((await fetch(`${app.root}/subscriptions/${id}`)).status).toBe(404);
    });

    it('says nothing to a subscription its client deleted, even when its configuration is gone too', async () => {
        const configurationId = await newConfiguration(app.root);
        const id = await subscribe(`officeConfiguration/clientConfigurations/${configurationId}/assignments`, 'both');
        expect((await fetch(`${configurationsUrl(app.root)}/${configurationId}`, { method: 'DELETE' })).status).toBe(
            204,
        );
        expect((await fetch(`${app.root}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
        const report = await run();
        expect(report.removed).toBe(0);
        expect(postsTo('/both/lifecycle')).toEqual([]);
    });

    it('sends nothing to an expired subscription, and removes it', async () => {
        const id = await subscribe(
            'officeConfiguration/clientConfigurations',
            'expiring',
            new Date(Date.now() + 1500).toISOString(),
        );
        await new Promise((r) => setTimeout(r, 1600));
        await newConfiguration(app.root);
        const report = await run();
        expect(report.expired).toBeGreaterThanOrEqual(1);
        expect(postsTo('/expiring')).toEqual([]);
        expect(postsTo('/expiring/lifecycle')).toEqual([]);
        expect((await fetch(`${app.root}/subscriptions/${id}`)).status).toBe(404);
        // A renewal comes too late once it expired.
        const renewed = await fetch(`${app.root}/subscriptions/${id}`, {
            method: 'PATCH',
            headers: JSON_HEADERS,
            body: JSON.stringify({ expirationDateTime: new Date(Date.now() + 3600_000).toISOString() }),
        });
        expect(renewed.status).toBe(404);
    });
});

describe('where delivery starts', () => {
    it("at the partition's counter, even when its records have passed their retention: no `missed` for a new subscriber", async () => {
        await newConfiguration(app.root);
        // As Cosmos DB's TTL would: every change record of the tenant partition gone.
        const { resources } = await app.cosmos.container.items
            .query<{ id: string; configurationId: string }>(
                "SELECT c.id, c.configurationId FROM c WHERE c.kind = 'change'",
            )
            .fetchAll();
        await Promise.all(resources.map((r) => app.cosmos.container.item(r.id, r.configurationId).delete()));
        const id = await subscribe('officeConfiguration/clientConfigurations', 'fresh');
        const later = await newConfiguration(app.root);
        const report = await run();
        expect(report.missed).toBe(0);
        expect(postsTo('/fresh/lifecycle')).toEqual([]);
        expect(postsTo('/fresh').flatMap((p) => p.body.value.map((n) => n.resource))).toEqual([
            `officeConfiguration/clientConfigurations/${later}`,
        ]);
        expect((await fetch(`${app.root}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    });

    it('tells of a gap once, while the changes after it keep failing', async () => {
        const id = await subscribe('officeConfiguration/clientConfigurations', 'gap');
        const cursor = (await store().get(id))?.cursor ?? 0;
        await newConfiguration(app.root);
        const later = await newConfiguration(app.root);
        // The first change after the cursor passes its retention before it is delivered.
        const { resources } = await app.cosmos.container.items
            .query<{ id: string; configurationId: string; sequence: number }>(
                "SELECT c.id, c.configurationId, c.sequence FROM c WHERE c.kind = 'change'",
            )
            .fetchAll();
        const lost = resources.find((r) => r.configurationId === '/officeConfiguration' && r.sequence === cursor + 1);
        expect(lost).toBeDefined();
        await app.cosmos.container.item(lost?.id ?? '', lost?.configurationId).delete();
        receiver.setFailRate(1);
        await run({ retryFirstMs: 1 });
        await new Promise((r) => setTimeout(r, 5));
        await run({ retryFirstMs: 1 });
        expect(postsTo('/gap').length).toBe(2);
        expect(postsTo('/gap/lifecycle').map((p) => p.body.value[0]?.lifecycleEvent)).toEqual(['missed']);
        receiver.setFailRate(0);
        await new Promise((r) => setTimeout(r, 5));
        await run();
        expect(
            receiver
                .delivered()
                .filter((n) => n.clientState === 'gap')
                .map((n) => n.resource),
        ).toEqual([`officeConfiguration/clientConfigurations/${later}`]);
        expect((await fetch(`${app.root}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    });
});
