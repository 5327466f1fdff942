/**
 * Delivery of change notifications, outside requests: a timer trigger in Azure (functions/triggers.ts), the local
 * host's scheduler otherwise, the same function in both. Each run reads the tenant's subscriptions, and for each one
 * behind its partition's change log (lib/store/changeLog) claims it, POSTs what it has not been told (several
 * changes in one POST when they queued up), and moves its cursor on when the receiver answered 2xx. So delivery is
 * at least once: a receiver that took a POST whose answer was lost is told again, with the same notification ids.
 *
 * A receiver that fails (no 2xx within 3 s) is tried again after 10 s, then after twice as long each time (at most
 * 30 min apart); after 4 hours of failures the changes it missed are passed over and it gets a `missed` lifecycle
 * notification (it resyncs with delta query). No write of the API waits for any of this.
 */
import { randomInt } from 'node:crypto';

import {
    type ChangeNotification,
    type LifecycleEvent,
    lifecycleNotification,
    notificationsOf,
    type SubscriptionIdentity,
} from '../notifications/changeNotifications.js';
import type { NotificationUrlPolicy } from '../notifications/notificationUrl.js';
import { postWebhook, type Resolve } from '../notifications/webhook.js';
import type { Logger } from '../platform/logger.js';
import { type AssignmentStore, lastChangeNumber } from '../store/assignmentStore.js';
import { changesSince } from '../store/changeReader.js';
import { type SubscriptionDocument, SubscriptionStore } from '../store/subscriptionStore.js';
import { TENANT_PARTITION } from '../store/tenant.js';

/** Graph's time for a receiver's answer. */
export const DELIVERY_TIMEOUT_MS = 3000;
/** A claim outlives its POST by this much: its receiver's answer and the cursor's write. */
const CLAIM_MARGIN_MS = 2000;
/** Change records read for one subscription at a time, and notifications one POST carries at most (a record is never split). */
const RECORDS_PER_POST = 100;
const MAX_NOTIFICATIONS_PER_POST = 1000;
/** Subscriptions delivered to side by side: each mostly waits on its receiver. */
const PARALLEL = 8;
/** The longest answer read of a receiver: only its status counts. */
const MAX_ANSWER_BYTES = 4096;
/** A POST with less time than this left in its claim is not started. */
const MIN_POST_MS = 250;

export interface DeliverySettings {
    policy: NotificationUrlPolicy;
    resolve?: Resolve;
    /** The Entra ID tenant named in every notification; null when authentication is off. */
    tenantId: string | null;
    /** The first wait after a failed delivery; each next one doubles, up to `retryMaxMs`. */
    retryFirstMs: number;
    retryMaxMs: number;
    /** How long a receiver may keep failing before what it missed is passed over (`missed`). */
    retryWindowMs: number;
    deliveryTimeoutMs: number;
}

export const DEFAULT_DELIVERY: Omit<DeliverySettings, 'policy' | 'tenantId'> = {
    retryFirstMs: 10_000,
    retryMaxMs: 30 * 60_000,
    retryWindowMs: 4 * 60 * 60_000,
    deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
};

export interface DeliveryReport {
    subscriptions: number;
    /** POSTs of change notifications, and how many answered 2xx. */
    posts: number;
    delivered: number;
    /** Change notifications in the POSTs that answered 2xx. */
    notifications: number;
    failures: number;
    /** Subscriptions sent `missed`, and those the service removed (`subscriptionRemoved`) or found expired. */
    missed: number;
    removed: number;
    expired: number;
    ms: number;
}

export interface DeliveryOptions {
    runForMs: number;
    logger?: Logger;
}

function identity(subscription: SubscriptionDocument, tenantId: string | null): SubscriptionIdentity {
    return {
        id: subscription.id,
        expirationDateTime: subscription.expirationDateTime,
        clientState: subscription.clientState,
        tenantId,
    };
}

