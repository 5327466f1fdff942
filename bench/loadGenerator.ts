/**
 * Worker process of the create measurements: the load generator. It POSTs creates with autocannon (timed by our own
 * clock, scripts/timedAutocannon) and answers each request with the count, the span and its own CPU time. A process
 * of its own, kept for the whole run, so that its CPU is counted apart from the app's and the store's.
 *
 *   forked by bench/creates.ts; messages: { url, amount, concurrency, body } → LoadResult
 */
import { timedAutocannon } from '../scripts/timedAutocannon.js';
import { cpuMsOf, serveWorker } from './processes.js';

export interface LoadRequest {
    url: string;
    amount: number;
    concurrency: number;
    body: string;
}

export interface LoadResult {
    created: number;
    other: number;
    /** What the others were: `status 503`, `errors`, `timeouts`, with their counts. */
    otherKinds: Record<string, number>;
    seconds: number;
    cpuMs: number;
}

serveWorker<LoadRequest, LoadResult>(async ({ url, amount, concurrency, body }) => {
    const cpu = process.cpuUsage();
    const { result, seconds } = await timedAutocannon({
        url,
        connections: Math.min(concurrency, amount),
        amount,
        timeout: 30,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
    });
    const cpuMs = cpuMsOf(process.cpuUsage(cpu));
    const otherKinds: Record<string, number> = {};
    for (const [status, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) {
        if (!status.startsWith('2') && count > 0) {
            otherKinds[`status ${status}`] = count;
        }
    }
    if (result.errors > 0) {
        otherKinds.errors = result.errors;
    }
    if (result.timeouts > 0) {
        otherKinds.timeouts = result.timeouts;
    }
    return {
        otherKinds,
        created: result['2xx'],
        other: result.non2xx + result.errors + result.timeouts,
        seconds,
        cpuMs,
    };
});
