/**
 * A Cosmos DB that behaves as Azure's does, for tests, load runs and the bench: an HTTP proxy in this process, in
 * front of the embedded server, that the real `@azure/cosmos` SDK talks to unchanged (plain HTTP on loopback, with a
 * key). The embedded server answers at once, charges 1 RU for anything, never throttles, and is one copy that every
 * reader sees; Azure takes milliseconds, charges by size and indexing, answers 429 past its RU/s, lets a reader
 * without the writer's session token see an older version, and now and then answers 408/410/449/503 or commits a
 * write whose answer never arrives. Each of those is modelled here from the profile's documented numbers
 * (profile.ts, cosmos-service-profile.json), each can be changed mid-run, and tests can aim faults at one request.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { type EmbeddedCosmos, KEEP_ALIVE_TIMEOUT_MS, startEmbeddedCosmos } from '../embeddedCosmos.js';
import {
    CONSISTENCY_LEVELS,
    type ConsistencyLevel,
    type CosmosProfile,
    deriveProfile,
    type FaultGroup,
    type LatencyKind,
    logNormalSampler,
    type PresetName,
    PRESETS,
    type ProfileOverrides,
    seededRandom,
    TRANSIENT_STATUSES,
    type TransientStatus,
} from './profile.js';
import { type Change, documentKey, Replication, sessionToken, sessionTokenLsn, UNKNOWN } from './replication.js';
import {
    createCharge,
    deleteCharge,
    type DocumentSummary,
    patchCharge,
    pointReadCharge,
    queryCharge,
    replaceCharge,
    roundCharge,
    summarize,
} from './requestCharge.js';
import { ThroughputBudget } from './throughput.js';

export type OperationKind =
    | 'pointRead'
    | 'create'
    | 'upsert'
    | 'replace'
    | 'patch'
    | 'delete'
    | 'batch'
    | 'query'
    | 'metadata';

export const OPERATION_KINDS: readonly OperationKind[] = [
    'pointRead',
    'create',
    'upsert',
    'replace',
    'patch',
    'delete',
    'batch',
    'query',
    'metadata',
];

/** One operation of a transactional batch, as the SDK sends it. */
export interface BatchOperation {
    operationType?: string;
    id?: string;
    partitionKey?: string;
    ifMatch?: string;
    resourceBody?: unknown;
}

/** A request as an intercept rule sees it. */
export interface ObservedRequest {
    kind: OperationKind;
    method: string;
    path: string;
    /** The first component of `x-ms-documentdb-partitionkey`, parsed; undefined when there is none. */
    partitionKey: unknown;
    /** The document's id: from the path, or the body of a create or upsert. */
    id: string | undefined;
    /** The parsed JSON body; undefined when there is none. */
    body: unknown;
    /** A batch's operations. */
    operations: readonly BatchOperation[] | undefined;
}

export type InterceptAction =
    /**
     * A write held unanswered until the client gives up (its request times out or is aborted) or `holdMs` passes
     * (then the connection is reset), and applied `afterMs` later; its answer is discarded.
     */
    | { type: 'lateCommit'; afterMs: number; holdMs?: number }
    /** Applied, then the connection is destroyed without an answer (a reset after commit). */
    | { type: 'lostAnswer' }
    /** Answered with this status, without being applied. */
    | { type: 'status'; status: number; retryAfterMs?: number; substatus?: number }
    /** Forwarded this much later. */
    | { type: 'delay'; ms: number };

export interface InterceptRule {
    kind?: OperationKind | readonly OperationKind[];
    /** Compared with the request's parsed partition key (its first component). */
    partitionKey?: unknown;
    /** The document's id; a batch matches when one of its operations names it. */
    id?: string;
    where?: (request: ObservedRequest) => boolean;
    action: InterceptAction;
    /** How many requests the rule hits before it retires; default 1. */
    times?: number;
}

export interface InterceptHandle {
    readonly hits: number;
    remove(): void;
}

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

export interface SimulatedCosmos {
    endpoint: string;
    key: string;
    /** Plain HTTP: the SDK uses its own agent. */
    agent: undefined;
    port: number;
    /** The embedded server behind the simulation, for setup or inspection that bypasses it. */
    backend: EmbeddedCosmos;
    readonly profile: CosmosProfile;
    /** Live changes mid-run: budget, rates, lag, latencies (the seed is read once, at start). */
    configure(overrides: ProfileOverrides): void;
    intercept(rule: InterceptRule): InterceptHandle;
    stats(): SimulatorStats;
    resetStats(): void;
    /** Stops listening and drops open connections (the backend keeps its data). */
    stop(): Promise<void>;
    /** Listens again on the same port. */
    resume(): Promise<void>;
    close(): Promise<void>;
}

