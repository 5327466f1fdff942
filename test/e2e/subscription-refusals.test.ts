/**
 * Every way POST /subscriptions refuses, over real HTTP: each answers a Graph-shaped 400 (404 for a collection that
 * does not exist) whose message says why, and nothing is created. The handshake's failures (wrong echo, non-2xx,
 * redirect, wrong Content-Type, timeout) come from a loopback receiver that misbehaves on purpose; the Azure policy's
 * address checks use a fake resolver, so no test needs traffic beyond loopback. Then renewal, the 404s of the
 * subscription routes, and the tenant's cap.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { AZURE_URL_POLICY, LOCAL_URL_POLICY } from '../../lib/notifications/notificationUrl.js';
import type { Resolve } from '../../lib/notifications/webhook.js';
import { MAX_SUBSCRIPTION_MINUTES, MAX_SUBSCRIPTIONS } from '../../lib/resources/subscriptions.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, type GraphErrorJson, JSON_HEADERS, useTestApp } from '../helpers/host.js';
import { type HandshakeAnswer, type Receiver, startReceiver } from '../helpers/receiver.js';

const app = useTestApp();
const CONFIGURATIONS = 'officeConfiguration/clientConfigurations';
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** Receivers by how they answer the handshake; closed after the file. */
const receivers: Receiver[] = [];

async function receiver(handshake?: (token: string) => HandshakeAnswer): Promise<Receiver> {
    const started = await startReceiver(handshake ? { handshake } : {});
    receivers.push(started);
    return started;
}

let good: Receiver;

beforeAll(async () => {
    good = await receiver();
});

afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
});

