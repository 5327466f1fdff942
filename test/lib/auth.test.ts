/**
 * The authenticator against a local stand-in for Entra ID: what it accepts, what it refuses and how, and how often it
 * asks Entra ID for keys.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { acceptedIssuers, createAuthenticator, openIdConfigurationUrl } from '../../lib/auth.js';
import { type AuthSettings, DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from '../../lib/config.js';
import { GraphError } from '../../lib/errors.js';
import type { Access, Authenticator, Logger } from '../../lib/services.js';
import { startTokenServer, TEST_AUDIENCE, type TokenServer } from '../helpers/tokens.js';

let idp: TokenServer;
let logs: string[];
const logger: Logger = {
    info: (m) => logs.push(`info: ${m}`),
    warn: (m) => logs.push(`warn: ${m}`),
    error: (m) => logs.push(`error: ${m}`),
};

beforeAll(async () => {
    idp = await startTokenServer();
});
afterAll(async () => {
    await idp.close();
});
beforeEach(() => {
    logs = [];
});

const authenticator = (settings: Partial<AuthSettings> = {}, jwksCooldownMs = 0) =>
    createAuthenticator({ ...idp.settings, ...settings }, { logger, jwksCooldownMs });

async function refusal(auth: Authenticator, header: string | null, access: Access = 'read'): Promise<GraphError> {
    const error: unknown = await auth.authenticate(header, access).then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
}

async function expectInvalidToken(auth: Authenticator, token: string, description: RegExp): Promise<GraphError> {
    const error = await refusal(auth, `Bearer ${token}`);
    expect(error.status).toBe(401);
    expect(error.code).toBe('InvalidAuthenticationToken');
    expect(error.headers['WWW-Authenticate']).toMatch(
        new RegExp(`^Bearer realm="${TEST_AUDIENCE}", error="invalid_token", error_description="[^"]+"$`),
    );
    expect(error.message).toMatch(description);
    return error;
}

describe('authenticator: accepted tokens', () => {
    it('accepts an application token with the write role, for reads and writes', async () => {
        const auth = authenticator();
        const token = await idp.appToken();
        const caller = await auth.authenticate(`Bearer ${token}`, 'write');
        expect(caller).toEqual({ objectId: expect.any(String), kind: 'application' });
        await expect(auth.authenticate(`bearer ${token}`, 'read')).resolves.toMatchObject({ kind: 'application' });
    });

    it('accepts a delegated token by its scopes, among others', async () => {
        const token = await idp.delegatedToken(['openid', DEFAULT_READ_PERMISSION, 'profile']);
        await expect(authenticator().authenticate(`Bearer ${token}`, 'read')).resolves.toMatchObject({
            kind: 'delegated',
        });
    });

    it('accepts v1 and v2 issuers, any configured audience, and clocks up to a minute apart', async () => {
        const auth = authenticator({ audiences: [TEST_AUDIENCE, 'b7a1f0a8-4a30-4c55-9f0e-0e1b0c9a7d11'] });
        const now = Math.floor(Date.now() / 1000);
        const tokens = [
            await idp.appToken(undefined, { claims: { iss: `${idp.authority}/${idp.tenantId}/`, ver: '1.0' } }),
            await idp.appToken(undefined, { claims: { aud: 'b7a1f0a8-4a30-4c55-9f0e-0e1b0c9a7d11' } }),
            await idp.appToken(undefined, { claims: { aud: ['other', TEST_AUDIENCE] } }),
            await idp.appToken(undefined, { claims: { exp: now - 30 } }),
            await idp.appToken(undefined, { claims: { nbf: now + 30 } }),
            await idp.appToken(undefined, { claims: { idtyp: undefined } }),
        ];
        for (const token of tokens) {
            await expect(auth.authenticate(`Bearer ${token}`, 'write')).resolves.toBeDefined();
        }
    });
});

describe('authenticator: 401 with an RFC 6750 challenge', () => {
    it('asks for a token, without an error attribute, when there is none', async () => {
        for (const header of [null, '', 'Bearer', 'Bearer   ', 'Basic dXNlcjpwYXNz']) {
            const error = await refusal(authenticator(), header);
            expect(error.status).toBe(401);
            expect(error.code).toBe('InvalidAuthenticationToken');
            expect(error.headers['WWW-Authenticate']).toBe(`Bearer realm="${TEST_AUDIENCE}"`);
        }
    });

    it('refuses a malformed token', async () => {
        for (const token of ['abc', 'a.b', 'a b.c', '!!!.???.***', 'e30.e30.', 'x'.repeat(20_000) + '.e30.e30']) {
            await expectInvalidToken(authenticator(), token, /not a well-formed JWT/);
        }
    });

    it('refuses a signature made with a key the tenant does not publish', async () => {
        const forged = await idp.appToken(undefined, { key: await idp.unpublishedKey() });
        await expectInvalidToken(authenticator(), forged, /signature is invalid/);
    });

    it('refuses an unknown kid, and a token without one', async () => {
        const stranger = await idp.appToken(undefined, { key: await idp.unpublishedKey('unknown-kid') });
        await expectInvalidToken(authenticator(), stranger, /key the tenant does not publish/);
        for (const kid of ['', undefined]) {
            const token = await idp.appToken(undefined, { kid });
            await expectInvalidToken(authenticator(), token, /key the tenant does not publish/);
        }
    });

    it('refuses any algorithm but RS256 before fetching keys', async () => {
        const before = { ...idp.fetches };
        const auth = authenticator();
        await expectInvalidToken(auth, await idp.hs256Token(), /accepted algorithm/);
        await expectInvalidToken(auth, idp.unsignedToken(), /accepted algorithm/);
        expect(idp.fetches).toEqual(before);
    });

    it('refuses expired and not-yet-valid tokens beyond the allowed skew', async () => {
        const now = Math.floor(Date.now() / 1000);
        const auth = authenticator();
        await expectInvalidToken(auth, await idp.appToken(undefined, { claims: { exp: now - 90 } }), /expired/);
        await expectInvalidToken(auth, await idp.appToken(undefined, { claims: { nbf: now + 90 } }), /not valid yet/);
        await expectInvalidToken(auth, await idp.appToken(undefined, { claims: { exp: undefined } }), /required claim/);
    });

    it('refuses another issuer, another tenant, another audience', async () => {
        const auth = authenticator();
        const otherTenant = '0f0e0d0c-0b0a-0908-0706-050403020100';
        for (const iss of [
            'https://evil.example/',
            `${idp.authority}/${otherTenant}/v2.0`,
            `https://sts.windows.net/${idp.tenantId}/`,
        ]) {
            await expectInvalidToken(auth, await idp.appToken(undefined, { claims: { iss } }), /expected tenant/);
        }
        await expectInvalidToken(auth, await idp.appToken(undefined, { claims: { iss: undefined } }), /tenant/);
        for (const aud of ['api://another-api', ['api://another-api'], undefined]) {
            await expectInvalidToken(
                auth,
                await idp.appToken(undefined, { claims: { aud } }),
                /not issued for this API/,
            );
        }
    });

    it('never echoes the token or its claims', async () => {
        const marker = 'marker-7d1f3a';
        const token = await idp.appToken(undefined, {
            claims: { iss: `https://${marker}.example/`, aud: marker, name: marker },
        });
        const error = await refusal(authenticator(), `Bearer ${token}`);
        const visible = JSON.stringify([error.message, error.headers, error.details]) + logs.join('\n');
        expect(visible).not.toContain(marker);
        expect(visible).not.toContain(token.slice(0, 20));
    });
});

describe('authenticator: 403 without the permission', () => {
    it('lets the read permission read but not write', async () => {
        const auth = authenticator();
        const reader = await idp.appToken([DEFAULT_READ_PERMISSION]);
        await expect(auth.authenticate(`Bearer ${reader}`, 'read')).resolves.toBeDefined();
        const error = await refusal(auth, `Bearer ${reader}`, 'write');
        expect(error.status).toBe(403);
        expect(error.code).toBe('Authorization_RequestDenied');
        expect(error.message).toContain(DEFAULT_WRITE_PERMISSION);
        expect(error.headers['WWW-Authenticate']).toMatch(
            new RegExp(`^Bearer realm="[^"]+", error="insufficient_scope", .*scope="${DEFAULT_WRITE_PERMISSION}"$`),
        );
    });

    it('reads permissions from the right claim for the kind of token', async () => {
        const auth = authenticator();
        const cases = [
            // A user's own app roles are not delegated permissions.
            await idp.delegatedToken(['openid'], { claims: { roles: [DEFAULT_WRITE_PERMISSION] } }),
            // Scopes in an application token are not app roles.
            await idp.appToken([], { claims: { scp: DEFAULT_WRITE_PERMISSION } }),
            await idp.appToken(['Something.Else']),
            await idp.appToken(undefined, { claims: { roles: DEFAULT_WRITE_PERMISSION } }),
            await idp.delegatedToken([`${DEFAULT_WRITE_PERMISSION}x`]),
        ];
        for (const token of cases) {
            expect((await refusal(auth, `Bearer ${token}`, 'read')).status).toBe(403);
        }
    });

    it('uses the permission names of the settings', async () => {
        const auth = authenticator({ readPermission: 'Assignments.Read', writePermission: 'Assignments.Write' });
        const writer = await idp.appToken(['Assignments.Write']);
        await expect(auth.authenticate(`Bearer ${writer}`, 'write')).resolves.toBeDefined();
        expect((await refusal(auth, `Bearer ${await idp.appToken()}`, 'read')).status).toBe(403);
    });

    it('logs the object id of the caller and no other claim', async () => {
        const oid = '11111111-2222-3333-4444-555555555555';
        const token = await idp.delegatedToken([DEFAULT_READ_PERMISSION], { claims: { oid } });
        await refusal(authenticator(), `Bearer ${token}`, 'write');
        expect(logs.join('\n')).toContain(oid);
        expect(logs.join('\n')).not.toMatch(/Test User|user@example\.com|api:\/\//);
    });
});

describe('authenticator: keys from Entra ID', () => {
    it('fetches the OpenID configuration and the key set once, even for concurrent first requests', async () => {
        const server = await startTokenServer();
        try {
            const auth = createAuthenticator(server.settings, { logger });
            const tokens = await Promise.all(Array.from({ length: 10 }, () => server.appToken()));
            await Promise.all(tokens.map((t) => auth.authenticate(`Bearer ${t}`, 'write')));
            for (const t of tokens) {
                await auth.authenticate(`Bearer ${t}`, 'read');
            }
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
        } finally {
            await server.close();
        }
    });

    it('fetches the key set again for a new kid, and no more than the cooldown allows', async () => {
        const server = await startTokenServer();
        try {
            const auth = createAuthenticator(server.settings, { logger, jwksCooldownMs: 0 });
            await auth.authenticate(`Bearer ${await server.appToken()}`, 'write');
            await server.rotate();
            await auth.authenticate(`Bearer ${await server.appToken()}`, 'write');
            await auth.authenticate(`Bearer ${await server.appToken()}`, 'write');
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 2 });

            // With jose's default cooldown a forged kid right after a fetch costs Entra ID nothing.
            const guarded = createAuthenticator(server.settings, { logger });
            await guarded.authenticate(`Bearer ${await server.appToken()}`, 'write');
            const forged = await server.appToken(undefined, { key: await server.unpublishedKey('forged-kid') });
            expect((await refusal(guarded, `Bearer ${forged}`)).status).toBe(401);
            expect(server.fetches).toEqual({ openIdConfiguration: 2, jwks: 3 });
        } finally {
            await server.close();
        }
    });

    it('answers 503, not 401, while Entra ID is unreachable, and recovers', async () => {
        const server = await startTokenServer();
        try {
            const auth = createAuthenticator(server.settings, { logger });
            server.available = false;
            const token = await server.appToken();
            const error = await refusal(auth, `Bearer ${token}`, 'write');
            expect(error.status).toBe(503);
            expect(error.code).toBe('ServiceUnavailable');
            expect(error.headers['Retry-After']).toMatch(/^\d+$/);
            expect(String((error.cause as Error).message)).toContain('openid-configuration');

            server.available = true;
            await expect(auth.authenticate(`Bearer ${token}`, 'write')).resolves.toBeDefined();
        } finally {
            await server.close();
        }
        const closed = createAuthenticator(server.settings, { logger });
        expect((await refusal(closed, `Bearer ${await server.appToken()}`)).status).toBe(503);
    });

    it('derives the v1 issuer of each cloud', () => {
        const tenantId = idp.tenantId;
        const issuers = (authority: string) => acceptedIssuers({ ...idp.settings, authority });
        expect(issuers('https://login.microsoftonline.com')).toEqual([
            `https://sts.windows.net/${tenantId}/`,
            `https://login.microsoftonline.com/${tenantId}/v2.0`,
        ]);
        expect(issuers('https://login.chinacloudapi.cn')[0]).toBe(`https://sts.chinacloudapi.cn/${tenantId}/`);
        expect(issuers('https://login.microsoftonline.us')[0]).toBe(`https://login.microsoftonline.us/${tenantId}/`);
        expect(openIdConfigurationUrl({ ...idp.settings, authority: 'https://login.microsoftonline.com' })).toBe(
            `https://login.microsoftonline.com/${tenantId}/v2.0/.well-known/openid-configuration`,
        );
    });
});