export interface SimulatedCosmosOptions {
    /** A preset's name or a profile; default `azureServerless`. */
    profile?: PresetName | CosmosProfile;
    overrides?: ProfileOverrides;
    port?: number;
    /** An embedded server (plain HTTP) to stand in front of; default: a new one, closed with the simulator. */
    backend?: EmbeddedCosmos;
    /** At most this many bytes of document versions kept for stale reads; default 64 MiB. */
    historyBytes?: number;
}

interface Answer {
    status: number;
    headers: Record<string, string | string[]>;
    body: Buffer;
}

interface Classified {
    kind: OperationKind;
    db: string | undefined;
    coll: string | undefined;
    id: string | undefined;
    /** `x-ms-documentdb-partitionkey` as sent. */
    partitionKeyHeader: string | undefined;
    queryPlan: boolean;
    accountRead: boolean;
}

const LATENCY_KIND: Record<OperationKind, LatencyKind> = {
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

const FAULT_GROUP: Record<OperationKind, FaultGroup | undefined> = {
    pointRead: 'reads',
    create: 'writes',
    upsert: 'writes',
    replace: 'writes',
    patch: 'writes',
    delete: 'writes',
    batch: 'batches',
    query: 'queries',
    metadata: undefined,
};

const WRITE_KINDS = new Set<OperationKind>(['create', 'upsert', 'replace', 'patch', 'delete', 'batch']);

const STATUS_TEXT: Record<number, [code: string, message: string]> = {
    400: ['BadRequest', 'The consistency level requested is stronger than the account’s.'],
    404: ['NotFound', 'Entity with the specified id does not exist in the system.'],
    408: ['RequestTimeout', 'The request did not complete within the allotted time.'],
    410: ['Gone', 'The requested resource is no longer available at the server.'],
    429: [
        'TooManyRequests',
        'Request rate is large. More Request Units may be needed, so no changes were made. Please retry this ' +
            'request later. Learn more: http://aka.ms/cosmosdb-error-429',
    ],
    449: ['RetryWith', 'Conflicting request to resource has been attempted. Retry to avoid conflicts.'],
    503: ['ServiceUnavailable', 'The service is currently unavailable. Please retry the request.'],
};

/** How long a late commit waits at most for its client to give up, when the rule sets no `holdMs`. */
const DEFAULT_HOLD_MS = 60_000;
/** Latency samples kept per kind for the stats' percentiles. */
const LATENCY_SAMPLES = 4096;

const isTrue = (value: string | string[] | undefined) => String(value).toLowerCase() === 'true';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
}

function parseJson(buffer: Buffer): unknown {
    if (buffer.length === 0) {
        return undefined;
    }
    try {
        return JSON.parse(buffer.toString('utf8')) as unknown;
    } catch {
        return undefined;
    }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
}

function idOf(value: unknown): string | undefined {
    const id = asObject(value)?.id;
    return typeof id === 'string' ? id : undefined;
}

function parsePartitionKey(value: string | undefined): unknown {
    if (value === undefined) {
        return undefined;
    }
    const parsed = parseJson(Buffer.from(value));
    return Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
}

function classify(request: IncomingMessage): Classified {
    const method = request.method ?? 'GET';
    const headers = request.headers;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const segments = path.split('/').filter((s) => s !== '');
    const partitionKeyHeader = header(headers, 'x-ms-documentdb-partitionkey');
    const documents = segments[0] === 'dbs' && segments[2] === 'colls' && segments[4] === 'docs';
    const base = {
        db: documents ? decodeURIComponent(segments[1] ?? '') : undefined,
        coll: documents ? decodeURIComponent(segments[3] ?? '') : undefined,
        id: documents && segments[5] !== undefined ? decodeURIComponent(segments[5]) : undefined,
        partitionKeyHeader,
        queryPlan: false,
        accountRead: method === 'GET' && segments.length === 0,
    };
    if (!documents || segments.length > 6) {
        return { ...base, kind: 'metadata' };
    }
    if (base.id !== undefined) {
        const kinds: Record<string, OperationKind> = {
            GET: 'pointRead',
            PUT: 'replace',
            PATCH: 'patch',
            DELETE: 'delete',
        };
        return { ...base, kind: kinds[method] ?? 'metadata' };
    }
    if (method === 'GET') {
        return { ...base, kind: 'query' }; // a read feed or change feed: charged as a query of what it returns
    }
    if (isTrue(headers['x-ms-cosmos-is-query-plan-request'])) {
        return { ...base, kind: 'metadata', queryPlan: true };
    }
    if (isTrue(headers['x-ms-documentdb-isquery']) || header(headers, 'content-type') === 'application/query+json') {
        return { ...base, kind: 'query' };
    }
    if (isTrue(headers['x-ms-cosmos-is-batch-request'])) {
        return { ...base, kind: 'batch' };
    }
    return { ...base, kind: isTrue(headers['x-ms-documentdb-is-upsert']) ? 'upsert' : 'create' };
}

