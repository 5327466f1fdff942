/**
 * Entra ID bearer tokens: the signature against the tenant's published keys, then issuer, audience and lifetime, then
 * the permission the request needs. A refused request gets a Graph error with an RFC 6750 challenge; nothing from the
 * token reaches a response or a log line except the caller's object id.
 */
import {
    createRemoteJWKSet,
    errors,
    type FlattenedJWSInput,
    type JWSHeaderParameters,
    type JWTPayload,
    jwtVerify,
    type RemoteJWKSet,
} from 'jose';

import { type AuthSettings, isLoopback } from './config.js';
import { type BearerChallenge, invalidAuthenticationToken, requestDenied, serviceUnavailable } from './errors.js';
import type { Access, Authenticator, Caller, Logger } from './services.js';

export interface AuthenticatorOptions {
    logger?: Logger;
    /**
     * How long after a key set fetch a token with an unknown `kid` must wait before it may trigger another fetch.
     * jose's 30 s keeps forged `kid`s from turning into a flood of requests to Entra ID; tests shorten it.
     */
    jwksCooldownMs?: number;
}

/** Entra ID signs access tokens with RS256 only; anything else (HS256 with the public key, `none`) is an attack. */
const ALGORITHMS = ['RS256'];
/**
 * Clocks of Entra ID and of the instance may differ a little. Less than Microsoft.IdentityModel's 5 minutes: both
 * clocks are NTP-synchronised, and every second of tolerance is a second more for a stolen expired token.
 */
const CLOCK_SKEW_SECONDS = 60;
const FETCH_TIMEOUT_MS = 5000;
/** Long enough for a transient outage of the sign-in endpoint to pass. */
export const IDENTITY_PROVIDER_RETRY_AFTER_SECONDS = 10;
/** Far above Entra ID's largest tokens (group overage caps them); a bigger header is not a token. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type Rejection =
    | 'missing'
    | 'malformed'
    | 'algorithm'
    | 'unknownKey'
    | 'signature'
    | 'expired'
    | 'notYetValid'
    | 'issuer'
    | 'audience'
    | 'claims';

// Fixed texts: a message built from the token would echo it to whoever sent it, and into logs.
const REJECTIONS: Record<Rejection, string> = {
    missing: 'No bearer access token: send Authorization: Bearer <token>.',
    malformed: 'The access token is not a well-formed JWT.',
    algorithm: 'The access token is not signed with an accepted algorithm (RS256).',
    unknownKey: 'The access token is signed with a key the tenant does not publish.',
    signature: 'The access token signature is invalid.',
    expired: 'The access token has expired.',
    notYetValid: 'The access token is not valid yet.',
    issuer: 'The access token was not issued by the expected tenant.',
    audience: 'The access token was not issued for this API.',
    claims: 'The access token lacks a required claim or has an invalid one.',
};

const CLAIM_REJECTIONS: Partial<Record<string, Rejection>> = { nbf: 'notYetValid', iss: 'issuer', aud: 'audience' };

class TokenRejected extends Error {
    constructor(readonly reason: Rejection) {
        super(REJECTIONS[reason]);
    }
}

/** Entra ID could not be asked for its keys: a server-side problem, so never the caller's 401. */
class IdentityProviderUnavailable extends Error {
    constructor(message: string, cause?: unknown) {
        super(`${message}${causes(cause)}`, { cause });
        this.name = 'IdentityProviderUnavailable';
    }
}

// lib/http logs one level of cause; fetch hides the useful part (ECONNREFUSED, a timeout) one or two levels deeper.
function causes(cause: unknown, depth = 0): string {
    return cause instanceof Error && depth < 3 ? `: ${cause.message}${causes(cause.cause, depth + 1)}` : '';
}

