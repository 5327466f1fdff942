import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { HANDSHAKE_TIMEOUT_MS } from '../../../lib/notifications/handshake.js';
import { AZURE_URL_POLICY, LOCAL_URL_POLICY } from '../../../lib/notifications/notificationUrl.js';
import {
    ANSWER_MARGIN_MS,
    AUTHENTICATION_WAIT_MS,
    AZURE_APP_SETTINGS,
    ConfigurationError,
    DEFAULT_COSMOS_CONTAINER,
    DEFAULT_COSMOS_DATABASE,
    DEFAULT_READ_PERMISSION,
    DEFAULT_WRITE_PERMISSION,
    describeAuth,
    FUNCTION_TIMEOUT_MS,
    loadConfig,
    MIN_SKIPTOKEN_KEY_LENGTH,
    SUBSCRIPTION_CREATE_BUDGET_MS,
} from '../../../lib/platform/config.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUTH = { AUTH_TENANT_ID: TENANT, AUTH_AUDIENCE: 'api://assignments' };
const SECRET = 'k'.repeat(MIN_SKIPTOKEN_KEY_LENGTH);
const AZURE = {
    WEBSITE_SITE_NAME: 'app',
    COSMOS_ENDPOINT: 'https://acct.documents.azure.com/',
    SKIPTOKEN_KEY: SECRET,
};

