/**
 * Entra ID bearer tokens over real HTTP: the local host with the app's authenticator, a stand-in for Entra ID on
 * 127.0.0.1 and the embedded Cosmos DB. A refused request must leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { createAuthenticator } from '../../lib/platform/auth.js';
import { DEFAULT_READ_PERMISSION } from '../../lib/platform/config.js';
import { storedConfigurationsByName } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, JSON_HEADERS, SEED_REQUEST_BODY } from '../helpers/host.js';
import { startTokenServer, TEST_AUDIENCE, type TokenServer } from '../helpers/tokens.js';

interface Stack {
    idp: TokenServer;
    host: LocalHost;
    url(configurationId: string): string;
    close(): Promise<void>;
}

let cosmos: TestCosmos;
let stack: Stack;
const configuration = storedConfigurationsByName(() => cosmos.services.store);

/** A new Entra ID stand-in and a host whose authenticator has never fetched anything. */
async function startStack(): Promise<Stack> {
    const idp = await startTokenServer();
    // No cooldown, so that a rotation is picked up at once; production keeps 30 s.
    const authenticator = createAuthenticator(idp.settings, { logger: cosmos.services.logger, jwksCooldownMs: 0 });
    const host = await startLocalHost({ routes, services: { ...cosmos.services, authenticator } });
    return {
        idp,
        host,
        url: (configurationId) =>
            `${host.origin}/beta/officeConfiguration/clientConfigurations/${configurationId}/assignments`,
        close: async () => {
            await host.close();
            await idp.close();
        },
    };
}

beforeAll(async () => {
    cosmos = await startTestCosmos();
    stack = await startStack();
});
afterAll(async () => {
    await stack.close();
    await cosmos.close();
});

const create = (url: string, token?: string) =>
    fetch(url, {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
        body: SEED_REQUEST_BODY,
    });

const list = (url: string, token: string) => fetch(url, { headers: { Authorization: `Bearer ${token}` } });

describe('auth over HTTP: 401 for every defect, nothing stored', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const defects: [string, () => Promise<string>][] = [
        ['malformed', () => Promise.resolve('not.a-jwt')],
        ['badly signed', async () => await stack.idp.appToken(undefined, { key: await stack.idp.unpublishedKey() })],
        ['expired', async () => await stack.idp.appToken(undefined, { claims: { exp: now() - 3600 } })],
        ['not yet valid', async () => await stack.idp.appToken(undefined, { claims: { nbf: now() + 3600 } })],
        [
            'from another issuer',
            async () => await stack.idp.appToken(undefined, { claims: { iss: 'https://sts.windows.net/other/' } }),
        ],
        ['for another audience', async () => await stack.idp.appToken(undefined, { claims: { aud: 'api://other' } })],
        ['HS256', async () => await stack.idp.hs256Token()],
        ['alg none', () => Promise.resolve(stack.idp.unsignedToken())],
    ];

    it('asks for a token when there is none', async () => {
        const response = await create(stack.url(await configuration('auth-missing')));
        const body = await expectGraphError(response, 401, 'InvalidAuthenticationToken', expect);
        expect(body.error.message).toBeTruthy();
        expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${TEST_AUDIENCE}"`);
        expect(await cosmos.documents(await configuration('auth-missing'))).toEqual([]);
    });

    for (const [defect, token] of defects) {
        it(`refuses a token that is ${defect}`, async () => {
            const configurationId = await configuration(`auth-${defect.replace(/\W+/g, '-')}`);
            const sent = await token();
            const response = await create(stack.url(configurationId), sent);
            const body = await expectGraphError(response, 401, 'InvalidAuthenticationToken', expect);
            expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
            expect(JSON.stringify(body)).not.toContain(sent.split('.')[1]);
            expect(await cosmos.documents(configurationId)).toEqual([]);
        });
    }
});

describe('auth over HTTP: permissions', () => {
    it('creates with a valid application token and a valid delegated token', async () => {
        const url = stack.url(await configuration('auth-ok'));
        expect((await create(url, await stack.idp.appToken())).status).toBe(201);
        expect((await create(url, await stack.idp.delegatedToken())).status).toBe(201);
        expect(await cosmos.documents(await configuration('auth-ok'))).toHaveLength(2);
    });

    it('lets a read-only token read (200) but not create or delete (403), changing nothing', async () => {
        const url = stack.url(await configuration('auth-reader'));
        const reader = await stack.idp.appToken([DEFAULT_READ_PERMISSION]);
        const denied = await create(url, reader);
        await expectGraphError(denied, 403, 'Authorization_RequestDenied', expect);
        expect(denied.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
        expect(await cosmos.documents(await configuration('auth-reader'))).toEqual([]);

        const created = (await (await create(url, await stack.idp.appToken())).json()) as { id: string };
        const listed = await list(url, reader);
        expect(listed.status).toBe(200);
        expect(((await listed.json()) as { value: unknown[] }).value).toHaveLength(1);
        const deleted = await fetch(`${url}/${created.id}`, {
            method: 'DELETE',
            headers: { Authorization: `Bearer ${reader}` },
        });
        await expectGraphError(deleted, 403, 'Authorization_RequestDenied', expect);
        expect(await cosmos.documents(await configuration('auth-reader'))).toHaveLength(1);
    });
});

describe('auth over HTTP: keys from Entra ID', () => {
    it('fetches the OpenID configuration and the key set once for many requests, again after a rotation', async () => {
        const fresh = await startStack();
        try {
            const url = fresh.url(await configuration('auth-keys'));
            const token = await fresh.idp.appToken();
            for (let i = 0; i < 20; i++) {
                const response = i % 2 === 0 ? await create(url, token) : await list(url, token);
                expect(response.status).toBeLessThan(300);
            }
            expect(fresh.idp.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });

            await fresh.idp.rotate();
            expect((await create(url, await fresh.idp.appToken())).status).toBe(201);
            expect((await create(url, token)).status).toBe(201);
            expect(fresh.idp.fetches).toEqual({ openIdConfiguration: 1, jwks: 2 });
        } finally {
            await fresh.close();
        }
    });

    it('answers 503 with Retry-After, storing nothing, while Entra ID is unreachable', async () => {
        const fresh = await startStack();
        try {
            fresh.idp.available = false;
            const response = await create(fresh.url(await configuration('auth-idp-down')), await fresh.idp.appToken());
            await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
            expect(await cosmos.documents(await configuration('auth-idp-down'))).toEqual([]);
            // The failed attempt, once with its cause; the request, one line with its request-id; no stack.
            const logged = cosmos.logs.filter((l) => l.includes('Entra ID signing keys unavailable'));
            expect(logged).toEqual([
                expect.stringMatching(
                    /^error: Entra ID signing keys unavailable \(1 failed .*openid-configuration answered 503/,
                ),
                expect.stringMatching(
                    /^error: .*request-id [0-9a-f-]+: POST \S+ failed: GraphError: Entra ID .*answered 503$/,
                ),
            ]);
            expect(logged.filter((l) => l.includes('\n'))).toEqual([]);
        } finally {
            await fresh.close();
        }
    });
});
