/**
 * The telemetry plumbing on its own: the settings, the request scope that puts the request-id on a Cosmos DB call,
 * and the main thread's side of the worker (buffering while the SDK loads, failure). The SDK itself, and what
 * reaches Application Insights, is covered end to end by test/functions/telemetry.test.ts.
 */
import functions, { type HttpHandler } from '@azure/functions';
import { describe, expect, it } from 'vitest';

import {
    ConfigurationError,
    DEFAULT_TELEMETRY_ROLE_NAME,
    entraIdIngestion,
    loadConfig,
} from '../../../lib/platform/config.js';
import { instrumentHandler, type RequestScope, withRequestScope } from '../../../lib/platform/requestScope.js';
import type { Logger } from '../../../lib/platform/services.js';
import { startTelemetry } from '../../../lib/platform/telemetry.js';

const { HttpRequest, InvocationContext } = functions;

const CONNECTION = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.test/';
const CLIENT_ID = '6f1c0a52-1b0e-4c47-8f7e-4c3d9a1b2c3d';

describe('the telemetry settings', () => {
    it('are absent without a connection string, whatever else is set', () => {
        expect(loadConfig({}).telemetry).toBeUndefined();
        expect(
            loadConfig({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }).telemetry,
        ).toBeUndefined();
    });

    it('carry the connection string, the Entra ID authentication string and the role name', () => {
        expect(loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION }).telemetry).toEqual({
            connectionString: CONNECTION,
            roleName: DEFAULT_TELEMETRY_ROLE_NAME,
        });
        const inAzure = loadConfig({
            APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
            APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
            WEBSITE_SITE_NAME: 'func-assignments',
            COSMOS_ENDPOINT: 'https://acct.documents.azure.com/',
            AUTH_TENANT_ID: CLIENT_ID,
            AUTH_AUDIENCE: 'api://assignments',
            SKIPTOKEN_KEY: 'k'.repeat(32),
        });
        expect(inAzure.telemetry).toEqual({
            connectionString: CONNECTION,
            authenticationString: `ClientId=${CLIENT_ID};Authorization=AAD`,
            roleName: 'func-assignments',
        });
    });

    it('refuse a connection string without an instrumentation key, naming the setting', () => {
        for (const value of ['IngestionEndpoint=https://example.test/', 'InstrumentationKey=abc', 'nonsense']) {
            expect(() => loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: value })).toThrow(ConfigurationError);
        }
        expect(() => loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'x' })).toThrow(
            /APPLICATIONINSIGHTS_CONNECTION_STRING/,
        );
    });

    it('read the identity of Entra ID ingestion from the authentication string', () => {
        expect(entraIdIngestion('Authorization=AAD')).toEqual({});
        expect(entraIdIngestion(`ClientId=${CLIENT_ID.toUpperCase()};Authorization=AAD`)).toEqual({
            clientId: CLIENT_ID,
        });
        expect(entraIdIngestion(` authorization = aad ; clientid = ${CLIENT_ID} `)).toEqual({ clientId: CLIENT_ID });
        expect(entraIdIngestion(`ClientId=${CLIENT_ID}`)).toBeUndefined();
        expect(entraIdIngestion('ClientId=not-a-guid;Authorization=AAD')).toBeUndefined();
        expect(() =>
            loadConfig({
                APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
                APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
            }),
        ).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
    });
});

const request = () => new HttpRequest({ method: 'GET', url: 'http://localhost/beta/x' });
const context = (traceParent?: string) =>
    new InvocationContext({
        invocationId: 'invocation-1',
        functionName: 'f',
        ...(traceParent ? { traceContext: { traceParent } } : {}),
        logHandler: () => {},
    });

describe('the request scope', () => {
    it('is absent outside a function invocation: records go at once', () => {
        const seen: (RequestScope | undefined)[] = [];
        withRequestScope((scope) => seen.push(scope));
        expect(seen).toEqual([undefined]);
    });

    it('holds calls made during the invocation until the handler answers, then gives them its request-id', async () => {
        const seen: (RequestScope | undefined)[] = [];
        let late: Promise<void> | undefined;
        const handler: HttpHandler = async () => {
            await Promise.resolve();
            withRequestScope((scope) => seen.push(scope));
            expect(seen).toEqual([]); // not yet: the request-id is made by the pipeline, known on the answer
            // An operation that ends after the answer (past its time budget).
            late = new Promise((resolve) =>
                setTimeout(() => resolve(withRequestScope((scope) => seen.push(scope))), 20),
            );
            return { status: 201, headers: { 'request-id': 'rid-1' } };
        };
        const traceId = '0af7651916cd43dd8448eb211c80319c';
        await instrumentHandler(handler)(request(), context(`00-${traceId}-b7ad6b7169203331-01`));
        expect(seen).toEqual([expect.objectContaining({ requestId: 'rid-1', invocationId: 'invocation-1', traceId })]);

        // The late call still finds the request-id, and is recorded at once.
        await late;
        expect(seen).toHaveLength(2);
        expect(seen[1]).toMatchObject({ requestId: 'rid-1' });
    });

    it('lets the held calls go when the handler throws, without a request-id or an unusable trace id', async () => {
        const seen: (RequestScope | undefined)[] = [];
        const handler: HttpHandler = () => {
            withRequestScope((scope) => seen.push(scope));
            return Promise.reject(new Error('boom'));
        };
        await expect(
            instrumentHandler(handler)(request(), context('00-00000000000000000000000000000000-b7ad6b7169203331-01')),
        ).rejects.toThrow('boom');
        expect(seen).toHaveLength(1);
        expect(seen[0]).toEqual({ invocationId: 'invocation-1' });
    });
});