function observe(classified: Classified, method: string, path: string, body: Buffer): ObservedRequest {
    const parsed = parseJson(body);
    const operations = classified.kind === 'batch' && Array.isArray(parsed) ? (parsed as BatchOperation[]) : undefined;
    return {
        kind: classified.kind,
        method,
        path,
        partitionKey: parsePartitionKey(classified.partitionKeyHeader),
        id: classified.id ?? (classified.kind === 'create' || classified.kind === 'upsert' ? idOf(parsed) : undefined),
        body: parsed,
        operations,
    };
}

function matches(rule: InterceptRule, request: ObservedRequest): boolean {
    const kinds = rule.kind === undefined ? undefined : [rule.kind].flat();
    if (kinds && !kinds.includes(request.kind)) {
        return false;
    }
    if (rule.partitionKey !== undefined && JSON.stringify(rule.partitionKey) !== JSON.stringify(request.partitionKey)) {
        return false;
    }
    if (rule.id !== undefined) {
        const ids = request.operations ? request.operations.map((op) => op.id ?? idOf(op.resourceBody)) : [request.id];
        if (!ids.includes(rule.id)) {
            return false;
        }
    }
    return rule.where?.(request) ?? true;
}

function cosmosError(status: number, extra: Record<string, string> = {}, message?: string): Answer {
    const [code, text] = STATUS_TEXT[status] ?? [String(status), 'The request failed.'];
    const activityId = randomUUID();
    return {
        status,
        headers: { 'content-type': 'application/json', 'x-ms-activity-id': activityId, ...extra },
        body: Buffer.from(
            JSON.stringify({
                code,
                message: `Message: {"Errors":[${JSON.stringify(message ?? text)}]}\r\nActivityId: ${activityId}`,
            }),
        ),
    };
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) {
        return 0;
    }
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/**
 * Runs tasks one at a time per key. Writes of one logical partition go to the backend one after the other, so the
 * LSN each commit is given follows the order the backend applied them in: concurrent answers may otherwise arrive
 * in either order. Cosmos DB orders a partition's writes too.
 */
class KeyedQueue {
    readonly #tails = new Map<string, Promise<void>>();

    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
        const previous = this.#tails.get(key) ?? Promise.resolve();
        const result = previous.then(task);
        const tail = result.then(
            () => undefined,
            () => undefined,
        );
        this.#tails.set(key, tail);
        try {
            return await result;
        } finally {
            if (this.#tails.get(key) === tail) {
                this.#tails.delete(key);
            }
        }
    }
}