// Sovereign clouds: v1 tokens name a security token service host, not the sign-in host. Elsewhere (Azure US
// Government, a loopback test authority) v1 issuers are the authority itself.
const V1_ISSUER_HOSTS: Partial<Record<string, string>> = {
    'login.microsoftonline.com': 'https://sts.windows.net',
    'login.chinacloudapi.cn': 'https://sts.chinacloudapi.cn',
    'login.partner.microsoftonline.cn': 'https://sts.chinacloudapi.cn',
};

/** v1 and v2 issuers of the tenant: which one a token has depends on the API registration's token version. */
export function acceptedIssuers(settings: AuthSettings): string[] {
    const v1Host = V1_ISSUER_HOSTS[new URL(settings.authority).host] ?? settings.authority;
    return [`${v1Host}/${settings.tenantId}/`, v2Issuer(settings)];
}

const v2Issuer = (settings: AuthSettings) => `${settings.authority}/${settings.tenantId}/v2.0`;

export const openIdConfigurationUrl = (settings: AuthSettings) =>
    `${v2Issuer(settings)}/.well-known/openid-configuration`;

function bearerToken(authorization: string | null): string {
    const match = /^bearer(?: +(.*))?$/i.exec(authorization?.trim() ?? '');
    const token = match?.[1]?.trim();
    if (!token) {
        throw new TokenRejected('missing');
    }
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
        throw new TokenRejected('malformed');
    }
    return token;
}

async function fetchJson(url: string): Promise<unknown> {
    let response: Response;
    try {
        response = await fetch(url, {
            headers: { accept: 'application/json' },
            redirect: 'error',
            signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
    } catch (error) {
        throw new IdentityProviderUnavailable(`GET ${url} failed`, error);
    }
    if (response.status !== 200) {
        throw new IdentityProviderUnavailable(`GET ${url} answered ${response.status}`);
    }
    try {
        return await response.json();
    } catch (error) {
        throw new IdentityProviderUnavailable(`GET ${url} did not answer JSON`, error);
    }
}

async function discoverJwksUri(settings: AuthSettings, logger: Logger): Promise<URL> {
    const url = openIdConfigurationUrl(settings);
    const document = (await fetchJson(url)) as { jwks_uri?: unknown; issuer?: unknown } | null;
    const jwksUri =
        typeof document?.jwks_uri === 'string' && URL.canParse(document.jwks_uri) && new URL(document.jwks_uri);
    if (!jwksUri || !(jwksUri.protocol === 'https:' || (jwksUri.protocol === 'http:' && isLoopback(jwksUri)))) {
        throw new IdentityProviderUnavailable(`${url} has no usable https jwks_uri`);
    }
    if (document?.issuer !== v2Issuer(settings)) {
        // Issuers are derived from the settings, not taken from the document: say so when the two disagree.
        logger.warn(`${url} names issuer ${String(document?.issuer)}; tokens must be from ${v2Issuer(settings)}.`);
    }
    return jwksUri;
}

/**
 * One key set for the life of the process, created on first use: jose caches its keys and fetches them again when
 * they are 10 minutes old or a token names an unknown `kid`. A failed discovery is forgotten, so a later request
 * retries once Entra ID is reachable again.
 */
function keyResolver(settings: AuthSettings, options: AuthenticatorOptions, logger: Logger) {
    let keySet: Promise<RemoteJWKSet> | undefined;
    const open = () => {
        keySet ??= discoverJwksUri(settings, logger).then(
            (uri) =>
                createRemoteJWKSet(uri, {
                    timeoutDuration: FETCH_TIMEOUT_MS,
                    cooldownDuration: options.jwksCooldownMs,
                }),
            (error: unknown) => {
                keySet = undefined;
                throw error;
            },
        );
        return keySet;
    };
    return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
        // Entra ID always names the key; without a name jose would try whichever key fits.
        if (typeof header.kid !== 'string' || header.kid === '') {
            throw new TokenRejected('unknownKey');
        }
        const keys = await open();
        try {
            return await keys(header, token);
        } catch (error) {
            if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
                throw error;
            }
            throw new IdentityProviderUnavailable('the signing keys could not be fetched', error);
        }
    };
}

