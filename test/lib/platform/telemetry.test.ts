/**
 * The telemetry plumbing on its own: the settings, the request scope that puts the request-id on a Cosmos DB call,
 * and the main thread's side of the worker (buffering while the SDK loads, failure). The SDK itself, and what
 * reaches Application Insights, is covered end to end by test/functions/telemetry.test.ts.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BroadcastChannel } from 'node:worker_threads';

import type { Container } from '@azure/cosmos';
import functions from '@azure/functions';
import { describe, expect, it, vi } from 'vitest';

import { routes } from '../../../functions/routes.js';
import { createHttpHandler } from '../../../lib/http/pipeline.js';
import {
    ConfigurationError,
    DEFAULT_TELEMETRY_ROLE_NAME,
    entraIdIngestion,
    loadConfig,
} from '../../../lib/platform/config.js';
import { traceIdOf } from '../../../lib/platform/requestScope.js';
import { DEFAULT_MAX_DEPENDENCIES_PER_SECOND, MAX_DEPENDENCIES_PER_SECOND } from '../../../lib/platform/sampling.js';
import type { Logger } from '../../../lib/platform/services.js';
import { startTelemetry } from '../../../lib/platform/telemetry.js';
import { AssignmentStore, type StoreCall } from '../../../lib/store/assignmentStore.js';

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
            maxDependenciesPerSecond: DEFAULT_MAX_DEPENDENCIES_PER_SECOND,
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
            maxDependenciesPerSecond: 20,
        });
    });

    it('take the sampling limit from TELEMETRY_MAX_DEPENDENCIES_PER_SECOND, a whole number up to the maximum', () => {
        const limit = (value: string) =>
            loadConfig({
                APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
                TELEMETRY_MAX_DEPENDENCIES_PER_SECOND: value,
            }).telemetry?.maxDependenciesPerSecond;
        expect(limit('5')).toBe(5);
        expect(limit(String(MAX_DEPENDENCIES_PER_SECOND))).toBe(MAX_DEPENDENCIES_PER_SECOND);
        for (const bad of ['0', '-1', '2.5', 'all', String(MAX_DEPENDENCIES_PER_SECOND + 1)]) {
            expect(() => limit(bad)).toThrow(/TELEMETRY_MAX_DEPENDENCIES_PER_SECOND/);
        }
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

const SET_DOCUMENT = { id: 'assign-version', total: 0, revision: 0, _etag: '"set"' };

/**
 * A container that answers a create's batch at once, or, for configuration `slow`, only once `release()` is called;
 * reads of the set document and queries (an assign's) wait for `release()` too. It counts the batches started.
 */
function scriptedContainer() {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const counts = { batches: 0 };
    const container = {
        items: {
            batch: async (operations: { operationType: string; resourceBody?: object }[], partitionKey: string) => {
                counts.batches += 1;
                if (partitionKey === 'slow') {
                    await released;
                }
                return {
                    code: 200,
                    headers: {},
                    result: operations.map((o) => ({
                        statusCode: o.operationType === 'Create' ? 201 : 200,
                        requestCharge: 1,
                        resourceBody: { ...o.resourceBody, _etag: '"e"' },
                    })),
                };
            },
            query: () => ({
                fetchNext: async () => {
                    await released;
                    return { resources: [], hasMoreResults: false, requestCharge: 1 };
                },
            }),
        },
        item: (_id: string, partitionKey: string) => ({
            read: async () => {
                // An assign's read waits; a create's read of the partition's last change number does not.
                if (partitionKey !== 'slow' && partitionKey.startsWith('cfg-') === false) {
                    await released;
                }
                return { resource: SET_DOCUMENT, statusCode: 200, requestCharge: 1 };
            },
        }),
    } as unknown as Container;
    return { container, counts, release };
}

const createRoute = routes.find((r) => r.name === 'officeClientConfigurationAssignments')!;
const assignRoute = routes.find((r) => r.name === 'officeClientConfigurationAssign')!;
const TARGET = { target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' } };

function post(path: string, body: unknown, traceParent?: string) {
    const request = new HttpRequest({
        method: 'POST',
        url: `http://localhost/beta/officeConfiguration/clientConfigurations/${path}`,
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify(body) },
    });
    const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: 'f',
        ...(traceParent ? { traceContext: { traceParent } } : {}),
        logHandler: () => {},
    });
    return { request, context };
}