class Stats {
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

/** What the simulator adds to a forwarded answer: its charge, and the session token it carries. */
interface Outcome {
    answer: Answer;
    charge: number;
    /** The LSN the answer's session token reports; undefined: no token (metadata). */
    lsn: number | undefined;
}

export async function startSimulatedCosmos(options: SimulatedCosmosOptions = {}): Promise<SimulatedCosmos> {
    const base =
        typeof options.profile === 'string' ? PRESETS[options.profile] : (options.profile ?? PRESETS.azureServerless);
    let profile = deriveProfile(base, options.overrides ?? {});
    const ownBackend = !options.backend;
    const backend = options.backend ?? (await startEmbeddedCosmos({ protocol: 'http' }));
    const target = new URL(backend.endpoint);
    const backendAgent = new http.Agent({ keepAlive: true });

    // One random stream per concern: changing fault rates does not shift the latencies a seed replays.
    const latencyRandom = seededRandom(profile.seed);
    const faultRandom = seededRandom(profile.seed + 1);
    const replicaRandom = seededRandom(profile.seed + 2);
    const samplersOf = (p: CosmosProfile) =>
        Object.fromEntries(
            Object.entries(p.latencyMs).map(([kind, percentiles]) => [
                kind,
                logNormalSampler(percentiles, latencyRandom),
            ]),
        ) as Record<LatencyKind, () => number>;
    let samplers = samplersOf(profile);

    const budget = new ThroughputBudget(profile.throughput);
    const replication = new Replication({
        retainMs: () => profile.replication.lagMs * 2 + 1000,
        maxBytes: options.historyBytes ?? 64 * 1024 * 1024,
    });
    const writes = new KeyedQueue();
    const rules: { rule: InterceptRule; hits: number }[] = [];
    const collectionRids = new Map<string, string>();
    let stats = new Stats();
    let closing = false;
    let endpoint = '';

    const keepsBodies = () => profile.replication.lagMs > 0 && profile.replication.staleReplicaProbability > 0;

    function forward(request: IncomingMessage, body: Buffer, path = request.url ?? '/'): Promise<Answer> {
        return new Promise((resolve, reject) => {
            const headers = request.headers;
            delete headers['transfer-encoding'];
            headers['content-length'] = String(body.length);
            const upstream = http.request(
                {
                    host: target.hostname,
                    port: target.port,
                    method: request.method,
                    path,
                    headers,
                    agent: backendAgent,
                },
                (answer) => {
                    const chunks: Buffer[] = [];
                    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
                    answer.on('error', reject);
                    answer.on('end', () => {
                        const answerHeaders = answer.headers as Record<string, string | string[]>;
                        delete answerHeaders['content-length'];
                        delete answerHeaders['transfer-encoding'];
                        resolve({
                            status: answer.statusCode ?? 502,
                            headers: answerHeaders,
                            body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks),
                        });
                    });
                },
            );
            upstream.on('error', reject);
            upstream.end(body);
        });
    }

    /** The collection's `_rid`: the SDK keeps a session token only for an owner id of 8 bytes, the collection's. */
    async function collectionRid(db: string, coll: string): Promise<string | undefined> {
        const link = `dbs/${db}/colls/${coll}`;
        const known = collectionRids.get(link);
        if (known !== undefined) {
            return known;
        }
        const answer = await new Promise<Answer | undefined>((resolve) => {
            const upstream = http.request(
                {
                    host: target.hostname,
                    port: target.port,
                    method: 'GET',
                    path: `/${link.split('/').map(encodeURIComponent).join('/')}`,
                    agent: backendAgent,
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on('data', (chunk: Buffer) => chunks.push(chunk));
                    response.on('end', () =>
                        resolve({ status: response.statusCode ?? 0, headers: {}, body: Buffer.concat(chunks) }),
                    );
                },
            );
            upstream.on('error', () => resolve(undefined));
            upstream.end();
        });
        const rid = answer?.status === 200 ? asObject(parseJson(answer.body))?._rid : undefined;
        if (typeof rid === 'string') {
            collectionRids.set(link, rid);
            return rid;
        }
        return undefined;
    }

    /** The level a read is served at, or undefined when it asks for more than the account's (a 400 in Azure). */
    function readLevel(request: IncomingMessage): ConsistencyLevel | undefined {
        const account = profile.consistency.defaultLevel;
        const requested = header(request.headers, 'x-ms-consistency-level') as ConsistencyLevel | undefined;
        if (requested === undefined || !CONSISTENCY_LEVELS.includes(requested)) {
            return account;
        }
        if (CONSISTENCY_LEVELS.indexOf(requested) < CONSISTENCY_LEVELS.indexOf(account)) {
            return undefined;
        }
        return profile.consistency.honorRequestLevel ? requested : account;
    }

    const readsFromQuorum = (level: ConsistencyLevel) => level === 'Strong' || level === 'BoundedStaleness';

    function summaryOf(document: unknown, size?: number): DocumentSummary {
        return summarize(document, profile.charges.indexingPolicy, size);
    }

