/**
 * What each operation costs the store, and how long a create takes with the app scaled out: 3 app processes behind a
 * round-robin front (scripts/cluster), against the Azure-like Cosmos DB (lib/store/simulator, serverless, Strong as
 * the Bicep deploys it) in this process. Request units are the simulator's charges from Cosmos DB's documented
 * costs (its `x-ms-request-charge`), summed over the calls one API request made; the calls are counted by kind, so
 * that an assignment create shows as what it is: one batch and no read for an instance that wrote the configuration
 * last, a read of its change number and the batch again when another instance did. Latency is the client's, p50 and
 * p99 of creates at concurrency 32 through the front, with the store's own latency (5–15 ms a call) included.
 *
 * The change log (lib/store/changeLog) is priced apart, like with like: every write kind is measured with the log off
 * (the baseline, `StoreOptions.changeLog`) and on, in the same run on the same simulator, through the app's own
 * request path (its route table on the local host, lib/http/localHost) in this process, each side over a container
 * of its own so that neither meets the other's writes, one pair of requests at a time. Each request's window lasts
 * until the store has answered everything it caused (the receipt a configuration write removes in the background
 * included). Both at 1 instance and at 3 taken in turn: an instance knows its configurations' last change numbers
 * only from its own writes, so at 3 a write often loses its number to another instance's and goes again. The bytes
 * added are the change record's, as sent.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { CHANGE_ID_PREFIX } from '../lib/store/changeLog.js';
import type { ObservedRequest, OperationKind, SimulatedCosmos } from '../lib/store/simulator/simulatedCosmos.js';
import { startSimulatedCosmos } from '../lib/store/simulator/simulatedCosmos.js';
import { startCluster } from '../scripts/cluster.js';
import { cleanEnv, showRatio, type Spread, spread } from './stats.js';

type LocalHostModule = typeof import('../lib/http/localHost.js');
type RoutesModule = typeof import('../functions/routes.js');
type StoreModule = typeof import('../lib/store/assignmentStore.js');
type CosmosModule = typeof import('../lib/store/cosmosClient.js');
type ConfigModule = typeof import('../lib/platform/config.js');

export interface OperationCost {
    /** Median request units one API request cost the store. */
    requestUnits: number;
    /** Median Cosmos DB calls it made, by kind (point reads, batches, queries…). */
    calls: Partial<Record<OperationKind, number>>;
    samples: number;
    /** Samples the API refused, by status: measured all the same, and reported, for they are the app's to explain. */
    failed?: Record<string, number>;
}

/** The two sides of the change log's comparison, the baseline first. */
export const CHANGE_LOG_SIDES = ['without', 'with'] as const;
export type ChangeLogSide = (typeof CHANGE_LOG_SIDES)[number];

/** One write kind, with the change log off and on. */
export interface ChangeLogCost {
    without: OperationCost;
    with: OperationCost;
    /** with ÷ without, of the request units of each pair of samples (the i-th of each side): median and spread. */
    ratio: Spread;
    /** Median bytes of the change record a write stored (its JSON as sent; the last one sent, if it went again). */
    recordBytes: number;
    /** Median bytes of the bodies a write sent to Cosmos DB, every attempt included. */
    sentBytes: Record<ChangeLogSide, number>;
}

export interface ChangeLogComparison {
    /** App instances of each side, in this process, each with its own Cosmos DB client, taken in turn per request. */
    instances: number;
    writes: Record<string, ChangeLogCost>;
}

export interface StoreCosts {
    instances: number;
    consistency: string;
    operations: Record<string, OperationCost>;
    /**
     * Request units per write without the change log and with it, at 1 instance and at 3; empty when the measured
     * build cannot turn its log off.
     */
    changeLog: ChangeLogComparison[];
    /** The sweep of one deleted configuration, outside any request: its request units, and per document. */
    sweep: {
        assignments: number;
        /** Documents it deleted: the assignments, their change records, the parent (set document). */
        documents: number;
        requestUnits: number;
        perDocument: number;
    };
    /** Over every request answered, refusals included; `refused` counts those, by status. */
    latency: Record<'assignmentCreate' | 'configurationCreate', Latency>;
}

