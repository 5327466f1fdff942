/**
 * Subscriptions to change notifications, in a partition of their own (SUBSCRIPTIONS_PARTITION), and the conditions
 * that keep them right across instances, each put into the write that depends on it:
 * - the tenant's cap: a count document every create and delete changes in the same transactional batch, a create
 *   only while the count is under the cap;
 * - one delivery at a time: a worker claims a subscription (a patch on condition that no live claim and
 *   the same cursor stand), posts, then moves the cursor on condition that its claim still stands;
 * - a DELETE waits out a claim under way, then deletes on the ETag it read (a claim changes it): no notification
 *   reaches its receiver once the DELETE is answered.
 */
import { randomInt } from 'node:crypto';

import { BulkOperationType, type Container, type ItemDefinition, type OperationInput } from '@azure/cosmos';

import { type AssignmentStore, BatchRefused, expectedRefusal, type Meter, StoreError } from './assignmentStore.js';

/** The partition key value of subscriptions: holds a `/`, so no configuration id (a GUID) can name it. */
export const SUBSCRIPTIONS_PARTITION = '/subscriptions';
export const SUBSCRIPTION_COUNT_ID = 'subscription-count';

export interface DeliveryClaim {
    /** A random number: a patch condition compares it as a number literal. */
    token: number;
    /** Milliseconds since the epoch: past it the claim no longer stands. */
    until: number;
}

export interface SubscriptionFields {
    /** The subscribed collection, as written by the service: `officeConfiguration/clientConfigurations[/{id}/assignments]`. */
    resource: string;
    /** The change log's partition the resource's changes are recorded in. */
    partition: string;
    /** `created`, `updated`, `deleted`, comma-separated, in that order. */
    changeType: string;
    notificationUrl: string;
    lifecycleNotificationUrl: string | null;
    clientState: string;
    /** ISO 8601 UTC, milliseconds. */
    expirationDateTime: string;
    applicationId: string | null;
    creatorId: string | null;
    latestSupportedTlsVersion: string;
}

export interface SubscriptionDocument extends ItemDefinition, SubscriptionFields {
    id: string;
    configurationId: typeof SUBSCRIPTIONS_PARTITION;
    kind: 'subscription';
    /** The last change number of `partition` notified (or passed over): delivery goes on after it. */
    cursor: number;
    /** Failed deliveries in a row, and when the first of them failed (milliseconds since the epoch). */
    attempts: number;
    firstFailureAt?: number;
    /** No delivery before this (milliseconds since the epoch): the back-off after a failure. */
    nextAttemptAt?: number;
    claim?: DeliveryClaim;
}

interface CountDocument extends ItemDefinition {
    id: typeof SUBSCRIPTION_COUNT_ID;
    configurationId: typeof SUBSCRIPTIONS_PARTITION;
    kind: 'subscriptionCount';
    count: number;
}

const countPatch = (delta: number, cap?: number): OperationInput => ({
    operationType: BulkOperationType.Patch,
    id: SUBSCRIPTION_COUNT_ID,
    partitionKey: SUBSCRIPTIONS_PARTITION,
    resourceBody: {
        operations: [{ op: 'incr', path: '/count', value: delta }],
        ...(cap !== undefined ? { condition: `FROM c WHERE c.count < ${cap}` } : {}),
    },
});

/**
 * A delete on condition of the ETag read: the batch protocol takes `ifMatch` on every operation, where the SDK's type
 * for a delete leaves it out (lib/store/configurationStore sends one the same way).
 */
const conditionalDelete = (id: string, etag: unknown): OperationInput =>
    ({
        operationType: BulkOperationType.Delete,
        id,
        partitionKey: SUBSCRIPTIONS_PARTITION,
        ifMatch: String(etag),
    }) as OperationInput;

/** How a DELETE waits for a delivery under way to end: a short look at a time. */
const CLAIM_POLL_MS = 100;

export class SubscriptionStore {
    constructor(private readonly store: AssignmentStore) {}

    private async run<T>(operation: string, action: (container: Container, meter: Meter) => Promise<T>): Promise<T> {
        return await this.store.run(`subscription.${operation}`, action);
    }

