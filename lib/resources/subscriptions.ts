/**
 * Change notifications' subscriptions (`/subscriptions`), Graph's `subscription` resource for the two collections of
 * this API: a client names a `notificationUrl`, which must answer the validation handshake before anything is created;
 * it is then POSTed a notification for each recorded change until the subscription expires (lib/jobs/notifier.ts).
 * A caller needs the read permission (the route's access), and sees and changes only its own application's
 * subscriptions: another's answer 404, as if they did not exist.
 */
import { randomUUID } from 'node:crypto';

import { badRequest, type GraphError, notFound } from '../graph/errors.js';
import { CHANGE_TYPE_PATTERN, GUID_PATTERN } from '../graph/schema.js';
import type { Operation, OperationCall, OperationResult } from '../http/pipeline.js';
import { CHANGE_TYPES } from '../notifications/changeNotifications.js';
import { HANDSHAKE_TIMEOUT_MS, HandshakeFailed, validateEndpoint } from '../notifications/handshake.js';
import { checkNotificationUrl, LOCAL_URL_POLICY, NotificationUrlRefused } from '../notifications/notificationUrl.js';
import type { SubscriptionSettings } from '../platform/services.js';
import { lastChangeNumber, SET_VERSION_ID, StoreError } from '../store/assignmentStore.js';
import { ConfigurationStore, TENANT_PARTITION } from '../store/configurationStore.js';
import { type SubscriptionDocument, SUBSCRIPTIONS_PARTITION, SubscriptionStore } from '../store/subscriptionStore.js';
import { validBody } from './requests.js';

export const SUBSCRIPTIONS_PATH = 'subscriptions';

/**
 * The longest a subscription may run before it is renewed: 4230 minutes (just under three days), Graph's maximum
 * for most resources. Renewal is a PATCH of `expirationDateTime`, any number of times.
 */
export const MAX_SUBSCRIPTION_MINUTES = 4230;

/**
 * Subscriptions a tenant may hold. Each costs the delivery run a look every few seconds and its receiver's time;
 * a hundred covers every application an admin team runs, and keeps one list a single small query.
 */
export const MAX_SUBSCRIPTIONS = 100;

/** The store's time after the handshake: the reads and the create's batch (lib/platform/config counts 3 s). */
const STORE_RESERVE_MS = 3000;

const CONFIGURATIONS = 'officeConfiguration/clientConfigurations';
const ASSIGNMENTS = new RegExp(`^${CONFIGURATIONS}/(${GUID_PATTERN.slice(1, -1)})/assignments$`, 'i');
const CHANGE_TYPE = new RegExp(CHANGE_TYPE_PATTERN);
const GUID = new RegExp(GUID_PATTERN);

interface SubscriptionBody {
    changeType: string;
    notificationUrl: string;
    lifecycleNotificationUrl?: string | null;
    resource: string;
    expirationDateTime: string;
    clientState: string;
    latestSupportedTlsVersion?: string | null;
}

function settingsOf(call: OperationCall): SubscriptionSettings {
    return call.services.notifications ?? { policy: LOCAL_URL_POLICY, tenantId: null };
}

function subscriptionsOf(call: OperationCall): SubscriptionStore {
    return new SubscriptionStore(call.services.store);
}

/** The subscribed collection as the service writes it: no leading `/`, a configuration id lowercase. */
function parseResource(value: string): { resource: string; configurationId?: string } {
    // Slashes trimmed by hand: a `/+$` pattern would try every start in a long run of slashes (quadratic).
    let start = 0;
    let end = value.length;
    while (start < end && value[start] === '/') {
        start += 1;
    }
    while (end > start && value[end - 1] === '/') {
        end -= 1;
    }
    const path = value.slice(start, end);
    if (path.toLowerCase() === CONFIGURATIONS.toLowerCase()) {
        return { resource: CONFIGURATIONS };
    }
    const match = ASSIGNMENTS.exec(path);
    if (match?.[1]) {
        const id = match[1].toLowerCase();
        return { resource: `${CONFIGURATIONS}/${id}/assignments`, configurationId: id };
    }
    throw badRequest(
        `The resource '${value.length > 100 ? `${value.slice(0, 100)}…` : value}' cannot be subscribed to; subscribe to ` +
            `'${CONFIGURATIONS}' or '${CONFIGURATIONS}/{id}/assignments'.`,
        [{ code: 'InvalidResource', message: 'Not a collection of this API.', target: 'resource' }],
    );
}

/** `created,updated,deleted` in that order, once each. */
function normalChangeType(value: string): string {
    if (!CHANGE_TYPE.test(value)) {
        throw badRequest(`changeType must be created, updated or deleted, comma-separated; got '${value}'.`);
    }
    const asked = new Set(value.split(','));
    return CHANGE_TYPES.filter((t) => asked.has(t)).join(',');
}

