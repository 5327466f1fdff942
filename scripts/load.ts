/**
 * `npm run load`: drives the app with autocannon (N creates at concurrency C), then counts what Cosmos DB holds.
 *
 * Three roles, two processes: this process runs the embedded Cosmos DB and the load generator (autocannon), so the
 * two share one process and its core; the app runs in a child process (the same `npm start` script), reaching Cosmos
 * over loopback HTTP. The run starts with a warm-up (`--warmup` creates, to another configuration, not counted), and
 * the rate is the count over our own clock's span from the first request to the last answer (scripts/timedAutocannon).
 * With
 * `--outage`, Cosmos stops listening for a few seconds mid-run and then comes back with its data: every 201 must
 * be stored, every failure must be a 503 or 429 with Retry-After, and creates must succeed again afterwards.
 * With `--instances N` (N > 1), the app runs scaled out as Azure runs it: N processes, each with its own Cosmos DB
 * client, behind a round-robin front that runs in this process too (scripts/cluster.ts).
 *
 * With `--store azure-serverless` (or `azure-autoscale`), the embedded server stands behind the Azure-like simulation
 * of Cosmos DB (lib/store/simulator): milliseconds a call, request charges within the account's RU/s, session
 * consistency.
 *
 *   npm run load -- --requests 10000 --concurrency 64 [--warmup 500] [--outage] [--outage-ms 3000] [--instances 1]
 *                   [--store embedded|azure-serverless|azure-autoscale]
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';

import { type CosmosSettings, DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../lib/platform/config.js';
import { openEmbeddedContainer } from '../lib/store/cosmosClient.js';
import { startEmbeddedCosmos } from '../lib/store/embeddedCosmos.js';
import type { PresetName } from '../lib/store/simulator/profile.js';
import { startSimulatedCosmos } from '../lib/store/simulator/simulatedCosmos.js';
import { newConfiguration, startAppProcess } from './appProcess.js';
import { startCluster } from './cluster.js';
import { timedAutocannon } from './timedAutocannon.js';

export interface LoadOptions {
    requests: number;
    concurrency: number;
    /** Stop Cosmos DB for this long, a third of the way into the run. */
    outageMs?: number;
    /** Creates sent first, to another configuration, and not counted: the app's code paths warm. Default 0. */
    warmup?: number;
    /** Print autocannon's progress bar (not its results table, whose rates are per 10 ms sample). */
    progress?: boolean;
    /** App processes; more than one run behind a round-robin front (scripts/cluster.ts). Default 1. */
    instances?: number;
    /**
     * What the app stores in: the embedded Cosmos DB as it is (default), or that server behind the Azure-like
     * simulation (lib/store/simulator): latency, request charges and their RU/s budget, session consistency.
     */
    store?: LoadStore;
}

export const LOAD_STORES = ['embedded', 'azure-serverless', 'azure-autoscale'] as const;
export type LoadStore = (typeof LOAD_STORES)[number];

const PRESET_OF: Record<Exclude<LoadStore, 'embedded'>, PresetName> = {
    'azure-serverless': 'azureServerless',
    'azure-autoscale': 'azureAutoscaleFloor',
};

/** Where the load generator runs: printed with every run, since it shares a process (and cores) with the store. */
export const LOAD_GENERATOR_NOTE =
    'load generator: autocannon in this process, which also runs the embedded Cosmos DB; the app runs in its own ' +
    'process. On a small machine the three compete for cores: the rate is a floor of what the app can do.';

/** Printed besides LOAD_GENERATOR_NOTE when the app runs scaled out: the front is one more tenant of this process. */
export const CLUSTER_NOTE =
    'scaled out: the app instances are processes of their own; the round-robin front before them runs in this ' +
    'process, with the load generator and the store.';

export interface LoadReport {
    /** App processes that served the run (behind a round-robin front when more than one). */
    instances: number;
    /** With more than one instance: the requests the front handed to each, the warm-up and set-up included. */
    requestsPerInstance?: number[];
    requests: number;
    concurrency: number;
    /** Warm-up creates sent before the run, not counted anywhere below. */
    warmup: number;
    /** From the first request to the last answer, by our own clock (not autocannon's whole-second ticks). */
    durationSeconds: number;
    requestsPerSecond: number;
    latencyMs: { p50: number; p99: number };
    statusCounts: Record<string, number>;
    non201: number;
    acknowledged: number;
    stored: number;
    /** Acknowledged (201) but not found in Cosmos DB: must be 0. */
    lost: number;
    /** Stored without a 201: writes that reached Cosmos DB while their connection broke (answered 503). */
    storedWithoutAcknowledgement: number;
    /** Failures without a Retry-After header, or with a status other than 503 and 429: must be 0. */
    badFailures: number;
    outage?: {
        startedAtMs: number;
        endedAtMs: number;
        /** Creates of the load run answered 201 after storage came back. */
        createdAfterRecovery: number;
        /** From storage coming back to the first 201: of the run, or of a probe sent after a run that ended first. */
        recoveredAfterMs: number;
    };
}

