/**
 * JSON Schemas (draft 2020-12) of the request bodies: the single source of the body rules, read by the validator,
 * the tests and the OpenAPI description. Type names are the CSDL's; each object schema's `title` is its OData type,
 * which the validator quotes in its messages.
 */

export const NAMESPACE = 'microsoft.graph';
export const ASSIGNMENT_TYPE = `${NAMESPACE}.officeClientConfigurationAssignment`;
export const BASE_TARGET_TYPE = `${NAMESPACE}.officeConfigurationAssignmentTarget`;
export const GROUP_TARGET_TYPE = `${NAMESPACE}.officeConfigurationGroupAssignmentTarget`;
export const OFFICE_CONFIGURATION_TYPE = `${NAMESPACE}.officeConfiguration`;
/** Abstract in the CSDL: a create must name one of the two concrete types below. */
export const CONFIGURATION_BASE_TYPE = `${NAMESPACE}.officeClientConfiguration`;
export const CONFIGURATION_TYPES = [
    `${NAMESPACE}.windowsOfficeClientConfiguration`,
    `${NAMESPACE}.windowsOfficeClientSecurityConfiguration`,
] as const;
export const UPDATE_PRIORITIES_ACTION = `${NAMESPACE}.updatePriorities`;

/** Graph accepts `@odata.type` values with or without the leading `#`. */
const typeName = (name: string) => ({ enum: [`#${name}`, name] });

/**
 * Instance and property annotations (`@odata.context`, `target@odata.type`, `@microsoft.graph.tips`) are accepted and
 * ignored, as an OData service does; any other unknown property is an error.
 *
 * The pattern reads a name one way only: no part between dots may hold a dot, so a name that fails (`x@....@`) fails
 * in one pass. A looser `[^@]+\\.[^@]+` tries every split at every dot, quadratic in the name's length: one 59 KB
 * name once held the event loop for 3.5 s. Patterns run on request bodies: each must stay linear (tested).
 */
export const ANNOTATION_PATTERN = '^[^@]*@(?:[^@.]+\\.)+[^@.]+$';
const annotations = { [ANNOTATION_PATTERN]: {} };

/** Longer than any OData identifier or annotation: a longer name is refused before any pattern looks at it. */
export const MAX_PROPERTY_NAME_LENGTH = 256;
// A pattern rather than `maxLength`, whose code-point count the generated validators would need ajv at run time for.
const propertyNames = { pattern: `^[\\s\\S]{0,${MAX_PROPERTY_NAME_LENGTH}}$` };

export const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const MAX_ASSIGNMENTS_PER_ASSIGN = 100;

/**
 * Client configurations one tenant may hold. Their order is one document (lib/store/configurationStore.ts) that every
 * list reads: at about 41 bytes an id, 5,000 ids keep it near 200 KB, a tenth of Cosmos DB's item limit.
 */
export const MAX_CONFIGURATIONS = 5000;

/** `priority` is an Edm.Int32; the store narrows it to 1..N+1 (create) or 1..N (update). */
export const MAX_INT32 = 2_147_483_647;

/** The stream properties of a configuration (Edm.Stream): bytes of their own, never inline in a response. */
export const PAYLOAD_PROPERTIES = ['policyPayload', 'userPreferencePayload'] as const;
export type PayloadProperty = (typeof PAYLOAD_PROPERTIES)[number];

/** Properties the service computes: a body that sets one is refused, naming it (lib/graph/validation.ts). */
export const READ_ONLY_CONFIGURATION_PROPERTIES = ['checkinStatuses', 'userCheckinSummary'] as const;

/** Lengths as code points, written as patterns: `maxLength` would need ajv at run time (scripts/build-validators). */
const text = (max: number, description: string) => ({
    description,
    type: ['string', 'null'],
    pattern: `^[\\s\\S]{0,${max}}$`,
});

/**
 * Inline stream content on create, as Graph's documentation example sends it: standard or URL-safe base64. One
 * character class then the padding: linear. The decoded size is checked against the payload limit by the resource.
 */
const base64Payload = (description: string) => ({
    description,
    type: 'string',
    contentEncoding: 'base64',
    pattern: '^[A-Za-z0-9+/_-]*={0,2}$',
});

const checkinStatus = {
    title: `${NAMESPACE}.officeClientCheckinStatus`,
    type: 'object',
    properties: {
        appliedPolicies: { type: 'array', items: { type: 'string' } },
        checkinDateTime: { type: 'string' },
        deviceName: { type: ['string', 'null'] },
        devicePlatform: { type: ['string', 'null'] },
        devicePlatformVersion: { type: ['string', 'null'] },
        errorMessage: { type: ['string', 'null'] },
        userId: { type: 'string' },
        userPrincipalName: { type: ['string', 'null'] },
        wasSuccessful: { type: 'boolean' },
    },
} as const;

