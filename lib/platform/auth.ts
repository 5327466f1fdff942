/**
 * Entra ID bearer tokens: the signature against the tenant's published keys, then issuer, audience and lifetime, then
 * the permission the request needs. A refused request gets a Graph error with an RFC 6750 challenge; nothing from the
 * token reaches a response or a log line except the caller's object id.
 */
import {
    createLocalJWKSet,
    type CryptoKey,
    errors,
    type FlattenedJWSInput,
    type JSONWebKeySet,
    type JWSHeaderParameters,
    type JWTPayload,
    jwtVerify,
    type LocalJWKSet,
} from 'jose';

import {
    type BearerChallenge,
    invalidAuthenticationToken,
    requestDenied,
    serviceUnavailable,
} from '../graph/errors.js';
import { AUTHENTICATION_WAIT_MS, type AuthSettings, isLoopback } from './config.js';
import type { Logger } from './logger.js';

/** Reads need the read (or write) permission; everything that changes data needs the write permission. */
export type Access = 'read' | 'write';

export interface Caller {
    /** `oid` of the token: the only claim that may reach the logs. */
    objectId: string | undefined;
    kind: 'application' | 'delegated';
    /** For the audit trail (never the logs): the user's sign-in name, of a delegated token. */
    userPrincipalName?: string;
    /** The client application: `azp` (v2.0 tokens) or `appid` (v1.0), and its name when the token carries one. */
    applicationId?: string;
    applicationDisplayName?: string;
    /** The permissions the token grants (scopes or app roles). */
    granted?: string[];
}

export interface Authenticator {
    /**
     * Checks the request's `Authorization` header for the access asked; throws a GraphError (401 with
     * `WWW-Authenticate`, or 403) when it does not grant it.
     */
    authenticate(authorization: string | null, access: Access): Promise<Caller>;
}

export interface AuthenticatorOptions {
    logger?: Logger;
    /**
     * How long after a key set fetch a token with an unknown `kid` must wait before it may trigger another fetch.
     * 30 s (jose's default) keeps forged `kid`s from turning into a flood of requests to Entra ID; tests shorten it.
     */
    jwksCooldownMs?: number;
    /** Milliseconds since the epoch: token lifetimes, key age, cooldown and back-off. Tests move it by hand. */
    now?: () => number;
    /**
     * The longest a request waits for an attempt at the keys (AUTHENTICATION_WAIT_MS, counted in the request's limits
     * by lib/platform/config); the attempt itself, discovery and key set, may take longer and serves later requests.
     */
    waitMs?: number;
}

/** Entra ID signs access tokens with RS256 only; anything else (HS256 with the public key, `none`) is an attack. */
const ALGORITHMS = ['RS256'];
/**
 * Clocks of Entra ID and of the instance may differ a little. Less than Microsoft.IdentityModel's 5 minutes: both
 * clocks are NTP-synchronised, and every second of tolerance is a second more for a stolen expired token.
 */
const CLOCK_SKEW_SECONDS = 60;
const FETCH_TIMEOUT_MS = 5000;
const JWKS_COOLDOWN_MS = 30_000;
/** Keys are fetched again when this old, as jose's remote key sets do. */
const KEYS_MAX_AGE_MS = 10 * 60_000;
/**
 * After a failed attempt to fetch the keys, the next waits 10 s, then 20 s and 40 s, then a minute: a few attempts a
 * minute at most, however many requests arrive, and a recovery noticed within a minute.
 */
export const BACK_OFF_FIRST_MS = 10_000;
export const BACK_OFF_MAX_MS = 60_000;
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
    constructor(
        message: string,
        cause?: unknown,
        /** Until the next attempt may be made. */
        readonly retryAfterSeconds = 1,
    ) {
        super(`${message}${causes(cause)}`, { cause });
        this.name = 'IdentityProviderUnavailable';
    }
}

// fetch hides the useful part (ECONNREFUSED, a timeout) one or two levels deep.
function causes(cause: unknown, depth = 0): string {
    return cause instanceof Error && depth < 3 ? `: ${cause.message}${causes(cause.cause, depth + 1)}` : '';
}

// A log line per failed attempt, never a stack: the cause chain's messages, on one line.
const oneLine = (error: unknown) =>
    (error instanceof IdentityProviderUnavailable ? error.message : `${String(error)}${causes(error)}`).replace(
        /\s+/g,
        ' ',
    );

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
    // `[^]*` runs to the end of the input at once, so the match is linear (` +(.*)` backtracked quadratically on
    // spaces followed by a line break).
    const match = /^bearer(?: ([^]*))?$/i.exec(authorization?.trim() ?? '');
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
        // Unread, the body would hold the connection until the fetch is collected.
        await response.body?.cancel();
        throw new IdentityProviderUnavailable(`GET ${url} answered ${response.status}`);
    }
    try {
        return await response.json();
    } catch (error) {
        throw new IdentityProviderUnavailable(`GET ${url} did not answer JSON`, error);
    }
}