    function pointRead(request: IncomingMessage, classified: Classified, answer: Answer, level: ConsistencyLevel) {
        const charges = profile.charges;
        const multiplier = readsFromQuorum(level) ? profile.consistency.strongReadChargeMultiplier : 1;
        const key = documentKey(classified.partitionKeyHeader, classified.id ?? '');
        let served = answer;
        let lsn = replication.lsn;
        const { lagMs, staleReplicaProbability } = profile.replication;
        const conditional = request.headers['if-none-match'] !== undefined;
        if (!readsFromQuorum(level) && !conditional && lagMs > 0 && replicaRandom() < staleReplicaProbability) {
            const token = level === 'Session' ? (sessionTokenLsn(request.headers['x-ms-session-token']) ?? 0) : 0;
            lsn = Math.max(token, replication.lsnAt(performance.now() - lagMs));
            const older = replication.olderVersionAt(key, lsn);
            // A 404 with a substatus is about the container, not the document: nothing older to serve.
            const itemAnswer = answer.status === 200 || (answer.status === 404 && !answer.headers['x-ms-substatus']);
            if (older && older.body !== UNKNOWN && itemAnswer) {
                stats.staleReads += 1;
                served =
                    older.body === null
                        ? cosmosError(404)
                        : {
                              status: 200,
                              headers: {
                                  ...answer.headers,
                                  'content-type': 'application/json',
                                  ...(typeof older.body._etag === 'string' ? { etag: older.body._etag } : {}),
                              },
                              body: Buffer.from(JSON.stringify(older.body)),
                          };
            }
        }
        if (served === answer && answer.status === 200) {
            const document = parseJson(answer.body);
            if (!replication.latest(key)) {
                replication.observe(
                    key,
                    keepsBodies() ? (asObject(document) ?? UNKNOWN) : UNKNOWN,
                    summaryOf(document, answer.body.length),
                );
            }
        }
        const charge =
            served.status === 200
                ? pointReadCharge(charges, served.body.length, multiplier)
                : roundCharge(charges.failedRequest * multiplier);
        return { answer: served, charge, lsn };
    }

    function patchOperations(body: unknown): number {
        if (Array.isArray(body)) {
            return body.length;
        }
        const operations = asObject(body)?.operations;
        return Array.isArray(operations) ? operations.length : 1;
    }

    /** A point write's charge and commit. */
    function pointWrite(classified: Classified, requestBody: Buffer, answer: Answer): Outcome {
        const charges = profile.charges;
        if (answer.status < 200 || answer.status >= 300) {
            return { answer, charge: charges.failedRequest, lsn: replication.lsn };
        }
        const kind = classified.kind;
        const sent = kind === 'patch' || kind === 'delete' ? undefined : parseJson(requestBody);
        const returned = kind === 'delete' ? undefined : asObject(parseJson(answer.body));
        const document = returned ?? asObject(sent);
        const id = classified.id ?? idOf(document) ?? '';
        const key = documentKey(classified.partitionKeyHeader, id);
        const before = replication.latest(key)?.summary;
        const summary =
            kind === 'delete' || !document ? undefined : summaryOf(document, returned ? answer.body.length : undefined);
        const created = kind === 'create' || (kind === 'upsert' && answer.status === 201);
        let charge: number;
        if (kind === 'delete') {
            charge = deleteCharge(charges, before);
        } else if (!summary) {
            charge = charges.failedRequest; // no body to measure (a minimal answer to a patch)
        } else if (created) {
            charge = createCharge(charges, summary);
        } else if (kind === 'patch') {
            charge = patchCharge(charges, before, summary, patchOperations(parseJson(requestBody)));
        } else {
            charge = replaceCharge(charges, before, summary);
        }
        const body = kind === 'delete' ? null : document && keepsBodies() ? document : UNKNOWN;
        const lsn = replication.commit([
            { key, body, ...(summary ? { summary } : {}), before: created ? 'absent' : 'unknown' },
        ]);
        return { answer, charge, lsn };
    }