const configurationProperties = {
    '@odata.type': {
        description: 'The concrete type; `officeClientConfiguration` itself is abstract.',
        enum: CONFIGURATION_TYPES.flatMap((name) => [`#${name}`, name]),
    },
    id: { type: 'string', description: 'Assigned by the service (a GUID); a value sent on create is ignored.' },
    displayName: text(256, 'The name admins see.'),
    description: text(1024, 'What the policy is for.'),
    priority: {
        description:
            'Its place in the tenant order, 1 first. Dense and unique: on create 1..N+1 (omitted: last), on update 1..N.',
        type: 'integer',
        minimum: 1,
        maximum: MAX_INT32,
    },
    policyPayload: base64Payload('The policy (Edm.Stream), inline on create only; afterwards at .../policyPayload.'),
    userPreferencePayload: base64Payload(
        'User preferences (Edm.Stream), inline on create only; afterwards at .../userPreferencePayload.',
    ),
    checkinStatuses: { readOnly: true, type: 'array', items: checkinStatus },
    userCheckinSummary: {
        readOnly: true,
        title: `${NAMESPACE}.officeUserCheckinSummary`,
        type: 'object',
        properties: { failedUserCount: { type: 'integer' }, succeededUserCount: { type: 'integer' } },
    },
} as const;

/** POST /officeConfiguration/clientConfigurations */
export const createConfigurationSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfiguration.create',
    title: CONFIGURATION_BASE_TYPE,
    type: 'object',
    required: ['@odata.type'],
    properties: configurationProperties,
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** PATCH /officeConfiguration/clientConfigurations/{id}: the payloads have routes of their own. */
export const updateConfigurationSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfiguration.update',
    title: CONFIGURATION_BASE_TYPE,
    type: 'object',
    properties: {
        '@odata.type': configurationProperties['@odata.type'],
        id: { type: 'string', description: 'Must equal the id in the path.' },
        displayName: configurationProperties.displayName,
        description: configurationProperties.description,
        priority: configurationProperties.priority,
        checkinStatuses: configurationProperties.checkinStatuses,
        userCheckinSummary: configurationProperties.userCheckinSummary,
    },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** POST .../clientConfigurations/updatePriorities: the ids and their new priorities, pairwise. */
export const updatePrioritiesSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfiguration.updatePriorities',
    title: UPDATE_PRIORITIES_ACTION,
    type: 'object',
    required: ['officeConfigurationPolicyIds', 'officeConfigurationPriorities'],
    properties: {
        officeConfigurationPolicyIds: {
            type: 'array',
            maxItems: MAX_CONFIGURATIONS,
            items: { type: 'string' },
        },
        officeConfigurationPriorities: {
            type: 'array',
            maxItems: MAX_CONFIGURATIONS,
            items: { type: 'integer', minimum: 1, maximum: MAX_INT32 },
        },
    },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

const target = {
    title: BASE_TARGET_TYPE,
    description: 'Who the configuration applies to; `@odata.type` names the concrete target type.',
    type: 'object',
    required: ['@odata.type'],
    properties: { '@odata.type': { type: 'string' } },
    discriminator: { propertyName: '@odata.type' },
    oneOf: [
        {
            title: BASE_TARGET_TYPE,
            properties: { '@odata.type': typeName(BASE_TARGET_TYPE) },
            propertyNames,
            patternProperties: annotations,
            additionalProperties: false,
        },
        {
            title: GROUP_TARGET_TYPE,
            required: ['groupId'],
            properties: {
                '@odata.type': typeName(GROUP_TARGET_TYPE),
                groupId: {
                    description: 'Object id of the Microsoft Entra ID group.',
                    type: 'string',
                    format: 'uuid',
                },
            },
            propertyNames,
            patternProperties: annotations,
            additionalProperties: false,
        },
    ],
} as const;

const assignmentProperties = {
    '@odata.type': typeName(ASSIGNMENT_TYPE),
    id: { type: 'string', description: 'Assigned by the service; a value sent on create is ignored.' },
    target: { $ref: '#/$defs/officeConfigurationAssignmentTarget' },
} as const;

const defs = { officeConfigurationAssignmentTarget: target } as const;

/** An assignment in a create body, or in the assign action's set. */
const newAssignment = {
    title: ASSIGNMENT_TYPE,
    type: 'object',
    required: ['target'],
    properties: assignmentProperties,
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** POST .../assignments */
export const createAssignmentSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfigurationAssignment.create',
    ...newAssignment,
    $defs: defs,
} as const;

/** PATCH .../assignments/{id}: the same properties, none required. */
export const updateAssignmentSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfigurationAssignment.update',
    title: ASSIGNMENT_TYPE,
    type: 'object',
    properties: assignmentProperties,
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
    $defs: defs,
} as const;