// What the discovery document says is echoed into the log: quoted, on one line, bounded.
const quoted = (value: unknown) => JSON.stringify(String(value).slice(0, 200));

/**
 * The key set must come from the authority itself, under the tenant's path: a discovery document that points
 * elsewhere (another host, plain http, another tenant's keys) would let whoever altered it choose the keys that sign
 * valid tokens. Plain http only where the authority itself is a loopback http stand-in (tests).
 */
export function trustedJwksUri(value: unknown, settings: AuthSettings): URL | undefined {
    const uri = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
    const authority = new URL(settings.authority);
    const scheme =
        uri?.protocol === 'https:' ||
        (uri?.protocol === 'http:' && authority.protocol === 'http:' && isLoopback(authority));
    const underTenant = uri?.pathname.toLowerCase().startsWith(`/${settings.tenantId.toLowerCase()}/`);
    return uri && scheme && uri.host === authority.host && uri.username === '' && uri.password === '' && underTenant
        ? uri
        : undefined;
}

async function discoverJwksUri(settings: AuthSettings): Promise<URL> {
    const url = openIdConfigurationUrl(settings);
    const document = (await fetchJson(url)) as { jwks_uri?: unknown; issuer?: unknown } | null;
    // The issuer is the tenant's promise that this is its document: another one means a wrong authority or tenant
    // setting, or a document that was tampered with. Either way its keys must not be trusted.
    if (document?.issuer !== v2Issuer(settings)) {
        throw new IdentityProviderUnavailable(
            `discovery document refused: ${url} names issuer ${quoted(document?.issuer)}, expected ${quoted(v2Issuer(settings))}`,
        );
    }
    const jwksUri = trustedJwksUri(document.jwks_uri, settings);
    if (!jwksUri) {
        throw new IdentityProviderUnavailable(
            `discovery document refused: ${url} names jwks_uri ${quoted(document.jwks_uri)}, expected an https URL ` +
                `on ${new URL(settings.authority).host} under /${settings.tenantId}/`,
        );
    }
    return jwksUri;
}

async function fetchKeySet(jwksUri: URL): Promise<LocalJWKSet> {
    const document = await fetchJson(jwksUri.href);
    try {
        return createLocalJWKSet(document as JSONWebKeySet);
    } catch (error) {
        throw new IdentityProviderUnavailable(`${jwksUri.href} is not a JSON Web Key Set`, error);
    }
}

/**
 * The tenant's signing keys, fetched through its OpenID configuration and kept for the life of the process. Entra ID
 * is asked again when the keys are 10 minutes old (in the background: the old keys serve meanwhile), or when a token
 * names a key not in the set, at most once per cooldown: a forged `kid` must not become a request to Entra ID.
 * While Entra ID fails, attempts back off (10 s, 20 s, 40 s, then once a minute), concurrent requests share the
 * attempt in flight, and each failed attempt is one log line. Without keys, requests get 503 until an attempt
 * succeeds; with keys, a token signed with an unknown key is refused (401), as it is while cooling down.
 */
class SigningKeys {
    private jwksUri: URL | undefined;
    private keys: { match: LocalJWKSet; fetchedAt: number } | undefined;
    private refreshing: Promise<void> | undefined;
    private failedAttempts = 0;
    private retryAt = -Infinity;
    private lastFailure = '';

    constructor(
        private readonly settings: AuthSettings,
        private readonly logger: Logger,
        private readonly now: () => number,
        private readonly cooldownMs: number,
        private readonly waitMs: number,
    ) {}