describe('the request scope', () => {
    const setUp = (budgetMs?: number) => {
        const calls: StoreCall[] = [];
        const scripted = scriptedContainer();
        const store = new AssignmentStore(
            () => Promise.resolve(scripted.container),
            (c) => calls.push(c),
        );
        const quiet = { info: () => {}, warn: () => {}, error: () => {} };
        const services = () => ({
            store,
            clock: () => new Date(),
            logger: quiet,
            ...(budgetMs ? { requestBudgetMs: budgetMs } : {}),
        });
        return {
            calls,
            scripted,
            create: createHttpHandler(createRoute, services),
            assign: createHttpHandler(assignRoute, services),
        };
    };

    it('gives each Cosmos DB call the request-id its request is answered with, among concurrent requests', async () => {
        const { calls, create } = setUp();
        const traceId = '0af7651916cd43dd8448eb211c80319c';
        const sent = Array.from({ length: 20 }, (_, i) =>
            post(`cfg-${i}/assignments`, TARGET, `00-${traceId}-b7ad6b7169203331-01`),
        );
        const answers = await Promise.all(sent.map(({ request, context }) => create(request, context)));
        expect(answers.map((a) => a.status)).toEqual(sent.map(() => 201));
        expect(calls).toHaveLength(20);
        const requestIds = answers.map((a) => (a.headers as Record<string, string>)['request-id']);
        expect(new Set(calls.map((c) => c.scope?.requestId))).toEqual(new Set(requestIds));
        for (const [i, { context }] of sent.entries()) {
            const call = calls.find((c) => c.scope?.invocationId === context.invocationId);
            expect(call?.scope?.requestId).toBe(requestIds[i]);
        }
        expect(traceIdOf(calls[0]?.scope?.traceParent)).toBe(traceId);
    });

    it('still gives a call that ends after its request was answered (past its budget) that request-id', async () => {
        const { calls, scripted, create } = setUp(50);
        const { request, context } = post('slow/assignments', TARGET);
        const answer = await create(request, context);
        expect(answer.status).toBe(503);
        expect(calls).toHaveLength(0); // the batch is still in flight
        scripted.release();
        await vi.waitFor(() => expect(calls).toHaveLength(1));
        expect(calls[0]?.scope?.requestId).toBe((answer.headers as Record<string, string>)['request-id']);
    });

    it("carries the budget: a request out of time starts no further Cosmos call (the assign's batch after its read)", async () => {
        const { calls, scripted, assign } = setUp(50);
        const { request, context } = post('late/assign', { officeConfigurationAssignments: [TARGET] });
        const answer = await assign(request, context);
        expect(answer.status).toBe(503);
        scripted.release(); // the reads end now, after the answer
        await vi.waitFor(() => expect(calls.length).toBeGreaterThan(0));
        await new Promise((resolve) => setImmediate(resolve));
        expect(scripted.counts.batches).toBe(0);
        expect(calls.at(-1)).toMatchObject({ failure: 'unavailable' });
    });

    it('reads a trace id only from a valid traceparent', () => {
        expect(traceIdOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(
            '0af7651916cd43dd8448eb211c80319c',
        );
        expect(traceIdOf('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
        expect(traceIdOf('nonsense')).toBeUndefined();
        expect(traceIdOf(undefined)).toBeUndefined();
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

/** A stand-in for lib/platform/telemetryWorker: ready (or failing) after a while, answering flushes. */
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

    it('posts a burst of records to the worker in one message, and all of them before a flush is answered', async () => {
        // The worker tells the test what it received on a channel of their own (BroadcastChannel crosses threads).
        const channel = new BroadcastChannel('telemetry-test-batches');
        const received: { messages: number; records: number; requestIds: string[] }[] = [];
        channel.onmessage = (event: unknown) => received.push((event as { data: (typeof received)[number] }).data);
        // Sampling off: batching is what is tested, and a worker slower than the sampler's first window (100 ms, on a
        // loaded machine) would otherwise have its burst sampled.
        const unsampled = { ...settings, maxDependenciesPerSecond: MAX_DEPENDENCIES_PER_SECOND };
        const telemetry = startTelemetry(unsampled, cosmosNames, recordingLogger(), {
            workerUrl: fakeWorker(`
                import { BroadcastChannel } from 'node:worker_threads';
                const channel = new BroadcastChannel('telemetry-test-batches');
                let messages = 0;
                const requestIds = [];
                parentPort.postMessage({ kind: 'ready', loadMs: 1 });
                parentPort.on('message', (m) => {
                    if (m.kind === 'records') {
                        messages += 1;
                        requestIds.push(...m.records.map((r) => r.requestId));
                    } else {
                        channel.postMessage({ messages, records: requestIds.length, requestIds });
                        parentPort.postMessage({ kind: 'flushed', id: m.id });
                    }
                });
            `),
        });
        await telemetry.flush();
        for (let i = 0; i < 300; i += 1) {
            telemetry.observer({ ...call, scope: { requestId: `r${i}`, invocationId: `i${i}` } });
        }
        await telemetry.flush();
        await vi.waitFor(() => expect(received).toHaveLength(2));
        expect(received[1]).toMatchObject({ messages: 1, records: 300 });
        expect(received[1]?.requestIds).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`));
        channel.close();
        await telemetry.dispose();
    });

    it("samples calls past the limit with their rate, never a failure of the service's side, and posts every create charge", async () => {
        const channel = new BroadcastChannel('telemetry-test-sampling');
        type Seen = { records: { success: boolean; sampleRate: number }[]; createCharges: number[] };
        // One message per flush: the first (before any call) and the one after the calls, which may arrive late.
        const messages: Seen[] = [];
        channel.onmessage = (event: unknown) => messages.push((event as { data: Seen }).data);
        let now = 0;
        const telemetry = startTelemetry(
            { ...settings, maxDependenciesPerSecond: 50 },
            cosmosNames,
            recordingLogger(),
            {
                clock: () => now,
                workerUrl: fakeWorker(`
                import { BroadcastChannel } from 'node:worker_threads';
                const channel = new BroadcastChannel('telemetry-test-sampling');
                const records = [];
                const createCharges = [];
                parentPort.postMessage({ kind: 'ready', loadMs: 1 });
                parentPort.on('message', (m) => {
                    if (m.kind === 'records') {
                        records.push(...m.records);
                        createCharges.push(...m.createCharges);
                    } else {
                        channel.postMessage({ records, createCharges });
                        parentPort.postMessage({ kind: 'flushed', id: m.id });
                    }
                });
            `),
            },
        );
        await telemetry.flush();
        // A call every 10 ms: the first tenth of a second's 10 calls set the rate, 100 a second against a limit of 50,
        // so every second call of each tenth after it is kept, standing for 2 (a sample rate of 50%).
        for (let i = 0; i < 200; i += 1) {
            telemetry.observer({ ...call, requestCharge: i });
            now += 10;
        }
        // Failures a client causes are sampled like successes: the next tenth's 10 conflicts keep 5.
        for (let i = 0; i < 10; i += 1) {
            telemetry.observer({ ...call, failure: 'conflict', statusCode: 409 });
            now += 10;
        }
        telemetry.observer({ ...call, failure: 'throttled', statusCode: 429 });
        telemetry.observer({ ...call, operation: 'read', failure: 'unavailable' });
        await telemetry.flush();
        await vi.waitFor(() => expect(messages).toHaveLength(2));
        const seen = messages[1]!;
        const records = seen.records;
        const first = records.slice(0, 10);
        const sampled = records.slice(10, -7);
        const conflicts = records.slice(-7, -2);
        expect(first.every((r) => r.success && r.sampleRate === 100)).toBe(true);
        expect(sampled).toHaveLength(95);
        expect(sampled.every((r) => r.success && r.sampleRate === 50)).toBe(true);
        expect(conflicts.map((r) => [r.success, r.sampleRate])).toEqual(Array(5).fill([false, 50]));
        expect(records.slice(-2).map((r) => [r.success, r.sampleRate])).toEqual([
            [false, 100],
            [false, 100],
        ]);
        // The metric is fed by every create, kept or sampled out (the failed create's included).
        expect(seen.createCharges).toHaveLength(211);
        expect(seen.createCharges.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i));
        channel.close();
        await telemetry.dispose();
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

describe('the app at load, without telemetry', () => {
    /** Runs `body` in a fresh Node.js process, after counting every Worker it constructs, and reports what it saw. */
    async function inFreshProcess(body: string) {
        const script = `
            import { createRequire, syncBuiltinESMExports } from 'node:module';
            const require = createRequire(import.meta.url);
            const workerThreads = require('node:worker_threads');
            let workers = 0;
            const Worker = workerThreads.Worker;
            workerThreads.Worker = class extends Worker {
                constructor(...args) { workers += 1; super(...args); }
            };
            syncBuiltinESMExports();
            let collations = 0;
            const compare = String.prototype.localeCompare;
            String.prototype.localeCompare = function (...args) { collations += 1; return compare.apply(this, args); };
            ${body}
            await new Promise((resolve) => setImmediate(resolve));
            console.log('LOADED ' + JSON.stringify({ collations, workers }));
        `;
        // Without the preloading above: did loading \`body\` bring in node:worker_threads by itself?
        const plain = `
            ${body}
            await new Promise((resolve) => setImmediate(resolve));
            console.log('LOADED ' + JSON.stringify({ workerThreads: process.moduleLoadList.includes('NativeModule worker_threads') }));
        `;
        const run = async (code: string) => {
            const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
                env: { PATH: process.env.PATH },
            });
            const line = stdout.split('\n').find((l) => l.startsWith('LOADED '));
            return JSON.parse(line?.slice('LOADED '.length) ?? '{}') as Record<string, unknown>;
        };
        const [counted, loaded] = await Promise.all([run(script), run(plain)]);
        return { ...counted, ...loaded };
    }

    it('starts no worker thread, loads node:worker_threads no more than its SDKs do, builds no ICU collator', async () => {
        // The built entry point (vitest's global setup builds dist/), in a process of its own with no settings.
        const entry = pathToFileURL(fileURLToPath(new URL('../../../dist/functions/index.js', import.meta.url))).href;
        const app = await inFreshProcess(`await import(${JSON.stringify(entry)});`);
        // Node.js 22 itself loads node:worker_threads when an ES module imports node:util or node:http (the
        // facade reads every export), and the Azure SDKs do: what the app must not add is its own.
        const sdks = await inFreshProcess(`await import('@azure/functions'); await import('@azure/cosmos');`);
        expect(app).toEqual({ collations: 0, workers: 0, workerThreads: sdks.workerThreads });
    });
});
