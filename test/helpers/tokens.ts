/**
 * A stand-in for Entra ID on 127.0.0.1: an OpenID configuration and a key set for one tenant, with counts of how often
 * each was fetched, key rotation, outage switches, a way to tamper with the discovery document, and tokens minted like
 * Entra ID's (app and delegated).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';

import { type AuthSettings, DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from '../../lib/platform/config.js';

export const TEST_AUDIENCE = 'api://office-configuration-assignments-test';

export interface SigningKey {
    kid: string;
    privateKey: CryptoKey;
    publicJwk: JWK;
}

export interface MintOptions {
    /** Claims to add or replace; `undefined` removes a claim. */
    claims?: Record<string, unknown>;
    /** Signs with this key instead of the current one (e.g. one the server does not publish). */
    key?: SigningKey;
    /** `kid` header to send, when it should differ from the signing key's; `undefined` sends none. */
    kid?: string | undefined;
}

export interface TokenServer {
    /** `http://127.0.0.1:port`: what AUTH_AUTHORITY would be. */
    authority: string;
    tenantId: string;
    /** Settings that trust this server, with the default permission names. */
    settings: AuthSettings;
    fetches: { openIdConfiguration: number; jwks: number };
    /** Every path requested, in order, whether it is served or not. */
    requests: string[];
    /** While false every endpoint answers 503: Entra ID in an outage. */
    available: boolean;
    /** While false the key set alone answers 503 (discovery still works). */
    keysAvailable: boolean;
    /** How long each endpoint waits before it answers: a slow Entra ID. */
    delayMs: { openIdConfiguration: number; jwks: number };
    /** Members to add to or replace in the discovery document (`undefined` removes one). */
    discovery: Record<string, unknown>;
    /** The served key set's URL, and the v2 issuer, as the discovery document names them. */
    jwksUri: string;
    issuer: string;
    /** The key new tokens are signed with. */
    current: SigningKey;
    /** Publishes a new key and signs with it from now on; the old one stays published, as Entra ID does. */
    rotate(): Promise<SigningKey>;
    /** A key with a published `kid` but not published itself: a forged signature. */
    unpublishedKey(kid?: string): Promise<SigningKey>;
    appToken(roles?: string[], options?: MintOptions): Promise<string>;
    delegatedToken(scopes?: string[], options?: MintOptions): Promise<string>;
    mint(claims: Record<string, unknown>, options?: Omit<MintOptions, 'claims'>): Promise<string>;
    /** HS256 with a made-up secret: an attacker's token. */
    hs256Token(): Promise<string>;
    /** `alg: none`, no signature. */
    unsignedToken(): string;
    close(): Promise<void>;
}

async function newKey(kid: string = randomUUID()): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return { kid, privateKey, publicJwk };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function send(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
}

export async function startTokenServer(): Promise<TokenServer> {
    const tenantId = randomUUID();
    const keys: SigningKey[] = [await newKey()];
    const routes: Record<string, (response: ServerResponse) => void> = {};
    const serve = (request: IncomingMessage, response: ServerResponse) => {
        const path = new URL(request.url ?? '/', 'http://x').pathname;
        server.requests.push(path);
        const route = routes[path];
        if (!route) {
            send(response, 404, { error: 'not_found' });
        } else if (!server.available || (path === jwksPath && !server.keysAvailable)) {
            send(response, 503, { error: 'temporarily_unavailable' });
        } else {
            const delay = path === jwksPath ? server.delayMs.jwks : server.delayMs.openIdConfiguration;
            if (delay > 0) {
                const timer = setTimeout(() => route(response), delay);
                response.on('close', () => clearTimeout(timer));
            } else {
                route(response);
            }
        }
    };
    const listener = http.createServer(serve);
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const authority = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const issuer = `${authority}/${tenantId}/v2.0`;
    const jwksPath = `/${tenantId}/discovery/v2.0/keys`;

    routes[`/${tenantId}/v2.0/.well-known/openid-configuration`] = (response) => {
        server.fetches.openIdConfiguration += 1;
        const document = {
            issuer,
            jwks_uri: `${authority}${jwksPath}`,
            token_endpoint: `${authority}/${tenantId}/oauth2/v2.0/token`,
            id_token_signing_alg_values_supported: ['RS256'],
            ...server.discovery,
        };
        send(response, 200, document);
    };
    routes[jwksPath] = (response) => {
        server.fetches.jwks += 1;
        send(response, 200, { keys: keys.map((k) => k.publicJwk) });
    };

    const settings: AuthSettings = {
        tenantId,
        audiences: [TEST_AUDIENCE],
        authority,
        readPermission: DEFAULT_READ_PERMISSION,
        writePermission: DEFAULT_WRITE_PERMISSION,
    };

    const baseClaims = (): JWTPayload => ({
        iss: issuer,
        aud: TEST_AUDIENCE,
        tid: tenantId,
        iat: nowSeconds() - 10,
        nbf: nowSeconds() - 10,
        exp: nowSeconds() + 3600,
        oid: randomUUID(),
        ver: '2.0',
    });

    const mint: TokenServer['mint'] = async (claims, options = {}) => {
        const key = options.key ?? server.current;
        const payload = Object.fromEntries(
            Object.entries({ ...baseClaims(), ...claims }).filter(([, value]) => value !== undefined),
        );
        return await new SignJWT(payload)
            .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'kid' in options ? options.kid : key.kid })
            .sign(key.privateKey);
    };

    const server: TokenServer = {
        authority,
        tenantId,
        settings,
        fetches: { openIdConfiguration: 0, jwks: 0 },
        requests: [],
        available: true,
        keysAvailable: true,
        delayMs: { openIdConfiguration: 0, jwks: 0 },
        discovery: {},
        jwksUri: `${authority}${jwksPath}`,
        issuer,
        current: keys[0]!,
        rotate: async () => {
            const key = await newKey();
            keys.push(key);
            server.current = key;
            return key;
        },
        unpublishedKey: async (kid) => await newKey(kid ?? server.current.kid),
        appToken: async (roles = [DEFAULT_WRITE_PERMISSION], options = {}) =>
            await mint({ idtyp: 'app', roles, azp: randomUUID(), ...options.claims }, options),
        delegatedToken: async (scopes = [DEFAULT_WRITE_PERMISSION], options = {}) =>
            await mint(
                {
                    idtyp: 'user',
                    scp: scopes.join(' '),
                    name: 'Test User',
                    preferred_username: 'user@example.com',
                    ...options.claims,
                },
                options,
            ),
        mint,
        hs256Token: async () =>
            await new SignJWT({ ...baseClaims(), idtyp: 'app', roles: [DEFAULT_WRITE_PERMISSION] })
                .setProtectedHeader({ alg: 'HS256', kid: server.current.kid })
                .sign(new TextEncoder().encode('a secret an attacker chose, 32+ bytes long')),
        unsignedToken: () =>
            new UnsecuredJWT({ ...baseClaims(), idtyp: 'app', roles: [DEFAULT_WRITE_PERMISSION] }).encode(),
        close: async () => {
            const closed = once(listener, 'close');
            listener.close();
            listener.closeAllConnections();
            await closed;
        },
    };
    return server;
}