const SEED_BODY = JSON.stringify({
    '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
    target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
});

/** autocannon hands over the raw header names, in the case the server wrote them. */
function hasHeader(headers: Record<string, unknown> | undefined, name: string): boolean {
    return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}

/** The project folder: the nearest one up with a package.json, from scripts/ as from dist/scripts/. */
function projectRoot(): string {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) {
        dir = dirname(dir);
    }
    return dir;
}

const root = projectRoot();

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
    const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    const store = options.store ?? 'embedded';
    // What the app talks to (and what an outage stops): the simulation in front of the server, or the server.
    const front =
        store === 'embedded' ? cosmos : await startSimulatedCosmos({ profile: PRESET_OF[store], backend: cosmos });
    const settings: CosmosSettings = {
        connection: { kind: 'key', endpoint: cosmos.endpoint, key: cosmos.key },
        database: DEFAULT_COSMOS_DATABASE,
        container: DEFAULT_COSMOS_CONTAINER,
        requestTimeoutMs: 5000,
    };
    const opened = await openEmbeddedContainer(settings, cosmos);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, COSMOS_ENDPOINT: front.endpoint, COSMOS_KEY: front.key };
    const app = await startApp(env, options.instances ?? 1);
    let configurationId: string;
    const acknowledged = new Set<string>();
    const statusCounts: Record<string, number> = {};
    let badFailures = 0;
    let createdAfterRecovery = 0;
    let recoveredAt: number | undefined;
    let firstCreatedAfterRecovery: number | undefined;
    const collection = (id: string) => `${app.origin}/beta/officeConfiguration/clientConfigurations/${id}/assignments`;
    const warmup = options.warmup ?? 0;
    let started = Date.now();
    let outage: LoadReport['outage'];

    try {
        // Assignments belong to a configuration that exists: one for the run, one for the warm-up.
        configurationId = await newConfiguration(app.origin, 'load');
        if (warmup > 0) {
            const warm = await timedAutocannon({
                url: collection(await newConfiguration(app.origin, 'load')),
                connections: Math.min(options.concurrency, warmup),
                amount: warmup,
                timeout: 30,
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: SEED_BODY,
            });
            if (warm.result['2xx'] !== warmup) {
                throw new Error(`warm-up: ${warm.result['2xx']} of ${warmup} creates answered 2xx`);
            }
        }
        started = Date.now();
        const run = timedAutocannon(
            {
                url: collection(configurationId),
                connections: options.concurrency,
                amount: options.requests,
                timeout: 30,
                requests: [
                    {
                        method: 'POST',
                        headers: { 'content-type': 'application/json' },
                        body: SEED_BODY,
                        onResponse: (status, body, _context, headers) => {
                            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
                            if (status === 201) {
                                acknowledged.add((JSON.parse(body) as { id: string }).id);
                                if (recoveredAt !== undefined) {
                                    createdAfterRecovery += 1;
                                    firstCreatedAfterRecovery ??= Date.now();
                                }
                            } else if (!(status === 503 || status === 429) || !hasHeader(headers, 'retry-after')) {
                                badFailures += 1;
                            }
                        },
                    },
                ],
            },
            (instance) => {
                if (options.progress) {
                    // The progress bar only: autocannon's results table counts requests per sample, and samples
                    // are 10 ms here (scripts/timedAutocannon), so its "Req/Sec" would be a rate per 10 ms. The
                    // report below gives the rate per second, over our own clock.
                    autocannon.track(instance, { renderResultsTable: false });
                }
            },
        );
        let outageDone: Promise<void> = Promise.resolve();
        if (options.outageMs !== undefined) {
            const outageMs = options.outageMs;
            // A third of the way in, judged by the requests answered so far.
            outageDone = (async () => {
                while (Object.values(statusCounts).reduce((a, b) => a + b, 0) < options.requests / 3) {
                    await new Promise((resolve) => setTimeout(resolve, 5));
                }
                const startedAtMs = Date.now() - started;
                await front.stop();
                await new Promise((resolve) => setTimeout(resolve, outageMs));
                await front.resume();
                recoveredAt = Date.now();
                outage = {
                    startedAtMs,
                    endedAtMs: recoveredAt - started,
                    createdAfterRecovery: 0,
                    recoveredAfterMs: -1,
                };
            })();
        }
        const { result, seconds } = await run;
        // A short run may end while storage is still away: wait for it, then see the service recover by itself.
        await outageDone;
        if (outage && recoveredAt !== undefined) {
            let recovered = firstCreatedAfterRecovery;
            if (recovered === undefined) {
                const probe = await firstSuccess(
                    `${app.origin}/beta/officeConfiguration/clientConfigurations/${configurationId}/assignments`,
                );
                acknowledged.add(probe.id);
                recovered = probe.at;
            }
            outage.recoveredAfterMs = recovered - recoveredAt;
        }
        const stored = await countStored(opened.container, configurationId);
        const storedIds = new Set(stored);
        const lost = [...acknowledged].filter((id) => !storedIds.has(id)).length;
        const total = Object.values(statusCounts).reduce((a, b) => a + b, 0);
        const perInstance = app.requestsPerInstance();
        return {
            instances: options.instances ?? 1,
            ...(perInstance ? { requestsPerInstance: perInstance } : {}),
            requests: total,
            concurrency: options.concurrency,
            warmup,
            durationSeconds: Number(seconds.toFixed(3)),
            requestsPerSecond: Math.round(total / seconds),
            latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
            statusCounts,
            non201: total - (statusCounts[201] ?? 0),
            acknowledged: acknowledged.size,
            stored: storedIds.size,
            lost,
            storedWithoutAcknowledgement: [...storedIds].filter((id) => !acknowledged.has(id)).length,
            badFailures,
            ...(outage ? { outage: { ...outage, createdAfterRecovery } } : {}),
        };
    } finally {
        await app.close();
        await opened.dispose();
        if (front !== cosmos) {
            await front.close();
        }
        await cosmos.close();
    }
}

