/**
 * The app's work outside requests, each job with its period: read both by `app.timer(...)` (functions/index.ts) and
 * by the local host's scheduler (scripts/start.ts), as the route table is by both hosts.
 */
import { DEFAULT_DELIVERY, deliverNotifications, type DeliverySettings } from '../lib/jobs/notifier.js';
import type { ScheduledJob } from '../lib/jobs/scheduler.js';
import { sweep } from '../lib/jobs/sweeper.js';
import type { AppConfig } from '../lib/platform/config.js';
import type { Logger } from '../lib/platform/logger.js';
import type { AssignmentStore } from '../lib/store/assignmentStore.js';

/** What a job works with. */
export interface JobServices {
    store: AssignmentStore;
    logger: Logger;
    delivery: DeliverySettings;
}

export interface Trigger {
    /** The function's name in Azure. */
    name: string;
    /** NCRONTAB, six fields (with seconds), for the Functions host; elsewhere `everyMs` decides. */
    schedule(config: AppConfig): string;
    /** The local host's period, from the settings (SWEEP_INTERVAL_SECONDS, NOTIFICATION_INTERVAL_SECONDS). */
    everyMs(config: AppConfig): number;
    run(services: JobServices): Promise<unknown>;
}

/**
 * A sweep run ends within this: well inside host.json's `functionTimeout` (30 s), which would otherwise end it
 * abruptly (harmless, as every step stands alone, but noisy).
 */
export const SWEEP_RUN_MS = 20_000;

/**
 * A delivery run takes up no subscription after this: with receivers' 3 s, it ends well inside the function timeout.
 * Runs every NOTIFICATION_INTERVAL_SECONDS (2 s by default) in Azure too; a run still going when the next is due
 * delays it (the host never overlaps a timer's runs).
 */
export const DELIVERY_RUN_MS = 15_000;

export const triggers: readonly Trigger[] = [
    {
        name: 'sweepDeletedConfigurations',
        schedule: () => '*/30 * * * * *',
        everyMs: (config) => config.sweepIntervalMs,
        run: async ({ store, logger }) => await sweep(store, { runForMs: SWEEP_RUN_MS, logger }),
    },
    {
        name: 'deliverChangeNotifications',
        // NOTIFICATION_INTERVAL_SECONDS in Azure too: a longer period trades latency for the runs' request units.
        schedule: (config) => ncrontabEvery(config.notifications.intervalMs),
        everyMs: (config) => config.notifications.intervalMs,
        run: async ({ store, logger, delivery }) =>
            await deliverNotifications(store, delivery, { runForMs: DELIVERY_RUN_MS, logger }),
    },
];

/**
 * A period as NCRONTAB (six fields, seconds first), in whole seconds, at least one (the timer's finest): a step in
 * the seconds field under a minute (a period that does not divide 60 restarts at each minute), whole minutes above,
 * at most hourly.
 */
export function ncrontabEvery(ms: number): string {
    const seconds = Math.max(1, Math.round(ms / 1000));
    if (seconds < 60) {
        return `*/${seconds} * * * * *`;
    }
    const minutes = Math.round(seconds / 60);
    return minutes >= 60 ? '0 0 * * * *' : `0 */${minutes} * * * *`;
}

/** The delivery's settings, from the app's. */
export function deliverySettings(config: AppConfig): DeliverySettings {
    return {
        ...DEFAULT_DELIVERY,
        policy: config.notifications.policy,
        tenantId: config.notifications.tenantId,
        retryFirstMs: config.notifications.retryFirstMs,
        retryWindowMs: config.notifications.retryWindowMs,
    };
}

/** The same jobs for a scheduler of this process, where no Functions host runs them (lib/jobs/scheduler.ts). */
export function localJobs(config: AppConfig, store: AssignmentStore, logger: Logger): ScheduledJob[] {
    const services: JobServices = { store, logger, delivery: deliverySettings(config) };
    return triggers.map((trigger) => ({
        name: trigger.name,
        everyMs: trigger.everyMs(config),
        run: () => trigger.run(services),
    }));
}