export interface Latency {
    p50: number;
    p99: number;
    requests: number;
    refused?: Record<string, number>;
}

export interface StoreCostsOptions {
    samples?: number;
    /** Creates timed at concurrency 32. */
    creates?: number;
    /** Instance counts the change log is compared at; default 1 and 3. */
    changeLogInstances?: readonly number[];
    progress?: (line: string) => void;
}

const WINDOWS = '#microsoft.graph.windowsOfficeClientConfiguration';
const CONFIGURATIONS = 'officeConfiguration/clientConfigurations';
const TARGET = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };
const GROUP = 'microsoft.graph.officeConfigurationGroupAssignmentTarget';
const groupOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};
const round1 = (n: number) => Math.round(n * 10) / 10;
const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

/** A payload PUT's body: 1 KiB of XML. */
const PAYLOAD_BYTES = Buffer.from(`<policy>${'x'.repeat(1024 - 17)}</policy>`);
const XML = { 'Content-Type': 'application/xml' };

/** One request; a body of bytes is sent as it is (its Content-Type among `headers`), anything else as JSON. */
async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
    const raw = body instanceof Uint8Array;
    const response = await fetch(url, {
        method,
        headers: { ...(body === undefined || raw ? {} : { 'Content-Type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 400) {
        throw new Refused(response.status, `${method} ${url} answered ${response.status}: ${text}`);
    }
    return { response, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** An API request answered with an error status. */
class Refused extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = 'Refused';
    }
}

/** Runs a measured request: an answer with an error status is its outcome, returned; anything else is thrown. */
async function outcomeOf(action: () => Promise<unknown>): Promise<number | undefined> {
    try {
        await action();
        return undefined;
    } catch (error) {
        if (error instanceof Refused) {
            return error.status;
        }
        throw error;
    }
}

type Stats = ReturnType<SimulatedCosmos['stats']>;

/** The store's calls by kind, and their charge, between two snapshots of its stats. */
function between(before: Stats, after: Stats) {
    const calls: Partial<Record<OperationKind, number>> = {};
    for (const [kind, stats] of Object.entries(after.byKind) as [OperationKind, { requests: number }][]) {
        const count = stats.requests - (before.byKind[kind]?.requests ?? 0);
        if (count > 0) {
            calls[kind] = count;
        }
    }
    return { requestUnits: after.requestCharge - before.requestCharge, calls };
}

/** The store's requests and charges made by `action` (nothing else runs meanwhile), and its error status if any. */
async function measured(sim: SimulatedCosmos, action: () => Promise<unknown>) {
    const before = sim.stats();
    const refused = await outcomeOf(action);
    return { ...between(before, sim.stats()), refused };
}

async function costOf(
    sim: SimulatedCosmos,
    samples: number,
    action: (i: number) => Promise<unknown>,
): Promise<OperationCost> {
    const runs: Awaited<ReturnType<typeof measured>>[] = [];
    for (let i = 0; i < samples; i++) {
        runs.push(await measured(sim, () => action(i)));
    }
    return summarized(runs, samples);
}

/** The medians of a request's samples: its request units, and each kind of call most samples made. */
function summarized(runs: Awaited<ReturnType<typeof measured>>[], samples: number): OperationCost {
    const kinds = new Set(runs.flatMap((r) => Object.keys(r.calls) as OperationKind[]));
    const failed: Record<string, number> = {};
    for (const { refused } of runs) {
        if (refused !== undefined) {
            failed[refused] = (failed[refused] ?? 0) + 1;
        }
    }
    return {
        requestUnits: Math.round(median(runs.map((r) => r.requestUnits)) * 100) / 100,
        // Kinds most samples never made (a receipt's removal in the background, landing in another's window) drop out.
        calls: Object.fromEntries(
            [...kinds].map((k) => [k, median(runs.map((r) => r.calls[k] ?? 0))] as const).filter(([, n]) => n > 0),
        ),
        samples,
        ...(Object.keys(failed).length > 0 ? { failed } : {}),
    };
}

/** The latency of `count` requests sent `concurrency` at a time; those refused are counted, by status. */
async function timed(count: number, concurrency: number, send: (i: number) => Promise<unknown>): Promise<Latency> {
    const latencies: number[] = [];
    const refused: Record<string, number> = {};
    let next = 0;
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < count) {
                const i = next++;
                const started = performance.now();
                const status = await outcomeOf(() => send(i));
                latencies.push(performance.now() - started);
                if (status !== undefined) {
                    refused[status] = (refused[status] ?? 0) + 1;
                }
            }
        }),
    );
    return {
        p50: round1(percentile(latencies, 50)),
        p99: round1(percentile(latencies, 99)),
        requests: latencies.length,
        ...(Object.keys(refused).length > 0 ? { refused } : {}),
    };
}

