import { describe, expect, it } from 'vitest';

import { ConfigurationError, DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE, loadConfig } from '../../lib/config.js';

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
        });
    });

    it('uses a key with the emulator, managed identity otherwise', () => {
        const emulator = loadConfig({ COSMOS_ENDPOINT: 'https://localhost:8081', COSMOS_KEY: 'a2V5' });
        expect(emulator.cosmos.connection).toEqual({ kind: 'key', endpoint: 'https://localhost:8081/', key: 'a2V5' });
        const azure = loadConfig({
            COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
            AZURE_CLIENT_ID: 'client',
            WEBSITE_SITE_NAME: 'app',
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
        ];
        for (const [env, setting] of cases) {
            expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigurationError);
            expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid setting ${setting}: `));
        }
    });

    it('accepts plain http only for a loopback emulator', () => {
        expect(
            loadConfig({ COSMOS_ENDPOINT: 'http://127.0.0.1:8081', COSMOS_KEY: 'a2V5' }).cosmos.connection.kind,
        ).toBe('key');
    });
});
