/**
 * Subscriptions with Entra ID tokens: the read permission is enough to subscribe (a subscriber learns what a read
 * tells it), no permission is a 403 that creates nothing, and each application sees, renews and deletes only its
 * own subscriptions: another's answer 404, as if they did not exist. The subscription names its creator.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { createAuthenticator } from '../../lib/platform/auth.js';
import { DEFAULT_READ_PERMISSION } from '../../lib/platform/config.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, JSON_HEADERS } from '../helpers/host.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startTokenServer, type TokenServer } from '../helpers/tokens.js';

let cosmos: TestCosmos;
let idp: TokenServer;
let host: LocalHost;
let receiver: Receiver;

beforeAll(async () => {
    cosmos = await startTestCosmos();
    idp = await startTokenServer();
    receiver = await startReceiver();
    const authenticator = createAuthenticator(idp.settings, { logger: cosmos.services.logger });
    host = await startLocalHost({ routes, services: { ...cosmos.services, authenticator } });
});
afterAll(async () => {
    await host.close();
    await receiver.close();
    await idp.close();
    await cosmos.close();
});

const subscriptions = () => `${host.origin}/beta/subscriptions`;
const send = (url: string, token: string, method = 'GET', body?: unknown) =>
    fetch(url, {
        method,
        headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
const subscription = (clientState: string) => ({
    changeType: 'created',
    notificationUrl: receiver.url(),
    resource: 'officeConfiguration/clientConfigurations',
    expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    clientState,
});

describe('subscriptions with tokens', () => {
    it('subscribe with the read permission; without any, 403 and nothing created', async () => {
        const denied = await send(subscriptions(), await idp.appToken([]), 'POST', subscription('no-permission'));
        await expectGraphError(denied, 403, 'Authorization_RequestDenied', expect);
        expect(receiver.handshakes).toEqual([]);

        const appId = randomUUID();
        const objectId = randomUUID();
        const reader = await idp.appToken([DEFAULT_READ_PERMISSION], { claims: { azp: appId, oid: objectId } });
        const created = await send(subscriptions(), reader, 'POST', subscription('reader'));
        expect(created.status).toBe(201);
        expect(await created.json()).toMatchObject({
            applicationId: appId,
            creatorId: objectId,
            clientState: 'reader',
        });
    });

    it('lets each application see, renew and delete only its own subscriptions', async () => {
        const [mine, theirs] = await Promise.all(
            [randomUUID(), randomUUID()].map((azp) => idp.appToken([DEFAULT_READ_PERMISSION], { claims: { azp } })),
        );
        const created = await send(subscriptions(), mine!, 'POST', subscription('mine'));
        expect(created.status).toBe(201);
        const { id } = (await created.json()) as { id: string };
        const url = `${subscriptions()}/${id}`;

        const listed = (await (await send(subscriptions(), theirs!)).json()) as { value: { id: string }[] };
        expect(listed.value.map((s) => s.id)).not.toContain(id);
        await expectGraphError(await send(url, theirs!), 404, 'ResourceNotFound', expect);
        const later = { expirationDateTime: new Date(Date.now() + 7200_000).toISOString() };
        await expectGraphError(await send(url, theirs!, 'PATCH', later), 404, 'ResourceNotFound', expect);
        await expectGraphError(await send(url, theirs!, 'DELETE'), 404, 'ResourceNotFound', expect);

        const own = (await (await send(subscriptions(), mine!)).json()) as { value: { id: string }[] };
        expect(own.value.map((s) => s.id)).toEqual([id]);
        expect((await send(url, mine!)).status).toBe(200);
        expect((await send(url, mine!, 'DELETE')).status).toBe(204);
    });
});
