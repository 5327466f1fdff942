/**
 * Which Azure the simulated Cosmos DB stands for, as plain data: its consistency, latencies, charges, throughput
 * budget, replication lag and transient faults. The numbers come from cosmos-service-profile.json, where each one
 * sits next to the Learn page it comes from, so that a test, a load run or the bench names the Azure it measures
 * against (a preset) and states how it departs from it (overrides), rather than hiding constants in code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ConsistencyLevel = 'Strong' | 'BoundedStaleness' | 'Session' | 'ConsistentPrefix' | 'Eventual';

/** Strongest first: a request may ask for its account's level or a weaker one, never a stronger. */
export const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = [
    'Strong',
    'BoundedStaleness',
    'Session',
    'ConsistentPrefix',
    'Eventual',
];

/** The request kinds whose latency differs: each has its own distribution. */
export type LatencyKind = 'pointRead' | 'pointWrite' | 'batch' | 'query' | 'metadata';

/** The request groups transient faults are configured for. */
export type FaultGroup = 'reads' | 'writes' | 'batches' | 'queries';

/** The transient statuses Cosmos DB answers that the SDKs and applications retry. */
export type TransientStatus = 408 | 410 | 449 | 503;
export const TRANSIENT_STATUSES: readonly TransientStatus[] = [408, 410, 449, 503];

/** A latency distribution, given by two percentiles in milliseconds (0 and 0: no latency). */
export interface Percentiles {
    p50: number;
    p99: number;
}

/** `[x, y]` points of a piecewise-linear function, x ascending. */
export type Curve = readonly (readonly [number, number])[];

export interface IndexingPolicy {
    includedPaths: readonly string[];
    excludedPaths: readonly string[];
}

export interface ChargeModel {
    /** Point read RU by item size in KB (at Session and weaker). */
    pointReadByItemSizeKb: Curve;
    /** The size-based part of a write's RU by item size in KB. */
    writeByItemSizeKb: Curve;
    /** RU per indexed term written or removed. */
    perIndexedTerm: number;
    /** RU per patch operation, on top of a replace's charge. */
    patchPerOperation: number;
    /** RU of a query before the items it loads. */
    queryBase: number;
    /** RU of a point operation that fails (404, 409, 412). */
    failedRequest: number;
    /** RU of a metadata request (account, database, container, partition key ranges). */
    metadata: number;
    /** RU of the SDK's query-plan request. */
    queryPlan: number;
    indexingPolicy: IndexingPolicy;
}

export interface ThroughputProfile {
    /** The container's RU/s; null: unlimited (no 429 ever). */
    budgetRuPerSecond: number | null;
    physicalPartitions: number;
    perPhysicalPartitionMaxRuPerSecond: number;
    /** How many seconds of the budget an idle container holds. */
    capacitySeconds: number;
    /** Low priority requests are admitted only while this share of a second's budget is left. */
    lowPriorityShare: number;
    throttleSubstatus: number;
}

export interface CosmosProfile {
    name: string;
    consistency: {
        defaultLevel: ConsistencyLevel;
        /** A request may relax the account's level for itself (`x-ms-consistency-level`), as Cosmos DB allows. */
        honorRequestLevel: boolean;
        strongReadChargeMultiplier: number;
    };
    latencyMs: Record<LatencyKind, Percentiles>;
    charges: ChargeModel;
    throughput: ThroughputProfile;
    replication: {
        /** How far a replica outside the write quorum trails the writes, in milliseconds. */
        lagMs: number;
        /** The chance that a read without a covering session token is served by such a replica. */
        staleReplicaProbability: number;
    };
    faults: {
        rates: Record<FaultGroup, Record<TransientStatus, number>>;
        substatus: Record<TransientStatus, number>;
    };
    /** Seeds every random choice (latency, faults, replicas): the same seed and requests replay the same run. */
    seed: number;
}