describe('config', () => {
    it('defaults to the embedded store locally', () => {
        expect(loadConfig({})).toEqual({
            runningInAzure: false,
            cosmos: {
                connection: { kind: 'embedded' },
                database: DEFAULT_COSMOS_DATABASE,
                container: DEFAULT_COSMOS_CONTAINER,
                requestTimeoutMs: 5000,
            },
            requestBudgetMs: 10_000,
            bodyTimeoutMs: 10_000,
            skipTokenKey: expect.any(Buffer),
            changeRetentionSeconds: 30 * 86_400,
            hostTimeouts: { headersMs: 10_000, bodyIdleMs: 10_000, requestMs: 30_000 },
            sweepIntervalMs: 30_000,
            notifications: {
                policy: LOCAL_URL_POLICY,
                tenantId: null,
                intervalMs: 2000,
                retryFirstMs: 10_000,
                retryWindowMs: 4 * 3600_000,
            },
            hostStorage: false,
        });
    });

    it('reads the delivery of change notifications: its period, retries and window; Azure accepts public https only', () => {
        const config = loadConfig({
            NOTIFICATION_INTERVAL_SECONDS: '0.1',
            NOTIFICATION_RETRY_SECONDS: '0.05',
            NOTIFICATION_RETRY_HOURS: '0.5',
        });
        expect(config.notifications).toMatchObject({ intervalMs: 100, retryFirstMs: 50, retryWindowMs: 1800_000 });
        for (const [name, value] of [
            ['NOTIFICATION_INTERVAL_SECONDS', '0'],
            ['NOTIFICATION_INTERVAL_SECONDS', 'soon'],
            ['NOTIFICATION_RETRY_SECONDS', '-1'],
            ['NOTIFICATION_RETRY_HOURS', '25'],
        ] as const) {
            expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(
                new RegExp(`^Invalid setting ${name}: `),
            );
        }
        const azure = loadConfig({ ...AZURE, ...AUTH });
        expect(azure.notifications.policy).toEqual(AZURE_URL_POLICY);
        expect(azure.notifications.tenantId).toBe(TENANT);
    });

    it("keeps a subscription's create, handshake included, within the function timeout", () => {
        const room = FUNCTION_TIMEOUT_MS - ANSWER_MARGIN_MS - AUTHENTICATION_WAIT_MS;
        expect(SUBSCRIPTION_CREATE_BUDGET_MS).toBeGreaterThan(HANDSHAKE_TIMEOUT_MS);
        expect(loadConfig({}).bodyTimeoutMs + SUBSCRIPTION_CREATE_BUDGET_MS).toBeLessThanOrEqual(room);
        // A body time that leaves the store's budget room but not the handshake's is refused.
        expect(() => loadConfig({ BODY_TIMEOUT_SECONDS: '11', REQUEST_BUDGET_MS: '5000' })).toThrow(
            /^Invalid setting BODY_TIMEOUT_SECONDS: .*a subscription's 13 s/,
        );
    });

    it('runs the sweeper every SWEEP_INTERVAL_SECONDS locally, and knows when the host has storage for timers', () => {
        expect(loadConfig({ SWEEP_INTERVAL_SECONDS: '2' }).sweepIntervalMs).toBe(2000);
        expect(() => loadConfig({ SWEEP_INTERVAL_SECONDS: '0' })).toThrow(/^Invalid setting SWEEP_INTERVAL_SECONDS: /);
        expect(loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }).hostStorage).toBe(true);
        expect(loadConfig({ AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net' }).hostStorage).toBe(
            true,
        );
        expect(loadConfig({ AzureWebJobsStorage: '' }).hostStorage).toBe(false);
    });

    it('reads the local host timeouts in seconds, the whole request no shorter than its headers', () => {
        const config = loadConfig({
            HEADERS_TIMEOUT_SECONDS: '5',
            BODY_IDLE_TIMEOUT_SECONDS: '3',
            REQUEST_TIMEOUT_SECONDS: '20',
        });
        expect(config.hostTimeouts).toEqual({ headersMs: 5000, bodyIdleMs: 3000, requestMs: 20_000 });
        const cases: [Record<string, string>, string][] = [
            [{ HEADERS_TIMEOUT_SECONDS: '0' }, 'HEADERS_TIMEOUT_SECONDS'],
            [{ BODY_IDLE_TIMEOUT_SECONDS: '10s' }, 'BODY_IDLE_TIMEOUT_SECONDS'],
            [{ REQUEST_TIMEOUT_SECONDS: '601' }, 'REQUEST_TIMEOUT_SECONDS'],
            [{ HEADERS_TIMEOUT_SECONDS: '40', REQUEST_TIMEOUT_SECONDS: '30' }, 'REQUEST_TIMEOUT_SECONDS'],
        ];
        for (const [env, setting] of cases) {
            expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid setting ${setting}: `));
        }
    });

    it('uses a key with the emulator, managed identity otherwise', () => {
        const emulator = loadConfig({ COSMOS_ENDPOINT: 'https://localhost:8081', COSMOS_KEY: 'a2V5' });
        expect(emulator.cosmos.connection).toEqual({ kind: 'key', endpoint: 'https://localhost:8081/', key: 'a2V5' });
        const azure = loadConfig({
            COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
            AZURE_CLIENT_ID: 'client',
            WEBSITE_SITE_NAME: 'app',
            ...AUTH,
            SKIPTOKEN_KEY: SECRET,
            COSMOS_DATABASE: 'db',
            COSMOS_CONTAINER: 'c',
        });
        expect(azure.runningInAzure).toBe(true);
        expect(azure.cosmos).toMatchObject({
            connection: {
                kind: 'identity',
                endpoint: 'https://acct.documents.azure.com/',
                managedIdentityClientId: 'client',
            },
            database: 'db',
            container: 'c',
        });
    });

    it('refuses limits a request could outlast the function timeout with: authentication, body and store together', () => {
        // The Functions host ends a call at host.json's functionTimeout, with a bare error: the limits keep under it.
        const host = JSON.parse(readFileSync(new URL('../../../host.json', import.meta.url), 'utf8')) as {
            functionTimeout: string;
        };
        const [hours, minutes, seconds] = host.functionTimeout.split(':').map(Number);
        expect(((hours! * 60 + minutes!) * 60 + seconds!) * 1000).toBe(FUNCTION_TIMEOUT_MS);
        const defaults = loadConfig({});
        expect(
            AUTHENTICATION_WAIT_MS + defaults.bodyTimeoutMs + defaults.requestBudgetMs + ANSWER_MARGIN_MS,
        ).toBeLessThanOrEqual(FUNCTION_TIMEOUT_MS);
        const room = FUNCTION_TIMEOUT_MS - ANSWER_MARGIN_MS - AUTHENTICATION_WAIT_MS;
        expect(loadConfig({ REQUEST_BUDGET_MS: String(room - 10_000) }).requestBudgetMs).toBe(room - 10_000);
        expect(loadConfig({ BODY_TIMEOUT_SECONDS: '3', REQUEST_BUDGET_MS: String(room - 3000) }).bodyTimeoutMs).toBe(
            3000,
        );
        const refused: [Record<string, string>, string][] = [
            [{ REQUEST_BUDGET_MS: '25000' }, 'REQUEST_BUDGET_MS'],
            [{ REQUEST_BUDGET_MS: String(room - 10_000 + 1) }, 'REQUEST_BUDGET_MS'],
            [{ BODY_TIMEOUT_SECONDS: '20' }, 'BODY_TIMEOUT_SECONDS'],
            [{ BODY_TIMEOUT_SECONDS: '0' }, 'BODY_TIMEOUT_SECONDS'],
        ];
        for (const [env, setting] of refused) {
            expect(() => loadConfig(env), JSON.stringify(env)).toThrow(new RegExp(`^Invalid setting ${setting}: `));
        }
        expect(() => loadConfig({ REQUEST_BUDGET_MS: '25000' })).toThrow(
            /past the function timeout \(host\.json: 30 s\)/,
        );
    });

    it('stops with a message naming the setting', () => {
        const cases: [Record<string, string>, string][] = [
            [{ WEBSITE_INSTANCE_ID: 'x' }, 'COSMOS_ENDPOINT'],
            [{ COSMOS_ENDPOINT: 'not a url' }, 'COSMOS_ENDPOINT'],
            [{ COSMOS_ENDPOINT: 'http://acct.documents.azure.com' }, 'COSMOS_ENDPOINT'],
            [{ COSMOS_KEY: 'k' }, 'COSMOS_KEY'],
            [{ COSMOS_DATABASE: 'a/b' }, 'COSMOS_DATABASE'],
            [{ COSMOS_CONTAINER: 'x'.repeat(256) }, 'COSMOS_CONTAINER'],
            [{ COSMOS_REQUEST_TIMEOUT_MS: '0' }, 'COSMOS_REQUEST_TIMEOUT_MS'],
            [{ COSMOS_REQUEST_TIMEOUT_MS: '5s' }, 'COSMOS_REQUEST_TIMEOUT_MS'],
            [{ REQUEST_BUDGET_MS: '30000' }, 'REQUEST_BUDGET_MS'],
            [{ PUBLIC_ORIGIN: 'https://api.contoso.com/beta' }, 'PUBLIC_ORIGIN'],
            [{ PUBLIC_ORIGIN: 'api.contoso.com' }, 'PUBLIC_ORIGIN'],
        ];
        for (const [env, setting] of cases) {
            expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigurationError);
            expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid setting ${setting}: `));
        }
    });

    it('starts from local.settings.json.sample as it is: embedded store, auth off', () => {
        const sample = JSON.parse(
            readFileSync(new URL('../../../local.settings.json.sample', import.meta.url), 'utf8'),
        ) as { Values: Record<string, string> };
        const config = loadConfig(sample.Values);
        expect(config.cosmos.connection.kind).toBe('embedded');
        expect(config.auth).toBeUndefined();
        expect(Object.keys(sample.Values)).toEqual(expect.arrayContaining([...AZURE_APP_SETTINGS]));
    });

    it('signs skiptokens with SKIPTOKEN_KEY: required in Azure, a random key per process locally', () => {
        expect(loadConfig({ SKIPTOKEN_KEY: SECRET }).skipTokenKey).toEqual(Buffer.from(SECRET));
        const local = [loadConfig({}).skipTokenKey, loadConfig({}).skipTokenKey];
        expect(local[0]?.length).toBe(32);
        expect(local[0]).not.toEqual(local[1]);
        expect(() => loadConfig({ ...AZURE, ...AUTH, SKIPTOKEN_KEY: '' })).toThrow(
            /^Invalid setting SKIPTOKEN_KEY: required in Azure/,
        );
        expect(() => loadConfig({ SKIPTOKEN_KEY: 'short' })).toThrow(/^Invalid setting SKIPTOKEN_KEY: /);
        expect(loadConfig({ ...AZURE, ...AUTH, SKIPTOKEN_KEY: SECRET }).runningInAzure).toBe(true);
    });

    it('keeps changes CHANGE_RETENTION_DAYS: 30 by default, a fraction allowed, from a minute to ten years', () => {
        expect(loadConfig({}).changeRetentionSeconds).toBe(30 * 86_400);
        expect(loadConfig({ CHANGE_RETENTION_DAYS: '7' }).changeRetentionSeconds).toBe(7 * 86_400);
        expect(loadConfig({ CHANGE_RETENTION_DAYS: '0.5' }).changeRetentionSeconds).toBe(43_200);
        expect(loadConfig({ CHANGE_RETENTION_DAYS: '3650' }).changeRetentionSeconds).toBe(3650 * 86_400);
        for (const bad of ['0', '0.0001', '-1', '3651', 'thirty', '1e3', '30 days']) {
            expect(() => loadConfig({ CHANGE_RETENTION_DAYS: bad }), bad).toThrow(
                /^Invalid setting CHANGE_RETENTION_DAYS: /,
            );
        }
    });

    it('reads the public origin clients use behind a gateway', () => {
        expect(loadConfig({ PUBLIC_ORIGIN: 'https://api.contoso.com/' }).publicOrigin).toBe('https://api.contoso.com');
        expect(loadConfig({}).publicOrigin).toBeUndefined();
    });

    it('accepts plain http only for a loopback emulator', () => {
        expect(
            loadConfig({ COSMOS_ENDPOINT: 'http://127.0.0.1:8081', COSMOS_KEY: 'a2V5' }).cosmos.connection.kind,
        ).toBe('key');
    });

    describe('auth', () => {
        it('is off locally without auth settings, and says so loudly', () => {
            const config = loadConfig({});
            expect(config.auth).toBeUndefined();
            expect(describeAuth(config)).toMatch(/^WARNING: authentication is OFF.*AUTH_TENANT_ID and AUTH_AUDIENCE/);
        });

        it('is on with a tenant and an audience, with the default authority and permissions', () => {
            const config = loadConfig({ ...AUTH, AUTH_TENANT_ID: TENANT.toUpperCase() });
            expect(config.auth).toEqual({
                tenantId: TENANT,
                audiences: ['api://assignments'],
                authority: 'https://login.microsoftonline.com',
                readPermission: DEFAULT_READ_PERMISSION,
                writePermission: DEFAULT_WRITE_PERMISSION,
            });
            expect(describeAuth(config)).toMatch(new RegExp(`^Entra ID bearer tokens required: tenant ${TENANT}`));
            expect(loadConfig({ ...AZURE, ...AUTH }).auth?.tenantId).toBe(TENANT);
        });

        it('takes several audiences, another cloud or a loopback authority, and other permission names', () => {
            const clientId = '0d5b9c1e-2a3f-4b6c-8d7e-9f0a1b2c3d4e';
            const config = loadConfig({
                ...AUTH,
                AUTH_AUDIENCE: ` api://assignments , ${clientId.toUpperCase()}`,
                AUTH_AUTHORITY: 'https://login.microsoftonline.us/',
                AUTH_READ_PERMISSION: 'Assignments.Read',
                AUTH_WRITE_PERMISSION: 'Assignments.Write',
            });
            expect(config.auth).toMatchObject({
                audiences: ['api://assignments', clientId],
                authority: 'https://login.microsoftonline.us',
                readPermission: 'Assignments.Read',
                writePermission: 'Assignments.Write',
            });
            expect(loadConfig({ ...AUTH, AUTH_AUTHORITY: 'http://127.0.0.1:4000' }).auth?.authority).toBe(
                'http://127.0.0.1:4000',
            );
        });

        it('can be turned off explicitly, but only outside Azure', () => {
            expect(loadConfig({ ...AUTH, AUTH_DISABLED: 'true' }).auth).toBeUndefined();
            expect(loadConfig({ ...AUTH, AUTH_DISABLED: 'false' }).auth?.tenantId).toBe(TENANT);
        });

        it('stops with a message naming the auth setting', () => {
            const cases: [Record<string, string>, string][] = [
                [{ ...AZURE }, 'AUTH_TENANT_ID'],
                [{ ...AZURE, AUTH_TENANT_ID: TENANT }, 'AUTH_AUDIENCE'],
                [{ ...AZURE, ...AUTH, AUTH_DISABLED: 'true' }, 'AUTH_DISABLED'],
                [{ AUTH_TENANT_ID: TENANT }, 'AUTH_AUDIENCE'],
                [{ AUTH_AUDIENCE: 'api://assignments' }, 'AUTH_TENANT_ID'],
                [{ AUTH_AUTHORITY: 'https://login.microsoftonline.us' }, 'AUTH_TENANT_ID'],
                [{ AUTH_WRITE_PERMISSION: 'X.Write' }, 'AUTH_TENANT_ID'],
                [{ ...AUTH, AUTH_TENANT_ID: 'contoso.onmicrosoft.com' }, 'AUTH_TENANT_ID'],
                [{ ...AUTH, AUTH_TENANT_ID: 'common' }, 'AUTH_TENANT_ID'],
                [{ ...AUTH, AUTH_AUDIENCE: 'assignments' }, 'AUTH_AUDIENCE'],
                [{ ...AUTH, AUTH_AUDIENCE: 'api://assignments,' }, 'AUTH_AUDIENCE'],
                [{ ...AUTH, AUTH_AUTHORITY: 'http://login.microsoftonline.com' }, 'AUTH_AUTHORITY'],
                [{ ...AUTH, AUTH_AUTHORITY: `https://login.microsoftonline.com/${TENANT}` }, 'AUTH_AUTHORITY'],
                [{ ...AUTH, AUTH_AUTHORITY: 'login.microsoftonline.com' }, 'AUTH_AUTHORITY'],
                [{ ...AUTH, AUTH_READ_PERMISSION: 'Two Words' }, 'AUTH_READ_PERMISSION'],
                [{ ...AUTH, AUTH_WRITE_PERMISSION: 'x'.repeat(121) }, 'AUTH_WRITE_PERMISSION'],
                [{ ...AUTH, AUTH_DISABLED: 'yes' }, 'AUTH_DISABLED'],
            ];
            for (const [env, setting] of cases) {
                expect(() => loadConfig(env), JSON.stringify(env)).toThrow(new RegExp(`^Invalid setting ${setting}: `));
            }
        });
    });
});