    /** The attempt, as long as a request may wait for it: past that, a 503 (the attempt goes on). */
    private waitFor(attempt: Promise<void>): Promise<void> {
        return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new IdentityProviderUnavailable(`Entra ID did not answer within ${this.waitMs} ms`)),
                this.waitMs,
            );
            attempt.then(
                () => {
                    clearTimeout(timer);
                    resolve();
                },
                (error: Error) => {
                    clearTimeout(timer);
                    reject(error);
                },
            );
        });
    }

    readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
        // Entra ID always names the key; without a name jose would try whichever key fits.
        if (typeof header.kid !== 'string' || header.kid === '') {
            throw new TokenRejected('unknownKey');
        }
        if (!this.keys) {
            await this.waitFor(this.refresh());
        } else if (this.now() - this.keys.fetchedAt >= KEYS_MAX_AGE_MS) {
            // Failures are logged and backed off inside; the keys held keep serving.
            this.refresh().catch(() => undefined);
        }
        try {
            return await this.match(header, token);
        } catch (error) {
            if (!(error instanceof errors.JWKSNoMatchingKey) || this.now() - this.keys!.fetchedAt < this.cooldownMs) {
                throw error;
            }
            // Perhaps a key Entra ID published since; if it cannot be asked now, the keys held are the answer.
            const refreshed = await this.waitFor(this.refresh()).then(
                () => true,
                () => false,
            );
            if (!refreshed) {
                throw error;
            }
            return await this.match(header, token);
        }
    };

    private async match(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
        try {
            return await this.keys!.match(header, token);
        } catch (error) {
            if (
                error instanceof errors.JWKSNoMatchingKey ||
                error instanceof errors.JWKSMultipleMatchingKeys ||
                error instanceof errors.JOSENotSupported
            ) {
                throw error;
            }
            // A published key that cannot be imported: Entra ID's fault, not the caller's.
            throw new IdentityProviderUnavailable(
                'a published signing key could not be used',
                error,
                this.retryAfterSeconds(),
            );
        }
    }

    /** One attempt at a time, none before the back-off allows; rejects with IdentityProviderUnavailable. */
    private refresh(): Promise<void> {
        if (this.refreshing) {
            return this.refreshing;
        }
        if (this.now() < this.retryAt) {
            return Promise.reject(
                new IdentityProviderUnavailable(
                    `not asked again yet after ${this.failedAttempts} failed attempt(s): ${this.lastFailure}`,
                    undefined,
                    this.retryAfterSeconds(),
                ),
            );
        }
        const attempt = this.fetch().then(
            (match) => {
                if (this.failedAttempts > 0) {
                    this.logger.info(`Entra ID signing keys fetched after ${this.failedAttempts} failed attempt(s).`);
                }
                this.keys = { match, fetchedAt: this.now() };
                this.failedAttempts = 0;
                this.retryAt = -Infinity;
            },
            (error: unknown) => {
                this.failedAttempts += 1;
                const backOffMs = Math.min(
                    BACK_OFF_FIRST_MS * 2 ** Math.min(this.failedAttempts - 1, 16),
                    BACK_OFF_MAX_MS,
                );
                this.retryAt = this.now() + backOffMs;
                this.lastFailure = oneLine(error);
                const meanwhile = this.keys ? 'the keys already fetched stay in use' : 'requests get 503 until then';
                this.logger.error(
                    `Entra ID signing keys unavailable (${this.failedAttempts} failed attempt(s) in a row): ` +
                        `${this.lastFailure}. Next attempt in ${backOffMs / 1000} s at the earliest; ${meanwhile}.`,
                );
                throw new IdentityProviderUnavailable(this.lastFailure, undefined, this.retryAfterSeconds());
            },
        );
        this.refreshing = attempt.finally(() => {
            this.refreshing = undefined;
        });
        return this.refreshing;
    }

    private async fetch(): Promise<LocalJWKSet> {
        // Discovery is kept once it succeeded: Entra ID moves keys, not the address of its key set.
        this.jwksUri ??= await discoverJwksUri(this.settings);
        return await fetchKeySet(this.jwksUri);
    }

    private retryAfterSeconds(): number {
        return Math.max(1, Math.ceil((this.retryAt - this.now()) / 1000));
    }
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
 * again); anything else is a bug, passed on as is for lib/http/pipeline to answer 500 and log.
 */
function toGraphError(error: unknown, realm: string, logger: Logger): unknown {
    if (error instanceof IdentityProviderUnavailable) {
        const unavailable = serviceUnavailable(error.retryAfterSeconds);
        // lib/http/pipeline logs every 5xx with its request-id. The attempt that failed was logged once, with its cause; each
        // request it turns away is one line, not a stack.
        unavailable.stack = `${unavailable.name}: Entra ID signing keys unavailable: ${error.message}`;
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
    const claim = (name: string) => (typeof payload[name] === 'string' ? payload[name] : undefined);
    const caller: Caller = { objectId: claim('oid'), kind, granted };
    const userPrincipalName = kind === 'delegated' ? (claim('upn') ?? claim('preferred_username')) : undefined;
    const applicationId = claim('azp') ?? claim('appid');
    const applicationDisplayName = claim('app_displayname');
    if (userPrincipalName !== undefined) {
        caller.userPrincipalName = userPrincipalName;
    }
    if (applicationId !== undefined) {
        caller.applicationId = applicationId;
    }
    if (applicationDisplayName !== undefined) {
        caller.applicationDisplayName = applicationDisplayName;
    }
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
    const now = options.now ?? Date.now;
    const keys = new SigningKeys(
        settings,
        logger,
        now,
        options.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
        options.waitMs ?? AUTHENTICATION_WAIT_MS,
    );
    // The audience tells a client what to ask Entra ID a token for.
    const realm = settings.audiences[0] ?? '';
    const verifyOptions = () => ({
        currentDate: new Date(now()),
        algorithms: ALGORITHMS,
        issuer: acceptedIssuers(settings),
        audience: settings.audiences,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
    });
    return {
        authenticate: async (authorization, access) => {
            let payload: JWTPayload;
            try {
                payload = (await jwtVerify(bearerToken(authorization), keys.resolve, verifyOptions())).payload;
            } catch (error) {
                throw toGraphError(error, realm, logger);
            }
            return authorize(payload, access, settings, realm, logger);
        },
    };
}