    /** A transactional batch: each operation's charge in its result, their sum in the header, one LSN if it commits. */
    function batch(classified: Classified, requestBody: Buffer, answer: Answer): Outcome {
        const charges = profile.charges;
        const parsedOperations = parseJson(requestBody);
        const parsedResults = parseJson(answer.body);
        if (!Array.isArray(parsedOperations) || !Array.isArray(parsedResults)) {
            return { answer, charge: charges.failedRequest, lsn: replication.lsn };
        }
        const operations = parsedOperations as BatchOperation[];
        const results = parsedResults as Record<string, unknown>[];
        const committed = answer.status < 300 && results.every((r) => Number(r.statusCode) < 400);
        const failedAt = committed ? -1 : results.findIndex((r) => Number(r.statusCode) >= 400 && r.statusCode !== 424);
        const pending = new Map<string, DocumentSummary | undefined>();
        const changes: Change[] = [];
        const costs = operations.map((operation, index) => {
            const result = asObject(results[index]) ?? {};
            if (!committed && index >= failedAt) {
                return index === failedAt ? charges.failedRequest : 0;
            }
            // Operations before a failure ran and were rolled back: charged as run, from what they sent.
            const resourceBody = committed
                ? (asObject(result.resourceBody) ?? asObject(operation.resourceBody))
                : undefined;
            const type = operation.operationType?.toLowerCase();
            const sentBody = asObject(operation.resourceBody);
            const document = resourceBody ?? (type === 'patch' ? undefined : sentBody);
            const id = operation.id ?? idOf(document) ?? '';
            const key = documentKey(operation.partitionKey ?? classified.partitionKeyHeader, id);
            const before = pending.has(key) ? pending.get(key) : replication.latest(key)?.summary;
            const summary = document ? summaryOf(document) : before;
            const created = type === 'create' || (type === 'upsert' && Number(result.statusCode) === 201);
            const remember = (next: DocumentSummary | undefined, body: Record<string, unknown> | null | undefined) => {
                pending.set(key, next);
                if (committed) {
                    changes.push({
                        key,
                        body: body === null ? null : body && keepsBodies() ? body : UNKNOWN,
                        ...(next ? { summary: next } : {}),
                        before: created ? 'absent' : 'unknown',
                    });
                }
            };
            switch (type) {
                case 'read':
                    return pointReadCharge(charges, summary?.size ?? 0);
                case 'delete':
                    remember(undefined, null);
                    return deleteCharge(charges, before);
                case 'patch': {
                    remember(summary, resourceBody);
                    const after = summary ?? { size: 1024, terms: new Set<string>() };
                    return patchCharge(charges, before, after, patchOperations(operation.resourceBody));
                }
                default: {
                    if (!summary) {
                        return charges.failedRequest;
                    }
                    remember(summary, document);
                    return created ? createCharge(charges, summary) : replaceCharge(charges, before, summary);
                }
            }
        });
        const lsn = changes.length > 0 ? replication.commit(changes) : replication.lsn;
        results.forEach((result, index) => {
            if (asObject(result)) {
                result.requestCharge = costs[index] ?? 0;
            }
        });
        const charge = roundCharge(costs.reduce((a, b) => a + b, 0));
        return { answer: { ...answer, body: Buffer.from(JSON.stringify(results)) }, charge, lsn };
    }

    function query(answer: Answer, level: ConsistencyLevel): Outcome {
        const multiplier = readsFromQuorum(level) ? profile.consistency.strongReadChargeMultiplier : 1;
        const documents = asObject(parseJson(answer.body))?.Documents;
        const sizes = Array.isArray(documents) ? documents.map((d) => Buffer.byteLength(JSON.stringify(d) ?? '')) : [];
        const charge =
            answer.status === 200
                ? queryCharge(profile.charges, sizes, multiplier)
                : roundCharge(profile.charges.failedRequest * multiplier);
        // Queries are served fresh: serving one as a lagging replica would need every document's state at an
        // LSN, and the simulator holds only those it saw, so it could not tell which others matched then.
        return { answer, charge, lsn: replication.lsn };
    }

    /** The account read reports the profile's consistency and this endpoint, not the backend's. */
    function metadata(request: IncomingMessage, classified: Classified, answer: Answer): Outcome {
        const charge = classified.queryPlan ? profile.charges.queryPlan : profile.charges.metadata;
        const json = asObject(parseJson(answer.body));
        if (classified.accountRead && answer.status === 200 && json) {
            json.userConsistencyPolicy = {
                ...asObject(json.userConsistencyPolicy),
                defaultConsistencyLevel: profile.consistency.defaultLevel,
            };
            for (const list of ['writableLocations', 'readableLocations']) {
                const locations = json[list];
                if (Array.isArray(locations)) {
                    json[list] = locations.map((l) => ({ ...asObject(l), databaseAccountEndpoint: endpoint }));
                }
            }
            return { answer: { ...answer, body: Buffer.from(JSON.stringify(json)) }, charge, lsn: undefined };
        }
        // A container's `_rid`, as it goes by.
        if (json && typeof json._rid === 'string' && typeof json.id === 'string') {
            const segments =
                (request.url ?? '')
                    .split('?')[0]
                    ?.split('/')
                    .filter((s) => s !== '') ?? [];
            if (segments[0] === 'dbs' && segments[2] === 'colls') {
                collectionRids.set(`dbs/${decodeURIComponent(segments[1] ?? '')}/colls/${json.id}`, json._rid);
            }
        }
        return { answer, charge, lsn: undefined };
    }

