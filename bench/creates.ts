/**
 * Part 2, the headline: CPU time per create, per process, for five servers against the same embedded Cosmos DB (in
 * this process), each started once and kept warm for the whole run:
 * - app: the app as `npm start` runs it (the local host), telemetry off;
 * - appTelemetry: the same with APPLICATIONINSIGHTS_CONNECTION_STRING pointing at a local ingestion sink, with the
 *   default sampling of dependencies (lib/platform/sampling);
 * - appTelemetryAll: the same recording every Cosmos DB call (TELEMETRY_MAX_DEPENDENCIES_PER_SECOND at its maximum),
 *   to a sink of its own: context;
 * - floor: the library floor (bench/libraryFloor), the same work with the libraries alone;
 * - raw: a bare `@azure/cosmos` loop sending the store's batch (bench/rawCreates), no HTTP in front.
 * Every side creates into a configuration made through the app (the batch patches its set document), a new one per run.
 * The four HTTP servers are driven by one load generator process (bench/loadGenerator), whose CPU is counted apart.
 * Every side gets the same warm-up; then each trial runs every side once, in an order that rotates from trial to
 * trial. CPU comes from /proc for the servers, process.cpuUsage for the store (this process) and the load generator.
 * Ratios are paired: taken within each trial, then the median and spread over trials.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { MAX_DEPENDENCIES_PER_SECOND } from '../lib/platform/sampling.js';
import { startEmbeddedCosmos } from '../lib/store/embeddedCosmos.js';
import { newConfiguration, startAppProcess } from '../scripts/appProcess.js';
import type { LoadRequest, LoadResult } from './loadGenerator.js';
import { PAYLOAD } from './payload.js';
import { cpuMsOf, failureLines, forkWorker, processCpuMs, startServerProcess, stopChild } from './processes.js';
import type { RawRequest, RawResult } from './rawCreates.js';
import { cleanEnv, runNode, type Spread, spread } from './stats.js';
import { SINK_LISTENING, type SinkCounts } from './telemetrySink.js';

export const SIDES = ['app', 'floor', 'appTelemetry', 'appTelemetryAll', 'raw'] as const;
export type Side = (typeof SIDES)[number];

export interface CreatesOptions {
    concurrency?: number;
    creates?: number;
    trials?: number;
    warmup?: number;
    /** Told of each trial, for progress lines. */
    progress?: (line: string) => void;
}

export interface SideFigures {
    /** Creates per second by the generating process's own clock (first request to last answer): context only. */
    createsPerSecond: Spread;
    /** CPU µs per create of the server process (the app, the floor, the raw loop). */
    serverCpuMicros: Spread;
    /** CPU µs per create of the embedded Cosmos DB (this process) while the side ran. */
    storeCpuMicros: Spread;
    /** CPU µs per create of the load generator (none for the raw loop, which is its own load). */
    loadGeneratorCpuMicros?: Spread;
}

export interface Creates {
    concurrency: number;
    createsPerTrial: number;
    trials: number;
    warmup: number;
    sides: Record<Side, SideFigures>;
    /** Paired per trial, then median and spread. */
    ratios: {
        /** App CPU per create ÷ library floor CPU per create (server processes). */
        appToFloorCpu: Spread;
        /** App with telemetry on ÷ app with telemetry off, CPU per create (server processes). */
        telemetryToAppCpu: Spread;
        /** The same with every Cosmos DB call recorded: context. */
        telemetryAllToAppCpu: Spread;
        /**
         * App rate ÷ raw SDK rate with the load generator counted apart: creates per CPU-second of the serving
         * processes, (raw + store) ÷ (app + store) CPU per create.
         */
        appToRawRate: Spread;
        /** The same from wall-clock rates, where the load generator competes for the cores: context. */
        appToRawWallRate: Spread;
    };
    /**
     * What the ingestion sinks received from the app with telemetry on (sampled) and with every call recorded: proof
     * that each exported, and that the sampled records still stand for every call.
     */
    telemetry: { sampled: SinkCounts; all: SinkCounts };
    /**
     * CPU µs per dependency record of the Application Insights SDK alone (bench/telemetryFloor: every thread, export
     * included), over rounds: the least telemetry can add to a create, whatever the app does.
     */
    telemetrySdkMicros: Spread;
    /** Answers other than 2xx (or failed raw creates) in the trials, by side and kind: should be empty. */
    failures: Partial<Record<Side, Record<string, number>>>;
    /** What the servers logged of failed requests (the first few lines each, warm-up included). */
    failureLog: Partial<Record<Side, string[]>>;
}

interface Sample {
    created: number;
    seconds: number;
    serverMs: number;
    storeMs: number;
    loadMs?: number;
}

const ASSIGNMENTS = (origin: string, configurationId: string) =>
    `${origin}/beta/officeConfiguration/clientConfigurations/${configurationId}/assignments`;