/** Every request the simulator receives, seen as it arrives: an intercept rule that never acts. */
interface Watch {
    seen: ObservedRequest[];
    /** Resolves once the store has answered every request it received. */
    quiet(): Promise<void>;
    remove(): void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function watchRequests(sim: SimulatedCosmos): Watch {
    const seen: ObservedRequest[] = [];
    const answeredBefore = sim.stats().requests;
    const handle = sim.intercept({
        where: (request) => {
            seen.push(request);
            return false;
        },
        action: { type: 'delay', ms: 0 }, // never taken: the rule matches no request
    });
    return {
        seen,
        quiet: async () => {
            // Whatever a request set off after its answer (a receipt's removal) has arrived 5 ms later, on loopback.
            for (let waited = 0; waited < 5000; waited += 5) {
                await pause(5);
                if (sim.stats().requests - answeredBefore >= seen.length) {
                    return;
                }
            }
        },
        remove: () => handle.remove(),
    };
}

interface Window {
    requestUnits: number;
    calls: Partial<Record<OperationKind, number>>;
    refused: number | undefined;
    recordBytes: number;
    sentBytes: number;
}

const bytesOf = (value: unknown) => (value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value)));

/** The bodies of the change records a request creates, in a batch or alone. */
function changeRecords(request: ObservedRequest): unknown[] {
    const bodies = request.operations
        ? request.operations.map((operation) => operation.resourceBody)
        : request.kind === 'create'
          ? [request.body]
          : [];
    return bodies.filter((body) => String((body as { id?: unknown } | undefined)?.id).startsWith(CHANGE_ID_PREFIX));
}

/** What `action` cost the store, until the store has answered everything it set off. */
async function windowOf(sim: SimulatedCosmos, watch: Watch, action: () => Promise<unknown>): Promise<Window> {
    const before = sim.stats();
    const from = watch.seen.length;
    const refused = await outcomeOf(action);
    await watch.quiet();
    const requests = watch.seen.slice(from);
    return {
        ...between(before, sim.stats()),
        refused,
        recordBytes: bytesOf(requests.flatMap(changeRecords).at(-1)),
        sentBytes: requests.reduce((sum, request) => sum + bytesOf(request.body), 0),
    };
}

/** The app's request path, from the measured build: its route table, on the local host, over a store made here. */
interface AppParts {
    startLocalHost: LocalHostModule['startLocalHost'];
    routes: RoutesModule['routes'];
    AssignmentStore: StoreModule['AssignmentStore'];
    openContainer: CosmosModule['openContainer'];
    requestBudgetMs: number;
    bodyTimeoutMs: number;
}