async function send(method: string, url: string, body?: unknown): Promise<Response> {
    return await fetch(url, {
        method,
        headers: JSON_HEADERS,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
}

/** A valid subscription body to the good receiver, with a clientState of its own; `changes` override it. */
function subscription(clientState: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        changeType: 'created,updated,deleted',
        notificationUrl: good.url(),
        resource: CONFIGURATIONS,
        expirationDateTime: inMinutes(60),
        clientState,
        ...changes,
    };
}

/** The subscriptions `root` lists with that clientState. */
async function listedWith(root: string, clientState: string): Promise<unknown[]> {
    const response = await fetch(`${root}/subscriptions`);
    expect(response.status).toBe(200);
    const { value } = (await response.json()) as { value: { clientState: string }[] };
    return value.filter((s) => s.clientState === clientState);
}

/**
 * POSTs `body` to `root`'s subscriptions, expects a Graph error of `status` whose message matches `why`, and that
 * nothing with the body's clientState exists afterwards.
 */
async function refused(
    body: Record<string, unknown>,
    why: RegExp,
    { root = app.root, status = 400, code }: { root?: string; status?: number; code?: string } = {},
): Promise<GraphErrorJson> {
    const response = await send('POST', `${root}/subscriptions`, body);
    const error = await expectGraphError(
        response,
        status,
        code ?? (status === 404 ? 'ResourceNotFound' : 'BadRequest'),
        expect,
    );
    expect(error.error.message).toMatch(why);
    expect(response.headers.get('location')).toBeNull();
    if (typeof body.clientState === 'string') {
        expect(await listedWith(root, body.clientState)).toEqual([]);
    }
    return error;
}

const detailOf = (error: GraphErrorJson) => error.error.details?.[0];

describe('the validation handshake refuses the subscription', () => {
    it('when the endpoint echoes something other than its validationToken', async () => {
        const wrong = await receiver(() => ({ body: 'not-the-token' }));
        const error = await refused(
            subscription('wrong-echo', { notificationUrl: wrong.url() }),
            /^Subscription validation request failed: the notificationUrl .*its answer is not the validationToken it was sent\.$/,
        );
        expect(detailOf(error)).toEqual({
            code: 'ValidationRequestFailed',
            message: 'its answer is not the validationToken it was sent',
            target: 'notificationUrl',
        });
        expect(wrong.handshakes).toHaveLength(1);
    });

    it('when the endpoint answers the token with a trailing newline', async () => {
        const wrong = await receiver((token) => ({ body: `${token}\n` }));
        await refused(subscription('echo-newline', { notificationUrl: wrong.url() }), /not the validationToken/);
    });

    it('when the endpoint answers 500', async () => {
        const failing = await receiver(() => ({ status: 500 }));
        const error = await refused(
            subscription('handshake-500', { notificationUrl: failing.url() }),
            /it answered 500, not 200\.$/,
        );
        expect(detailOf(error)?.target).toBe('notificationUrl');
    });

    it('when the endpoint answers another 2xx than 200', async () => {
        const accepted = await receiver(() => ({ status: 202 }));
        await refused(
            subscription('handshake-202', { notificationUrl: accepted.url() }),
            /it answered 202, not 200\.$/,
        );
    });

    it('when the endpoint answers a redirect, which is not followed', async () => {
        const elsewhere = await receiver();
        const redirecting = await receiver(() => ({ status: 302, headers: { Location: elsewhere.url('/moved') } }));
        await refused(
            subscription('handshake-302', { notificationUrl: redirecting.url() }),
            /it answered 302, a redirect, which is not followed\.$/,
        );
        expect(redirecting.handshakes).toHaveLength(1);
        expect(elsewhere.handshakes).toEqual([]);
    });

    it('when the endpoint answers with Content-Type application/json', async () => {
        const json = await receiver((token) => ({ contentType: 'application/json', body: JSON.stringify(token) }));
        await refused(
            subscription('handshake-json', { notificationUrl: json.url() }),
            /it answered with Content-Type 'application\/json', not text\/plain\.$/,
        );
    });

    it('when the endpoint answers too late', async () => {
        const slow = await receiver(() => ({ delayMs: 2000 }));
        const host = await startLocalHost({
            routes,
            services: {
                ...app.cosmos.services,
                notifications: { policy: LOCAL_URL_POLICY, tenantId: null, handshakeTimeoutMs: 500 },
            },
        });
        try {
            const error = await refused(
                subscription('handshake-timeout', { notificationUrl: slow.url() }),
                /no answer within 0\.5 s\.$/,
                { root: `${host.origin}/beta` },
            );
            expect(detailOf(error)).toMatchObject({ code: 'ValidationRequestFailed', target: 'notificationUrl' });
            expect(slow.handshakes).toHaveLength(1);
            expect(await listedWith(app.root, 'handshake-timeout')).toEqual([]);
        } finally {
            await host.close();
        }
    });

    it('when the lifecycleNotificationUrl fails its own handshake, naming it', async () => {
        const failing = await receiver(() => ({ status: 500 }));
        const error = await refused(
            subscription('lifecycle-fails', { lifecycleNotificationUrl: failing.url('/lifecycle') }),
            /^Subscription validation request failed: the lifecycleNotificationUrl .*it answered 500, not 200\.$/,
        );
        expect(detailOf(error)).toEqual({
            code: 'ValidationRequestFailed',
            message: 'it answered 500, not 200',
            target: 'lifecycleNotificationUrl',
        });
        expect(failing.handshakes.map((h) => h.path)).toEqual(['/lifecycle']);
    });

    it('when nothing listens at the endpoint', async () => {
        const gone = await startReceiver();
        const url = gone.url();
        await gone.close();
        await refused(subscription('nothing-listens', { notificationUrl: url }), /it could not be reached/);
    });
});

describe('the URL rules refuse before any traffic', () => {
    it.each([
        ['notificationUrl', 'http://receiver.example.com/hook'],
        ['notificationUrl', 'http://10.0.0.1/hook'],
        ['lifecycleNotificationUrl', 'http://receiver.example.com/lifecycle'],
    ])('plain http to a host that is not the loopback (%s %s)', async (property, url) => {
        const before = good.handshakes.length;
        const error = await refused(
            subscription(`http-${property}-${url}`, { [property]: url }),
            new RegExp(`^The ${property} is refused: plain http is accepted only to a loopback address; use https\\.$`),
        );
        expect(detailOf(error)).toEqual({
            code: 'InvalidNotificationUrl',
            message: 'plain http is accepted only to a loopback address; use https',
            target: property,
        });
        expect(good.handshakes.length).toBe(before);
    });

    it.each([
        ['credentials', 'https://user:secret@receiver.example.com/hook', /carries credentials/],
        ['a fragment', 'https://receiver.example.com/hook#x', /has a fragment/],
        ['an ftp scheme', 'ftp://receiver.example.com/hook', /its scheme 'ftp' is not https/],
        ['a relative URL', '/hook', /it is not an absolute URL/],
    ])('a notificationUrl with %s', async (_case, url, why) => {
        await refused(subscription(`rule-${url}`, { notificationUrl: url }), why);
    });
});

describe('the request itself is refused', () => {
    const cases: [string, (state: string) => Record<string, unknown>, RegExp][] = [
        [
            'without clientState',
            (state) => {
                const body = subscription(state);
                delete body.clientState;
                return body;
            },
            /^Invalid request body: The property 'clientState' is required/,
        ],
        [
            'with changeType added',
            (state) => subscription(state, { changeType: 'added' }),
            /The value of 'changeType' must match/,
        ],
        [
            'with an unknown property',
            (state) => subscription(state, { colour: 'blue' }),
            /The property 'colour' does not exist/,
        ],
        [
            'with includeResourceData true',
            (state) => subscription(state, { includeResourceData: true }),
            /The value true of 'includeResourceData' is not one of false/,
        ],
        [
            'with expirationDateTime in the past',
            (state) => subscription(state, { expirationDateTime: inMinutes(-1) }),
            /^Subscription expiration must be in the future\.$/,
        ],
        [
            `with expirationDateTime more than ${MAX_SUBSCRIPTION_MINUTES} minutes ahead`,
            (state) => subscription(state, { expirationDateTime: inMinutes(MAX_SUBSCRIPTION_MINUTES + 2) }),
            /^Subscription expiration can only be 4230 minutes in the future\.$/,
        ],
        [
            'with a resource that is not a collection of this API',
            (state) => subscription(state, { resource: 'users' }),
            /^The resource 'users' cannot be subscribed to/,
        ],
        [
            'with a resource under a collection that is not one',
            (state) => subscription(state, { resource: `${CONFIGURATIONS}/${randomUUID()}` }),
            /cannot be subscribed to/,
        ],
    ];

    it.each(cases)('%s', async (name, body, why) => {
        const before = good.handshakes.length;
        await refused(body(`request-${name}`), why);
        // Nothing about the request could be told by the receiver: it never hears of it.
        expect(good.handshakes.length).toBe(before);
    });

    it('for the assignments of a configuration that does not exist, with 404', async () => {
        const before = good.handshakes.length;
        const id = randomUUID();
        await refused(
            subscription('no-such-configuration', { resource: `${CONFIGURATIONS}/${id}/assignments` }),
            new RegExp(`^No client configuration with id '${id}' exists\\.$`),
            { status: 404 },
        );
        expect(good.handshakes.length).toBe(before);
    });
});

describe('under the Azure policy', () => {
    let host: LocalHost;
    let root: string;
    const asked: string[] = [];
    const table: Record<string, string> = { 'inside.test': '10.1.2.3', 'metadata.test': '169.254.169.254' };
    const resolve: Resolve = (hostname) => {
        asked.push(hostname);
        const address = table[hostname];
        return address
            ? Promise.resolve([{ address, family: 4 }])
            : Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`));
    };

    beforeAll(async () => {
        host = await startLocalHost({
            routes,
            services: {
                ...app.cosmos.services,
                notifications: { policy: AZURE_URL_POLICY, tenantId: 't', resolve },
            },
        });
        root = `${host.origin}/beta`;
    });

    afterAll(async () => {
        await host.close();
    });

    it.each([
        ['inside.test', '10.1.2.3', 'a private address (10.0.0.0/8)'],
        [
            'metadata.test',
            '169.254.169.254',
            'a link-local (the instance metadata service is 169.254.169.254) address (169.254.0.0/16)',
        ],
    ])('refuses https://%s/hook, which resolves to %s, naming the address and range', async (name, address, what) => {
        asked.length = 0;
        const error = await refused(
            subscription(`azure-${name}`, { notificationUrl: `https://${name}/hook` }),
            new RegExp(`^The notificationUrl is refused: it resolves to ${address.replace(/\./g, '\\.')}, `),
            { root },
        );
        expect(error.error.message).toContain(what);
        expect(error.error.message).toContain('notifications go to public addresses only');
        expect(detailOf(error)).toMatchObject({ code: 'InvalidNotificationUrl', target: 'notificationUrl' });
        // The fake resolver is the only lookup made, and nothing listens at the address: no traffic left.
        expect(asked).toEqual([name]);
    });

    it('refuses a lifecycleNotificationUrl with an inside address, naming it, before resolving anything', async () => {
        asked.length = 0;
        const error = await refused(
            subscription('azure-lifecycle-literal', {
                notificationUrl: 'https://inside.test/hook',
                lifecycleNotificationUrl: 'https://[::ffff:169.254.169.254]/lifecycle',
            }),
            /^The lifecycleNotificationUrl is refused: it resolves to ::ffff:a9fe:a9fe, a link-local .*\(169\.254\.0\.0\/16\)/,
            { root },
        );
        expect(detailOf(error)).toMatchObject({ code: 'InvalidNotificationUrl', target: 'lifecycleNotificationUrl' });
        expect(asked).toEqual([]);
    });

    it('refuses when both endpoints resolve inside, naming the notificationUrl first', async () => {
        asked.length = 0;
        const error = await refused(
            subscription('azure-both', {
                notificationUrl: 'https://metadata.test/hook',
                lifecycleNotificationUrl: 'https://inside.test/lifecycle',
            }),
            /^The notificationUrl is refused: it resolves to 169\.254\.169\.254, /,
            { root },
        );
        expect(detailOf(error)).toMatchObject({ code: 'InvalidNotificationUrl', target: 'notificationUrl' });
        expect([...asked].sort()).toEqual(['inside.test', 'metadata.test']);
    });

    it.each([
        ['https://10.0.0.1/hook', /it resolves to 10\.0\.0\.1, a private address \(10\.0\.0\.0\/8\)/],
        ['https://169.254.169.254/hook', /it resolves to 169\.254\.169\.254, a link-local .*\(169\.254\.0\.0\/16\)/],
        ['https://localhost/hook', /its host 'localhost' is the loopback, which is not reachable from Azure/],
        ['http://127.0.0.1/hook', /it is not https/],
    ])('refuses %s before resolving anything', async (url, why) => {
        asked.length = 0;
        await refused(subscription(`azure-literal-${url}`, { notificationUrl: url }), why, { root });
        expect(asked).toEqual([]);
    });

    it('refuses the local receiver itself: plain http is not accepted in Azure', async () => {
        const before = good.handshakes.length;
        await refused(subscription('azure-loopback'), /^The notificationUrl is refused: it is not https/, { root });
        expect(good.handshakes.length).toBe(before);
    });
});

