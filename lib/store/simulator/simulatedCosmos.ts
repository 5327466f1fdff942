/**
 * A Cosmos DB that behaves as Azure's does, for tests, load runs and the bench: an HTTP proxy in this process, in
 * front of the embedded server, that the real `@azure/cosmos` SDK talks to unchanged (plain HTTP on loopback, with a
 * key). The embedded server answers at once, charges 1 RU for anything, never throttles, and is one copy that every
 * reader sees; Azure takes milliseconds, charges by size and indexing, answers 429 past its RU/s, lets a reader
 * without the writer's session token see an older version, and now and then answers 408/410/449/503 or commits a
 * write whose answer never arrives. Each of those is modelled from the profile's documented numbers (profile.ts,
 * cosmos-service-profile.json), each can be changed mid-run, and tests can aim faults at one request. Each has a
 * module of its own beside this one; here is the proxy that puts them in the order Azure meets them: latency, faults,
 * throttling, then the backend and what Azure makes of its answer.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { type EmbeddedCosmos, KEEP_ALIVE_TIMEOUT_MS, startEmbeddedCosmos, stoppable } from '../embeddedCosmos.js';
import { createAnswers, readLevel } from './answers.js';
import { BackendClient } from './backendClient.js';
import { faultAnswer, type InterceptHandle, type InterceptRule, InterceptRules, pickFault } from './faults.js';
import { LATENCY_KIND, latencySamplers, sleep } from './latency.js';
import {
    type CosmosProfile,
    deriveProfile,
    type PresetName,
    PRESETS,
    type ProfileOverrides,
    seededRandom,
} from './profile.js';
import { type Answer, classify, cosmosError, observe, readBody } from './protocol.js';
import { Replication } from './replication.js';
import { type SimulatorStats, Stats } from './stats.js';
import { ThroughputBudget } from './throughput.js';
import { lateCommit, loseAnswer } from './unanswered.js';

export type { InterceptAction, InterceptHandle, InterceptRule } from './faults.js';
export { type BatchOperation, type ObservedRequest, OPERATION_KINDS, type OperationKind } from './protocol.js';
export type { KindStats, SimulatorStats } from './stats.js';

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

export async function startSimulatedCosmos(options: SimulatedCosmosOptions = {}): Promise<SimulatedCosmos> {
    const base =
        typeof options.profile === 'string' ? PRESETS[options.profile] : (options.profile ?? PRESETS.azureServerless);
    let profile = deriveProfile(base, options.overrides ?? {});
    const ownBackend = !options.backend;
    const backend = options.backend ?? (await startEmbeddedCosmos({ protocol: 'http' }));
    const backendClient = new BackendClient(backend.endpoint);

    // One random stream per concern: changing fault rates does not shift the latencies a seed replays.
    const latencyRandom = seededRandom(profile.seed);
    const faultRandom = seededRandom(profile.seed + 1);
    const replicaRandom = seededRandom(profile.seed + 2);
    let samplers = latencySamplers(profile, latencyRandom);

    const budget = new ThroughputBudget(profile.throughput);
    const replication = new Replication({
        retainMs: () => profile.replication.lagMs * 2 + 1000,
        maxBytes: options.historyBytes ?? 64 * 1024 * 1024,
    });
    const rules = new InterceptRules();
    let stats = new Stats();
    let closing = false;
    let endpoint = '';
    const answers = createAnswers({
        profile: () => profile,
        stats: () => stats,
        endpoint: () => endpoint,
        backend: backendClient,
        budget,
        replication,
        replicaRandom,
    });

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

    async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
        const started = performance.now();
        const body = await readBody(request);
        const classified = classify(request);
        const kind = classified.kind;
        const action = rules.take(() => observe(classified, request.method ?? 'GET', request.url ?? '/', body));
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
        const level =
            kind === 'pointRead' || kind === 'query' ? readLevel(profile, request) : profile.consistency.defaultLevel;
        if (action?.type === 'status') {
            stats.fault(action.status);
            answer = faultAnswer(profile, action.status, action.substatus, action.retryAfterMs);
        } else if (level === undefined) {
            answer = cosmosError(400, { 'x-ms-request-charge': '0.00' });
        } else if (!action) {
            // A request a rule aims at meets that rule, not chance as well.
            const fault = pickFault(profile, kind, faultRandom);
            if (fault !== undefined) {
                stats.fault(fault);
                answer = faultAnswer(profile, fault);
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
            await lateCommit(request, response, kind, action, {
                closing: () => closing,
                stats: () => stats,
                apply: () => answers.apply(request, classified, body),
            });
            return;
        }
        if (!answer) {
            try {
                answer = await answers.apply(request, classified, body);
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
            loseAnswer(response, stats);
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
    const { stop, resume } = stoppable(server, () => sockets.forEach((s) => s.destroy()));
    const port = await resume(options.port ?? 0);
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
            samplers = latencySamplers(profile, latencyRandom);
            budget.configure(profile.throughput);
        },
        intercept: (rule) => rules.add(rule),
        stats: () => stats.snapshot(replication.lsn),
        resetStats() {
            stats = new Stats();
        },
        stop,
        resume: async () => {
            await resume(port);
        },
        close: async () => {
            closing = true;
            await stop();
            backendClient.destroy();
            if (ownBackend) {
                await backend.close();
            }
        },
    };
}