type DeepPartial<T> = T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> | undefined }
      : T;

/** Changes to a profile: any subset of its fields, at any depth. Arrays and null replace what they override. */
export type ProfileOverrides = DeepPartial<CosmosProfile>;

const DATA_FILE = 'cosmos-service-profile.json';

/**
 * The data file beside this module, or, when this module runs compiled from dist/ (where tsc copies no JSON), the
 * one in the source tree of the nearest folder above with a package.json.
 */
function dataFilePath(): string {
    const here = dirname(fileURLToPath(import.meta.url));
    const beside = join(here, DATA_FILE);
    if (existsSync(beside)) {
        return beside;
    }
    for (let dir = here; dirname(dir) !== dir; dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json'))) {
            return join(dir, 'lib', 'store', 'simulator', DATA_FILE);
        }
    }
    throw new Error(`${DATA_FILE} not found above ${here}`);
}

/** The file's values without their sources: `{value, source, …}` becomes the value; `$` keys are comments. */
function unwrap(node: unknown): unknown {
    if (Array.isArray(node)) {
        return node.map(unwrap);
    }
    if (node !== null && typeof node === 'object') {
        if ('value' in node && 'source' in node) {
            return node.value;
        }
        return Object.fromEntries(
            Object.entries(node)
                .filter(([key]) => !key.startsWith('$'))
                .map(([key, value]) => [key, unwrap(value)]),
        );
    }
    return node;
}

interface PresetData {
    budgetRuPerSecond: number;
    perPhysicalPartitionMaxRuPerSecond: number;
    physicalPartitions: number;
}

interface ServiceData {
    consistency: CosmosProfile['consistency'];
    latencyMs: Record<LatencyKind, Percentiles>;
    charges: ChargeModel & { documentSizeTableKb: [number, number, number][] };
    throughput: Pick<
        ThroughputProfile,
        'perPhysicalPartitionMaxRuPerSecond' | 'capacitySeconds' | 'lowPriorityShare' | 'throttleSubstatus'
    >;
    replication: CosmosProfile['replication'];
    faults: { rates: Record<FaultGroup, Record<string, number>>; substatus: Record<string, number> };
    presets: { azureServerless: PresetData; azureAutoscaleFloor: PresetData };
}

/** The file as read, sources included: for tests and tools that audit where a number comes from. */
export function readServiceProfileFile(): unknown {
    return JSON.parse(readFileSync(dataFilePath(), 'utf8')) as unknown;
}

const data = unwrap(readServiceProfileFile()) as ServiceData;

/**
 * Learn's finer table of RU by document size (KB, read RU, write RU), for a profile that prefers it to the two
 * documented point-read sizes: `{ charges: { pointReadByItemSizeKb: DOCUMENT_SIZE_TABLE.map(([kb, read]) => [kb, read]) } }`.
 */
export const DOCUMENT_SIZE_TABLE: readonly (readonly [number, number, number])[] = data.charges.documentSizeTableKb;

function byStatus<T>(record: Record<string, T>): Record<TransientStatus, T> {
    return Object.fromEntries(TRANSIENT_STATUSES.map((s) => [s, record[String(s)]])) as Record<TransientStatus, T>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function merge(base: unknown, overrides: unknown): unknown {
    if (!isPlainObject(base) || !isPlainObject(overrides)) {
        return overrides === undefined ? base : overrides;
    }
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(overrides)) {
        if (value !== undefined) {
            merged[key] = merge(base[key], value);
        }
    }
    return merged;
}

/** A new profile: `base` with `overrides` applied at any depth (the base is left as it is). */
export function deriveProfile(base: CosmosProfile, overrides: ProfileOverrides): CosmosProfile {
    return structuredClone(merge(base, overrides)) as CosmosProfile;
}

/** Presets are shared by every simulator of the process: a change must go through deriveProfile, never in place. */
function frozen<T>(value: T): T {
    if (value !== null && typeof value === 'object') {
        Object.values(value).forEach(frozen);
        Object.freeze(value);
    }
    return value;
}

