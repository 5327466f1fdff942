/**
 * Application Insights, end to end, in fresh processes: the built app (dist/functions/index.js) and the deployment
 * package (`npm run package`'s zip, unpacked where no node_modules can help it) are each loaded by a harness that
 * plays the Functions host (test/fixtures/functions-host), against the embedded Cosmos DB over HTTP. Records go to
 * an ingestion endpoint in this process, which the connection string points to: what the SDK really sends.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
    DEFAULT_COSMOS_CONTAINER,
    DEFAULT_COSMOS_DATABASE,
    DEFAULT_TELEMETRY_ROLE_NAME,
} from '../../lib/platform/config.js';
import { MAX_DEPENDENCIES_PER_SECOND } from '../../lib/platform/sampling.js';
import { type EmbeddedCosmos, startEmbeddedCosmos } from '../../lib/store/embeddedCosmos.js';
import { buildPackage } from '../../scripts/package.js';
import { type Envelope, type Ingestion, startIngestion } from '../helpers/ingestion.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(repo, 'test', 'fixtures', 'functions-host');
const functionsLibrary = pathToFileURL(join(repo, 'node_modules', '@azure', 'functions', 'dist', 'azure-functions.js'));

interface HarnessResult {
    traceId: string;
    registered: string[];
    hooks: string[];
    created: { status: number; headers: Record<string, string> };
    missing: { status: number; headers: Record<string, string> };
    requireCache: string[];
}

let work: string;
let cosmos: EmbeddedCosmos;
let ingestion: Ingestion;
let ingestionUrl: string;
let caFile: string;
let received: Envelope[];
const entries: Record<'dist' | 'bundle', string> = { dist: '', bundle: '' };

/** The deployment zip, unpacked in a folder of its own: nothing outside it can be loaded by accident. */
async function unpackBundle(): Promise<string> {
    const { zip } = await buildPackage(join(work, 'package'), join(work, 'deploy.zip'));
    const target = join(work, 'deployed');
    for (const [name, data] of Object.entries(unzipSync(await readFile(zip)))) {
        await mkdir(dirname(join(target, name)), { recursive: true });
        await writeFile(join(target, name), data);
    }
    return join(target, 'index.js');
}

async function runHarness(
    entry: string,
    env: Record<string, string>,
): Promise<{ result: HarnessResult; resolved: string[]; output: string }> {
    const resolveLog = join(work, `resolved-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    await writeFile(resolveLog, '');
    const child = spawn(
        process.execPath,
        [
            '--import',
            pathToFileURL(join(fixtures, 'resolve-log.mjs')).href,
            join(fixtures, 'harness.mjs'),
            pathToFileURL(entry).href,
            functionsLibrary.href,
        ],
        {
            cwd: work,
            env: {
                PATH: process.env.PATH,
                NODE_PATH: join(fixtures, 'modules'),
                RESOLVE_LOG: resolveLog,
                COSMOS_ENDPOINT: cosmos.endpoint,
                COSMOS_KEY: cosmos.key,
                ...env,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    const line = output.split('\n').find((l) => l.startsWith('RESULT '));
    if (code !== 0 || line === undefined) {
        throw new Error(`the harness exited ${code}:\n${output}`);
    }
    const resolved = (await readFile(resolveLog, 'utf8')).split('\n').filter(Boolean);
    return { result: JSON.parse(line.slice('RESULT '.length)) as HarnessResult, resolved, output };
}

beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'telemetry-test-'));
    cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    ingestion = await startIngestion();
    ({ url: ingestionUrl, received } = ingestion);
    // The exporter always sends over HTTPS: the child processes trust this certificate, and only it, in addition.
    caFile = join(work, 'ingestion-ca.pem');
    await writeFile(caFile, ingestion.cert);
    entries.dist = join(repo, 'dist', 'functions', 'index.js');
    entries.bundle = await unpackBundle();
});

afterAll(async () => {
    await ingestion?.close();
    await cosmos?.close();
    await rm(work, { recursive: true, force: true });
});

const SDK = /\/node_modules\/applicationinsights\//;
const WORKER = /\/telemetryWorker\.js$/;

describe.each(['dist', 'bundle'] as const)('the app from %s', (target) => {
    it('never loads the telemetry SDK or its worker without a connection string', async () => {
        const before = received.length;
        const { result, resolved } = await runHarness(entries[target], {});

        expect(result.created.status).toBe(201);
        expect(result.registered).toContain('officeClientConfigurationAssignments');
        expect(result.hooks).not.toContain('appTerminate');
        expect(resolved.length).toBeGreaterThan(5); // the log works: the app's own modules are in it
        expect(resolved.filter((url) => SDK.test(url) || WORKER.test(url))).toEqual([]);
        expect(result.requireCache).toEqual([]);
        expect(received.length).toBe(before);
    });

    it('sends a dependency record with the request charge for a create, a metric, and no request record', async () => {
        const instrumentationKey =
            target === 'dist' ? '11111111-1111-4111-8111-111111111111' : '22222222-2222-4222-8222-222222222222';
        const { result, resolved, output } = await runHarness(entries[target], {
            APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${ingestionUrl}`,
            NODE_EXTRA_CA_CERTS: caFile,
            // The SDK's own usage statistics go to Microsoft's endpoint, which this machine cannot reach.
            APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
            // Every call recorded, however slow the machine: under the default limit (20 a second) only the first
            // tenth of a second is recorded whole, and a loaded machine's harness runs past it. At this limit a tenth
            // keeps every call unless it saw more than 10,000, whatever the clock (lib/platform/sampling has its own
            // tests).
            TELEMETRY_MAX_DEPENDENCIES_PER_SECOND: String(MAX_DEPENDENCIES_PER_SECOND),
        });
        expect(result.created.status).toBe(201);
        expect(result.missing.status).toBe(404);
        expect(output).toMatch(/Cosmos DB dependencies are recorded \(SDK loaded on a worker thread/);
        // Loaded, and only on the worker thread: the main thread's module cache never holds it.
        expect(resolved.some((url) => WORKER.test(url))).toBe(true);
        if (target === 'dist') {
            expect(resolved.some((url) => SDK.test(url))).toBe(true);
        }
        expect(result.requireCache).toEqual([]);

        const mine = received.filter((e) => e.iKey === instrumentationKey);
        const dependencies = mine.filter((e) => e.data.baseType === 'RemoteDependencyData');
        // Nothing sampled out: each record stands for its call alone (no sample rate, or 100).
        expect(dependencies.map((e) => e.sampleRate ?? 100)).toEqual(dependencies.map(() => 100));
        // The assignment's create, not the configuration's made before it.
        const create = dependencies.find(
            (e) =>
                e.data.baseData.name === 'create' &&
                e.data.baseData.properties?.['request-id'] === result.created.headers['request-id'],
        );
        expect(create?.data.baseData).toMatchObject({
            type: 'Azure DocumentDB',
            target: `${DEFAULT_COSMOS_DATABASE}/${DEFAULT_COSMOS_CONTAINER}`,
            success: true,
        });
        const properties = create!.data.baseData.properties!;
        // The embedded server charges 1 RU for everything; Cosmos DB charges its real cost.
        expect(Number(properties.requestCharge)).toBeGreaterThan(0);
        expect(properties.statusCode).toBe('201');
        expect(properties['request-id']).toBe(result.created.headers['request-id']);
        expect(properties.invocationId).toBe('invocation-create');
        expect(properties.activityId).toMatch(/^[0-9a-f-]{36}$/);
        // Joined to the host's request telemetry through the invocation's trace id.
        expect(create!.tags['ai.operation.id']).toBe(result.traceId);
        expect(create!.tags['ai.cloud.role']).toBe(DEFAULT_TELEMETRY_ROLE_NAME);

        // The assignment's read (its configuration's document is read alongside, and found).
        const read = dependencies.find(
            (e) => e.data.baseData.name === 'read' && e.data.baseData.properties?.statusCode === '404',
        );
        expect(read?.data.baseData.properties).toMatchObject({
            statusCode: '404',
            'request-id': result.missing.headers['request-id'],
        });

        const metrics = mine
            .filter((e) => e.data.baseType === 'MetricData')
            .flatMap((e) => e.data.baseData.metrics as { name: string; value: number; count: number }[]);
        expect(metrics.find((m) => m.name === 'cosmos.requestCharge.create')).toMatchObject({ count: 1 });
        expect(mine.filter((e) => e.data.baseType === 'RequestData')).toEqual([]);
    });
});

