/**
 * The app's own Application Insights telemetry: a dependency record per Cosmos DB call, sampled under load
 * (lib/platform/sampling: every failure of the service's side, and at most `maxDependenciesPerSecond` other calls a
 * second, each with its sample rate), and a metric of the request units each create costs, fed by every create.
 * Requests are not recorded here: the Functions host already sends them.
 *
 * The SDK (`applicationinsights`, about 1.2 s to load here) runs on a worker thread that starts after the app has
 * registered its functions. Its code is CommonJS, so loading it on the main thread would block the event loop for the
 * whole of that time, behind whichever requests arrived first, a cold start's included. On the worker it loads in
 * parallel, and the main thread only posts plain records to it. Without a connection string, none of this is created.
 */
import type { Worker } from 'node:worker_threads';

import type { StoreCall, StoreObserver } from '../store/assignmentStore.js';
import type { TelemetrySettings } from './config.js';
import type { Logger } from './logger.js';
import { traceIdOf } from './requestScope.js';
import { DEFAULT_MAX_DEPENDENCIES_PER_SECOND, DependencySampler } from './sampling.js';

/** One Cosmos DB call, as the worker turns it into a dependency record. */
export interface DependencyRecord {
    kind: 'dependency';
    operation: string;
    /** Epoch milliseconds when the call started: records may wait before the SDK sends them. */
    startedAt: number;
    durationMs: number;
    requestCharge: number;
    success: boolean;
    /** The Cosmos DB status, or the kind of failure when there was no response. */
    resultCode: string;
    /** Percent of the calls like it that were recorded (100: all); Application Insights counts 100 ÷ it. */
    sampleRate: number;
    activityId?: string;
    requestId?: string;
    invocationId?: string;
    traceId?: string;
}

/**
 * Records go in batches: one message per batch, not per record, so the worker wakes once for many. `createCharges`
 * holds the request charge of every create of the batch, recorded or sampled out: the metric is exact.
 */
export type ToWorker =
    { kind: 'records'; records: DependencyRecord[]; createCharges: number[] } | { kind: 'flush'; id: number };
export type FromWorker =
    { kind: 'ready'; loadMs: number } | { kind: 'failed'; message: string } | { kind: 'flushed'; id: number };

export interface WorkerSettings extends TelemetrySettings {
    /** `database/container`: the dependency's target. */
    target: string;
}

export type TelemetryState = 'starting' | 'ready' | 'failed' | 'closed';

export interface Telemetry {
    /** For the AssignmentStore: told of each Cosmos DB call, it records the call or samples it out. */
    observer: StoreObserver;
    state(): TelemetryState;
    /** Resolves once the SDK has sent what it holds (or after `timeoutMs`). */
    flush(timeoutMs?: number): Promise<void>;
    /** Flushes, then stops the worker. */
    dispose(): Promise<void>;
}

export interface TelemetryOptions {
    /**
     * Records kept while the SDK loads (a cold start's burst); later ones are dropped, and the number dropped is
     * logged once it is ready. Bounded so that an SDK that cannot load never costs unbounded memory.
     */
    maxBuffered?: number;
    /** The worker's module; tests hand in their own. */
    workerUrl?: URL;
    /** How long a record may wait for others to share its message to the worker. */
    batchMs?: number;
    /** The sampler's clock, in ms; tests hand in their own. */
    clock?: () => number;
}

export const DEFAULT_MAX_BUFFERED = 1000;
/** Charges are plain numbers: many more of them wait while the SDK loads than records. */
const CHARGES_PER_RECORD_BUFFERED = 100;
/**
 * Failures on the service's side are recorded whatever the rate: what an investigation looks for. Failures a client
 * causes (a missing assignment, a stale If-Match, a duplicate, a full configuration) are sampled with the successes,
 * so that no client can drive records at its own rate.
 */