function azure(name: string, preset: PresetData): CosmosProfile {
    const charges: ChargeModel & { documentSizeTableKb?: unknown } = { ...data.charges };
    delete charges.documentSizeTableKb;
    return frozen<CosmosProfile>({
        name,
        consistency: data.consistency,
        latencyMs: data.latencyMs,
        charges,
        throughput: { ...data.throughput, ...preset },
        replication: {
            lagMs: data.replication.lagMs,
            staleReplicaProbability: data.replication.staleReplicaProbability,
        },
        faults: { rates: mapValues(data.faults.rates, byStatus), substatus: byStatus(data.faults.substatus) },
        seed: 1,
    });
}

function mapValues<K extends string, V, W>(record: Record<K, V>, f: (value: V) => W): Record<K, W> {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v as V)])) as Record<K, W>;
}

const NO_FAULTS: Record<TransientStatus, number> = { 408: 0, 410: 0, 449: 0, 503: 0 };
const NO_LATENCY: Percentiles = { p50: 0, p99: 0 };

/** The Bicep's default account: serverless, Session, one region. */
export const azureServerless: CosmosProfile = azure('azureServerless', data.presets.azureServerless);

/**
 * The Bicep's smallest provisioned setting: autoscale with a max of 1,000 RU/s, taken at the top of its range
 * (autoscale scales to its max as soon as usage asks for it, so a load run meets 1,000 RU/s, not the floor of 100).
 */
export const azureAutoscaleFloor: CosmosProfile = azure('azureAutoscaleFloor', data.presets.azureAutoscaleFloor);

/** Azure's charges (still reported) with nothing else: no latency, no budget, no lag, no faults. */
export const local: CosmosProfile = frozen(
    deriveProfile(azureServerless, {
        name: 'local',
        latencyMs: {
            pointRead: NO_LATENCY,
            pointWrite: NO_LATENCY,
            batch: NO_LATENCY,
            query: NO_LATENCY,
            metadata: NO_LATENCY,
        },
        throughput: { budgetRuPerSecond: null },
        replication: { lagMs: 0, staleReplicaProbability: 0 },
        faults: { rates: { reads: NO_FAULTS, writes: NO_FAULTS, batches: NO_FAULTS, queries: NO_FAULTS } },
    }),
);

export const PRESETS = { azureServerless, azureAutoscaleFloor, local } as const;
export type PresetName = keyof typeof PRESETS;

/**
 * A seeded pseudo-random source in [0, 1) (sfc32): each random choice of a run draws from one, so that a seed
 * replays a run's latencies, faults and replica choices.
 */
export function seededRandom(seed: number): () => number {
    let a = 0x9e3779b9;
    let b = 0x243f6a88;
    let c = 0xb7e15162;
    let d = seed >>> 0;
    const next = () => {
        a |= 0;
        b |= 0;
        c |= 0;
        d |= 0;
        const t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        return (t >>> 0) / 4294967296;
    };
    for (let i = 0; i < 15; i += 1) {
        next(); // the first outputs of a fresh state are poorly mixed
    }
    return next;
}

/** The 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/**
 * Latencies drawn from the log-normal with this p50 and p99: a long right tail, as network and service latencies
 * have, with the median where the docs put it. 0 when the p50 is 0.
 */
export function logNormalSampler(percentiles: Percentiles, random: () => number): () => number {
    const { p50, p99 } = percentiles;
    if (!(p50 > 0)) {
        return () => 0;
    }
    if (!(p99 > p50)) {
        return () => p50;
    }
    const sigma = Math.log(p99 / p50) / Z99;
    const mu = Math.log(p50);
    return () => {
        // Box-Muller; 1 - random() is in (0, 1], so the logarithm is finite.
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        return Math.exp(mu + sigma * z);
    };
}