describe('sampled dependencies', () => {
    it('reach Application Insights with their sample rate, so that the records kept stand for every call', async () => {
        const instrumentationKey = '33333333-3333-4333-8333-333333333333';
        const telemetryModule = pathToFileURL(join(repo, 'dist', 'lib', 'platform', 'telemetry.js')).href;
        // The app's telemetry module and worker on a clock of the script's own: a call every 10 ms, 100 a second,
        // against a limit of 10 a second.
        const script = `
            const { startTelemetry } = await import(${JSON.stringify(telemetryModule)});
            let now = 0;
            const logger = { info() {}, warn() {}, error: (m) => console.error(m) };
            const telemetry = startTelemetry(
                { connectionString: process.env.CONNECTION, roleName: 'sampling', maxDependenciesPerSecond: 10 },
                { database: 'd', container: 'c' }, logger, { clock: () => now });
            for (let i = 0; i < 40; i += 1) {
                telemetry.observer({ operation: 'read', requestCharge: 1, durationMs: 1, statusCode: 200 });
                now += 10;
            }
            await telemetry.flush(30000);
            await telemetry.dispose();
        `;
        // A file, not `-e`: the worker thread inherits the process's flags, and `--input-type` is refused there.
        const scriptFile = join(work, 'sampling.mjs');
        await writeFile(scriptFile, script);
        const child = spawn(process.execPath, [scriptFile], {
            cwd: work,
            env: {
                PATH: process.env.PATH,
                CONNECTION: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${ingestionUrl}`,
                NODE_EXTRA_CA_CERTS: caFile,
                APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
            },
            stdio: ['ignore', 'ignore', 'pipe'],
        });
        let errors = '';
        child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
        const [code] = (await once(child, 'close')) as [number | null];
        expect({ code, errors }).toEqual({ code: 0, errors: '' });

        const dependencies = received.filter(
            (e) => e.iKey === instrumentationKey && e.data.baseType === 'RemoteDependencyData',
        );
        // The first tenth of a second's 10 calls at 100%, while the rate is measured; then one call of each later
        // tenth's 10, at 10%, standing for all 10.
        expect(dependencies).toHaveLength(13);
        expect(dependencies.map((e) => e.sampleRate ?? 100).sort((a, b) => a - b)).toEqual([
            10,
            10,
            10,
            ...Array<number>(10).fill(100),
        ]);
        expect(dependencies.reduce((sum, e) => sum + 100 / (e.sampleRate ?? 100), 0)).toBe(40);
        // The rate travels in the envelope, not as a custom dimension.
        expect(dependencies.some((e) => 'microsoft.sample_rate' in (e.data.baseData.properties ?? {}))).toBe(false);
    });
});
