/**
 * The app scaled out, as Azure runs it: N instances, each its own process with its own Cosmos DB client, behind one
 * round-robin front (scripts/roundRobinFront.ts). Tests use it to see that nothing depends on a request meeting the
 * instance that saw the one before; `npm run load -- --instances N` to drive more than one process.
 */
import type { ChildProcess } from 'node:child_process';

import { type AppInstance, startAppProcess } from './appProcess.js';
import { repoRoot } from './paths.js';
import { type RoundRobinFront, startRoundRobinFront } from './roundRobinFront.js';

export type { AppInstance } from './appProcess.js';

export interface ClusterOptions {
    /** How many app processes to start, in parallel. */
    instances: number;
    /**
     * Every instance's whole environment: COSMOS_ENDPOINT and COSMOS_KEY of the store they share, PATH... Create the
     * store's database and container first (openEmbeddedContainer, as scripts/load.ts does): instances opening an
     * empty store at once race to create them, and the losers exit on the 409.
     */
    env: NodeJS.ProcessEnv;
    /** The project whose `dist/scripts/start.js` runs; this one by default. */
    appRoot?: string;
    /** How long an instance may take to serve before the start fails. Default 60 s. */
    startTimeoutMs?: number;
    /** How long an instance may take to stop after SIGTERM before it gets SIGKILL. Default 10 s. */
    stopTimeoutMs?: number;
}

export interface Cluster {
    /** The front's origin: what clients call. */
    origin: string;
    /** Every instance started, in order, killed ones included (their `exited` has resolved): indexes stay. */
    instances: AppInstance[];
    front: RoundRobinFront;
    /** Takes instance `index` out of the rotation, then signals it and resolves once it has exited. */
    kill(index: number, signal?: NodeJS.Signals): Promise<void>;
    /** Starts another instance and puts it into the rotation once it serves. */
    start(): Promise<AppInstance>;
    /** Stops the front, then every instance (SIGTERM, SIGKILL after stopTimeoutMs); nothing is left running. */
    close(): Promise<void>;
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Signals the instance and waits for it to exit: SIGKILL once `graceMs` have passed without it exiting. */
async function stopInstance(instance: AppInstance, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (!running(instance.child)) {
        return;
    }
    instance.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const outcome = await Promise.race([instance.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
        instance.child.kill('SIGKILL');
        await instance.exited;
    }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
    if (!Number.isInteger(options.instances) || options.instances < 1) {
        throw new Error(`a cluster has at least one instance, not ${options.instances}`);
    }
    const appRoot = options.appRoot ?? repoRoot;
    const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    const launch = () =>
        startAppProcess(appRoot, options.env, {
            ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
        });

    const started = await Promise.allSettled(Array.from({ length: options.instances }, launch));
    const instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
        await Promise.all(instances.map((instance) => stopInstance(instance, 'SIGKILL', stopTimeoutMs)));
        throw failed.reason;
    }

    const front = await startRoundRobinFront().catch(async (error: unknown) => {
        await Promise.all(instances.map((instance) => stopInstance(instance, 'SIGKILL', stopTimeoutMs)));
        throw error;
    });
    const enlist = (instance: AppInstance) => {
        front.add(instance.origin);
        // One that dies on its own leaves the rotation too: its requests would only meet refused connections.
        void instance.exited.then(() => front.remove(instance.origin));
    };
    instances.forEach(enlist);
    let closed: Promise<void> | undefined;

    return {
        origin: front.origin,
        instances,
        front,
        kill: async (index, signal = 'SIGKILL') => {
            const instance = instances[index];
            if (!instance) {
                throw new Error(`no instance ${index}: the cluster has ${instances.length}`);
            }
            front.remove(instance.origin);
            await stopInstance(instance, signal, stopTimeoutMs);
        },
        start: async () => {
            if (closed) {
                throw new Error('the cluster is closed');
            }
            const instance = await launch();
            if (closed) {
                await stopInstance(instance, 'SIGKILL', stopTimeoutMs);
                throw new Error('the cluster closed while the instance started');
            }
            instances.push(instance);
            enlist(instance);
            return instance;
        },
        close: async () => {
            closed ??= (async () => {
                await front.close();
                await Promise.all(instances.map((instance) => stopInstance(instance, 'SIGTERM', stopTimeoutMs)));
            })();
            await closed;
        },
    };
}
