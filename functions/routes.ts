/**
 * The route table: every function of the app, read both by `app.http(...)` (functions/index.ts) and by the local
 * host (lib/http/localHost.ts), so the two can never serve different APIs.
 */
import { BATCH_TEMPLATE, batchOperation } from '../lib/http/batch.js';
import { type Route, unknownSegment } from '../lib/http/pipeline.js';
import { SUBSCRIPTION_CREATE_BUDGET_MS } from '../lib/platform/config.js';
import {
    assign,
    createAssignment,
    deleteAssignment,
    getAssignment,
    listAssignments,
    updateAssignment,
} from '../lib/resources/assignments.js';
import { getAuditEvent, listAuditEvents } from '../lib/resources/auditEvents.js';
import {
    createConfiguration,
    deleteConfiguration,
    getConfiguration,
    listConfigurations,
    updateConfiguration,
    updatePriorities,
} from '../lib/resources/configurations.js';
import { assignmentsDelta, configurationsDelta } from '../lib/resources/delta.js';
import { getMetadata, getOpenApi } from '../lib/resources/metadata.js';
import { getOfficeConfiguration } from '../lib/resources/officeConfiguration.js';
import { payloadOperations } from '../lib/resources/payloads.js';
import {
    createSubscription,
    deleteSubscription,
    getSubscription,
    listSubscriptions,
    updateSubscription,
} from '../lib/resources/subscriptions.js';

const configurations = 'officeConfiguration/clientConfigurations';
const configuration = `${configurations}/{configurationId}`;

/**
 * The collection's action before `{configurationId}`: the local host tries templates in this order, and the Functions
 * host (ASP.NET routing) ranks a literal segment before a parameter anyway.
 */
const configurationRoutes: Route[] = [
    {
        name: 'officeConfiguration',
        template: 'officeConfiguration',
        operations: { GET: getOfficeConfiguration },
    },
    {
        name: 'officeConfigurationAuditEvents',
        template: 'officeConfiguration/auditEvents',
        operations: { GET: listAuditEvents },
    },
    {
        name: 'officeConfigurationAuditEvent',
        template: 'officeConfiguration/auditEvents/{auditEventId}',
        operations: { GET: getAuditEvent },
    },
    {
        name: 'officeClientConfigurations',
        template: configurations,
        operations: { GET: listConfigurations, POST: createConfiguration },
    },
    {
        name: 'officeClientConfigurationsUpdatePriorities',
        template: `${configurations}/updatePriorities`,
        operations: { POST: updatePriorities },
    },
    {
        name: 'officeClientConfigurationsUpdatePrioritiesQualified',
        template: `${configurations}/microsoft.graph.updatePriorities`,
        operations: { POST: updatePriorities },
    },
    {
        name: 'officeClientConfigurationsDelta',
        template: `${configurations}/delta`,
        operations: { GET: configurationsDelta },
    },
    {
        name: 'officeClientConfigurationsDeltaQualified',
        template: `${configurations}/microsoft.graph.delta()`,
        operations: { GET: configurationsDelta },
    },
    {
        name: 'officeClientConfiguration',
        template: configuration,
        operations: { GET: getConfiguration, PATCH: updateConfiguration, DELETE: deleteConfiguration },
    },
    {
        name: 'officeClientConfigurationPolicyPayload',
        template: `${configuration}/policyPayload`,
        operations: payloadOperations('policyPayload'),
    },
    {
        name: 'officeClientConfigurationUserPreferencePayload',
        template: `${configuration}/userPreferencePayload`,
        operations: payloadOperations('userPreferencePayload'),
    },
];

const resourceRoutes: Route[] = [
    ...configurationRoutes,
    {
        name: 'officeClientConfigurationAssignments',
        template: `${configuration}/assignments`,
        operations: { GET: listAssignments, POST: createAssignment },
    },
    {
        name: 'officeClientConfigurationAssignmentsDelta',
        template: `${configuration}/assignments/delta`,
        operations: { GET: assignmentsDelta },
    },
    {
        name: 'officeClientConfigurationAssignmentsDeltaQualified',
        template: `${configuration}/assignments/microsoft.graph.delta()`,
        operations: { GET: assignmentsDelta },
    },
    {
        name: 'officeClientConfigurationAssignment',
        template: `${configuration}/assignments/{assignmentId}`,
        operations: { GET: getAssignment, PATCH: updateAssignment, DELETE: deleteAssignment },
    },
    {
        name: 'officeClientConfigurationAssign',
        template: `${configuration}/assign`,
        operations: { POST: assign },
    },
    {
        name: 'officeClientConfigurationAssignQualified',
        template: `${configuration}/microsoft.graph.assign`,
        operations: { POST: assign },
    },
];

/**
 * Change notifications. Subscribing needs only the read permission, as in Graph: a subscriber learns what a read would
 * tell it. A create waits for its endpoints' validation handshake, so it has a budget of its own.
 */
const subscriptionRoutes: Route[] = [
    {
        name: 'subscriptions',
        template: 'subscriptions',
        operations: { GET: listSubscriptions, POST: createSubscription },
        access: 'read',
        minBudgetMs: SUBSCRIPTION_CREATE_BUDGET_MS,
    },
    {
        name: 'subscription',
        template: 'subscriptions/{subscriptionId}',
        operations: { GET: getSubscription, PATCH: updateSubscription, DELETE: deleteSubscription },
        access: 'read',
    },
];

/** The service documents; literal templates, so both hosts rank them before the catch-all. */
const documentRoutes: Route[] = [
    { name: 'metadata', template: '$metadata', operations: { GET: getMetadata }, anonymous: true },
    { name: 'openApiDocument', template: 'openapi.json', operations: { GET: getOpenApi }, anonymous: true },
];

/**
 * JSON batching: every part goes through this same table. The token needs only to be valid for the batch (either
 * permission); each part is then authorised by it as if sent alone. The batch keeps to the budget itself.
 */
const batchRoute: Route = {
    name: 'batch',
    template: BATCH_TEMPLATE,
    operations: { POST: batchOperation(() => routes) },
    access: 'read',
    ownBudget: true,
};

const servedRoutes = [...resourceRoutes, ...subscriptionRoutes, ...documentRoutes, batchRoute];

/** Everything else under /beta: a Graph error instead of the host's bare 404. Must stay last. */
const fallbackRoute: Route = {
    name: 'unknownSegment',
    template: '{*path}',
    operations: unknownSegment(servedRoutes.map((r) => r.template)),
};

export const routes: readonly Route[] = [...servedRoutes, fallbackRoute];
