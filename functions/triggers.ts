/**
 * The app's work outside requests, each job with its period: read both by `app.timer(...)` (functions/index.ts) and
 * by the local host's scheduler (scripts/start.ts), as the route table is by both hosts.
 */
import type { ScheduledJob } from '../lib/jobs/scheduler.js';
import { sweep } from '../lib/jobs/sweeper.js';
import type { Logger } from '../lib/platform/logger.js';
import type { AssignmentStore } from '../lib/store/assignmentStore.js';

export interface Trigger {
    /** The function's name in Azure. */
    name: string;
    /** NCRONTAB, six fields (with seconds), for the Functions host; elsewhere SWEEP_INTERVAL_SECONDS decides. */
    schedule: string;
    run(services: { store: AssignmentStore; logger: Logger }): Promise<unknown>;
}

/**
 * A sweep run ends within this: well inside host.json's `functionTimeout` (30 s), which would otherwise end it
 * abruptly (harmless, as every step stands alone, but noisy).
 */
export const SWEEP_RUN_MS = 20_000;

export const triggers: readonly Trigger[] = [
    {
        name: 'sweepDeletedConfigurations',
        schedule: '*/30 * * * * *',
        run: async ({ store, logger }) => await sweep(store, { runForMs: SWEEP_RUN_MS, logger }),
    },
];

/** The same jobs for a scheduler of this process, where no Functions host runs them (lib/jobs/scheduler.ts). */
export function localJobs(store: AssignmentStore, logger: Logger, everyMs: number): ScheduledJob[] {
    return triggers.map((trigger) => ({ name: trigger.name, everyMs, run: () => trigger.run({ store, logger }) }));
}
