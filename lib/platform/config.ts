/**
 * Settings of the app: the only module that reads `process.env`. Every setting is read and checked once, at start-up,
 * so a bad value stops the app with a message that names it instead of failing on the first request.
 */

import { randomBytes } from 'node:crypto';

import { HANDSHAKE_TIMEOUT_MS } from '../notifications/handshake.js';
import { AZURE_URL_POLICY, LOCAL_URL_POLICY, type NotificationUrlPolicy } from '../notifications/notificationUrl.js';
import { DEFAULT_CHANGE_RETENTION_DAYS } from '../store/changeLog.js';
import { DEFAULT_MAX_DEPENDENCIES_PER_SECOND, MAX_DEPENDENCIES_PER_SECOND } from './sampling.js';

export const DEFAULT_COSMOS_DATABASE = 'officeConfiguration';
export const DEFAULT_COSMOS_CONTAINER = 'clientConfigurationAssignments';

/** The settings a deployment in Azure must provide; the Bicep sets each of them (checked by test/infra). */
export const AZURE_APP_SETTINGS = [
    'COSMOS_ENDPOINT',
    'COSMOS_DATABASE',
    'COSMOS_CONTAINER',
    'AZURE_CLIENT_ID',
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    'AUTH_TENANT_ID',
    'AUTH_AUDIENCE',
    'SKIPTOKEN_KEY',
] as const;

export type CosmosConnection =
    /** No endpoint configured: an in-process Cosmos-protocol server holds the data in memory. */
    | { kind: 'embedded' }
    /** An account key: the Cosmos DB emulator, or an account that still allows local auth. */
    | { kind: 'key'; endpoint: string; key: string }
    /** Microsoft Entra ID: managed identity in Azure, developer credentials elsewhere. */
    | { kind: 'identity'; endpoint: string; managedIdentityClientId: string | undefined };

export interface CosmosSettings {
    connection: CosmosConnection;
    database: string;
    container: string;
    /** Time one Cosmos request may take before the SDK gives up on it. */
    requestTimeoutMs: number;
}

export const DEFAULT_AUTH_AUTHORITY = 'https://login.microsoftonline.com';
export const DEFAULT_READ_PERMISSION = 'DeviceManagementConfiguration.Read.All';
export const DEFAULT_WRITE_PERMISSION = 'DeviceManagementConfiguration.ReadWrite.All';

/** Who may call the API: Entra ID bearer tokens of one tenant, for this API, carrying one of two permissions. */
export interface AuthSettings {
    /** Directory (tenant) id, a lowercase GUID. */
    tenantId: string;
    /** What `aud` may be: the App ID URI (v1 tokens) and/or the client id (v2 tokens). */
    audiences: string[];
    /** Entra ID's sign-in host, without a trailing slash: differs in sovereign clouds. */
    authority: string;
    /** App role (application tokens) or scope (delegated tokens) that allows reads. */
    readPermission: string;
    /** App role or scope that allows reads and writes. */
    writePermission: string;
}

/** Application Insights, for the app's own telemetry (Cosmos DB dependencies); the Functions host sends requests. */
export interface TelemetrySettings {
    connectionString: string;
    /**
     * `Authorization=AAD` (system-assigned identity) or `ClientId=<guid>;Authorization=AAD` (user-assigned): ingestion
     * with a Microsoft Entra ID token, as a resource with local auth off requires. Absent: the instrumentation key.
     */
    authenticationString?: string;
    /** `cloud_RoleName` of the records: the Function app's name in Azure, as the host's own records carry. */
    roleName: string;
    /**
     * The most successful Cosmos DB calls recorded a second (lib/platform/sampling); past it they are sampled, each
     * record carrying its sample rate. Unset in the settings: host.json's default, 20.
     */
    maxDependenciesPerSecond?: number;
}

export const DEFAULT_TELEMETRY_ROLE_NAME = 'office-client-configuration-assignments';