/** In the future, and at most MAX_SUBSCRIPTION_MINUTES ahead: Graph's message for the latter. */
function checkExpiration(value: string, now: Date): string {
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) {
        throw badRequest(`expirationDateTime '${value}' is not a date and time.`);
    }
    if (at.getTime() <= now.getTime()) {
        throw badRequest('Subscription expiration must be in the future.', [
            { code: 'InvalidExpirationDateTime', message: 'In the past.', target: 'expirationDateTime' },
        ]);
    }
    if (at.getTime() > now.getTime() + MAX_SUBSCRIPTION_MINUTES * 60_000) {
        throw badRequest(`Subscription expiration can only be ${MAX_SUBSCRIPTION_MINUTES} minutes in the future.`, [
            { code: 'InvalidExpirationDateTime', message: 'Too far ahead.', target: 'expirationDateTime' },
        ]);
    }
    return at.toISOString();
}

function refusedUrl(property: string, reason: string): GraphError {
    return badRequest(`The ${property} is refused: ${reason}.`, [
        { code: 'InvalidNotificationUrl', message: reason, target: property },
    ]);
}

function failedHandshake(property: string, reason: string, timeoutMs: number): GraphError {
    return badRequest(
        `Subscription validation request failed: the ${property} must answer its validationToken with 200, ` +
            `text/plain and the token as the body within ${Math.round(timeoutMs / 100) / 10} seconds; ${reason}.`,
        [{ code: 'ValidationRequestFailed', message: reason, target: property }],
    );
}

/** Whose subscriptions a caller sees: its application's (no application when authentication is off). */
function applicationOf(call: OperationCall): string | null {
    return call.scope.actor?.applicationId ?? null;
}

/** The subscription as Graph shows it. */
export function subscriptionResource(subscription: SubscriptionDocument): Record<string, unknown> {
    return {
        id: subscription.id,
        resource: subscription.resource,
        applicationId: subscription.applicationId,
        changeType: subscription.changeType,
        clientState: subscription.clientState,
        notificationUrl: subscription.notificationUrl,
        lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
        expirationDateTime: subscription.expirationDateTime,
        creatorId: subscription.creatorId,
        includeResourceData: false,
        latestSupportedTlsVersion: subscription.latestSupportedTlsVersion,
        encryptionCertificate: null,
        encryptionCertificateId: null,
        notificationQueryOptions: null,
        notificationUrlAppId: null,
    };
}

const entityContext = (root: string) => `${root}/$metadata#subscriptions/$entity`;

function entity(call: OperationCall, subscription: SubscriptionDocument, status: number): OperationResult {
    return {
        status,
        body: { '@odata.context': entityContext(call.root), ...subscriptionResource(subscription) },
        ...(status === 201 ? { headers: { Location: `${call.root}/${SUBSCRIPTIONS_PATH}/${subscription.id}` } } : {}),
    };
}

const missing = (id: string) => notFound(`No subscription with id '${id}' exists.`);

/** The caller's own subscription named by the route, or 404. */
async function ownSubscription(call: OperationCall): Promise<SubscriptionDocument> {
    const id = call.params.subscriptionId ?? '';
    if (!GUID.test(id)) {
        throw missing(id);
    }
    const found = await subscriptionsOf(call).get(id.toLowerCase(), true);
    if (!found || found.applicationId !== applicationOf(call)) {
        throw missing(id);
    }
    return found;
}

