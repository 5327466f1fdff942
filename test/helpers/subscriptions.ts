/** A subscription as the store keeps it, for tests of what the service shows of one. */
import { randomUUID } from 'node:crypto';

import { type SubscriptionDocument, SUBSCRIPTIONS_PARTITION } from '../../lib/store/subscriptionStore.js';

export function storedSubscription(fields: Partial<SubscriptionDocument> = {}): SubscriptionDocument {
    return {
        id: randomUUID(),
        configurationId: SUBSCRIPTIONS_PARTITION,
        kind: 'subscription',
        resource: 'officeConfiguration/clientConfigurations',
        partition: 'tenant',
        changeType: 'created,updated,deleted',
        notificationUrl: 'https://receiver.example.com/hook',
        lifecycleNotificationUrl: null,
        clientState: 'secret',
        expirationDateTime: new Date().toISOString(),
        applicationId: null,
        creatorId: null,
        latestSupportedTlsVersion: 'v1_2',
        cursor: 0,
        attempts: 0,
        ...fields,
    };
}