export interface AppConfig {
    /** True inside Azure App Service / Functions, where in-memory fallbacks are never acceptable. */
    runningInAzure: boolean;
    cosmos: CosmosSettings;
    /**
     * Time a request may spend on storage, from when its body is in. It ends a request stuck on storage with a 503
     * before the Functions host's own timeout (host.json: 30 s), which would answer with a bare 500.
     */
    requestBudgetMs: number;
    /** Time a body may take to arrive once the function asks for it, whichever host serves it: past it, 408. */
    bodyTimeoutMs: number;
    /**
     * The origin clients use (`https://api.contoso.com`), when a gateway in front of the app (API Management, Front
     * Door) rewrites the Host: every absolute URL the service writes (Location, @odata.context, @odata.nextLink)
     * starts with it. Absent: the request's own origin.
     */
    publicOrigin?: string;
    /**
     * HMAC key of `$skiptoken`s (SKIPTOKEN_KEY), so that a client cannot forge one. Every instance must share it, so
     * Azure requires the setting; a local run makes a random one (its tokens end with the process).
     */
    skipTokenKey: Buffer;
    /**
     * How long the change log keeps each change (CHANGE_RETENTION_DAYS): delta tokens and audit events live as long.
     * Cosmos DB's TTL removes older records.
     */
    changeRetentionSeconds: number;
    /** Absent when requests are served without a token: only ever locally. */
    auth?: AuthSettings;
    /** Absent without APPLICATIONINSIGHTS_CONNECTION_STRING: then the telemetry SDK is never loaded. */
    telemetry?: TelemetrySettings;
    /** How long the local host waits for each part of a request (the Functions host has its own limits). */
    hostTimeouts: HostTimeoutSettings;
    /**
     * How often the local host runs the sweeper (SWEEP_INTERVAL_SECONDS); in Azure its timer trigger's schedule
     * decides (functions/triggers.ts).
     */
    sweepIntervalMs: number;
    notifications: NotificationSettings;
    /**
     * Whether the Functions host has the storage its timer triggers need (AzureWebJobsStorage, or its identity-based
     * form): always in Azure; under `func start` only with Azurite or an account.
     */
    hostStorage: boolean;
}

export const DEFAULT_SWEEP_INTERVAL_SECONDS = 30;

/** Milliseconds; set in seconds. */
export interface HostTimeoutSettings {
    headersMs: number;
    bodyIdleMs: number;
    requestMs: number;
}

/**
 * The limits one request keeps to, together, within the Functions host's own (host.json `functionTimeout`, 30 s),
 * where the host would end the call with a bare error instead of the app's Graph-shaped 408 or 503: waiting for
 * Entra ID's keys (AUTHENTICATION_WAIT_MS), reading the body (BODY_TIMEOUT_SECONDS), the store (REQUEST_BUDGET_MS),
 * and a margin to write the answer.
 */
export const FUNCTION_TIMEOUT_MS = 30_000;
export const ANSWER_MARGIN_MS = 2_000;
/** The longest a request waits for Entra ID's signing keys; a fetch still running goes on for the next requests. */
export const AUTHENTICATION_WAIT_MS = 5_000;
export const DEFAULT_REQUEST_BUDGET_MS = 10_000;
export const DEFAULT_BODY_TIMEOUT_SECONDS = 10;
/**
 * A subscription's create waits for its endpoints' validation handshake (Graph gives a receiver 10 s) and then writes:
 * its budget is at least the handshake's time and 3 s for the store, whatever REQUEST_BUDGET_MS says.
 */
export const SUBSCRIPTION_CREATE_BUDGET_MS = HANDSHAKE_TIMEOUT_MS + 3_000;

export const DEFAULT_NOTIFICATION_INTERVAL_SECONDS = 2;
export const DEFAULT_NOTIFICATION_RETRY_SECONDS = 10;
export const DEFAULT_NOTIFICATION_RETRY_HOURS = 4;