async function loadApp(appRoot: string): Promise<AppParts> {
    const load = async <T>(path: string) => (await import(pathToFileURL(join(appRoot, 'dist', path)).href)) as T;
    const [{ startLocalHost }, { routes }, { AssignmentStore }, { openContainer }, config] = await Promise.all([
        load<LocalHostModule>('lib/http/localHost.js'),
        load<RoutesModule>('functions/routes.js'),
        load<StoreModule>('lib/store/assignmentStore.js'),
        load<CosmosModule>('lib/store/cosmosClient.js'),
        load<ConfigModule>('lib/platform/config.js'),
    ]);
    return {
        startLocalHost,
        routes,
        AssignmentStore,
        openContainer,
        // As the app's settings are by default (lib/platform/config).
        requestBudgetMs: config.DEFAULT_REQUEST_BUDGET_MS,
        bodyTimeoutMs: config.DEFAULT_BODY_TIMEOUT_SECONDS * 1000,
    };
}

const QUIET = { info: () => {}, warn: () => {}, error: () => {} };

type Send = (path: string, method: string, body?: unknown, headers?: Record<string, string>) => ReturnType<typeof call>;

interface SideApp {
    /** One request to the side's instances, each in turn (a round-robin front's way). */
    send: Send;
    close(): Promise<void>;
}

/**
 * One side of the comparison: `instances` local hosts serving the app, each with its own Cosmos DB client and store
 * (so its own change numbers and group commit), over the side's own container. Undefined when the build's store has
 * no switch for its change log (an older build): the comparison would measure the log twice.
 */
async function startSide(
    app: AppParts,
    sim: SimulatedCosmos,
    database: string,
    container: string,
    instances: number,
    enabled: boolean,
): Promise<SideApp | undefined> {
    const closers: (() => Promise<void>)[] = [];
    const close = async () => {
        for (const closer of closers.reverse()) {
            await closer();
        }
    };
    const origins: string[] = [];
    try {
        for (let i = 0; i < instances; i++) {
            const opened = await app.openContainer({
                connection: { kind: 'key', endpoint: sim.endpoint, key: sim.key },
                database,
                container,
                requestTimeoutMs: 5000,
            });
            closers.push(() => opened.dispose());
            const store = new app.AssignmentStore(() => Promise.resolve(opened.container), { changeLog: { enabled } });
            if ((store as { changeLog?: { enabled?: unknown } }).changeLog?.enabled !== enabled) {
                await close();
                return undefined;
            }
            const services = {
                store,
                clock: () => new Date(),
                logger: QUIET,
                requestBudgetMs: app.requestBudgetMs,
                bodyTimeoutMs: app.bodyTimeoutMs,
            };
            const host = await app.startLocalHost({ routes: app.routes, services, port: 0 });
            closers.push(() => host.close());
            origins.push(host.origin);
        }
    } catch (error) {
        await close();
        throw error;
    }
    let turn = 0;
    return {
        send: (path, method, body, headers) =>
            call(`${origins[turn++ % origins.length]!}/beta/${path}`, method, body, headers),
        close,
    };
}

/** A write kind of the comparison: sample `i` is one request. */
interface WriteKind {
    name: string;
    /** Run before its samples, outside their windows: makes what the refusals of a kind before it left missing. */
    before?: (samples: number) => Promise<void>;
    run: (i: number) => Promise<unknown>;
}

/** Makes what `list` lacks of `count` entries: documents a refused create did not make, for the writes after it. */
async function topUp(list: string[], count: number, make: () => Promise<string>): Promise<void> {
    while (list.length < count) {
        list.push(await make());
    }
}

/**
 * Every write kind in the order measured, each a request of sample `i`; what they need is made first (a
 * configuration for the assignments, one for assign, each instance's first write to the first). The configurations
 * a kind writes are those the creates before it made, so both sides hold the same documents throughout.
 */