    function processAnswer(request: IncomingMessage, classified: Classified, body: Buffer, answer: Answer): Outcome {
        const level = readLevel(request) ?? profile.consistency.defaultLevel;
        switch (classified.kind) {
            case 'pointRead':
                return pointRead(request, classified, answer, level);
            case 'query':
                return query(answer, level);
            case 'batch':
                return batch(classified, body, answer);
            case 'metadata':
                return metadata(request, classified, answer);
            default:
                return pointWrite(classified, body, answer);
        }
    }

    /** The headers Azure adds to a document request's answer: its charge, session token and owner. */
    function finish(classified: Classified, outcome: Outcome, rid: string | undefined): Answer {
        const headers = outcome.answer.headers;
        headers['x-ms-request-charge'] = outcome.charge.toFixed(2);
        if (classified.db !== undefined && classified.coll !== undefined) {
            if (rid !== undefined) {
                headers['x-ms-content-path'] = rid;
                headers['x-ms-alt-content-path'] = `dbs/${classified.db}/colls/${classified.coll}`;
            }
            if (outcome.lsn !== undefined) {
                headers['x-ms-session-token'] = sessionToken(outcome.lsn);
            }
        }
        return outcome.answer;
    }

    function pickFault(kind: OperationKind): TransientStatus | undefined {
        const group = FAULT_GROUP[kind];
        if (!group) {
            return undefined;
        }
        const rates = profile.faults.rates[group];
        let draw = faultRandom();
        for (const status of TRANSIENT_STATUSES) {
            // 449 only ever answers a write.
            const rate = status === 449 && !WRITE_KINDS.has(kind) ? 0 : rates[status];
            if (draw < rate) {
                return status;
            }
            draw -= rate;
        }
        return undefined;
    }

    function faultAnswer(status: number, substatus?: number, retryAfterMs?: number): Answer {
        const transient = (TRANSIENT_STATUSES as readonly number[]).includes(status);
        const sub = substatus ?? (transient ? profile.faults.substatus[status as TransientStatus] : undefined);
        return cosmosError(status, {
            'x-ms-request-charge': '0.00',
            ...(sub ? { 'x-ms-substatus': String(sub) } : {}),
            ...(retryAfterMs !== undefined ? { 'x-ms-retry-after-ms': String(retryAfterMs) } : {}),
        });
    }

    function send(response: ServerResponse, answer: Answer): boolean {
        if (response.destroyed || response.writableEnded) {
            stats.abandoned += 1;
            return false;
        }
        answer.headers['content-length'] = String(answer.body.length);
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
        return true;
    }