/** Change notifications (lib/notifications, lib/jobs/notifier.ts). */
export interface NotificationSettings {
    /** Which notification URLs are accepted: in Azure https to public addresses only; locally http to loopback too. */
    policy: NotificationUrlPolicy;
    /** The tenant each notification names: AUTH_TENANT_ID, null when authentication is off. */
    tenantId: string | null;
    /** How often the local host's scheduler runs the delivery (NOTIFICATION_INTERVAL_SECONDS); in Azure its timer. */
    intervalMs: number;
    /** The first wait after a failed delivery (NOTIFICATION_RETRY_SECONDS); it doubles with each failure. */
    retryFirstMs: number;
    /** How long a receiver may keep failing before what it missed is passed over (NOTIFICATION_RETRY_HOURS). */
    retryWindowMs: number;
}

export const DEFAULT_HEADERS_TIMEOUT_SECONDS = 10;
/** Ten years: far past any audit requirement, well within Cosmos DB's largest `ttl` (2^31 - 1 seconds). */
export const MAX_CHANGE_RETENTION_DAYS = 3650;
export const DEFAULT_BODY_IDLE_TIMEOUT_SECONDS = 10;
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

export class ConfigurationError extends Error {
    constructor(
        readonly setting: string,
        problem: string,
    ) {
        super(`Invalid setting ${setting}: ${problem}`);
        this.name = 'ConfigurationError';
    }
}

type Env = Readonly<Record<string, string | undefined>>;

/** App Service (and so every Functions plan, Flex Consumption included) sets these on every instance. */
export function isRunningInAzure(env: Env): boolean {
    return Boolean(env.WEBSITE_INSTANCE_ID || env.WEBSITE_SITE_NAME);
}

function text(env: Env, name: string): string | undefined {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
}

// Cosmos DB resource ids: 1 to 255 characters, none of / \ ? # (the service rejects them).
function resourceName(env: Env, name: string, fallback: string): string {
    const value = text(env, name) ?? fallback;
    if (value.length > 255 || /[/\\?#]/.test(value) || value.endsWith(' ')) {
        throw new ConfigurationError(name, 'a Cosmos DB resource name has at most 255 characters and no / \\ ? #');
    }
    return value;
}

function absoluteUrl(env: Env, name: string): URL | undefined {
    const value = text(env, name);
    if (value === undefined) {
        return undefined;
    }
    try {
        return new URL(value);
    } catch {
        throw new ConfigurationError(name, `'${value}' is not an absolute URL`);
    }
}

function endpointUrl(env: Env, name: string): URL | undefined {
    const url = absoluteUrl(env, name);
    if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
        throw new ConfigurationError(name, 'use https:// (plain http is accepted only on a loopback address)');
    }
    return url;
}

const endpoint = (env: Env, name: string): string | undefined => endpointUrl(env, name)?.toString();

export function isLoopback(url: URL): boolean {
    return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** An origin only (scheme, host, port): the service adds `/beta` and the paths itself. */
function origin(env: Env, name: string): string | undefined {
    const url = absoluteUrl(env, name);
    const value = text(env, name);
    if (url && (!['https:', 'http:'].includes(url.protocol) || url.origin !== value?.replace(/\/$/, ''))) {
        throw new ConfigurationError(name, `expected an origin such as https://api.contoso.com, got '${value}'`);
    }
    return url?.origin;
}

function positiveInteger(env: Env, name: string, fallback: number, max: number): number {
    const value = text(env, name);
    if (value === undefined) {
        return fallback;
    }
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
        throw new ConfigurationError(name, `expected a whole number from 1 to ${max}, got '${value}'`);
    }
    return Number(value);
}

/**
 * The change log's retention in seconds, from CHANGE_RETENTION_DAYS: days, a fraction allowed (0.5 is 12 hours; the
 * race suites keep a few minutes), from a minute to MAX_CHANGE_RETENTION_DAYS.
 */