async function writeKinds(send: Send, side: ChangeLogSide, instances: number): Promise<WriteKind[]> {
    const newConfiguration = async (body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
        String(
            (await send(CONFIGURATIONS, 'POST', { '@odata.type': WINDOWS, displayName: 'bench', ...body }, headers))
                .json.id,
        );
    const own = await newConfiguration();
    const assignCfg = await newConfiguration();
    const assignments = `${CONFIGURATIONS}/${own}/assignments`;
    for (let i = 0; i < instances; i++) {
        await send(assignments, 'POST', { target: TARGET });
    }
    const ids: string[] = [];
    const made: string[] = [];
    const newAssignment = async () => String((await send(assignments, 'POST', { target: TARGET })).json.id);
    const key = (i: number) => ({ 'Idempotency-Key': `bench-${side}-${Date.now()}-${i}` });
    return [
        { name: 'assignment create', run: async () => ids.push(await newAssignment()) },
        {
            name: 'assignment create, Idempotency-Key',
            run: (i) => send(assignments, 'POST', { target: TARGET }, key(i)),
        },
        {
            name: 'assignment PATCH',
            before: (samples) => topUp(ids, samples, newAssignment),
            run: (i) =>
                send(`${assignments}/${ids[i]!}`, 'PATCH', { target: { '@odata.type': GROUP, groupId: groupOf(i) } }),
        },
        { name: 'assignment DELETE', run: (i) => send(`${assignments}/${ids[i]!}`, 'DELETE') },
        {
            name: 'assign of 20',
            run: (i) =>
                send(`${CONFIGURATIONS}/${assignCfg}/assign`, 'POST', {
                    officeConfigurationAssignments: Array.from({ length: 20 }, (_, j) => ({
                        target: { '@odata.type': GROUP, groupId: groupOf(i * 20 + j) },
                    })),
                }),
        },
        { name: 'configuration create', run: async () => made.push(await newConfiguration()) },
        { name: 'configuration create, Idempotency-Key', run: (i) => newConfiguration({}, key(i)) },
        {
            name: 'configuration PATCH',
            before: (samples) => topUp(made, samples, newConfiguration),
            run: (i) => send(`${CONFIGURATIONS}/${made[i]!}`, 'PATCH', { displayName: `bench ${i}` }),
        },
        {
            name: 'configuration PATCH priority',
            run: (i) => send(`${CONFIGURATIONS}/${made[i]!}`, 'PATCH', { priority: 1 }),
        },
        {
            name: 'updatePriorities',
            run: (i) =>
                send(`${CONFIGURATIONS}/updatePriorities`, 'POST', {
                    officeConfigurationPolicyIds: [made[i]!],
                    officeConfigurationPriorities: [2],
                }),
        },
        {
            name: 'policyPayload PUT',
            run: (i) => send(`${CONFIGURATIONS}/${made[i]!}/policyPayload`, 'PUT', PAYLOAD_BYTES, XML),
        },
        { name: 'configuration DELETE', run: (i) => send(`${CONFIGURATIONS}/${made[i]!}`, 'DELETE') },
    ];
}

/** Each write kind `samples` times a side, the sides in turn, at `instances` instances a side. */
async function compareChangeLog(
    app: AppParts,
    sim: SimulatedCosmos,
    database: string,
    instances: number,
    samples: number,
): Promise<ChangeLogComparison | undefined> {
    const watch = watchRequests(sim);
    const sides: Partial<Record<ChangeLogSide, SideApp>> = {};
    try {
        for (const side of CHANGE_LOG_SIDES) {
            const started = await startSide(
                app,
                sim,
                database,
                `changeLog-${instances}-${side}`,
                instances,
                side === 'with',
            );
            if (!started) {
                return undefined;
            }
            sides[side] = started;
        }
        const kinds = {
            without: await writeKinds(sides.without!.send, 'without', instances),
            with: await writeKinds(sides.with!.send, 'with', instances),
        };
        await watch.quiet();
        const writes: Record<string, ChangeLogCost> = {};
        for (let k = 0; k < kinds.without.length; k++) {
            for (const side of CHANGE_LOG_SIDES) {
                await kinds[side][k]!.before?.(samples);
            }
            await watch.quiet();
            const runs: Record<ChangeLogSide, Window[]> = { without: [], with: [] };
            for (let i = 0; i < samples; i++) {
                for (const side of CHANGE_LOG_SIDES) {
                    runs[side].push(await windowOf(sim, watch, () => kinds[side][k]!.run(i)));
                }
            }
            const sentBytes = (side: ChangeLogSide) => median(runs[side].map((r) => r.sentBytes));
            writes[kinds.without[k]!.name] = {
                without: summarized(runs.without, samples),
                with: summarized(runs.with, samples),
                ratio: spread(runs.with.map((r, i) => r.requestUnits / (runs.without[i]?.requestUnits ?? NaN))),
                recordBytes: median(runs.with.map((r) => r.recordBytes)),
                sentBytes: { without: sentBytes('without'), with: sentBytes('with') },
            };
        }
        return { instances, writes };
    } finally {
        for (const side of CHANGE_LOG_SIDES) {
            await sides[side]?.close();
        }
        watch.remove();
    }
}

export async function measureStoreCosts(appRoot: string, options: StoreCostsOptions = {}): Promise<StoreCosts> {
    const samples = options.samples ?? 15;
    const creates = options.creates ?? 2000;
    const progress = options.progress ?? (() => {});
    const sim = await startSimulatedCosmos({ profile: 'azureServerless' });
    const { openEmbeddedContainer } = await import('../lib/store/cosmosClient.js');
    const settings = {
        connection: { kind: 'embedded' as const },
        database: 'officeConfiguration',
        container: 'clientConfigurationAssignments',
        requestTimeoutMs: 5000,
    };
    const setup = await openEmbeddedContainer(settings, sim.backend);
    try {
        // First, with nothing else running: the change log's price, without it and with it.
        const app = await loadApp(appRoot);
        const changeLog: ChangeLogComparison[] = [];
        for (const count of options.changeLogInstances ?? [1, 3]) {
            progress(
                `the change log: each write without it and with it, ${count} instance${count === 1 ? '' : 's'} a side ` +
                    'in this process, one request at a time',
            );
            const compared = await compareChangeLog(app, sim, settings.database, count, samples);
            if (!compared) {
                progress('the measured build has no switch for its change log: nothing to compare');
                break;
            }
            changeLog.push(compared);
        }
        const instances = 3;
        const cluster = await startCluster({
            instances,
            appRoot,
            env: cleanEnv({ COSMOS_ENDPOINT: sim.endpoint, COSMOS_KEY: sim.key, SWEEP_INTERVAL_SECONDS: '3600' }),
        });
        try {
            const root = `${cluster.origin}/beta`;
            const configurations = `${root}/officeConfiguration/clientConfigurations`;
            const newConfiguration = async () =>
                String((await call(configurations, 'POST', { '@odata.type': WINDOWS, displayName: 'bench' })).json.id);
            // Warm: each instance connects and compiles its paths before anything is counted.
            const warm = await newConfiguration();
            for (let i = 0; i < 3 * instances; i++) {
                await call(`${configurations}/${warm}/assignments`, 'POST', { target: TARGET });
                await call(`${configurations}/${warm}`, 'GET');
            }
            progress('the store calls and request units of each operation, one request at a time');
            const cfg = await newConfiguration();
            const assignments = `${configurations}/${cfg}/assignments`;
            const ids: string[] = [];
            const operations: Record<string, OperationCost> = {};
            const newAssignment = async () => String((await call(assignments, 'POST', { target: TARGET })).json.id);
            operations['assignment create'] = await costOf(sim, samples, async () => {
                ids.push(await newAssignment());
            });
            operations['assignment create, Idempotency-Key'] = await costOf(sim, samples, async (i) => {
                await call(assignments, 'POST', { target: TARGET }, { 'Idempotency-Key': `bench-${Date.now()}-${i}` });
            });
            await topUp(ids, samples, newAssignment); // a create refused above made none
            operations['assignment PATCH'] = await costOf(sim, samples, async (i) => {
                await call(`${assignments}/${ids[i % ids.length] ?? ''}`, 'PATCH', {
                    target: { '@odata.type': GROUP, groupId: groupOf(i) },
                });
            });
            operations['assignment DELETE'] = await costOf(sim, samples, async (i) => {
                await call(`${assignments}/${ids[i] ?? ''}`, 'DELETE');
            });
            for (let i = 0; i < 100; i++) {
                await call(assignments, 'POST', { target: TARGET });
            }
            operations['assignment list, page of 100'] = await costOf(sim, samples, async () => {
                await call(`${assignments}?$top=100`, 'GET');
            });
            const assignCfg = await newConfiguration();
            operations['assign of 20'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${assignCfg}/assign`, 'POST', {
                    officeConfigurationAssignments: Array.from({ length: 20 }, (_, j) => ({
                        target: { '@odata.type': GROUP, groupId: groupOf(i * 20 + j) },
                    })),
                });
            });
            const made: string[] = [];
            operations['configuration create'] = await costOf(sim, samples, async () => {
                made.push(await newConfiguration());
            });
            operations['configuration create, Idempotency-Key'] = await costOf(sim, samples, async (i) => {
                const body = { '@odata.type': WINDOWS, displayName: 'bench' };
                await call(configurations, 'POST', body, { 'Idempotency-Key': `bench-${Date.now()}-${i}` });
            });
            await topUp(made, samples, newConfiguration);
            operations['configuration GET'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${made[i % made.length] ?? ''}`, 'GET');
            });
            operations['configuration PATCH'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${made[i % made.length] ?? ''}`, 'PATCH', { displayName: `bench ${i}` });
            });
            operations['configuration PATCH priority'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${made[i % made.length] ?? ''}`, 'PATCH', { priority: 1 });
            });
            operations['updatePriorities'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/updatePriorities`, 'POST', {
                    officeConfigurationPolicyIds: [made[i % made.length] ?? ''],
                    officeConfigurationPriorities: [2],
                });
            });
            operations['policyPayload PUT'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${made[i % made.length] ?? ''}/policyPayload`, 'PUT', PAYLOAD_BYTES, XML);
            });
            operations['configuration list, page of 20'] = await costOf(sim, samples, async () => {
                await call(`${configurations}?$top=20`, 'GET');
            });
            operations['configuration DELETE'] = await costOf(sim, samples, async (i) => {
                await call(`${configurations}/${made[i] ?? ''}`, 'DELETE');
            });
            progress('the sweep of a deleted configuration with 100 assignments');
            const { sweep } = await import('../lib/jobs/sweeper.js');
            const { AssignmentStore } = await import('../lib/store/assignmentStore.js');
            const through = await openEmbeddedContainer(settings, sim);
            const store = new AssignmentStore(() => Promise.resolve(through.container));
            await sweep(store, { runForMs: 60_000 }); // what the DELETEs above left
            const swept = await newConfiguration();
            for (let i = 0; i < 100; i++) {
                await call(`${configurations}/${swept}/assignments`, 'POST', { target: TARGET });
            }
            await call(`${configurations}/${swept}`, 'DELETE');
            let sweptDocuments = 0;
            const sweepCost = await measured(sim, async () => {
                sweptDocuments = (await sweep(store, { runForMs: 60_000 })).documents + 1; // and the parent
            });
            await through.dispose();

            progress(`${creates} assignment creates, then ${creates / 4} configuration creates, at concurrency 32`);
            const latencyCfg = await newConfiguration();
            const assignmentLatency = await timed(creates, 32, () =>
                call(`${configurations}/${latencyCfg}/assignments`, 'POST', { target: TARGET }),
            );
            const configurationLatency = await timed(creates / 4, 32, () =>
                call(configurations, 'POST', { '@odata.type': WINDOWS, displayName: 'latency' }),
            );
            return {
                instances,
                consistency: sim.profile.consistency.defaultLevel,
                operations,
                changeLog,
                sweep: {
                    assignments: 100,
                    documents: sweptDocuments,
                    requestUnits: Math.round(sweepCost.requestUnits),
                    perDocument: round1(sweepCost.requestUnits / sweptDocuments),
                },
                latency: { assignmentCreate: assignmentLatency, configurationCreate: configurationLatency },
            };
        } finally {
            await cluster.close();
        }
    } finally {
        await setup.dispose();
        await sim.close();
    }
}