    /**
     * Creates it while the tenant holds fewer than `cap`; StoreError `limitReached` otherwise. The count and the
     * subscription change in one transactional batch, so concurrent creates on any instance never pass the cap.
     */
    async create(document: SubscriptionDocument, cap: number): Promise<SubscriptionDocument> {
        return await this.run('create', async (container, meter) => {
            for (let attempt = 0; ; attempt++) {
                try {
                    await this.store.batch(container, meter, SUBSCRIPTIONS_PARTITION, [
                        countPatch(1, cap),
                        {
                            operationType: BulkOperationType.Create,
                            partitionKey: SUBSCRIPTIONS_PARTITION,
                            resourceBody: document,
                        },
                    ]);
                    return document;
                } catch (error) {
                    if (!(error instanceof BatchRefused) || error.index !== 0) {
                        throw error;
                    }
                    if (error.statusCode === 412) {
                        throw new StoreError('limitReached', `the tenant holds ${cap} subscriptions, the most it may`);
                    }
                    if (error.statusCode !== 404 || attempt > 0) {
                        throw error;
                    }
                    // The first subscription ever: its count document comes first (another create may make it too).
                    const count: CountDocument = {
                        id: SUBSCRIPTION_COUNT_ID,
                        configurationId: SUBSCRIPTIONS_PARTITION,
                        kind: 'subscriptionCount',
                        count: 0,
                    };
                    await container.items.create(count).then(meter, (e: unknown) => expectedRefusal(meter, e, 409));
                }
            }
        });
    }

    /**
     * One subscription. With `confirm`, a miss is asked of the primary (a replica behind this client may not have
     * seen a create made on another instance) and, if it is there, read again: for an answer a client acts on.
     */
    async get(id: string, confirm = false): Promise<SubscriptionDocument | undefined> {
        return await this.run('read', async (container, meter) => {
            let found = await this.store.read<SubscriptionDocument>(container, meter, SUBSCRIPTIONS_PARTITION, id);
            if (!found && confirm && (await this.store.probe(container, meter, SUBSCRIPTIONS_PARTITION, id))) {
                found = await this.store.read<SubscriptionDocument>(container, meter, SUBSCRIPTIONS_PARTITION, id);
            }
            return found?.kind === 'subscription' ? found : undefined;
        });
    }

    /** Every subscription of the tenant (at most its cap): one single-partition query. */
    async list(): Promise<SubscriptionDocument[]> {
        return await this.run('query', async (container, meter) => {
            const { resources } = meter(
                await container.items
                    .query<SubscriptionDocument>(
                        {
                            query: 'SELECT * FROM c WHERE c.configurationId = @p',
                            parameters: [{ name: '@p', value: SUBSCRIPTIONS_PARTITION }],
                        },
                        { partitionKey: SUBSCRIPTIONS_PARTITION },
                    )
                    .fetchAll(),
            );
            return resources.filter((r) => r.kind === 'subscription').sort((a, b) => a.id.localeCompare(b.id));
        });
    }

    /** The tenant's count, 0 before its first subscription: a point read, so an idle delivery run costs one. */
    async count(): Promise<number> {
        return await this.run('read', async (container, meter) => {
            const found = await this.store.read<CountDocument>(
                container,
                meter,
                SUBSCRIPTIONS_PARTITION,
                SUBSCRIPTION_COUNT_ID,
            );
            return found?.count ?? 0;
        });
    }

    /**
     * A new expiration, on condition that it has not expired (`now`, ISO): resolves
     * to the subscription as it is now, or undefined when it is gone.
     */
    async renew(id: string, expirationDateTime: string, now: string): Promise<SubscriptionDocument | undefined> {
        return await this.run('renew', async (container, meter) => {
            try {
                const { resource } = meter(
                    await container.item(id, SUBSCRIPTIONS_PARTITION).patch<SubscriptionDocument>({
                        condition: `FROM c WHERE c.expirationDateTime > ${JSON.stringify(now)}`,
                        operations: [{ op: 'set', path: '/expirationDateTime', value: expirationDateTime }],
                    }),
                );
                return resource;
            } catch (error) {
                expectedRefusal(meter, error, 404, 412);
                return undefined;
            }
        });
    }

    /**
     * Removes it, and its place in the count, once no delivery to it is under way: while a claim stands it waits (at
     * most the claim's `until`, within `deadline`), then deletes on the ETag it read, so a claim that lands meanwhile
     * makes it look again, and a claim after the delete finds nothing. Resolves to false when it was gone already.
     * A DELETE answered with an error has changed nothing.
     */
    async remove(id: string, deadline: number): Promise<boolean> {
        for (let looks = 0; ; looks++) {
            const current = await this.get(id, looks === 0);
            if (!current) {
                return false;
            }
            const now = Date.now();
            if (current.claim && current.claim.until > now) {
                if (now >= deadline) {
                    throw new StoreError('unavailable', 'a delivery to the subscription is still under way');
                }
                await new Promise((r) => setTimeout(r, Math.min(CLAIM_POLL_MS, current.claim!.until - now)));
                continue;
            }
            const outcome = await this.deleteCounted(id, current._etag);
            if (outcome !== 'changed') {
                return outcome === 'deleted';
            }
            await new Promise((r) => setTimeout(r, CLAIM_POLL_MS / 5));
        }
    }