describe('renewal and the subscription routes', () => {
    it('renews with a PATCH of expirationDateTime, and refuses a PATCH of anything else', async () => {
        const created = await send('POST', `${app.root}/subscriptions`, subscription('renewed'));
        expect(created.status).toBe(201);
        const subscriptionUrl = `${app.root}/subscriptions/${((await created.json()) as { id: string }).id}`;
        try {
            const later = inMinutes(120);
            const renewed = await send('PATCH', subscriptionUrl, { expirationDateTime: later });
            expect(renewed.status).toBe(200);
            expect(((await renewed.json()) as { expirationDateTime: string }).expirationDateTime).toBe(later);
            const got = (await (await fetch(subscriptionUrl)).json()) as Record<string, unknown>;
            expect(got.expirationDateTime).toBe(later);

            const otherUrl = await receiver();
            const error = await expectGraphError(
                await send('PATCH', subscriptionUrl, { notificationUrl: otherUrl.url() }),
                400,
                'BadRequest',
                expect,
            );
            expect(error.error.details).toContainEqual({
                code: 'UnknownProperty',
                message: "The property 'notificationUrl' does not exist on type 'microsoft.graph.subscription'.",
                target: 'notificationUrl',
            });
            const both = await expectGraphError(
                await send('PATCH', subscriptionUrl, { expirationDateTime: inMinutes(180), clientState: 'changed' }),
                400,
                'BadRequest',
                expect,
            );
            expect(both.error.message).toBe(
                "Invalid request body: The property 'clientState' does not exist on type 'microsoft.graph.subscription'.",
            );
            const past = await expectGraphError(
                await send('PATCH', subscriptionUrl, { expirationDateTime: inMinutes(-1) }),
                400,
                'BadRequest',
                expect,
            );
            expect(past.error.message).toBe('Subscription expiration must be in the future.');
            const far = await expectGraphError(
                await send('PATCH', subscriptionUrl, { expirationDateTime: inMinutes(MAX_SUBSCRIPTION_MINUTES + 2) }),
                400,
                'BadRequest',
                expect,
            );
            expect(far.error.message).toBe('Subscription expiration can only be 4230 minutes in the future.');
            // None of the refused PATCHes changed it.
            const after = (await (await fetch(subscriptionUrl)).json()) as Record<string, unknown>;
            expect(after).toMatchObject({
                expirationDateTime: later,
                notificationUrl: good.url(),
                clientState: 'renewed',
            });
            expect(otherUrl.handshakes).toEqual([]);
        } finally {
            expect((await send('DELETE', subscriptionUrl)).status).toBe(204);
        }
    });

    it.each([
        ['an unknown GUID', randomUUID()],
        ['an id that is not a GUID', 'not-a-guid'],
        ['a GUID with a tail', `${randomUUID()}x`],
    ])('answers 404 to GET, PATCH and DELETE of %s', async (_case, id) => {
        const url = `${app.root}/subscriptions/${id}`;
        for (const response of [
            await fetch(url),
            await send('PATCH', url, { expirationDateTime: inMinutes(60) }),
            await send('DELETE', url),
        ]) {
            const error = await expectGraphError(response, 404, 'ResourceNotFound', expect);
            expect(error.error.message).toBe(`No subscription with id '${id}' exists.`);
        }
    });
});