function rejectionOf(error: unknown): Rejection | undefined {
    if (error instanceof TokenRejected) {
        return error.reason;
    }
    if (error instanceof errors.JWTExpired) {
        return 'expired';
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
        return CLAIM_REJECTIONS[error.claim] ?? 'claims';
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
        return 'algorithm';
    }
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        return 'unknownKey';
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
        return 'signature';
    }
    if (
        error instanceof errors.JWSInvalid ||
        error instanceof errors.JWTInvalid ||
        error instanceof errors.JOSENotSupported
    ) {
        return 'malformed';
    }
    return undefined;
}

/**
 * 401 for a bad token, 503 when Entra ID is out of reach (the token may be fine: the client should retry, not sign in
 * again); anything else is a bug, passed on as is for lib/http to answer 500 and log.
 */
function toGraphError(error: unknown, realm: string, logger: Logger): unknown {
    if (error instanceof IdentityProviderUnavailable) {
        const unavailable = serviceUnavailable(IDENTITY_PROVIDER_RETRY_AFTER_SECONDS);
        unavailable.cause = error;
        return unavailable;
    }
    const reason = rejectionOf(error);
    if (reason === undefined) {
        return error;
    }
    logger.info(`Bearer token refused: ${reason}.`);
    const challenge: BearerChallenge =
        reason === 'missing' ? { realm } : { realm, error: 'invalid_token', description: REJECTIONS[reason] };
    return invalidAuthenticationToken(REJECTIONS[reason], challenge);
}

const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * Delegated tokens carry the user's consented scopes in `scp`; application tokens carry app roles in `roles`. A user's
 * own app roles never count: the API's roles are for applications only.
 */
function grantOf(payload: JWTPayload): { kind: Caller['kind']; granted: string[] } {
    const delegated = payload.idtyp === 'user' || (payload.idtyp !== 'app' && payload.scp !== undefined);
    if (delegated) {
        return { kind: 'delegated', granted: typeof payload.scp === 'string' ? payload.scp.split(' ') : [] };
    }
    return { kind: 'application', granted: strings(payload.roles) };
}

function authorize(payload: JWTPayload, access: Access, settings: AuthSettings, realm: string, logger: Logger): Caller {
    const { kind, granted } = grantOf(payload);
    const caller: Caller = { objectId: typeof payload.oid === 'string' ? payload.oid : undefined, kind };
    const accepted =
        access === 'write' ? [settings.writePermission] : [settings.readPermission, settings.writePermission];
    if (accepted.some((permission) => granted.includes(permission))) {
        return caller;
    }
    const what = kind === 'application' ? 'app role' : 'scope';
    logger.warn(`Caller ${caller.objectId ?? '(no oid)'} (${kind} token) lacks the permission to ${access}.`);
    const message = `Insufficient privileges to complete the operation: the ${kind} token needs the ${what} ${accepted.join(' or ')}.`;
    throw requestDenied(message, { realm, error: 'insufficient_scope', description: message, scope: accepted[0] });
}

export function createAuthenticator(settings: AuthSettings, options: AuthenticatorOptions = {}): Authenticator {
    const logger = options.logger ?? console;
    const keys = keyResolver(settings, options, logger);
    // The audience tells a client what to ask Entra ID a token for.
    const realm = settings.audiences[0] ?? '';
    const verifyOptions = {
        algorithms: ALGORITHMS,
        issuer: acceptedIssuers(settings),
        audience: settings.audiences,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
    };
    return {
        authenticate: async (authorization, access) => {
            let payload: JWTPayload;
            try {
                payload = (await jwtVerify(bearerToken(authorization), keys, verifyOptions)).payload;
            } catch (error) {
                throw toGraphError(error, realm, logger);
            }
            return authorize(payload, access, settings, realm, logger);
        },
    };
}
