/**
 * What each operation costs the store, and how long a create takes with the app scaled out: 3 app processes behind a
 * round-robin front (scripts/cluster), against the Azure-like Cosmos DB (lib/store/simulator, serverless, Strong as
 * the Bicep deploys it) in this process. Request units are the simulator's charges from Cosmos DB's documented
 * costs (its `x-ms-request-charge`), summed over the calls one API request made; the calls are counted by kind, so
 * that an assignment create shows as what it must stay: one batch, no read. Latency is the client's, p50 and p99 of
 * creates at concurrency 32 through the front, with the store's own latency (5–15 ms a call) included.
 */
import type { OperationKind, SimulatedCosmos } from '../lib/store/simulator/simulatedCosmos.js';
import { startSimulatedCosmos } from '../lib/store/simulator/simulatedCosmos.js';
import { startCluster } from '../scripts/cluster.js';
import { cleanEnv } from './stats.js';

export interface OperationCost {
    /** Median request units one API request cost the store. */
    requestUnits: number;
    /** Median Cosmos DB calls it made, by kind (point reads, batches, queries…). */
    calls: Partial<Record<OperationKind, number>>;
    samples: number;
}

export interface StoreCosts {
    instances: number;
    consistency: string;
    operations: Record<string, OperationCost>;
    /** The sweep of one deleted configuration, outside any request: its request units, and per document. */
    sweep: { assignments: number; requestUnits: number; perDocument: number };
    latency: Record<'assignmentCreate' | 'configurationCreate', { p50: number; p99: number; requests: number }>;
}

export interface StoreCostsOptions {
    samples?: number;
    /** Creates timed at concurrency 32. */
    creates?: number;
    progress?: (line: string) => void;
}

const WINDOWS = '#microsoft.graph.windowsOfficeClientConfiguration';
const TARGET = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };
const GROUP = 'microsoft.graph.officeConfigurationGroupAssignmentTarget';
const groupOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};
const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 400) {
        throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
    }
    return { response, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The store's requests and charges made by `action` (nothing else runs meanwhile). */
async function measured(sim: SimulatedCosmos, action: () => Promise<unknown>) {
    const before = sim.stats();
    await action();
    const after = sim.stats();
    const calls: Partial<Record<OperationKind, number>> = {};
    for (const [kind, stats] of Object.entries(after.byKind) as [OperationKind, { requests: number }][]) {
        const count = stats.requests - (before.byKind[kind]?.requests ?? 0);
        if (count > 0) {
            calls[kind] = count;
        }
    }
    return { requestUnits: after.requestCharge - before.requestCharge, calls };
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
    const kinds = new Set(runs.flatMap((r) => Object.keys(r.calls) as OperationKind[]));
    return {
        requestUnits: Math.round(median(runs.map((r) => r.requestUnits)) * 100) / 100,
        // Kinds most samples never made (a receipt's removal in the background, landing in another's window) drop out.
        calls: Object.fromEntries(
            [...kinds].map((k) => [k, median(runs.map((r) => r.calls[k] ?? 0))] as const).filter(([, n]) => n > 0),
        ),
        samples,
    };
}

async function timed(count: number, concurrency: number, send: (i: number) => Promise<unknown>): Promise<number[]> {
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < count) {
                const i = next++;
                const started = performance.now();
                await send(i);
                latencies.push(performance.now() - started);
            }
        }),
    );
    return latencies;
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
        operations['assignment create'] = await costOf(sim, samples, async () => {
            ids.push(String((await call(assignments, 'POST', { target: TARGET })).json.id));
        });
        operations['assignment create, Idempotency-Key'] = await costOf(sim, samples, async (i) => {
            await call(assignments, 'POST', { target: TARGET }, { 'Idempotency-Key': `bench-${Date.now()}-${i}` });
        });
        operations['assignment PATCH'] = await costOf(sim, samples, async (i) => {
            await call(`${assignments}/${ids[i % ids.length] ?? ''}`, 'PATCH', {
                target: { '@odata.type': GROUP, groupId: groupOf(i) },
            });
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
        operations['configuration GET'] = await costOf(sim, samples, async (i) => {
            await call(`${configurations}/${made[i % made.length] ?? ''}`, 'GET');
        });
        operations['configuration PATCH'] = await costOf(sim, samples, async (i) => {
            await call(`${configurations}/${made[i % made.length] ?? ''}`, 'PATCH', { displayName: `bench ${i}` });
        });
        operations['configuration PATCH priority'] = await costOf(sim, samples, async (i) => {
            await call(`${configurations}/${made[i % made.length] ?? ''}`, 'PATCH', { priority: 1 });
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
        const sweepCost = await measured(sim, () => sweep(store, { runForMs: 60_000 }));
        await through.dispose();

        progress(`${creates} assignment creates, then ${creates / 4} configuration creates, at concurrency 32`);
        const latencyCfg = await newConfiguration();
        const assignmentLatency = await timed(creates, 32, () =>
            call(`${configurations}/${latencyCfg}/assignments`, 'POST', { target: TARGET }),
        );
        const configurationLatency = await timed(creates / 4, 32, () =>
            call(configurations, 'POST', { '@odata.type': WINDOWS, displayName: 'latency' }),
        );
        const round1 = (n: number) => Math.round(n * 10) / 10;
        return {
            instances,
            consistency: sim.profile.consistency.defaultLevel,
            operations,
            sweep: {
                assignments: 100,
                requestUnits: Math.round(sweepCost.requestUnits),
                perDocument: round1(sweepCost.requestUnits / 101),
            },
            latency: {
                assignmentCreate: {
                    p50: round1(percentile(assignmentLatency, 50)),
                    p99: round1(percentile(assignmentLatency, 99)),
                    requests: assignmentLatency.length,
                },
                configurationCreate: {
                    p50: round1(percentile(configurationLatency, 50)),
                    p99: round1(percentile(configurationLatency, 99)),
                    requests: configurationLatency.length,
                },
            },
        };
    } finally {
        await cluster.close();
        await setup.dispose();
        await sim.close();
    }
}

export function describeStoreCosts(costs: StoreCosts): string {
    const rows: [string, string, string][] = [['operation (one request)', 'request units', 'store calls']];
    for (const [name, cost] of Object.entries(costs.operations)) {
        const calls = Object.entries(cost.calls)
            .map(([kind, n]) => `${n} ${kind}`)
            .join(', ');
        rows.push([name, cost.requestUnits.toFixed(2), calls]);
    }
    rows.push([
        `sweep of a deleted configuration (${costs.sweep.assignments} assignments)`,
        String(costs.sweep.requestUnits),
        `${costs.sweep.perDocument} RU a document, outside requests`,
    ]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const table = rows
        .map((r) =>
            r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
        )
        .join('\n');
    const { assignmentCreate: a, configurationCreate: c } = costs.latency;
    return (
        `Store costs at ${costs.instances} instances (simulated Azure Cosmos DB, serverless, ${costs.consistency}):\n${table}\n` +
        `create latency through the front, concurrency 32: assignment p50 ${a.p50} ms, p99 ${a.p99} ms ` +
        `(${a.requests}); configuration p50 ${c.p50} ms, p99 ${c.p99} ms (${c.requests})`
    );
}
