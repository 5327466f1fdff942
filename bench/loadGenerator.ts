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
    return {
        created: result['2xx'],
        other: result.non2xx + result.errors + result.timeouts,
        seconds,
        cpuMs,
    };
});