/** Rows as columns padded to their widest cell. */
function columns(rows: string[][]): string {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows
        .map((r) =>
            r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
        )
        .join('\n');
}

/** `1 batch, 1 pointRead`: the calls of an operation, by kind; and how many samples the API refused, if any. */
const callsOf = (cost: OperationCost) => {
    const calls =
        Object.entries(cost.calls)
            .map(([kind, n]) => `${n} ${kind}`)
            .join(', ') || 'none';
    const failed = Object.entries(cost.failed ?? {});
    const refused = failed.reduce((sum, [, n]) => sum + n, 0);
    return failed.length === 0
        ? calls
        : `${calls} (REFUSED ${refused}/${cost.samples}: ${failed.map(([status]) => status).join(', ')})`;
};

/** The change log's tables: request units per write without it and with it, at each instance count measured. */
export function describeChangeLog(comparisons: readonly ChangeLogComparison[]): string {
    if (comparisons.length === 0) {
        return 'Change log: not compared (the measured build has no switch for it).';
    }
    const tables = comparisons.map(({ instances, writes }) => {
        const rows = [
            [
                `write (one request), ${instances === 1 ? '1 instance' : `${instances} instances in turn`}`,
                'RU without',
                'RU with',
                'with/without (median, spread)',
                'record bytes',
                'bytes sent without → with',
                'store calls without → with',
            ],
        ];
        for (const [name, cost] of Object.entries(writes)) {
            rows.push([
                name,
                cost.without.requestUnits.toFixed(2),
                cost.with.requestUnits.toFixed(2),
                showRatio(cost.ratio),
                String(cost.recordBytes),
                `${cost.sentBytes.without} → ${cost.sentBytes.with}`,
                `${callsOf(cost.without)} → ${callsOf(cost.with)}`,
            ]);
        }
        return columns(rows);
    });
    return (
        'Change log, request units per write without it (the baseline) and with it: the same writes through the ' +
        "app's request path in this process,\neach side over a container of its own on the same simulated Cosmos DB, " +
        'in the same run; each window lasts until the store has answered all the request set off.\n' +
        tables.join('\n\n')
    );
}