function recordingLogger(): Logger & { lines: string[] } {
    const lines: string[] = [];
    return {
        lines,
        info: (m) => lines.push(`info: ${m}`),
        warn: (m) => lines.push(`warn: ${m}`),
        error: (m) => lines.push(`error: ${m}`),
    };
}

/** A stand-in for lib/telemetryWorker: ready (or failing) after a while, answering flushes. */
function fakeWorker(body: string): URL {
    const source = `import { parentPort } from 'node:worker_threads';\n${body}`;
    return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

const call = { operation: 'create', requestCharge: 6.3, durationMs: 12, statusCode: 201 };
const cosmosNames = { database: 'db', container: 'c' };
const settings = { connectionString: CONNECTION, roleName: 'test' };

describe('the telemetry worker, seen from the app', () => {
    it('buffers a bounded number of records while the SDK loads, and says how many it dropped', async () => {
        const logger = recordingLogger();
        const telemetry = startTelemetry(settings, cosmosNames, logger, {
            maxBuffered: 2,
            workerUrl: fakeWorker(`
                setTimeout(() => parentPort.postMessage({ kind: 'ready', loadMs: 42 }), 200);
                parentPort.on('message', (m) => m.kind === 'flush' && parentPort.postMessage({ kind: 'flushed', id: m.id }));
            `),
        });
        for (let i = 0; i < 5; i += 1) {
            telemetry.observer(call);
        }
        expect(telemetry.state()).toBe('starting');
        await telemetry.flush();
        expect(telemetry.state()).toBe('ready');
        expect(logger.lines).toEqual([
            expect.stringMatching(/^info: .*worker thread in 42 ms/),
            'warn: Application Insights: 3 records were dropped while the SDK loaded.',
        ]);
        await telemetry.dispose();
        expect(telemetry.state()).toBe('closed');
    });

    it('turns itself off, with one error, when the SDK cannot load', async () => {
        const logger = recordingLogger();
        const telemetry = startTelemetry(settings, cosmosNames, logger, {
            workerUrl: fakeWorker(`parentPort.postMessage({ kind: 'failed', message: 'no SDK here' });`),
        });
        telemetry.observer(call);
        await telemetry.flush(5000);
        expect(telemetry.state()).toBe('failed');
        telemetry.observer(call); // dropped, quietly
        expect(logger.lines).toEqual(['error: Application Insights is off: no SDK here']);
        await telemetry.dispose();
    });

    it('keeps the process alive until the last of concurrent flushes has ended', async () => {
        const telemetry = startTelemetry(settings, cosmosNames, recordingLogger(), {
            // Flush 4 (the second of the concurrent pair) is answered well after flush 3.
            workerUrl: fakeWorker(`
                parentPort.postMessage({ kind: 'ready', loadMs: 1 });
                parentPort.on('message', (m) => m.kind === 'flush' &&
                    setTimeout(() => parentPort.postMessage({ kind: 'flushed', id: m.id }), m.id === 4 ? 300 : 10));
            `),
        });
        await telemetry.flush();
        const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
        const idle = ports();
        await telemetry.flush(); // the ready, idle worker holds nothing between flushes
        expect(ports()).toBe(idle);

        const first = telemetry.flush();
        const second = telemetry.flush();
        let secondDone = false;
        void second.then(() => (secondDone = true));
        await first;
        expect(secondDone).toBe(false);
        expect(ports(), 'the worker is still held for the second flush').toBe(idle + 1);
        await second;
        expect(ports()).toBe(idle);
        await telemetry.dispose();
    });

    it('starts no worker when disposed before the app finished registering', async () => {
        const logger = recordingLogger();
        const telemetry = startTelemetry(settings, cosmosNames, logger, {
            workerUrl: fakeWorker(`throw new Error('must not run');`),
        });
        await telemetry.dispose();
        expect(telemetry.state()).toBe('closed');
        expect(logger.lines).toEqual([]);
    });
});
