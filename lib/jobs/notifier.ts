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
            // Expired: it gets nothing more, and the service removes it, as Graph does.
            if (await subscriptions.drop(subscription)) {
                report.expired += 1;
            }
        } else {
            live.push(subscription);
        }
    }
    // Each partition's last change number, once, and whether an assignments collection still exists.
    const partitions = new Map<string, Promise<{ last: number; gone: boolean }>>();
    const lastOf = (partition: string) => {
        let found = partitions.get(partition);
        if (!found) {
            found = (async () => {
                const gone = partition !== TENANT_PARTITION && (await store.revisionOf(partition)) === undefined;
                const last = await store.run('notifier.last', (container, meter) =>
                    lastChangeNumber(container, meter, partition),
                );
                return { last, gone };
            })();
            partitions.set(partition, found);
        }
        return found;
    };
    const post = async (url: string, body: unknown) => {
        try {
            const answer = await postWebhook(url, {
                policy: settings.policy,
                ...(settings.resolve ? { resolve: settings.resolve } : {}),
                timeoutMs: settings.deliveryTimeoutMs,
                maxResponseBytes: MAX_ANSWER_BYTES,
                needBody: false,
                contentType: 'application/json; charset=utf-8',
                body: JSON.stringify(body),
            });
            return answer.status >= 200 && answer.status < 300;
        } catch {
            return false;
        }
    };
    const lifecycle = async (subscription: SubscriptionDocument, event: LifecycleEvent) => {
        if (subscription.lifecycleNotificationUrl) {
            await post(subscription.lifecycleNotificationUrl, {
                value: [lifecycleNotification(identity(subscription, settings.tenantId), event)],
            });
        }
    };

    const one = async (subscription: SubscriptionDocument) => {
        const at = Date.now();
        if (at >= until || (subscription.nextAttemptAt ?? 0) > at || (subscription.claim?.until ?? 0) > at) {
            return;
        }
        const { last, gone } = await lastOf(subscription.partition);
        if (subscription.cursor >= last) {
            if (gone) {
                // Its configuration was deleted: the service ends the subscription, and says so.
                await lifecycle(subscription, 'subscriptionRemoved');
                if (await subscriptions.drop(subscription)) {
                    report.removed += 1;
                }
            }
            return;
        }
        const records = await changesSince(store, subscription.partition, subscription.cursor, RECORDS_PER_POST);
        const first = records[0];
        const expired = first === undefined || first.sequence > subscription.cursor + 1;
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
        if (first === undefined) {
            cursor = last; // every record after the cursor is past its retention
        }
        if (items.length === 0 && !expired) {
            // Nothing it asked for: passed over, with no claim (nobody is told anything).
            await subscriptions.settle(subscription.id, { cursor: subscription.cursor }, { cursor, attempts: 0 });
            return;
        }
        const claim = await subscriptions.claim(
            subscription.id,
            subscription.cursor,
            Date.now() + settings.deliveryTimeoutMs * (expired ? 2 : 1) + CLAIM_MARGIN_MS,
        );
        if (!claim) {
            return; // another instance's run, a DELETE, or a renewal got there first: the next run looks again
        }
        if (expired) {
            // Records it was never told of are gone (the change log's retention): it must resync.
            await lifecycle(subscription, 'missed');
            report.missed += 1;
        }
        let delivered = true;
        if (items.length > 0) {
            report.posts += 1;
            delivered = await post(subscription.notificationUrl, { value: items });
        }
        const failedSince = subscription.firstFailureAt || Date.now();
        if (delivered) {
            report.delivered += items.length > 0 ? 1 : 0;
            report.notifications += items.length;
            await subscriptions.settle(
                subscription.id,
                { claim, cursor: subscription.cursor },
                { cursor, attempts: 0 },
            );
        } else if (Date.now() - failedSince >= settings.retryWindowMs) {
            // Failing for the whole window: what it missed is passed over, and it is told so.
            report.failures += 1;
            report.missed += 1;
            await lifecycle(subscription, 'missed');
            await subscriptions.settle(
                subscription.id,
                { claim, cursor: subscription.cursor },
                { cursor: last, attempts: 0 },
            );
        } else {
            report.failures += 1;
            const attempts = subscription.attempts + 1;
            await subscriptions.settle(
                subscription.id,
                { claim, cursor: subscription.cursor },
                {
                    cursor: subscription.cursor,
                    attempts,
                    firstFailureAt: failedSince,
                    nextAttemptAt: Date.now() + retryWait(attempts, settings),
                },
            );
        }
    };

    for (let i = 0; i < live.length && Date.now() < until; i += PARALLEL) {
        await Promise.all(
            live.slice(i, i + PARALLEL).map((s) =>
                one(s).catch((error: unknown) => {
                    options.logger?.warn(
                        `notifier: subscription ${s.id}: ${error instanceof Error ? error.message : String(error)}`,
                    );
                }),
            ),
        );
    }
    report.ms = Date.now() - started;
    // Failures and the service's own decisions; a run that only delivered says nothing (one runs every few seconds).
    if (report.failures + report.missed + report.removed + report.expired > 0) {
        options.logger?.info(`notifier: ${describeDelivery(report)}`);
    }
    return report;
}

export function describeDelivery(report: DeliveryReport): string {
    return (
        `${report.posts} POST(s), ${report.delivered} answered 2xx with ${report.notifications} notification(s), ` +
        `${report.failures} failed, ${report.missed} missed, ${report.removed} removed, ${report.expired} expired, ` +
        `of ${report.subscriptions} subscription(s), in ${report.ms} ms`
    );
}