const ALWAYS_RECORDED: ReadonlySet<StoreCall['failure']> = new Set(['throttled', 'unavailable', 'unexpected']);
/** Well under the SDK's own export interval (seconds): batching here delays nothing that is sent. */
export const DEFAULT_BATCH_MS = 100;
/** A batch is posted at once when it reaches this size, whatever the time. */
const MAX_BATCH = 500;

function toRecord(call: StoreCall, endedAt: number, sampleRate: number, traceId: string | undefined): DependencyRecord {
    const { scope } = call;
    return {
        kind: 'dependency',
        operation: call.operation,
        startedAt: endedAt - call.durationMs,
        durationMs: call.durationMs,
        requestCharge: call.requestCharge,
        success: call.failure === undefined,
        resultCode: call.statusCode !== undefined ? String(call.statusCode) : (call.failure ?? ''),
        sampleRate,
        ...(call.activityId ? { activityId: call.activityId } : {}),
        ...(scope?.requestId ? { requestId: scope.requestId } : {}),
        ...(scope ? { invocationId: scope.invocationId } : {}),
        ...(traceId ? { traceId } : {}),
    };
}

export function startTelemetry(
    settings: TelemetrySettings,
    cosmos: { database: string; container: string },
    logger: Logger,
    options: TelemetryOptions = {},
): Telemetry {
    const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    const batchMs = options.batchMs ?? DEFAULT_BATCH_MS;
    const workerData: WorkerSettings = { ...settings, target: `${cosmos.database}/${cosmos.container}` };
    let state: TelemetryState = 'starting';
    let worker: Worker | undefined;
    let buffered: DependencyRecord[] = [];
    let bufferedCharges: number[] = [];
    let dropped = 0;
    let droppedCharges = 0;
    const sampler = new DependencySampler(
        settings.maxDependenciesPerSecond ?? DEFAULT_MAX_DEPENDENCIES_PER_SECOND,
        options.clock,
    );
    let nextFlushId = 0;
    const flushes = new Map<number, () => void>();
    // Flushes under way: the worker keeps the process alive while any is, whichever ends first.
    let holds = 0;
    const hold = () => {
        holds += 1;
        worker?.ref();
    };
    const release = () => {
        holds -= 1;
        if (holds === 0) {
            worker?.unref();
        }
    };
    const settledWaiters: (() => void)[] = [];

    // Records of the ready worker wait here for a batch: a postMessage per record costs both threads a wake-up.
    let batch: DependencyRecord[] = [];
    let charges: number[] = [];
    let batchTimer: NodeJS.Timeout | undefined;
    const postBatch = () => {
        clearTimeout(batchTimer);
        batchTimer = undefined;
        if (batch.length > 0 || charges.length > 0) {
            const message: ToWorker = { kind: 'records', records: batch, createCharges: charges };
            batch = [];
            charges = [];
            worker?.postMessage(message);
        }
    };

    const settle = (next: TelemetryState) => {
        state = next;
        settledWaiters.splice(0).forEach((wake) => wake());
    };
    const fail = (message: string) => {
        if (state !== 'starting' && state !== 'ready') {
            return;
        }
        logger.error(`Application Insights is off: ${message}`);
        buffered = [];
        bufferedCharges = [];
        batch = [];
        charges = [];
        clearTimeout(batchTimer);
        settle('failed');
        flushes.forEach((done) => done());
        flushes.clear();
        void worker?.terminate();
    };

    const spawn = async () => {
        try {
            // Loaded here, not with the module: an app without telemetry never loads node:worker_threads.
            const { Worker: WorkerThread } = await import('node:worker_threads');
            if (state !== 'starting') {
                return; // disposed meanwhile
            }
            worker = new WorkerThread(options.workerUrl ?? new URL('./telemetryWorker.js', import.meta.url), {
                workerData,
            });
        } catch (error) {
            fail(error instanceof Error ? error.message : String(error));
            return;
        }
        // Neither a local run nor a test should stay alive for telemetry alone; flush() holds it while it waits.
        if (holds === 0) {
            worker.unref();
        }
        worker.on('message', (message: FromWorker) => {
            switch (message.kind) {
                case 'ready': {
                    const waiting: ToWorker = { kind: 'records', records: buffered, createCharges: bufferedCharges };
                    buffered = [];
                    bufferedCharges = [];
                    settle('ready');
                    if (waiting.records.length > 0 || waiting.createCharges.length > 0) {
                        worker?.postMessage(waiting);
                    }
                    logger.info(
                        `Application Insights: Cosmos DB dependencies are recorded (SDK loaded on a worker thread in ${message.loadMs} ms).`,
                    );
                    if (dropped > 0 || droppedCharges > 0) {
                        logger.warn(
                            `Application Insights: ${dropped} records were dropped while the SDK loaded` +
                                (droppedCharges > 0
                                    ? `, and ${droppedCharges} creates' charges from the metric.`
                                    : '.'),
                        );
                    }
                    break;
                }
                case 'failed':
                    fail(message.message);
                    break;
                case 'flushed':
                    flushes.get(message.id)?.();
                    flushes.delete(message.id);
                    break;
            }
        });
        worker.on('error', (error) => fail(error.message));
        worker.on('exit', (code) => fail(`the telemetry worker exited (${code})`));
    };
    // After the current turn: functions/index.ts registers the app synchronously, so the worker starts after that.
    const starting = setImmediate(() => void spawn());

    const send = (call: StoreCall) => {
        // By the request's trace id (or its request-id): the calls of one request are kept or left out together.
        const traceId = traceIdOf(call.scope?.traceParent);
        const operation = traceId ?? call.scope?.requestId;
        const sampleRate = ALWAYS_RECORDED.has(call.failure) ? 100 : sampler.next(operation);
        const record = sampleRate > 0 ? toRecord(call, Date.now(), sampleRate, traceId) : undefined;
        const charge = call.operation === 'create' ? call.requestCharge : undefined;
        if (state === 'ready') {
            if (record !== undefined) {
                batch.push(record);
            }
            if (charge !== undefined) {
                charges.push(charge);
            }
            if (batch.length >= MAX_BATCH || charges.length >= MAX_BATCH) {
                postBatch();
            } else if (batchTimer === undefined) {
                batchTimer = setTimeout(postBatch, batchMs);
                batchTimer.unref(); // flush() and dispose() post what waits; nothing else should keep a process up
            }
        } else if (state === 'starting') {
            if (record !== undefined && buffered.length < maxBuffered) {
                buffered.push(record);
            } else if (record !== undefined) {
                dropped += 1;
            }
            // A sampled-out create still feeds the metric: its charge waits, within a bound of its own.
            if (charge !== undefined && bufferedCharges.length < maxBuffered * CHARGES_PER_RECORD_BUFFERED) {
                bufferedCharges.push(charge);
            } else if (charge !== undefined) {
                droppedCharges += 1;
            }
        }
    };

    const observer: StoreObserver = send;

    const flush = async (timeoutMs = 10_000): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        hold();
        try {
            if (state === 'starting') {
                await Promise.race([new Promise<void>((resolve) => settledWaiters.push(resolve)), expired]);
            }
            if (state !== 'ready' || worker === undefined) {
                return;
            }
            postBatch();
            const id = ++nextFlushId;
            const flushed = new Promise<void>((resolve) => flushes.set(id, resolve));
            worker.postMessage({ kind: 'flush', id } satisfies ToWorker);
            await Promise.race([flushed, expired]);
        } finally {
            clearTimeout(timer);
            release();
        }
    };

    return {
        observer,
        state: () => state,
        flush,
        dispose: async () => {
            clearImmediate(starting);
            if (worker === undefined) {
                settle('closed');
                return;
            }
            await flush();
            const current = worker;
            settle('closed');
            worker = undefined;
            await current?.terminate();
        },
    };
}