function changeRetentionSeconds(env: Env): number {
    const name = 'CHANGE_RETENTION_DAYS';
    const value = text(env, name);
    if (value === undefined) {
        return DEFAULT_CHANGE_RETENTION_DAYS * 86_400;
    }
    const seconds = Math.round(Number(value) * 86_400);
    if (!/^\d{1,4}(\.\d{1,6})?$/.test(value) || seconds < 60 || Number(value) > MAX_CHANGE_RETENTION_DAYS) {
        throw new ConfigurationError(
            name,
            `expected a number of days from 0.0007 (a minute) to ${MAX_CHANGE_RETENTION_DAYS}, got '${value}'`,
        );
    }
    return seconds;
}

/** A number of seconds (or hours), a fraction allowed, within bounds: the race suites run delivery in tenths of a second. */
function fraction(env: Env, name: string, fallback: number, min: number, max: number, unit: string): number {
    const value = text(env, name);
    if (value === undefined) {
        return fallback;
    }
    if (!/^\d{1,5}(\.\d{1,6})?$/.test(value) || Number(value) < min || Number(value) > max) {
        throw new ConfigurationError(name, `expected a number of ${unit} from ${min} to ${max}, got '${value}'`);
    }
    return Number(value);
}

function notificationSettings(env: Env, runningInAzure: boolean, auth: AuthSettings | undefined): NotificationSettings {
    return {
        policy: runningInAzure ? AZURE_URL_POLICY : LOCAL_URL_POLICY,
        tenantId: auth?.tenantId ?? null,
        intervalMs:
            fraction(
                env,
                'NOTIFICATION_INTERVAL_SECONDS',
                DEFAULT_NOTIFICATION_INTERVAL_SECONDS,
                0.05,
                3600,
                'seconds',
            ) * 1000,
        retryFirstMs:
            fraction(env, 'NOTIFICATION_RETRY_SECONDS', DEFAULT_NOTIFICATION_RETRY_SECONDS, 0.01, 3600, 'seconds') *
            1000,
        retryWindowMs:
            fraction(env, 'NOTIFICATION_RETRY_HOURS', DEFAULT_NOTIFICATION_RETRY_HOURS, 0.0001, 24, 'hours') *
            3_600_000,
    };
}

function cosmosConnection(env: Env, runningInAzure: boolean): CosmosConnection {
    const cosmosEndpoint = endpoint(env, 'COSMOS_ENDPOINT');
    const key = text(env, 'COSMOS_KEY');
    if (cosmosEndpoint === undefined) {
        if (runningInAzure) {
            throw new ConfigurationError('COSMOS_ENDPOINT', 'required in Azure (data must never live only in memory)');
        }
        if (key !== undefined) {
            throw new ConfigurationError('COSMOS_KEY', 'set COSMOS_ENDPOINT too: a key alone names no account');
        }
        return { kind: 'embedded' };
    }
    if (key !== undefined) {
        return { kind: 'key', endpoint: cosmosEndpoint, key };
    }
    return { kind: 'identity', endpoint: cosmosEndpoint, managedIdentityClientId: text(env, 'AZURE_CLIENT_ID') };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Tokens name their tenant by GUID in `iss`: a domain name would need one more lookup before any token could be checked.
function tenantId(env: Env): string | undefined {
    const value = text(env, 'AUTH_TENANT_ID');
    if (value !== undefined && !GUID.test(value)) {
        throw new ConfigurationError(
            'AUTH_TENANT_ID',
            'expected the Directory (tenant) ID, a GUID (not a domain name)',
        );
    }
    return value?.toLowerCase();
}

function audiences(env: Env): string[] | undefined {
    const value = text(env, 'AUTH_AUDIENCE');
    if (value === undefined) {
        return undefined;
    }
    const list = value.split(',').map((a) => a.trim());
    for (const audience of list) {
        if (!GUID.test(audience) && !URL.canParse(audience)) {
            throw new ConfigurationError(
                'AUTH_AUDIENCE',
                'expected the App ID URI (api://...) and/or the client id (a GUID), separated by commas',
            );
        }
    }
    // Entra ID writes client ids in lowercase; App ID URIs are compared as registered.
    return list.map((a) => (GUID.test(a) ? a.toLowerCase() : a));
}

function authority(env: Env): string {
    const url = endpointUrl(env, 'AUTH_AUTHORITY');
    if (url === undefined) {
        return DEFAULT_AUTH_AUTHORITY;
    }
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
        throw new ConfigurationError(
            'AUTH_AUTHORITY',
            'expected the sign-in host only, e.g. https://login.microsoftonline.us',
        );
    }
    return url.origin;
}

