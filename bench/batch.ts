/**
 * JSON batching: 20 creates sent as one `POST /beta/$batch` against the same 20 creates sent as single requests, over
 * loopback HTTP to the app as `npm start` runs it (the local host, over an embedded Cosmos DB in this process). The
 * headline is the wall time of a batch ÷ that of 20 single requests one after another (one client, one connection:
 * the round trips a batch saves); 20 single requests four at a time, the batch's own concurrency, are context.
 * Each round runs the three sides in a rotating order, each on a configuration of its own; ratios are paired within
 * the round, then the median and spread over rounds. Every create must answer 201, and the stored count is checked.
 */

import { startEmbeddedCosmos } from '../lib/store/embeddedCosmos.js';
import { newConfiguration, startAppProcess } from '../scripts/appProcess.js';
import { PAYLOAD } from './payload.js';
import { stopChild } from './processes.js';
import { cleanEnv, showRatio, type Spread, spread } from './stats.js';

export const BATCH_SIZE = 20;
const SIDES = ['batch', 'sequential', 'concurrent'] as const;
type Side = (typeof SIDES)[number];

export interface BatchOptions {
    rounds?: number;
    /** Rounds run first and not counted (connections, JIT, the store's first writes). */
    warmup?: number;
    progress?: (line: string) => void;
}

export interface BatchBench {
    creates: number;
    rounds: number;
    /** Wall milliseconds for the 20 creates. */
    ms: Record<Side, Spread>;
    ratios: {
        /** One batch ÷ 20 single requests one after another. */
        batchToSequential: Spread;
        /** One batch ÷ 20 single requests, four at a time. */
        batchToConcurrent: Spread;
    };
    /** Creates not answered 201, by side; and whether what is stored equals what was acknowledged. */
    failures: Partial<Record<Side, number>>;
    storedMatches: boolean;
}

const assignmentsPath = (cfg: string) => `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
const BODY = JSON.parse(PAYLOAD) as unknown;

async function singleCreate(origin: string, cfg: string): Promise<number> {
    const response = await fetch(`${origin}/beta${assignmentsPath(cfg)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: PAYLOAD,
    });
    await response.arrayBuffer();
    return response.status;
}

async function batchCreate(origin: string, cfg: string): Promise<number[]> {
    const requests = Array.from({ length: BATCH_SIZE }, (_, i) => ({
        id: String(i),
        method: 'POST',
        url: assignmentsPath(cfg),
        headers: { 'Content-Type': 'application/json' },
        body: BODY,
    }));
    const response = await fetch(`${origin}/beta/$batch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ requests }),
    });
    if (response.status !== 200) {
        await response.arrayBuffer();
        return Array.from({ length: BATCH_SIZE }, () => response.status);
    }
    const { responses } = (await response.json()) as { responses: { status: number }[] };
    return responses.map((r) => r.status);
}

async function runSide(side: Side, origin: string, cfg: string): Promise<number[]> {
    switch (side) {
        case 'batch':
            return await batchCreate(origin, cfg);
        case 'sequential': {
            const statuses: number[] = [];
            for (let i = 0; i < BATCH_SIZE; i += 1) {
                statuses.push(await singleCreate(origin, cfg));
            }
            return statuses;
        }
        case 'concurrent': {
            const statuses: number[] = [];
            const worker = async () => {
                while (statuses.length < BATCH_SIZE) {
                    const slot = statuses.push(0) - 1; // claimed before the await: four workers make exactly 20
                    statuses[slot] = await singleCreate(origin, cfg);
                }
            };
            await Promise.all(Array.from({ length: 4 }, worker));
            return statuses;
        }
    }
}

export async function measureBatch(
    appRoot: string,
    { rounds = 15, warmup = 3, progress = () => {} }: BatchOptions = {},
): Promise<BatchBench> {
    const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    try {
        const app = await startAppProcess(
            appRoot,
            cleanEnv({ COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key }),
        );
        try {
            const ms: Record<Side, number[]> = { batch: [], sequential: [], concurrent: [] };
            const failures: Partial<Record<Side, number>> = {};
            const acknowledged = new Map<string, number>();
            for (let round = 0; round < warmup + rounds; round += 1) {
                // Rotate the order so that no side always runs first (or last) in a round.
                const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
                for (const side of order) {
                    const cfg = await newConfiguration(app.origin, 'bench');
                    const began = performance.now();
                    const statuses = await runSide(side, app.origin, cfg);
                    const elapsed = performance.now() - began;
                    const created = statuses.filter((s) => s === 201).length;
                    acknowledged.set(cfg, created);
                    if (created !== BATCH_SIZE) {
                        failures[side] = (failures[side] ?? 0) + BATCH_SIZE - created;
                    }
                    if (round >= warmup) {
                        ms[side].push(elapsed);
                    }
                }
                if (round >= warmup) {
                    progress(
                        `batch round ${round - warmup + 1}/${rounds}: ` +
                            SIDES.map((s) => `${s} ${Math.round(ms[s].at(-1) ?? 0)} ms`).join(', '),
                    );
                }
            }
            const storedMatches = await storedEquals(app.origin, acknowledged);
            const paired = (other: Side) => ms.batch.map((b, i) => b / (ms[other][i] as number));
            return {
                creates: BATCH_SIZE,
                rounds,
                ms: {
                    batch: spread(ms.batch, 1),
                    sequential: spread(ms.sequential, 1),
                    concurrent: spread(ms.concurrent, 1),
                },
                ratios: {
                    batchToSequential: spread(paired('sequential')),
                    batchToConcurrent: spread(paired('concurrent')),
                },
                failures,
                storedMatches,
            };
        } finally {
            await stopChild(app.child);
        }
    } finally {
        await cosmos.close();
    }
}

/** Counts what each configuration holds, through the API ($count), against what was acknowledged. */
async function storedEquals(origin: string, acknowledged: ReadonlyMap<string, number>): Promise<boolean> {
    for (const [cfg, created] of acknowledged) {
        const response = await fetch(`${origin}/beta${assignmentsPath(cfg)}?$count=true&$top=1`);
        const { '@odata.count': count } = (await response.json()) as { '@odata.count': number };
        if (count !== created) {
            return false;
        }
    }
    return true;
}

/** The lines `npm run bench` prints. */
export function describeBatch(result: BatchBench): string {
    const { ms, ratios } = result;
    const failed = Object.entries(result.failures).map(([side, n]) => `${side} ${n}`);
    return [
        `JSON batching, ${result.creates} creates, ${result.rounds} rounds (wall ms, median (min–max)):`,
        `  one $batch ${ms.batch.median} (${ms.batch.min}–${ms.batch.max}) · 20 single one after another ` +
            `${ms.sequential.median} (${ms.sequential.min}–${ms.sequential.max}) · 20 single, 4 at a time ` +
            `${ms.concurrent.median} (${ms.concurrent.min}–${ms.concurrent.max})`,
        `  batch ÷ sequential singles: ${showRatio(ratios.batchToSequential)}; ` +
            `batch ÷ 4-at-a-time singles: ${showRatio(ratios.batchToConcurrent)} (reported, no target)`,
        `  failed creates: ${failed.length === 0 ? 'none' : failed.join(', ')}; ` +
            `stored equals acknowledged: ${result.storedMatches ? 'yes' : 'NO'}`,
    ].join('\n');
}
