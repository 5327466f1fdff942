/**
 * How long Azure takes. The embedded server answers at once, so racing requests never overlap as they do in Azure;
 * each kind of operation here waits a time drawn from the log-normal the profile fits to its published p50 and p99.
 * Waiting is also how a late commit lets its client give up first, so the pause itself lives here too.
 */
import { type CosmosProfile, type LatencyKind, logNormalSampler } from './profile.js';
import type { OperationKind } from './protocol.js';

export type LatencySamplers = Record<LatencyKind, () => number>;

export const LATENCY_KIND: Record<OperationKind, LatencyKind> = {
    pointRead: 'pointRead',
    create: 'pointWrite',
    upsert: 'pointWrite',
    replace: 'pointWrite',
    patch: 'pointWrite',
    delete: 'pointWrite',
    batch: 'batch',
    query: 'query',
    metadata: 'metadata',
};

/** One sampler per kind, all drawing from `random`: the latency stream a seed replays. */
export function latencySamplers(profile: CosmosProfile, random: () => number): LatencySamplers {
    return Object.fromEntries(
        Object.entries(profile.latencyMs).map(([kind, percentiles]) => [kind, logNormalSampler(percentiles, random)]),
    ) as LatencySamplers;
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