// App role values and scopes: one token of printable ASCII, since `scp` separates them with spaces.
function permission(env: Env, name: string, fallback: string): string {
    const value = text(env, name) ?? fallback;
    if (!/^[\x21-\x7e]{1,120}$/.test(value)) {
        throw new ConfigurationError(name, 'expected an app role or scope name: printable characters, no spaces');
    }
    return value;
}

const OPTIONAL_AUTH_SETTINGS = ['AUTH_AUTHORITY', 'AUTH_READ_PERMISSION', 'AUTH_WRITE_PERMISSION'] as const;

function authDisabled(env: Env, runningInAzure: boolean): boolean {
    const value = text(env, 'AUTH_DISABLED');
    if (value === undefined) {
        return false;
    }
    if (runningInAzure) {
        throw new ConfigurationError(
            'AUTH_DISABLED',
            'not allowed in Azure: remove it (the API always requires tokens there)',
        );
    }
    if (value !== 'true' && value !== 'false') {
        throw new ConfigurationError('AUTH_DISABLED', `expected true or false, got '${value}'`);
    }
    return value === 'true';
}

/**
 * Auth is on as soon as any AUTH_* setting is given, and then it must be complete: a half-configured deployment
 * fails at start-up rather than silently serving everyone.
 */
function authSettings(env: Env, runningInAzure: boolean): AuthSettings | undefined {
    if (authDisabled(env, runningInAzure)) {
        return undefined;
    }
    const tenant = tenantId(env);
    const audience = audiences(env);
    const anyOptional = OPTIONAL_AUTH_SETTINGS.some((name) => text(env, name) !== undefined);
    if (tenant === undefined && audience === undefined && !anyOptional && !runningInAzure) {
        return undefined;
    }
    const why = runningInAzure ? 'required in Azure' : 'required once any AUTH_* setting is given';
    if (tenant === undefined) {
        throw new ConfigurationError('AUTH_TENANT_ID', why);
    }
    if (audience === undefined) {
        throw new ConfigurationError('AUTH_AUDIENCE', why);
    }
    return {
        tenantId: tenant,
        audiences: audience,
        authority: authority(env),
        readPermission: permission(env, 'AUTH_READ_PERMISSION', DEFAULT_READ_PERMISSION),
        writePermission: permission(env, 'AUTH_WRITE_PERMISSION', DEFAULT_WRITE_PERMISSION),
    };
}

export const MIN_SKIPTOKEN_KEY_LENGTH = 32;

function skipTokenKey(env: Env, runningInAzure: boolean): Buffer {
    const value = text(env, 'SKIPTOKEN_KEY');
    if (value === undefined) {
        if (runningInAzure) {
            throw new ConfigurationError(
                'SKIPTOKEN_KEY',
                'required in Azure: every instance must sign paging tokens alike',
            );
        }
        return randomBytes(32);
    }
    if (value.length < MIN_SKIPTOKEN_KEY_LENGTH) {
        throw new ConfigurationError(
            'SKIPTOKEN_KEY',
            `expected a random secret of at least ${MIN_SKIPTOKEN_KEY_LENGTH} characters`,
        );
    }
    return Buffer.from(value, 'utf8');
}

