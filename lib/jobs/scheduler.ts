/**
 * Runs the app's timer jobs where no Functions host does (the local host): each job every so many milliseconds,
 * never two runs of one job at once, and stopping waits for the runs under way. In Azure the host's timer triggers
 * run the same jobs (functions/triggers.ts).
 */
import type { Logger } from '../platform/logger.js';

export interface ScheduledJob {
    name: string;
    everyMs: number;
    run(): Promise<unknown>;
}

export interface Scheduler {
    /** Runs a job now (unless it is running), resolving when that run ends: for tests and a prompt first run. */
    runNow(name: string): Promise<void>;
    /** No run starts after this; resolves once the runs under way have ended. */
    stop(): Promise<void>;
}

export function startScheduler(jobs: readonly ScheduledJob[], logger: Logger): Scheduler {
    const running = new Map<string, Promise<void>>();
    let stopped = false;
    const start = (job: ScheduledJob): Promise<void> => {
        const current = running.get(job.name);
        if (current || stopped) {
            return current ?? Promise.resolve();
        }
        const run = job
            .run()
            .then(
                () => undefined,
                (error: unknown) => {
                    logger.warn(`${job.name} failed: ${error instanceof Error ? error.message : String(error)}`);
                },
            )
            .finally(() => running.delete(job.name));
        running.set(job.name, run);
        return run;
    };
    const timers = jobs.map((job) => {
        const timer = setInterval(() => void start(job), job.everyMs);
        timer.unref();
        return timer;
    });
    return {
        runNow: async (name) => {
            const job = jobs.find((j) => j.name === name);
            if (!job) {
                throw new Error(`no job named ${name}`);
            }
            await start(job);
        },
        stop: async () => {
            stopped = true;
            timers.forEach((t) => clearInterval(t));
            await Promise.all(running.values());
        },
    };
}
