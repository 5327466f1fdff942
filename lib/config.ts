/**
 * Settings of the app: the only module that reads `process.env`. Every setting is read and checked once, at start-up,
 * so a bad value stops the app with a message that names it instead of failing on the first request.
 */

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

export interface AppConfig {
    /** True inside Azure App Service / Functions, where in-memory fallbacks are never acceptable. */
    runningInAzure: boolean;
    cosmos: CosmosSettings;
}

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

function endpoint(env: Env, name: string): string | undefined {
    const value = text(env, name);
    if (value === undefined) {
        return undefined;
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new ConfigurationError(name, `'${value}' is not an absolute URL`);
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
        throw new ConfigurationError(name, 'use https:// (plain http is accepted only for a loopback emulator)');
    }
    return url.toString();
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

export function loadConfig(env: Env = process.env): AppConfig {
    const runningInAzure = isRunningInAzure(env);
    return {
        runningInAzure,
        cosmos: {
            connection: cosmosConnection(env, runningInAzure),
            database: resourceName(env, 'COSMOS_DATABASE', DEFAULT_COSMOS_DATABASE),
            container: resourceName(env, 'COSMOS_CONTAINER', DEFAULT_COSMOS_CONTAINER),
            requestTimeoutMs: positiveInteger(env, 'COSMOS_REQUEST_TIMEOUT_MS', 5000, 60_000),
        },
    };
}