export function describeStoreCosts(costs: StoreCosts): string {
    const rows: string[][] = [['operation (one request)', 'request units', 'store calls']];
    for (const [name, cost] of Object.entries(costs.operations)) {
        rows.push([name, cost.requestUnits.toFixed(2), callsOf(cost)]);
    }
    rows.push([
        `sweep of a deleted configuration (${costs.sweep.assignments} assignments)`,
        String(costs.sweep.requestUnits),
        `${costs.sweep.perDocument} RU a document (${costs.sweep.documents} of them), outside requests`,
    ]);
    const { assignmentCreate: a, configurationCreate: c } = costs.latency;
    const refused = (l: Latency) =>
        Object.entries(l.refused ?? {})
            .map(([status, n]) => `, ${n} REFUSED ${status}`)
            .join('');
    return (
        `Store costs at ${costs.instances} instances (simulated Azure Cosmos DB, serverless, ${costs.consistency}):\n` +
        `${columns(rows)}\n` +
        `create latency through the front, concurrency 32: assignment p50 ${a.p50} ms, p99 ${a.p99} ms ` +
        `(${a.requests}${refused(a)}); configuration p50 ${c.p50} ms, p99 ${c.p99} ms (${c.requests}${refused(c)})\n\n` +
        describeChangeLog(costs.changeLog ?? [])
    );
}
