/**
 * The authenticator against a local stand-in for Entra ID: what it accepts, what it refuses and how, and how often it
 * asks Entra ID for keys.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { GraphError } from '../../../lib/graph/errors.js';
import {
    acceptedIssuers,
    BACK_OFF_FIRST_MS,
    createAuthenticator,
    openIdConfigurationUrl,
    trustedJwksUri,
} from '../../../lib/platform/auth.js';
import { type AuthSettings, DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from '../../../lib/platform/config.js';
import type { Access, Authenticator, Logger } from '../../../lib/platform/services.js';
import { startTokenServer, TEST_AUDIENCE, type TokenServer } from '../../helpers/tokens.js';

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

/** A clock that moves only when told: back-off and cooldown without waiting. */
function manualClock() {
    let time = Date.now();
    return {
        now: () => time,
        advance: (ms: number) => {
            time += ms;
        },
    };
}

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
        // What the audit trail names an application by: its id (azp), and the permissions it was granted.
        expect(caller).toEqual({
            objectId: expect.any(String),
            kind: 'application',
            applicationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            granted: [DEFAULT_WRITE_PERMISSION],
        });
        await expect(auth.authenticate(`bearer ${token}`, 'read')).resolves.toMatchObject({ kind: 'application' });
    });

    it('accepts a delegated token by its scopes, among others', async () => {
        const token = await idp.delegatedToken(['openid', DEFAULT_READ_PERMISSION, 'profile']);
        await expect(authenticator().authenticate(`Bearer ${token}`, 'read')).resolves.toMatchObject({
            kind: 'delegated',
            userPrincipalName: 'user@example.com',
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

    it('reads the Authorization header in linear time, whatever it holds', async () => {
        // Spaces then a line break made the old `^bearer(?: +(.*))?$` backtrack quadratically (8,000 spaces: 150 ms).
        // Compared with a header of the same length that never backtracked, measured in the same run.
        const auth = authenticator();
        const spaces = ' '.repeat(8000);
        const elapsed = async (header: string) => {
            const start = process.hrtime.bigint();
            for (let i = 0; i < 10; i++) {
                expect((await refusal(auth, header)).status).toBe(401);
            }
            return Number(process.hrtime.bigint() - start) / 1e6;
        };
        const baseline = await elapsed(`Bearer${spaces}xx`);
        const adversarial = await elapsed(`Bearer${spaces}\nx`);
        expect(adversarial).toBeLessThan(10 * baseline + 20);
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

    it('answers 503, not 401, while Entra ID is unreachable, and recovers once the back-off allows', async () => {
        const server = await startTokenServer();
        try {
            const clock = manualClock();
            const auth = createAuthenticator(server.settings, { logger, now: clock.now });
            server.available = false;
            const token = await server.appToken();
            const error = await refusal(auth, `Bearer ${token}`, 'write');
            expect(error.status).toBe(503);
            expect(error.code).toBe('ServiceUnavailable');
            expect(error.headers['Retry-After']).toBe(String(BACK_OFF_FIRST_MS / 1000));
            expect(error.stack).toMatch(/^GraphError: Entra ID signing keys unavailable: /);
            expect(error.stack).toContain('openid-configuration answered 503');
            expect(error.stack).not.toContain('\n');
            expect(logs).toEqual([expect.stringMatching(/^error: Entra ID signing keys unavailable .*answered 503/)]);

            // Back, but not asked again before the back-off ends: the client was told when to retry.
            server.available = true;
            clock.advance(BACK_OFF_FIRST_MS - 4000);
            const early = await refusal(auth, `Bearer ${token}`, 'write');
            expect([early.status, early.headers['Retry-After']]).toEqual([503, '4']);
            expect(server.requests).toHaveLength(1);

            clock.advance(4000);
            await expect(auth.authenticate(`Bearer ${token}`, 'write')).resolves.toBeDefined();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
            expect(server.requests).toHaveLength(3);
            expect(logs.at(-1)).toMatch(/^info: Entra ID signing keys fetched after 1 failed attempt/);
        } finally {
            await server.close();
        }
        const closed = createAuthenticator(server.settings, { logger });
        expect((await refusal(closed, `Bearer ${await server.appToken()}`)).status).toBe(503);
    });

    it('keeps a request waiting for slow keys no longer than its wait; the attempt goes on for later requests', async () => {
        const server = await startTokenServer();
        try {
            // Discovery, then a key set that takes longer than a request may wait: together past what any wait allows.
            server.delayMs = { openIdConfiguration: 300, jwks: 4000 };
            const auth = createAuthenticator(server.settings, { logger, waitMs: 1000 });
            const token = await server.appToken();
            const started = Date.now();
            const error = await refusal(auth, `Bearer ${token}`, 'write');
            const waited = Date.now() - started;
            expect([error.status, error.code]).toEqual([503, 'ServiceUnavailable']);
            expect(error.stack).toContain('did not answer within 1000 ms');
            // The whole attempt (discovery + keys) would be 4.3 s; the request was let go at its 1 s wait.
            expect(waited).toBeLessThan(3000);
            expect(server.fetches.jwks).toBe(0);
            // The attempt went on: once the keys arrive, a request is served without asking again.
            await vi.waitFor(() => expect(server.fetches.jwks).toBe(1), { timeout: 10_000, interval: 100 });
            await expect(auth.authenticate(`Bearer ${token}`, 'write')).resolves.toBeDefined();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
        } finally {
            await server.close();
        }
    });

    it('backs off while Entra ID fails: a few attempts a minute, one log line each, one attempt for concurrent requests', async () => {
        const server = await startTokenServer();
        try {
            const clock = manualClock();
            const auth = createAuthenticator(server.settings, { logger, now: clock.now });
            server.available = false;
            const forged = await server.unpublishedKey('forged');
            const attempts: number[] = [];
            // Three minutes, 20 concurrent requests with random kids each second.
            for (let second = 0; second < 180; second++) {
                const before = server.requests.length;
                const tokens = await Promise.all(
                    Array.from({ length: 20 }, () => server.appToken(undefined, { key: forged, kid: randomUUID() })),
                );
                const statuses = await Promise.all(
                    tokens.map(async (t) => (await refusal(auth, `Bearer ${t}`)).status),
                );
                expect(new Set(statuses)).toEqual(new Set([503]));
                attempts.push(...Array.from({ length: server.requests.length - before }, () => second));
                clock.advance(1000);
            }
            // 10 s, 20 s, 40 s, then a minute apart.
            expect(attempts).toEqual([0, 10, 30, 70, 130]);
            const errors = logs.filter((l) => l.startsWith('error: '));
            expect(errors).toHaveLength(attempts.length);
            expect(errors.at(-1)).toMatch(/\(5 failed attempt\(s\) in a row\).*Next attempt in 60 s/);
            expect(logs.join('\n')).not.toMatch(/\n\s+at /);
        } finally {
            await server.close();
        }
    });

    it('keeps the keys it has while Entra ID fails: known keys verify, unknown ones are refused (401)', async () => {
        const server = await startTokenServer();
        try {
            const clock = manualClock();
            const auth = createAuthenticator(server.settings, { logger, now: clock.now });
            const valid = await server.appToken();
            await auth.authenticate(`Bearer ${valid}`, 'write');
            server.available = false;
            const forged = await server.appToken(undefined, { key: await server.unpublishedKey('forged-kid') });

            // In the cooldown: no fetch at all.
            expect((await refusal(auth, `Bearer ${forged}`)).status).toBe(401);
            // After it: one attempt, which fails; the token is still refused as unknown, and the back-off holds.
            clock.advance(30_000);
            const refused = await Promise.all(Array.from({ length: 10 }, () => refusal(auth, `Bearer ${forged}`)));
            expect(refused.map((e) => e.status)).toEqual(Array(10).fill(401));
            expect((await refusal(auth, `Bearer ${forged}`)).status).toBe(401);
            // Keys past their age are refreshed in the background; the old ones serve meanwhile.
            clock.advance(10 * 60_000);
            await expect(auth.authenticate(`Bearer ${valid}`, 'write')).resolves.toBeDefined();
            await expect(auth.authenticate(`Bearer ${valid}`, 'read')).resolves.toBeDefined();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
            expect(server.requests.filter((p) => p.endsWith('/keys'))).toHaveLength(3);
            // That refresh is not awaited by the request: wait for its log line.
            await vi.waitFor(() =>
                expect(logs.filter((l) => l.startsWith('error: '))).toEqual([
                    expect.stringContaining('the keys already fetched stay in use'),
                    expect.stringContaining('(2 failed attempt(s) in a row)'),
                ]),
            );
        } finally {
            await server.close();
        }
    });

    it('backs off the same way when only the key set fails, and discovers once', async () => {
        const server = await startTokenServer();
        try {
            const clock = manualClock();
            const auth = createAuthenticator(server.settings, { logger, now: clock.now });
            server.keysAvailable = false;
            const tokens = await Promise.all(Array.from({ length: 30 }, () => server.appToken()));
            for (let round = 0; round < 3; round++) {
                const errors = await Promise.all(tokens.map((t) => refusal(auth, `Bearer ${t}`)));
                expect(new Set(errors.map((e) => e.status))).toEqual(new Set([503]));
            }
            expect(server.requests).toHaveLength(2);

            server.keysAvailable = true;
            clock.advance(BACK_OFF_FIRST_MS);
            await expect(auth.authenticate(`Bearer ${tokens[0]}`, 'read')).resolves.toBeDefined();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
        } finally {
            await server.close();
        }
    });

    it('fetches the key set for unknown kids at most once per cooldown while Entra ID is healthy', async () => {
        const server = await startTokenServer();
        try {
            const clock = manualClock();
            const auth = createAuthenticator(server.settings, { logger, now: clock.now });
            const forged = await server.unpublishedKey('forged');
            const flood = async () => {
                const tokens = await Promise.all(
                    Array.from({ length: 50 }, () => server.appToken(undefined, { key: forged, kid: randomUUID() })),
                );
                const errors = await Promise.all(tokens.map((t) => refusal(auth, `Bearer ${t}`)));
                expect(new Set(errors.map((e) => e.status))).toEqual(new Set([401]));
            };
            await flood();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 1 });
            clock.advance(29_000);
            await flood();
            expect(server.fetches.jwks).toBe(1);
            clock.advance(1000);
            await flood();
            expect(server.fetches).toEqual({ openIdConfiguration: 1, jwks: 2 });
        } finally {
            await server.close();
        }
    });
});

describe('authenticator: the discovery document is checked', () => {
    it('takes the key set only from the authority over https, under the tenant', () => {
        const tenantId = idp.tenantId;
        const cloud: AuthSettings = { ...idp.settings, authority: 'https://login.microsoftonline.com' };
        const keys = `/${tenantId}/discovery/v2.0/keys`;
        const trusted = (uri: unknown, settings = cloud) => trustedJwksUri(uri, settings)?.href;
        expect(trusted(`https://login.microsoftonline.com${keys}`)).toBe(`https://login.microsoftonline.com${keys}`);
        expect(trusted(`https://login.microsoftonline.com/${tenantId.toUpperCase()}/discovery/keys`)).toBeDefined();
        for (const uri of [
            `http://login.microsoftonline.com${keys}`,
            `https://login.microsoftonline.com:8443${keys}`,
            `https://evil.example${keys}`,
            `https://login.microsoftonline.com.evil.example${keys}`,
            `https://user@login.microsoftonline.com${keys}`,
            `https://login.microsoftonline.com/common/discovery/v2.0/keys`,
            `https://login.microsoftonline.com/0f0e0d0c-0b0a-0908-0706-050403020100/discovery/v2.0/keys`,
            `https://login.microsoftonline.com/${tenantId}`,
            `https://login.microsoftonline.com/${tenantId}x/keys`,
            `http://127.0.0.1${keys}`,
            `//login.microsoftonline.com${keys}`,
            keys,
            42,
            undefined,
        ]) {
            expect(trusted(uri), String(uri)).toBeUndefined();
        }
        // Plain http only for a loopback authority, and then only on the authority's own host and port.
        expect(trusted(idp.jwksUri, idp.settings)).toBe(idp.jwksUri);
        expect(trusted(idp.jwksUri.replace('127.0.0.1', 'localhost'), idp.settings)).toBeUndefined();
        expect(trusted(`http://127.0.0.1:1${keys}`, idp.settings)).toBeUndefined();
    });

    it('refuses a key set on another host, or elsewhere on the authority: 503, logged, never fetched', async () => {
        const server = await startTokenServer();
        const elsewhere = await startTokenServer();
        try {
            const token = await server.appToken();
            const foreignKeys = `/${server.tenantId}/discovery/v2.0/keys`.replace(server.tenantId, elsewhere.tenantId);
            for (const jwksUri of [
                elsewhere.jwksUri,
                `${server.authority}/elsewhere/keys`,
                `${server.authority}${foreignKeys}`,
            ]) {
                logs = [];
                server.discovery = { jwks_uri: jwksUri };
                const before = server.requests.length;
                const error = await refusal(createAuthenticator(server.settings, { logger }), `Bearer ${token}`);
                expect([error.status, error.code]).toEqual([503, 'ServiceUnavailable']);
                expect(server.requests.slice(before)).toEqual([
                    new URL(openIdConfigurationUrl(server.settings)).pathname,
                ]);
                expect(logs).toEqual([expect.stringContaining(`discovery document refused`)]);
                expect(logs[0]).toContain(`jwks_uri ${JSON.stringify(jwksUri)}`);
            }
            expect(elsewhere.requests).toEqual([]);
        } finally {
            await server.close();
            await elsewhere.close();
        }
    });

    it('refuses a discovery document that names another issuer: 503, logged, its keys never fetched', async () => {
        const server = await startTokenServer();
        try {
            const token = await server.appToken();
            for (const issuer of [`${server.authority}/${idp.tenantId}/v2.0`, 'https://evil.example/', undefined]) {
                logs = [];
                server.discovery = { issuer };
                const error = await refusal(createAuthenticator(server.settings, { logger }), `Bearer ${token}`);
                expect(error.status).toBe(503);
                expect(logs).toEqual([
                    expect.stringMatching(
                        /^error: Entra ID signing keys unavailable .*discovery document refused: .* names issuer .*, expected /,
                    ),
                ]);
            }
            expect(server.fetches.jwks).toBe(0);
            server.discovery = {};
            await expect(
                createAuthenticator(server.settings, { logger }).authenticate(`Bearer ${token}`, 'write'),
            ).resolves.toBeDefined();
        } finally {
            await server.close();
        }
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
