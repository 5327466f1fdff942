/**
 * Child process of part 2: what the Application Insights SDK itself costs per Cosmos DB dependency, with no request
 * around it. lib/platform/telemetry as the app starts it (the SDK on its worker thread, exporting to the local sink),
 * fed records as the store makes them; the process's CPU time (every thread: the worker's, the exporter's TLS and
 * gzip) per record, after a warm-up, each round ending with a flush so that what was recorded was also sent. This is
 * the least that recording every call can add to a create, whatever the app around it does.
 *
 *   node dist/bench/telemetryFloor.js <connection string>      (prints JSON: { microsPerRecord: number[] })
 */
import { randomUUID } from 'node:crypto';

import type { Logger } from '../lib/platform/logger.js';
import { MAX_DEPENDENCIES_PER_SECOND } from '../lib/platform/sampling.js';
import { startTelemetry } from '../lib/platform/telemetry.js';
import type { StoreCall } from '../lib/store/assignmentStore.js';
import { cpuMsOf } from './processes.js';

const [connectionString = ''] = process.argv.slice(2);
const quiet: Logger = { info: () => {}, warn: () => {}, error: (m) => console.error(m) };
// Every record is sent (no sampling): this is the cost of one recorded dependency.
const telemetry = startTelemetry(
    { connectionString, roleName: 'bench', maxDependenciesPerSecond: MAX_DEPENDENCIES_PER_SECOND },
    { database: 'd', container: 'c' },
    quiet,
);
while (telemetry.state() === 'starting') {
    await new Promise((resolve) => setTimeout(resolve, 50));
}
if (telemetry.state() !== 'ready') {
    throw new Error(`telemetry is ${telemetry.state()}`);
}

/** A create's dependency, as the store reports it. */
const call = (): StoreCall => ({
    operation: 'create',
    requestCharge: 6.29,
    durationMs: 3.2,
    statusCode: 201,
    activityId: randomUUID(),
    scope: { requestId: randomUUID(), invocationId: randomUUID() },
});

/** `n` records at the pace of 32 concurrent requests (a turn of the event loop per 32), then a flush. */
async function round(n: number): Promise<number> {
    const started = process.cpuUsage();
    for (let i = 0; i < n; i += 1) {
        telemetry.observer(call());
        if (i % 32 === 31) {
            await new Promise((resolve) => setImmediate(resolve));
        }
    }
    await telemetry.flush(60_000);
    return (cpuMsOf(process.cpuUsage(started)) * 1000) / n;
}

await round(3000);
const microsPerRecord: number[] = [];
for (let i = 0; i < 5; i += 1) {
    microsPerRecord.push(await round(4000));
}
await telemetry.dispose();
console.info(JSON.stringify({ microsPerRecord }));