/** The app, as one process or as a cluster of them; either way, one origin to drive. */
async function startApp(
    env: NodeJS.ProcessEnv,
    instances: number,
): Promise<{ origin: string; requestsPerInstance(): number[] | undefined; close(): Promise<void> }> {
    if (instances > 1) {
        const cluster = await startCluster({ instances, env, appRoot: root });
        return {
            origin: cluster.origin,
            requestsPerInstance: () => {
                const counts = cluster.front.counts();
                return cluster.instances.map((instance) => counts[instance.origin] ?? 0);
            },
            close: () => cluster.close(),
        };
    }
    const app = await startAppProcess(root, env);
    return {
        origin: app.origin,
        requestsPerInstance: () => undefined,
        close: async () => {
            app.child.kill('SIGTERM');
            await app.exited;
        },
    };
}

/** Sends a create every 50 ms until one is answered 201 (at most 30 s): the service recovering on its own. */
async function firstSuccess(url: string): Promise<{ id: string; at: number }> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: SEED_BODY,
        });
        if (response.status === 201) {
            return { id: ((await response.json()) as { id: string }).id, at: Date.now() };
        }
        await response.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the service did not recover within 30 s of storage coming back');
}

async function countStored(
    container: Awaited<ReturnType<typeof openEmbeddedContainer>>['container'],
    configurationId: string,
): Promise<string[]> {
    const { resources } = await container.items
        .query<string>(
            {
                // Assignments only: not the set document nor the change records (lib/store/assignmentStore.ts).
                query:
                    'SELECT VALUE c.id FROM c WHERE c.configurationId = @id AND ' +
                    "c.id != 'assign-version' AND NOT STARTSWITH(c.id, 'change-')",
                parameters: [{ name: '@id', value: configurationId }],
            },
            { partitionKey: configurationId },
        )
        .fetchAll();
    return resources;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            requests: { type: 'string', default: '10000' },
            concurrency: { type: 'string', default: '64' },
            warmup: { type: 'string', default: '500' },
            outage: { type: 'boolean', default: false },
            'outage-ms': { type: 'string', default: '3000' },
            instances: { type: 'string', default: '1' },
            store: { type: 'string', default: 'embedded' },
        },
    });
    const store = values.store as LoadStore;
    if (!LOAD_STORES.includes(store)) {
        throw new Error(`--store takes ${LOAD_STORES.join(', ')}, not ${values.store}`);
    }
    const instances = Number(values.instances);
    if (!Number.isInteger(instances) || instances < 1) {
        throw new Error(`--instances takes a whole number of at least 1, not ${values.instances}`);
    }
    const options: LoadOptions = {
        requests: Number(values.requests),
        concurrency: Number(values.concurrency),
        warmup: Number(values.warmup),
        progress: true,
        instances,
        store,
        ...(values.outage ? { outageMs: Number(values['outage-ms']) } : {}),
    };
    console.info(
        `Load: ${options.requests} creates at concurrency ${options.concurrency} after ${options.warmup} warm-up ` +
            `creates` +
            (options.outageMs ? `, Cosmos DB stopped for ${options.outageMs} ms a third of the way in` : '') +
            `, ${instances} app instance${instances === 1 ? '' : 's'}, store: ${store}` +
            `\n${LOAD_GENERATOR_NOTE}` +
            (instances > 1 ? `\n${CLUSTER_NOTE}` : ''),
    );
    const report = await runLoad(options);
    console.info(JSON.stringify(report, null, 2));
    const ok = report.lost === 0 && report.badFailures === 0 && report.stored >= report.acknowledged;
    console.info(
        `${report.instances} instance${report.instances === 1 ? '' : 's'}: ` +
            `${report.requestsPerSecond} requests/s, p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, ` +
            `non-201 ${report.non201}, acknowledged ${report.acknowledged}, stored ${report.stored}, lost ${report.lost}: ` +
            (ok ? 'nothing acknowledged was lost' : 'FAILED'),
    );
    process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
    main().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