/** POST .../assign: the action's one parameter, the whole new set. */
export const assignActionSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'officeClientConfiguration.assign',
    title: `${NAMESPACE}.assign`,
    type: 'object',
    required: ['officeConfigurationAssignments'],
    properties: {
        officeConfigurationAssignments: {
            type: 'array',
            maxItems: MAX_ASSIGNMENTS_PER_ASSIGN,
            items: newAssignment,
        },
    },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
    $defs: defs,
} as const;

export const SUBSCRIPTION_TYPE = `${NAMESPACE}.subscription`;
/** Graph's longest `clientState`. */
export const MAX_CLIENT_STATE_LENGTH = 128;
/** `created`, `updated`, `deleted`, comma-separated: one alternative a letter apart, so the pattern reads once. */
export const CHANGE_TYPE_PATTERN = '^(?:created|updated|deleted)(?:,(?:created|updated|deleted))*$';
/** An OData DateTimeOffset: `YYYY-MM-DDThh:mm[:ss[.fraction]]` and `Z` or an offset. */
export const DATE_TIME_PATTERN =
    '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,7})?)?(?:Z|z|[+-]\\d{2}:\\d{2})$';

const expirationDateTime = {
    description: 'When the subscription ends, UTC; renew it with PATCH before then.',
    type: 'string',
    pattern: DATE_TIME_PATTERN,
} as const;

const notificationUrl = (description: string, nullable: boolean) => ({
    description,
    type: nullable ? ['string', 'null'] : 'string',
    pattern: '^[\\s\\S]{1,2048}$',
});

/** POST /subscriptions: Graph's `subscription`, of the properties this service honours. */
export const createSubscriptionSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'subscription.create',
    title: SUBSCRIPTION_TYPE,
    type: 'object',
    required: ['changeType', 'notificationUrl', 'resource', 'expirationDateTime', 'clientState'],
    properties: {
        id: { type: 'string', description: 'Assigned by the service (a GUID); a value sent on create is ignored.' },
        changeType: {
            description: 'The changes notified: created, updated, deleted, comma-separated.',
            type: 'string',
            pattern: CHANGE_TYPE_PATTERN,
        },
        notificationUrl: notificationUrl(
            'Where change notifications are POSTed: https (http only to a loopback address, locally).',
            false,
        ),
        lifecycleNotificationUrl: notificationUrl(
            'Where lifecycle notifications (missed, subscriptionRemoved) are POSTed.',
            true,
        ),
        resource: {
            description:
                'officeConfiguration/clientConfigurations, or officeConfiguration/clientConfigurations/{id}/assignments.',
            type: 'string',
            pattern: '^[\\s\\S]{1,512}$',
        },
        expirationDateTime,
        clientState: {
            description: 'Sent back in every notification, so the receiver can tell they come from this subscription.',
            type: 'string',
            pattern: `^[\\s\\S]{1,${MAX_CLIENT_STATE_LENGTH}}$`,
        },
        latestSupportedTlsVersion: { enum: ['v1_0', 'v1_1', 'v1_2', 'v1_3', null] },
        includeResourceData: {
            description: 'Notifications with resource data are not offered: false or absent.',
            enum: [false],
        },
        encryptionCertificate: { type: 'null' },
        encryptionCertificateId: { type: 'null' },
        notificationQueryOptions: { type: 'null' },
        notificationUrlAppId: { type: 'null' },
    },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** PATCH /subscriptions/{id}: a renewal, its new expiration only. */
export const updateSubscriptionSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'subscription.update',
    title: SUBSCRIPTION_TYPE,
    type: 'object',
    required: ['expirationDateTime'],
    properties: { expirationDateTime },
    propertyNames,
    patternProperties: annotations,
    additionalProperties: false,
} as const;

/** Each request body the API validates, by kind: what the validators are generated from (scripts/build-validators). */
export const bodySchemas = {
    create: createAssignmentSchema,
    update: updateAssignmentSchema,
    assign: assignActionSchema,
    createConfiguration: createConfigurationSchema,
    updateConfiguration: updateConfigurationSchema,
    updatePriorities: updatePrioritiesSchema,
    createSubscription: createSubscriptionSchema,
    updateSubscription: updateSubscriptionSchema,
} as const;

export type BodyKind = keyof typeof bodySchemas;

/** What a stored target looks like once validated. */
export type AssignmentTarget = { '@odata.type': string; groupId?: string } & Record<string, unknown>;

/** Strips the optional `#`, so that the two spellings of a type compare equal. */
export function bareTypeName(odataType: string): string {
    return odataType.startsWith('#') ? odataType.slice(1) : odataType;
}