describe('the tenant cap', () => {
    let cosmos: TestCosmos;
    let host: LocalHost;

    beforeAll(async () => {
        cosmos = await startTestCosmos();
        host = await startLocalHost({ routes, services: cosmos.services });
    });

    afterAll(async () => {
        await host.close();
        await cosmos.close();
    });

    it(`creates ${MAX_SUBSCRIPTIONS} subscriptions, then refuses one more, naming the limit`, async () => {
        const root = `${host.origin}/beta`;
        expect(MAX_SUBSCRIPTIONS).toBe(100);
        for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
            const response = await send('POST', `${root}/subscriptions`, subscription(`cap-${i}`));
            expect(response.status, await response.text()).toBe(201);
        }
        const before = good.handshakes.length;
        const error = await refused(subscription('cap-one-more'), /has 100 subscriptions, the most it may hold/, {
            root,
        });
        expect(detailOf(error)).toMatchObject({
            code: 'SubscriptionLimitReached',
            message: 'At most 100 subscriptions.',
        });
        // The cap is told from the store: the receiver is not asked.
        expect(good.handshakes.length).toBe(before);
        const listed = (await (await fetch(`${root}/subscriptions`)).json()) as { value: { id: string }[] };
        expect(listed.value).toHaveLength(MAX_SUBSCRIPTIONS);

        // One deleted, one more fits again.
        const [first] = listed.value;
        expect((await send('DELETE', `${root}/subscriptions/${first?.id}`)).status).toBe(204);
        expect((await send('POST', `${root}/subscriptions`, subscription('cap-after-delete'))).status).toBe(201);
        await refused(subscription('cap-one-more-again'), /the most it may hold/, { root });
    }, 180_000);
});