    function readBody(request: IncomingMessage): Promise<Buffer> {
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            request.on('data', (chunk: Buffer) => chunks.push(chunk));
            request.on('end', () => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
            request.on('error', reject);
        });
    }

    /** Forwards a request, serialized with the other writes of its logical partition, and adds Azure's headers. */
    async function apply(request: IncomingMessage, classified: Classified, body: Buffer): Promise<Answer> {
        const run = async () => processAnswer(request, classified, body, await forward(request, body));
        const outcome = WRITE_KINDS.has(classified.kind)
            ? await writes.run(classified.partitionKeyHeader ?? '', run)
            : await run();
        if (classified.kind !== 'metadata') {
            budget.charge(budget.partitionOf(classified.partitionKeyHeader), outcome.charge);
        }
        const { db, coll } = classified;
        const rid =
            db === undefined || coll === undefined
                ? undefined
                : (collectionRids.get(`dbs/${db}/colls/${coll}`) ?? (await collectionRid(db, coll)));
        return finish(classified, outcome, rid);
    }

    async function lateCommit(
        request: IncomingMessage,
        response: ServerResponse,
        classified: Classified,
        body: Buffer,
        action: { afterMs: number; holdMs?: number },
    ): Promise<void> {
        const socket = request.socket;
        const clientGone = socket.destroyed ? Promise.resolve() : once(socket, 'close').then(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const held = new Promise<void>((resolve) => (timer = setTimeout(resolve, action.holdMs ?? DEFAULT_HOLD_MS)));
        await Promise.race([clientGone, held]);
        clearTimeout(timer);
        response.destroy(); // the client gave up, or is now cut off: either way it gets no answer
        await sleep(action.afterMs);
        if (closing) {
            return;
        }
        stats.lateCommits += 1;
        const answer = await apply(request, classified, body).catch(() => undefined);
        if (answer) {
            stats.record(classified.kind, answer.status, Number(answer.headers['x-ms-request-charge']) || 0, 0);
        }
    }

    async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
        const started = performance.now();
        const body = await readBody(request);
        const classified = classify(request);
        const kind = classified.kind;
        let rule: { rule: InterceptRule; hits: number } | undefined;
        if (rules.length > 0) {
            const observed = observe(classified, request.method ?? 'GET', request.url ?? '/', body);
            rule = rules.find((r) => r.hits < (r.rule.times ?? 1) && matches(r.rule, observed));
            if (rule) {
                rule.hits += 1;
            }
        }
        const action = rule?.rule.action;
        const latency = samplers[LATENCY_KIND[kind]]();
        const half = latency / 2;
        if (half > 0) {
            await sleep(half);
        }
        if (action?.type === 'delay' && action.ms > 0) {
            await sleep(action.ms);
        }
        let answer: Answer | undefined;
        let charge = 0;
        const level = kind === 'pointRead' || kind === 'query' ? readLevel(request) : profile.consistency.defaultLevel;
        if (action?.type === 'status') {
            stats.fault(action.status);
            answer = faultAnswer(action.status, action.substatus, action.retryAfterMs);
        } else if (level === undefined) {
            answer = cosmosError(400, { 'x-ms-request-charge': '0.00' });
        } else if (!action) {
            // A request a rule aims at meets that rule, not chance as well.
            const fault = pickFault(kind);
            if (fault !== undefined) {
                stats.fault(fault);
                answer = faultAnswer(fault);
            }
        }
        if (!answer && kind !== 'metadata') {
            const low = String(request.headers['x-ms-cosmos-priority-level']).toLowerCase() === 'low';
            const wait = budget.admit(budget.partitionOf(classified.partitionKeyHeader), low ? 'Low' : 'High');
            if (wait > 0) {
                stats.throttled += 1;
                answer = cosmosError(429, {
                    'x-ms-request-charge': '0.00',
                    'x-ms-retry-after-ms': String(wait),
                    'x-ms-substatus': String(profile.throughput.throttleSubstatus),
                });
            }
        }
        if (!answer && action?.type === 'lateCommit') {
            await lateCommit(request, response, classified, body, action);
            return;
        }
        if (!answer) {
            try {
                answer = await apply(request, classified, body);
            } catch {
                // The backend is unreachable (stopped): so is Cosmos DB, as far as the client can tell.
                response.destroy();
                return;
            }
            charge = Number(answer.headers['x-ms-request-charge']) || 0;
        }
        if (half > 0) {
            await sleep(half);
        }
        stats.record(kind, answer.status, charge, performance.now() - started);
        if (action?.type === 'lostAnswer') {
            stats.lostAnswers += 1;
            response.destroy();
            return;
        }
        send(response, answer);
    }

    const sockets = new Set<Socket>();
    const server = http.createServer({ keepAlive: true }, (request, response) => {
        handle(request, response).catch(() => response.destroy());
    });
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    let listening = false;
    const listen = async (port: number) => {
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
        listening = true;
    };
    const stop = async () => {
        if (!listening) {
            return;
        }
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        sockets.forEach((s) => s.destroy());
        await closed;
    };
    await listen(options.port ?? 0);
    const port = (server.address() as AddressInfo).port;
    endpoint = `http://127.0.0.1:${port}/`;

    return {
        endpoint,
        key: backend.key,
        agent: undefined,
        port,
        backend,
        get profile() {
            return profile;
        },
        configure(overrides) {
            profile = deriveProfile(profile, overrides);
            samplers = samplersOf(profile);
            budget.configure(profile.throughput);
        },
        intercept(rule) {
            const entry = { rule, hits: 0 };
            rules.push(entry);
            return {
                get hits() {
                    return entry.hits;
                },
                remove() {
                    const index = rules.indexOf(entry);
                    if (index >= 0) {
                        rules.splice(index, 1);
                    }
                },
            };
        },
        stats: () => stats.snapshot(replication.lsn),
        resetStats() {
            stats = new Stats();
        },
        stop,
        resume: async () => {
            if (!listening) {
                await listen(port);
            }
        },
        close: async () => {
            closing = true;
            await stop();
            backendAgent.destroy();
            if (ownBackend) {
                await backend.close();
            }
        },
    };
}
