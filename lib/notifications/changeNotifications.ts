/**
 * What a subscriber is sent, shaped as Graph's `changeNotificationCollection`: one item per changed resource of each
 * change record (lib/store/changeLog), so every recorded change is notified and nothing else. The same record always
 * gives the same items, ids included: a receiver told twice (delivery is at least once) can tell.
 */
import {
    ASSIGNMENT_RESOURCE_TYPE,
    type ChangedResource,
    type ChangeRecord,
    CONFIGURATION_RESOURCE_TYPE,
} from '../store/changeLog.js';

export const CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const LIFECYCLE_EVENTS = ['missed', 'subscriptionRemoved'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

const CONFIGURATIONS = 'officeConfiguration/clientConfigurations';

/** What a subscription names of itself in each item. */
export interface SubscriptionIdentity {
    id: string;
    expirationDateTime: string;
    clientState: string;
    /** The Entra ID tenant, null when authentication is off (a local run knows none). */
    tenantId: string | null;
}

export interface ChangeNotification {
    id: string;
    subscriptionId: string;
    subscriptionExpirationDateTime: string;
    changeType: ChangeType;
    resource: string;
    resourceData: { '@odata.type': string; '@odata.id': string; id: string };
    clientState: string;
    tenantId: string | null;
}

const ODATA_TYPE: Record<ChangedResource['type'], string> = {
    [CONFIGURATION_RESOURCE_TYPE]: '#microsoft.graph.officeClientConfiguration',
    [ASSIGNMENT_RESOURCE_TYPE]: '#microsoft.graph.officeClientConfigurationAssignment',
};

function changeTypeOf(record: ChangeRecord, resource: ChangedResource): ChangeType {
    if (resource.removed) {
        return 'deleted';
    }
    // A create, or an assign's new assignments; a PATCH or a payload PUT changes what exists.
    return record.activityOperationType === 'Patch' ? 'updated' : 'created';
}

function pathOf(record: ChangeRecord, type: ChangedResource['type'], id: string): string {
    return type === CONFIGURATION_RESOURCE_TYPE
        ? `${CONFIGURATIONS}/${id}`
        : `${CONFIGURATIONS}/${record.configurationId}/assignments/${id}`;
}

/**
 * A record's notifications, of the change types subscribed to. A priority the write moved is an update of that
 * configuration, as delta query reports it.
 */
export function notificationsOf(
    record: ChangeRecord,
    subscription: SubscriptionIdentity,
    changeTypes: ReadonlySet<string>,
): ChangeNotification[] {
    const changes: { changeType: ChangeType; type: ChangedResource['type']; id: string }[] = record.resources.map(
        (resource) => ({ changeType: changeTypeOf(record, resource), type: resource.type, id: resource.resourceId }),
    );
    for (const [id] of record.priorityChanges ?? []) {
        changes.push({ changeType: 'updated', type: CONFIGURATION_RESOURCE_TYPE, id });
    }
    const items: ChangeNotification[] = [];
    changes.forEach((change, index) => {
        if (!changeTypes.has(change.changeType)) {
            return;
        }
        const resource = pathOf(record, change.type, change.id);
        items.push({
            // The change's audit event id and its place in it: the same on every delivery of it.
            id: `${record.eventId}:${index}`,
            subscriptionId: subscription.id,
            subscriptionExpirationDateTime: subscription.expirationDateTime,
            changeType: change.changeType,
            resource,
            resourceData: { '@odata.type': ODATA_TYPE[change.type], '@odata.id': resource, id: change.id },
            clientState: subscription.clientState,
            tenantId: subscription.tenantId,
        });
    });
    return items;
}

/** A lifecycle notification, as Graph sends one to `lifecycleNotificationUrl`. */
export function lifecycleNotification(subscription: SubscriptionIdentity, lifecycleEvent: LifecycleEvent) {
    return {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: subscription.expirationDateTime,
        tenantId: subscription.tenantId,
        clientState: subscription.clientState,
        lifecycleEvent,
    };
}