    /**
     * Claims the subscription for one delivery, until `until`: only where no claim stands, the cursor is still `cursor`
     * (nobody delivered these changes meanwhile), it has not expired and its back-off is over. Resolves to the claim
     * and the subscription as the claim left it, or undefined.
     */
    async claim(
        id: string,
        cursor: number,
        until: number,
    ): Promise<{ claim: DeliveryClaim; current: SubscriptionDocument } | undefined> {
        const claim: DeliveryClaim = { token: randomInt(1, 2 ** 47), until };
        const now = Date.now();
        return await this.run('claim', async (container, meter) => {
            try {
                // Not expired, not within its back-off, as the subscription stands where the claim lands: a run that
                // read it earlier cannot go past either.
                const { resource } = meter(
                    await container.item(id, SUBSCRIPTIONS_PARTITION).patch<SubscriptionDocument>({
                        condition:
                            `FROM c WHERE c.cursor = ${cursor} AND (NOT IS_DEFINED(c.claim) OR c.claim.until < ${now}) ` +
                            `AND c.expirationDateTime > ${JSON.stringify(new Date(now).toISOString())} AND ` +
                            `(NOT IS_DEFINED(c.nextAttemptAt) OR c.nextAttemptAt <= ${now})`,
                        operations: [{ op: 'set', path: '/claim', value: claim }],
                    }),
                );
                return resource ? { claim, current: resource } : undefined;
            } catch (error) {
                expectedRefusal(meter, error, 404, 412);
                return undefined;
            }
        });
    }

    /**
     * Ends a delivery: the new cursor and failure state, on condition that `claim` still stands (or, without a claim,
     * that the cursor is still `cursor`: passing over changes nobody is to be told of). False when the condition
     * failed: another worker or a DELETE went first, and this outcome is dropped.
     */
    async settle(
        id: string,
        expected: { claim?: DeliveryClaim; cursor: number },
        outcome: Pick<SubscriptionDocument, 'cursor' | 'attempts' | 'firstFailureAt' | 'nextAttemptAt'>,
    ): Promise<boolean> {
        const operations = [
            { op: 'set' as const, path: '/cursor', value: outcome.cursor },
            { op: 'set' as const, path: '/attempts', value: outcome.attempts },
            { op: 'set' as const, path: '/firstFailureAt', value: outcome.firstFailureAt ?? 0 },
            { op: 'set' as const, path: '/nextAttemptAt', value: outcome.nextAttemptAt ?? 0 },
        ];
        const condition = expected.claim
            ? `FROM c WHERE c.claim.token = ${expected.claim.token} AND c.cursor = ${expected.cursor}`
            : `FROM c WHERE c.cursor = ${expected.cursor} AND ` +
              `(NOT IS_DEFINED(c.claim) OR c.claim.until < ${Date.now()})`;
        return await this.run('settle', async (container, meter) => {
            try {
                meter(
                    await container.item(id, SUBSCRIPTIONS_PARTITION).patch({
                        condition,
                        operations: expected.claim ? [...operations, { op: 'remove', path: '/claim' }] : operations,
                    }),
                );
                return true;
            } catch (error) {
                expectedRefusal(meter, error, 404, 412);
                return false;
            }
        });
    }

    /**
     * Removes a subscription the service ends (expired, or its configuration deleted), on condition of the ETag
     * read: a renewal or a delivery meanwhile keeps it for the next look.
     */
    async drop(subscription: SubscriptionDocument): Promise<boolean> {
        return (await this.deleteCounted(subscription.id, subscription._etag)) === 'deleted';
    }

    /**
     * Deletes it on condition of `etag`, with its place in the count, in one batch: `changed` when it changed since
     * (a claim, a cursor, a renewal), `gone` when something else removed it first.
     */
    private async deleteCounted(id: string, etag: unknown): Promise<'deleted' | 'changed' | 'gone'> {
        return await this.run('delete', async (container, meter) => {
            try {
                await this.store.batch(container, meter, SUBSCRIPTIONS_PARTITION, [
                    countPatch(-1),
                    conditionalDelete(id, etag),
                ]);
                return 'deleted';
            } catch (error) {
                if (error instanceof BatchRefused && error.index === 1 && [404, 412].includes(error.statusCode)) {
                    return error.statusCode === 412 ? 'changed' : 'gone';
                }
                throw error;
            }
        });
    }
}