/** `key=value` pairs separated by `;`, keys compared without case: the syntax of both Application Insights settings. */
function settingPairs(value: string): Map<string, string> {
    const pairs = new Map<string, string>();
    for (const part of value.split(';')) {
        const at = part.indexOf('=');
        if (part.trim() !== '' && at > 0) {
            pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
        }
    }
    return pairs;
}

/** The identity an APPLICATIONINSIGHTS_AUTHENTICATION_STRING names: `clientId` absent means the system-assigned one. */
export function entraIdIngestion(authenticationString: string): { clientId?: string } | undefined {
    const pairs = settingPairs(authenticationString);
    if (pairs.get('authorization')?.toLowerCase() !== 'aad') {
        return undefined;
    }
    const clientId = pairs.get('clientid');
    if (clientId !== undefined && !GUID.test(clientId)) {
        return undefined;
    }
    return clientId === undefined ? {} : { clientId: clientId.toLowerCase() };
}

function telemetrySettings(env: Env): TelemetrySettings | undefined {
    const connectionString = text(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
    const authenticationString = text(env, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    if (connectionString === undefined) {
        return undefined;
    }
    const key = settingPairs(connectionString).get('instrumentationkey');
    if (key === undefined || !GUID.test(key)) {
        throw new ConfigurationError(
            'APPLICATIONINSIGHTS_CONNECTION_STRING',
            "expected an Application Insights connection string with 'InstrumentationKey=<guid>'",
        );
    }
    if (authenticationString !== undefined && entraIdIngestion(authenticationString) === undefined) {
        throw new ConfigurationError(
            'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
            "expected 'Authorization=AAD' or 'ClientId=<client id GUID>;Authorization=AAD'",
        );
    }
    return {
        connectionString,
        ...(authenticationString !== undefined ? { authenticationString } : {}),
        roleName: text(env, 'WEBSITE_SITE_NAME') ?? DEFAULT_TELEMETRY_ROLE_NAME,
        maxDependenciesPerSecond: positiveInteger(
            env,
            'TELEMETRY_MAX_DEPENDENCIES_PER_SECOND',
            DEFAULT_MAX_DEPENDENCIES_PER_SECOND,
            MAX_DEPENDENCIES_PER_SECOND,
        ),
    };
}

/** A slow client holds a connection and a request slot: seconds, not node's default minutes. */
function hostTimeouts(env: Env): HostTimeoutSettings {
    const headers = positiveInteger(env, 'HEADERS_TIMEOUT_SECONDS', DEFAULT_HEADERS_TIMEOUT_SECONDS, 600);
    const bodyIdle = positiveInteger(env, 'BODY_IDLE_TIMEOUT_SECONDS', DEFAULT_BODY_IDLE_TIMEOUT_SECONDS, 600);
    const request = positiveInteger(env, 'REQUEST_TIMEOUT_SECONDS', DEFAULT_REQUEST_TIMEOUT_SECONDS, 600);
    if (request < headers) {
        throw new ConfigurationError(
            'REQUEST_TIMEOUT_SECONDS',
            `the whole request (${request} s) cannot take less than its headers (HEADERS_TIMEOUT_SECONDS, ${headers} s)`,
        );
    }
    return { headersMs: headers * 1000, bodyIdleMs: bodyIdle * 1000, requestMs: request * 1000 };
}

/** The store's budget and the body's time, refused together when a request could outlast the function timeout. */
function requestLimits(env: Env): { requestBudgetMs: number; bodyTimeoutMs: number } {
    const requestBudgetMs = positiveInteger(env, 'REQUEST_BUDGET_MS', DEFAULT_REQUEST_BUDGET_MS, FUNCTION_TIMEOUT_MS);
    const bodyTimeoutMs =
        positiveInteger(env, 'BODY_TIMEOUT_SECONDS', DEFAULT_BODY_TIMEOUT_SECONDS, FUNCTION_TIMEOUT_MS / 1000) * 1000;
    // A subscription's create has a budget of its own, the handshake's time included.
    const longest =
        AUTHENTICATION_WAIT_MS +
        bodyTimeoutMs +
        Math.max(requestBudgetMs, SUBSCRIPTION_CREATE_BUDGET_MS) +
        ANSWER_MARGIN_MS;
    if (longest > FUNCTION_TIMEOUT_MS) {
        throw new ConfigurationError(
            // The one raised above its default, else the budget (both were).
            bodyTimeoutMs > DEFAULT_BODY_TIMEOUT_SECONDS * 1000 && requestBudgetMs <= DEFAULT_REQUEST_BUDGET_MS
                ? 'BODY_TIMEOUT_SECONDS'
                : 'REQUEST_BUDGET_MS',
            `a request could take ${longest / 1000} s (authentication ${AUTHENTICATION_WAIT_MS / 1000} s + ` +
                `BODY_TIMEOUT_SECONDS ${bodyTimeoutMs / 1000} s + REQUEST_BUDGET_MS ${requestBudgetMs / 1000} s, or ` +
                `a subscription's ${SUBSCRIPTION_CREATE_BUDGET_MS / 1000} s if longer, + ` +
                `${ANSWER_MARGIN_MS / 1000} s to answer), past the function timeout (host.json: ` +
                `${FUNCTION_TIMEOUT_MS / 1000} s); the three may add up to ` +
                `${(FUNCTION_TIMEOUT_MS - ANSWER_MARGIN_MS) / 1000} s`,
        );
    }
    return { requestBudgetMs, bodyTimeoutMs };
}

export function loadConfig(env: Env = process.env): AppConfig {
    const runningInAzure = isRunningInAzure(env);
    const cosmos: CosmosSettings = {
        connection: cosmosConnection(env, runningInAzure),
        database: resourceName(env, 'COSMOS_DATABASE', DEFAULT_COSMOS_DATABASE),
        container: resourceName(env, 'COSMOS_CONTAINER', DEFAULT_COSMOS_CONTAINER),
        requestTimeoutMs: positiveInteger(env, 'COSMOS_REQUEST_TIMEOUT_MS', 5000, 60_000),
    };
    const { requestBudgetMs, bodyTimeoutMs } = requestLimits(env);
    const publicOrigin = origin(env, 'PUBLIC_ORIGIN');
    const auth = authSettings(env, runningInAzure);
    const telemetry = telemetrySettings(env);
    const timeouts = hostTimeouts(env);
    return {
        runningInAzure,
        cosmos,
        requestBudgetMs,
        bodyTimeoutMs,
        skipTokenKey: skipTokenKey(env, runningInAzure),
        changeRetentionSeconds: changeRetentionSeconds(env),
        hostTimeouts: timeouts,
        sweepIntervalMs: positiveInteger(env, 'SWEEP_INTERVAL_SECONDS', DEFAULT_SWEEP_INTERVAL_SECONDS, 3600) * 1000,
        notifications: notificationSettings(env, runningInAzure, auth),
        hostStorage:
            runningInAzure ||
            Object.keys(env).some((name) => /^AzureWebJobsStorage(__\w+)?$/.test(name) && (env[name] ?? '') !== ''),
        ...(publicOrigin ? { publicOrigin } : {}),
        ...(auth ? { auth } : {}),
        ...(telemetry ? { telemetry } : {}),
    };
}

/** One line for the start-up log: loud when requests are served without a token. */
export function describeAuth(config: AppConfig): string {
    const { auth } = config;
    if (auth === undefined) {
        return (
            'WARNING: authentication is OFF: every request is served without a bearer token. For local use only; ' +
            'set AUTH_TENANT_ID and AUTH_AUDIENCE to require Entra ID tokens.'
        );
    }
    return (
        `Entra ID bearer tokens required: tenant ${auth.tenantId}, audience ${auth.audiences.join(' or ')}, ` +
        `reads need ${auth.readPermission} or ${auth.writePermission}, writes need ${auth.writePermission}.`
    );
}