export function retryWait(attempts: number, settings: Pick<DeliverySettings, 'retryFirstMs' | 'retryMaxMs'>): number {
    return Math.min(settings.retryMaxMs, settings.retryFirstMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

export async function deliverNotifications(
    store: AssignmentStore,
    settings: DeliverySettings,
    options: DeliveryOptions,
): Promise<DeliveryReport> {
    const started = Date.now();
    const until = started + options.runForMs;
    const report: DeliveryReport = {
        subscriptions: 0,
        posts: 0,
        delivered: 0,
        notifications: 0,
        failures: 0,
        missed: 0,
        removed: 0,
        expired: 0,
        ms: 0,
    };
    const subscriptions = new SubscriptionStore(store);
    // An idle tenant costs one point read a run.
    if ((await subscriptions.count()) === 0) {
        report.ms = Date.now() - started;
        return report;
    }
    const all = await subscriptions.list();
    report.subscriptions = all.length;
    const now = new Date().toISOString();
    const live: SubscriptionDocument[] = [];
    for (const subscription of all) {
        if (subscription.expirationDateTime <= now) {
            // Expired: it gets nothing more, and the service removes it, as Graph does. A drop that fails is tried
            // again by the next run; it stops no one else's delivery.
            if (await subscriptions.drop(subscription).catch(() => false)) {
                report.expired += 1;
            }
        } else {
            live.push(subscription);
        }
    }
    // Each partition's last change number, once a run; whether an assignments collection still exists, only when
    // a subscription has caught up with it (the question that ends a subscription).
    const lasts = new Map<string, Promise<number>>();
    const lastOf = (partition: string) => {
        let found = lasts.get(partition);
        if (!found) {
            found = store.run('notifier.last', (container, meter) => lastChangeNumber(container, meter, partition));
            lasts.set(partition, found);
        }
        return found;
    };
    const gones = new Map<string, Promise<boolean>>();
    const goneOf = (partition: string) => {
        let found = gones.get(partition);
        if (!found) {
            // Confirmed at the primary: a replica behind this client must not end anyone's subscription.
            found = store.confirmedConfiguration(partition).then((exists) => !exists);
            gones.set(partition, found);
        }
        return found;
    };
    /**
     * One POST, over by `deadline` (a claim's end, less its margin): `noTime` when too little was left to start it (a
     * claim that landed late), which is no failure of the receiver's.
     */
    const post = async (url: string, body: unknown, deadline: number): Promise<'ok' | 'failed' | 'noTime'> => {
        const timeoutMs = Math.min(settings.deliveryTimeoutMs, deadline - Date.now());
        if (timeoutMs < MIN_POST_MS) {
            return 'noTime';
        }
        try {
            const answer = await postWebhook(url, {
                policy: settings.policy,
                ...(settings.resolve ? { resolve: settings.resolve } : {}),
                timeoutMs,
                maxResponseBytes: MAX_ANSWER_BYTES,
                needBody: false,
                contentType: 'application/json; charset=utf-8',
                body: JSON.stringify(body),
            });
            return answer.status >= 200 && answer.status < 300 ? 'ok' : 'failed';
        } catch {
            return 'failed';
        }
    };
    const lifecycle = async (subscription: SubscriptionDocument, event: LifecycleEvent, deadline: number) => {
        if (subscription.lifecycleNotificationUrl) {
            await post(
                subscription.lifecycleNotificationUrl,
                { value: [lifecycleNotification(identity(subscription, settings.tenantId), event)] },
                deadline,
            );
        }
    };

    const one = async (subscription: SubscriptionDocument) => {
        const at = Date.now();
        if ((subscription.nextAttemptAt ?? 0) > at || (subscription.claim?.until ?? 0) > at) {
            return;
        }
        let last = await lastOf(subscription.partition);
        if (subscription.cursor >= last) {
            if (subscription.partition === TENANT_PARTITION || !(await goneOf(subscription.partition))) {
                return;
            }
            // Its configuration is gone, so nothing more lands in its partition; the run's number may be older than
            // that (read before a last assign), so it is read again, after the probe that confirmed the end.
            last = await store.run('notifier.last', (container, meter) =>
                lastChangeNumber(container, meter, subscription.partition),
            );
            if (subscription.cursor >= last) {
                // Its last changes delivered: the service ends the subscription, then says so (never to one its
                // client has deleted meanwhile: that drop fails).
                if (await subscriptions.drop(subscription)) {
                    report.removed += 1;
                    await lifecycle(subscription, 'subscriptionRemoved', Date.now() + settings.deliveryTimeoutMs);
                }
                return;
            }
        }
        const records = await changesSince(store, subscription.partition, subscription.cursor, RECORDS_PER_POST);
        const first = records[0];
        // Records after the cursor that are gone: past the change log's retention before they were delivered.
        const expired = first === undefined || first.sequence > subscription.cursor + 1;
        // Failing for the whole window already: what it missed is passed over, and it is told so.
        const givenUp =
            subscription.attempts > 0 &&
            (subscription.firstFailureAt ?? 0) > 0 &&
            at - (subscription.firstFailureAt ?? 0) >= settings.retryWindowMs;
        const changeTypes = new Set(subscription.changeType.split(','));
        const items: ChangeNotification[] = [];
        let cursor = subscription.cursor;
        for (const record of records) {
            const next = notificationsOf(record, identity(subscription, settings.tenantId), changeTypes);
            if (items.length > 0 && items.length + next.length > MAX_NOTIFICATIONS_PER_POST) {
                break;
            }
            items.push(...next);
            cursor = record.sequence;
        }
        if (first === undefined || givenUp) {
            cursor = last;
        }
        const notify = items.length > 0 && !givenUp;
        const lifecycles = expired || givenUp ? 1 : 0;
        if (!notify && lifecycles === 0) {
            // Nothing it asked for: passed over, with no claim (nobody is told anything).
            await subscriptions.settle(subscription.id, { cursor: subscription.cursor }, { cursor, attempts: 0 });
            return;
        }
        // Long enough for each POST it may make, and a margin for its outcome's write (and clocks a little apart).
        const posts = lifecycles + (notify ? 1 : 0);
        const claimed = await subscriptions.claim(
            subscription.id,
            subscription.cursor,
            Date.now() + posts * settings.deliveryTimeoutMs + CLAIM_MARGIN_MS,
        );
        if (!claimed) {
            return; // another instance's run, a DELETE, a renewal, its expiry or its back-off got there first
        }
        const { claim, current } = claimed;
        // Every POST ends before the claim lapses (a DELETE that waited the claim out finds nothing more sent), and
        // before the subscription expires.
        const deadline = Math.min(claim.until - CLAIM_MARGIN_MS, Date.parse(current.expirationDateTime));
        if (lifecycles > 0) {
            await lifecycle(current, 'missed', deadline);
            report.missed += 1;
        }
        let outcome: 'ok' | 'failed' | 'noTime' = 'ok';
        if (notify) {
            report.posts += 1;
            // As the subscription stands now: a renewal since the list moved its expiration.
            const value = items.map((n) => ({ ...n, subscriptionExpirationDateTime: current.expirationDateTime }));
            outcome = await post(current.notificationUrl, { value }, deadline);
        }
        const expected = { claim, cursor: subscription.cursor };
        if (outcome === 'noTime') {
            // Not sent: the claim goes, nothing else changes, and the next run tries again.
            await subscriptions.settle(current.id, expected, {
                cursor: expired && first !== undefined ? first.sequence - 1 : subscription.cursor,
                attempts: current.attempts,
                ...(current.firstFailureAt ? { firstFailureAt: current.firstFailureAt } : {}),
            });
        } else if (outcome === 'ok') {
            report.delivered += notify ? 1 : 0;
            report.notifications += notify ? items.length : 0;
            await subscriptions.settle(current.id, expected, { cursor, attempts: 0 });
        } else {
            report.failures += 1;
            const attempts = current.attempts + 1;
            await subscriptions.settle(current.id, expected, {
                // A gap it was told of (`missed`) stays passed over: only the records after it are tried again.
                cursor: expired && first !== undefined ? first.sequence - 1 : subscription.cursor,
                attempts,
                firstFailureAt: current.firstFailureAt || Date.now(),
                nextAttemptAt: Date.now() + retryWait(attempts, settings),
            });
        }
    };

    // A pool from a random place in the list: a slow receiver holds one worker, and no subscription is always last.
    const order = live.length > 0 ? rotated(live, randomInt(live.length)) : [];
    let next = 0;
    const worker = async () => {
        while (next < order.length && Date.now() < until) {
            const subscription = order[next++] as SubscriptionDocument;
            await one(subscription).catch((error: unknown) => {
                options.logger?.warn(
                    `notifier: subscription ${subscription.id}: ${error instanceof Error ? error.message : String(error)}`,
                );
            });
        }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    report.ms = Date.now() - started;
    // Failures and the service's own decisions; a run that only delivered says nothing (one runs every few seconds).
    if (report.failures + report.missed + report.removed + report.expired > 0) {
        options.logger?.info(`notifier: ${describeDelivery(report)}`);
    }
    return report;
}

function rotated<T>(items: readonly T[], start: number): T[] {
    return [...items.slice(start), ...items.slice(0, start)];
}

export function describeDelivery(report: DeliveryReport): string {
    return (
        `${report.posts} POST(s), ${report.delivered} answered 2xx with ${report.notifications} notification(s), ` +
        `${report.failures} failed, ${report.missed} missed, ${report.removed} removed, ${report.expired} expired, ` +
        `of ${report.subscriptions} subscription(s), in ${report.ms} ms`
    );
}