export const createSubscription: Operation = async (call) => {
    const body = await validBody<SubscriptionBody>(call, 'createSubscription');
    const settings = settingsOf(call);
    const now = call.services.clock();
    const { resource, configurationId } = parseResource(body.resource);
    const changeType = normalChangeType(body.changeType);
    const expirationDateTime = checkExpiration(body.expirationDateTime, now);
    const endpoints: [string, string][] = [['notificationUrl', body.notificationUrl]];
    if (body.lifecycleNotificationUrl) {
        endpoints.push(['lifecycleNotificationUrl', body.lifecycleNotificationUrl]);
    }
    for (const [property, url] of endpoints) {
        try {
            checkNotificationUrl(url, settings.policy);
        } catch (error) {
            throw error instanceof NotificationUrlRefused ? refusedUrl(property, error.reason) : error;
        }
    }
    const { store } = call.services;
    const subscriptions = subscriptionsOf(call);
    // What the store can tell before any traffic leaves: the collection exists, the tenant has room.
    const [exists, count] = await Promise.all([
        configurationId === undefined ? true : store.confirmedConfiguration(configurationId),
        subscriptions.count(),
    ]);
    if (!exists) {
        throw notFound(`No client configuration with id '${configurationId}' exists.`);
    }
    if (count >= MAX_SUBSCRIPTIONS) {
        throw tooMany();
    }
    // Both endpoints at once: the whole handshake takes at most Graph's 10 s, and leaves the store its time.
    const deadline = store.deadline();
    const timeoutMs = Math.min(
        settings.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        deadline === undefined ? Infinity : deadline - Date.now() - STORE_RESERVE_MS,
    );
    if (timeoutMs <= 0) {
        // Within a $batch whose time is nearly spent: nothing sent, nothing stored.
        throw new StoreError('unavailable', 'no time left for the validation handshake');
    }
    const outcomes = await Promise.allSettled(
        endpoints.map(([, url]) =>
            validateEndpoint(url, {
                policy: settings.policy,
                ...(settings.resolve ? { resolve: settings.resolve } : {}),
                timeoutMs,
            }),
        ),
    );
    outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected') {
            const [property] = endpoints[i] as [string, string];
            const reason: unknown = outcome.reason;
            if (reason instanceof HandshakeFailed) {
                throw reason.refused
                    ? refusedUrl(property, reason.message)
                    : failedHandshake(property, reason.message, timeoutMs);
            }
            throw reason;
        }
    });
    const partition = configurationId ?? TENANT_PARTITION;
    // Changes recorded from now on are notified: the partition's last number is where delivery starts.
    const cursor = await startingCursor(call, partition);
    const document: SubscriptionDocument = {
        id: randomUUID(),
        configurationId: SUBSCRIPTIONS_PARTITION,
        kind: 'subscription',
        resource,
        partition,
        changeType,
        notificationUrl: body.notificationUrl,
        lifecycleNotificationUrl: body.lifecycleNotificationUrl ?? null,
        clientState: body.clientState,
        expirationDateTime,
        applicationId: applicationOf(call),
        creatorId: call.caller?.objectId ?? null,
        latestSupportedTlsVersion: body.latestSupportedTlsVersion ?? 'v1_2',
        cursor,
        attempts: 0,
    };
    try {
        await subscriptions.create(document, MAX_SUBSCRIPTIONS);
    } catch (error) {
        if (error instanceof StoreError && error.kind === 'limitReached') {
            throw tooMany();
        }
        // An answer lost on the way back: the batch may have landed. Its id was ours, so a read tells.
        if (
            error instanceof StoreError &&
            error.kind === 'unavailable' &&
            (await subscriptions.get(document.id).catch(() => undefined))
        ) {
            return entity(call, document, 201);
        }
        throw error;
    }
    return entity(call, document, 201);
};

/**
 * Where delivery starts: the partition's last change number. Its counter (the order's `sequence`, the set's
 * `revision`) says it even when the records have all passed their retention; the last record, when a counter went
 * back (a writer without the change log, in a rolling deploy).
 */
async function startingCursor(call: OperationCall, partition: string): Promise<number> {
    const { store } = call.services;
    // Asked of the primary first: a replica behind this client would start the cursor early, and the subscriber
    // would be told of changes made before it subscribed. The probe brings the read after it up to date.
    const counter = async () => {
        if (partition === TENANT_PARTITION) {
            return (await new ConfigurationStore(store).freshOrder()).sequence;
        }
        await store.run('subscription.cursor', (container, meter) =>
            store.probe(container, meter, partition, SET_VERSION_ID),
        );
        return (await store.revisionOf(partition)) ?? 0;
    };
    const [fromCounter, last] = await Promise.all([
        counter(),
        store.run('subscription.cursor', (container, meter) => lastChangeNumber(container, meter, partition)),
    ]);
    return Math.max(last, fromCounter);
}

function tooMany(): GraphError {
    return badRequest(
        `The tenant has ${MAX_SUBSCRIPTIONS} subscriptions, the most it may hold; delete one that is no longer used.`,
        [
            {
                code: 'SubscriptionLimitReached',
                message: `At most ${MAX_SUBSCRIPTIONS} subscriptions.`,
                target: 'resource',
            },
        ],
    );
}

export const listSubscriptions: Operation = async (call) => {
    const application = applicationOf(call);
    const mine = (await subscriptionsOf(call).list()).filter((s) => s.applicationId === application);
    return {
        status: 200,
        body: { '@odata.context': `${call.root}/$metadata#subscriptions`, value: mine.map(subscriptionResource) },
    };
};

export const getSubscription: Operation = async (call) => entity(call, await ownSubscription(call), 200);

/** A renewal: the new `expirationDateTime`, the one property a PATCH may change. */
export const updateSubscription: Operation = async (call) => {
    const body = await validBody<{ expirationDateTime: string }>(call, 'updateSubscription');
    const found = await ownSubscription(call);
    const now = call.services.clock();
    const expirationDateTime = checkExpiration(body.expirationDateTime, now);
    // Not once expired: an expired subscription has ended, and the service removes it.
    const renewed = await subscriptionsOf(call).renew(found.id, expirationDateTime, now.toISOString());
    if (!renewed) {
        throw missing(found.id);
    }
    return entity(call, renewed, 200);
};

export const deleteSubscription: Operation = async (call) => {
    const found = await ownSubscription(call);
    // A delivery under way ends first (at most its receiver's 3 s): once this is answered, nothing more is sent.
    const deadline = call.services.store.deadline() ?? Date.now() + 8000;
    if (!(await subscriptionsOf(call).remove(found.id, deadline - 500))) {
        throw missing(found.id);
    }
    return { status: 204 };
};
