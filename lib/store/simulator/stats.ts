/**
 * What the simulator saw, for tests to assert on and for the bench and load runs to report: request units spent,
 * latencies, throttling, stale reads and the faults it injected. These are the numbers that say whether code under
 * test behaves as it would in Azure (retries its 429s, spends the RU it was costed at), and no client can see them
 * from its side alone: a client whose answer was lost never learns its write committed.
 */
import { OPERATION_KINDS, type OperationKind } from './protocol.js';
import { roundCharge } from './requestCharge.js';

export interface KindStats {
    requests: number;
    requestCharge: number;
    /** From the request's arrival to its answer, as the simulator saw it (recent requests). */
    latencyMs: { mean: number; p50: number; p99: number };
}

export interface SimulatorStats {
    requests: number;
    requestCharge: number;
    byKind: Record<OperationKind, KindStats>;
    /** Answers by status. */
    statuses: Record<string, number>;
    /** 429 answers. */
    throttled: number;
    /** Point reads served an older version (or a 404) by a lagging replica. */
    staleReads: number;
    /** Writes applied after their client gave up. */
    lateCommits: number;
    /** Writes applied whose connection was then reset without an answer. */
    lostAnswers: number;
    /** Requests whose client went away before its answer was ready. */
    abandoned: number;
    /** Injected status answers (random faults and intercept rules), by status. */
    faults: Record<string, number>;
    /** The container's last committed LSN. */
    lsn: number;
}

/** Latency samples kept per kind for the stats' percentiles. */
const LATENCY_SAMPLES = 4096;

function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) {
        return 0;
    }
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export class Stats {
    requests = 0;
    requestCharge = 0;
    byKind = new Map<OperationKind, { requests: number; requestCharge: number; samples: number[]; next: number }>();
    statuses: Record<string, number> = {};
    throttled = 0;
    staleReads = 0;
    lateCommits = 0;
    lostAnswers = 0;
    abandoned = 0;
    faults: Record<string, number> = {};

    record(kind: OperationKind, status: number, charge: number, latencyMs: number): void {
        this.requests += 1;
        this.requestCharge += charge;
        this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        let entry = this.byKind.get(kind);
        if (!entry) {
            entry = { requests: 0, requestCharge: 0, samples: [], next: 0 };
            this.byKind.set(kind, entry);
        }
        entry.requests += 1;
        entry.requestCharge += charge;
        if (entry.samples.length < LATENCY_SAMPLES) {
            entry.samples.push(latencyMs);
        } else {
            entry.samples[entry.next] = latencyMs;
            entry.next = (entry.next + 1) % LATENCY_SAMPLES;
        }
    }

    fault(status: number): void {
        this.faults[status] = (this.faults[status] ?? 0) + 1;
    }

    snapshot(lsn: number): SimulatorStats {
        const byKind = Object.fromEntries(
            OPERATION_KINDS.map((kind) => {
                const entry = this.byKind.get(kind);
                const sorted = [...(entry?.samples ?? [])].sort((a, b) => a - b);
                const mean = sorted.length > 0 ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0;
                return [
                    kind,
                    {
                        requests: entry?.requests ?? 0,
                        requestCharge: roundCharge(entry?.requestCharge ?? 0),
                        latencyMs: { mean, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) },
                    },
                ];
            }),
        ) as Record<OperationKind, KindStats>;
        return {
            requests: this.requests,
            requestCharge: roundCharge(this.requestCharge),
            byKind,
            statuses: { ...this.statuses },
            throttled: this.throttled,
            staleReads: this.staleReads,
            lateCommits: this.lateCommits,
            lostAnswers: this.lostAnswers,
            abandoned: this.abandoned,
            faults: { ...this.faults },
            lsn,
        };
    }
}