/** Resolves when the app says its telemetry SDK is loaded; rejects when it says telemetry failed, or after 60 s. */
async function telemetryReady(child: import('node:child_process').ChildProcess): Promise<void> {
    let output = '';
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`telemetry did not start within 60 s:\n${output}`)), 60_000);
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (/Application Insights: Cosmos DB dependencies are recorded/.test(output)) {
                clearTimeout(timer);
                resolve();
            } else if (/Application Insights is off/.test(output)) {
                clearTimeout(timer);
                reject(new Error(`telemetry did not start:\n${output}`));
            }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
    });
}

export async function measureCreates(
    appRoot: string,
    benchDir: string,
    { concurrency = 32, creates = 3000, trials = 9, warmup = 4000, progress = () => {} }: CreatesOptions = {},
): Promise<Creates> {
    const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    const cosmosEnv = { COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key };
    const stops: (() => Promise<void>)[] = [() => cosmos.close()];
    try {
        const startSink = async () => {
            const sink = await startServerProcess(join(benchDir, 'telemetrySink.js'), [], cleanEnv());
            stops.unshift(sink.stop);
            const [, ingestion = '', caFile = ''] = SINK_LISTENING.exec(sink.output) ?? [];
            return {
                origin: sink.origin,
                // A key of its own for each app and run: the exporter keeps what it could not send on disk, under the
                // key, and another process with the same key sends it later (to its own sink).
                connectionString: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion}`,
                env: cleanEnv({
                    NODE_EXTRA_CA_CERTS: caFile,
                    // The SDK's own usage statistics go to Microsoft's endpoint: not from a benchmark on loopback.
                    APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
                }),
            };
        };
        const [sampledSink, allSink] = [await startSink(), await startSink()];
        const app = await startAppProcess(appRoot, cleanEnv(cosmosEnv));
        stops.unshift(() => stopChild(app.child));
        const startTelemetryApp = async (sink: typeof sampledSink, extra: Record<string, string> = {}) => {
            const started = await startAppProcess(appRoot, {
                ...sink.env,
                ...cosmosEnv,
                ...extra,
                APPLICATIONINSIGHTS_CONNECTION_STRING: sink.connectionString,
            });
            stops.unshift(() => stopChild(started.child));
            return { started, ready: telemetryReady(started.child) };
        };
        const appTelemetry = await startTelemetryApp(sampledSink);
        const appTelemetryAll = await startTelemetryApp(allSink, {
            TELEMETRY_MAX_DEPENDENCIES_PER_SECOND: String(MAX_DEPENDENCIES_PER_SECOND),
        });
        const floor = await startServerProcess(
            join(benchDir, 'libraryFloor.js'),
            [cosmos.endpoint, cosmos.key],
            cleanEnv(),
        );
        stops.unshift(floor.stop);
        const raw = await forkWorker<RawRequest, RawResult>(
            join(benchDir, 'rawCreates.js'),
            [cosmos.endpoint, cosmos.key],
            cleanEnv(),
        );
        stops.unshift(raw.stop);
        const load = await forkWorker<LoadRequest, LoadResult>(join(benchDir, 'loadGenerator.js'), [], cleanEnv());
        stops.unshift(load.stop);
        await Promise.all([appTelemetry.ready, appTelemetryAll.ready]);

        const failureLog: Creates['failureLog'] = {
            app: failureLines(app.child),
            floor: failureLines(floor.child),
            appTelemetry: failureLines(appTelemetry.started.child),
            appTelemetryAll: failureLines(appTelemetryAll.started.child),
        };
        const servers: Record<Side, { pid: number | undefined; origin?: string }> = {
            app: { pid: app.child.pid, origin: app.origin },
            floor: { pid: floor.child.pid, origin: floor.origin },
            appTelemetry: { pid: appTelemetry.started.child.pid, origin: appTelemetry.started.origin },
            appTelemetryAll: { pid: appTelemetryAll.started.child.pid, origin: appTelemetryAll.started.origin },
            raw: { pid: raw.child.pid },
        };
        const failures: Creates['failures'] = {};
        let measuring = false;
        const runSide = async (side: Side, amount: number): Promise<Sample> => {
            const { pid, origin } = servers[side];
            // Every side's batch patches the set document of a configuration that exists: made through the app (all
            // sides share the store), a new one per run, so that no run nears the limit of assignments.
            const configurationId = await newConfiguration(app.origin, `bench ${side}`);
            const serverBefore = await processCpuMs(pid);
            const store = process.cpuUsage();
            const result =
                origin === undefined
                    ? await raw.call({ amount, concurrency, configurationId })
                    : await load.call({
                          url: ASSIGNMENTS(origin, configurationId),
                          amount,
                          concurrency,
                          body: PAYLOAD,
                      });
            const storeMs = cpuMsOf(process.cpuUsage(store));
            const serverAfter = await processCpuMs(pid);
            if (serverBefore === undefined || serverAfter === undefined) {
                throw new Error('CPU time per process is read from /proc: this bench runs on Linux only');
            }
            if (measuring) {
                for (const [kind, count] of Object.entries(result.otherKinds)) {
                    const ofSide = (failures[side] ??= {});
                    ofSide[kind] = (ofSide[kind] ?? 0) + count;
                }
            }
            return {
                created: result.created,
                seconds: result.seconds,
                serverMs: serverAfter - serverBefore,
                storeMs,
                ...(origin === undefined ? {} : { loadMs: result.cpuMs }),
            };
        };

        // The same warm-up for every side, so no side is measured colder than another.
        for (const side of SIDES) {
            await runSide(side, warmup);
        }
        progress(`warmed up: ${warmup} creates per side`);
        measuring = true;

        const samples = Object.fromEntries(SIDES.map((s) => [s, [] as Sample[]])) as Record<Side, Sample[]>;
        const perCreate = (ms: number, n: number) => (ms * 1000) / n;
        for (let trial = 0; trial < trials; trial += 1) {
            const order = SIDES.map((_, i) => SIDES[(i + trial) % SIDES.length]!);
            for (const side of order) {
                samples[side].push(await runSide(side, creates));
            }
            const line = SIDES.map((s) => {
                const last = samples[s].at(-1)!;
                return `${s} ${Math.round(perCreate(last.serverMs, last.created))}`;
            }).join(' · ');
            progress(`trial ${trial + 1}/${trials}: server CPU µs per create: ${line}`);
        }

        const cpuOf = (side: Side, key: 'serverMs' | 'storeMs' | 'loadMs') =>
            samples[side].map((s) => perCreate(s[key] ?? 0, s.created));
        const figures = (side: Side): SideFigures => ({
            createsPerSecond: spread(
                samples[side].map((s) => s.created / s.seconds),
                0,
            ),
            serverCpuMicros: spread(cpuOf(side, 'serverMs'), 0),
            storeCpuMicros: spread(cpuOf(side, 'storeMs'), 0),
            ...(side === 'raw' ? {} : { loadGeneratorCpuMicros: spread(cpuOf(side, 'loadMs'), 0) }),
        });
        const paired = (f: (trial: number) => number) => spread(Array.from({ length: trials }, (_, t) => f(t)));
        const server = (side: Side, t: number) => perCreate(samples[side][t]!.serverMs, samples[side][t]!.created);
        const serving = (side: Side, t: number) =>
            server(side, t) + perCreate(samples[side][t]!.storeMs, samples[side][t]!.created);
        const wall = (side: Side, t: number) => samples[side][t]!.created / samples[side][t]!.seconds;

        progress('the telemetry SDK alone, per dependency record');
        const floorSink = await startSink(); // apart: what the apps sent is counted below
        const sdk = JSON.parse(
            (
                await runNode([join(benchDir, 'telemetryFloor.js'), floorSink.connectionString], {
                    cwd: benchDir,
                    env: floorSink.env,
                    timeoutMs: 180_000,
                })
            )
                .trim()
                .split('\n')
                .at(-1) ?? '{}',
        ) as { microsPerRecord: number[] };
        // The telemetry apps are stopped first: on SIGTERM each flushes what its exporter still holds.
        await Promise.all([stopChild(appTelemetry.started.child), stopChild(appTelemetryAll.started.child)]);
        const countsOf = async (sink: { origin: string }) =>
            (await (await fetch(`${sink.origin}/count`)).json()) as SinkCounts;
        const telemetry = { sampled: await countsOf(sampledSink), all: await countsOf(allSink) };
        return {
            concurrency,
            createsPerTrial: creates,
            trials,
            warmup,
            sides: Object.fromEntries(SIDES.map((s) => [s, figures(s)])) as Record<Side, SideFigures>,
            ratios: {
                appToFloorCpu: paired((t) => server('app', t) / server('floor', t)),
                telemetryToAppCpu: paired((t) => server('appTelemetry', t) / server('app', t)),
                telemetryAllToAppCpu: paired((t) => server('appTelemetryAll', t) / server('app', t)),
                appToRawRate: paired((t) => serving('raw', t) / serving('app', t)),
                appToRawWallRate: paired((t) => wall('app', t) / wall('raw', t)),
            },
            telemetry,
            telemetrySdkMicros: spread(sdk.microsPerRecord, 1),
            failures,
            failureLog: Object.fromEntries(Object.entries(failureLog).filter(([, lines]) => lines.length > 0)),
        };
    } finally {
        for (const stop of stops) {
            await stop().catch(() => {});
        }
    }
}
