/**
 * The OpenAPI 3.1 description of the service, laid out as Microsoft Graph's own OpenAPI is, so that the generators
 * Microsoft builds the Graph SDKs with (Kiota) make the same client here: schemas named `microsoft.graph.<type>`,
 * derived types as `allOf` of their base, a `discriminator` on `@odata.type` with a `mapping` on every base type,
 * one entity schema for request and response bodies, the action's parameters as an inline request body, Graph's
 * `microsoft.graph.ODataErrors.ODataError`, and one path for each action.
 *
 * The types are derived from the JSON Schemas of lib/graph/schema (names, properties, descriptions, what is required),
 * and limits come from the constants the code enforces, so the contract cannot drift from what the service accepts.
 * The keywords differ on purpose: ajv validates a `oneOf` of closed schemas, generators want class hierarchies.
 * scripts/build-openapi writes `openApiJson()` to dist/openapi.json; lib/resources/metadata serves the same text.
 *
 * Delta query is described as Graph's OpenAPI describes its delta functions (one path per function, a page of
 * `BaseDeltaFunctionResponse`). The audit trail is the service's own extension: its schemas are apart from Graph's
 * (named after their $metadata namespace, `officeConfigurationService`; see `auditSchemas`), and every part of it says
 * so in its description and with `x-service-extension: true`.
 *
 * Change notifications are Graph's `subscription` resource at `/subscriptions`, described as Graph's OpenAPI describes
 * it (schema `microsoft.graph.subscription`, key `subscription-id`, tag `subscriptions.subscription`); its properties
 * are the ones $metadata declares (lib/graph/csdl), with what a request may send taken from lib/graph/schema.
 */
import { DEFAULT_DELTA_PAGE_SIZE, MAX_DELTA_PAGE_SIZE } from '../graph/deltaQuery.js';
import { ODATA_JSON } from '../graph/odata.js';
import {
    CONFIGURATION_SELECTABLE,
    DEFAULT_TOP,
    MAX_TOP,
    OFFICE_CONFIGURATION_SELECTABLE,
    SELECTABLE,
} from '../graph/queryOptions.js';
import {
    assignActionSchema,
    ASSIGNMENT_TYPE,
    bareTypeName,
    BASE_TARGET_TYPE,
    CONFIGURATION_BASE_TYPE,
    CONFIGURATION_TYPES,
    createAssignmentSchema,
    createConfigurationSchema,
    createSubscriptionSchema,
    GROUP_TARGET_TYPE,
    GUID_PATTERN,
    NAMESPACE,
    OFFICE_CONFIGURATION_TYPE,
    PAYLOAD_PROPERTIES,
    type PayloadProperty,
    SUBSCRIPTION_TYPE,
    updatePrioritiesSchema,
} from '../graph/schema.js';
import { BATCH_CONCURRENCY, MAX_BATCH_BODY_BYTES, MAX_BATCH_REQUESTS } from '../http/batch.js';
import { MAX_BODY_BYTES } from '../http/body.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../http/pipeline.js';
import { DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from '../platform/config.js';
import { DEFAULT_CHANGE_RETENTION_DAYS } from '../store/changeLog.js';
import { MAX_KEY_LENGTH } from '../store/idempotency.js';
import { MAX_CONFIGURATION_ID_LENGTH } from './assignments.js';
import { AUDIT_EVENT_TYPE, AUDIT_EVENTS_PATH, AUDIT_NAMESPACE, DEFAULT_AUDIT_TOP } from './auditEvents.js';
import { MAX_CREATE_CONFIGURATION_BODY_BYTES, MAX_PAYLOAD_BYTES } from './configurations.js';
import { MAX_SUBSCRIPTION_MINUTES, MAX_SUBSCRIPTIONS, SUBSCRIPTIONS_PATH } from './subscriptions.js';

type Json = Record<string, unknown>;

/** The subset of JSON Schema that lib/graph/schema uses. */
interface SourceSchema {
    title?: string;
    description?: string;
    type?: string | readonly string[];
    format?: string;
    contentEncoding?: string;
    readOnly?: boolean;
    minimum?: number;
    maximum?: number;
    enum?: readonly unknown[];
    $ref?: string;
    required?: readonly string[];
    properties?: Readonly<Record<string, SourceSchema>>;
    items?: SourceSchema;
    maxItems?: number;
    oneOf?: readonly SourceSchema[];
    discriminator?: { propertyName: string };
    $defs?: Readonly<Record<string, SourceSchema>>;
}
type Defs = Readonly<Record<string, SourceSchema>>;

const ODATA_TYPE = '@odata.type';
const SCHEMAS = '#/components/schemas/';
const DEFS = '#/$defs/';

/** Graph's base of every entity type: where `id` lives. */
const ENTITY_TYPE = `${NAMESPACE}.entity`;
/** Graph's own name for the part every collection page shares (`@odata.count`, `@odata.nextLink`). */
const BASE_COLLECTION = 'BaseCollectionPaginationCountResponse';
/** Graph's own name for the part every page of a delta function shares (`@odata.nextLink`, `@odata.deltaLink`). */
const BASE_DELTA = 'BaseDeltaFunctionResponse';
const ODATA_ERROR = `${NAMESPACE}.ODataErrors.ODataError`;
const MAIN_ERROR = `${NAMESPACE}.ODataErrors.MainError`;
const ERROR_DETAILS = `${NAMESPACE}.ODataErrors.ErrorDetails`;
const INNER_ERROR = `${NAMESPACE}.ODataErrors.InnerError`;
const collectionResponse = (type: string) => `${type}CollectionResponse`;
const CHECKIN_STATUS_TYPE = `${NAMESPACE}.officeClientCheckinStatus`;
const CHECKIN_SUMMARY_TYPE = `${NAMESPACE}.officeUserCheckinSummary`;

const shortName = (qualified: string) => qualified.slice(NAMESPACE.length + 1);
const schemaRef = (name: string) => ({ $ref: `${SCHEMAS}${name}` });

/**
 * Both spellings of a type name map to the derived schema: Graph writes `#microsoft.graph.x`, and clients may send
 * either.
 */
const discriminatorKeys = (type: string) => [`#${type}`, type];

interface GraphType {
    name: string;
    base?: string;
    abstract?: boolean;
    description?: string;
    required: string[];
    properties: Record<string, Json>;
}

/**
 * The navigation properties of the CSDL (`ContainsTarget`): no request body carries them, so lib/graph/schema does not
 * list them, but Graph's OpenAPI describes them on the type (for `$expand`), marked `x-ms-navigationProperty`.
 */
const NAVIGATION: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    [CONFIGURATION_BASE_TYPE]: { assignments: ASSIGNMENT_TYPE },
    [OFFICE_CONFIGURATION_TYPE]: { clientConfigurations: CONFIGURATION_BASE_TYPE },
};

const navigationProperties = (type: string): Record<string, Json> =>
    Object.fromEntries(
        Object.entries(NAVIGATION[type] ?? {}).map(([name, target]) => [
            name,
            { type: 'array', items: schemaRef(target), 'x-ms-navigationProperty': true },
        ]),
    );

/** A JSON Schema `type`, which lib/graph/schema may write as `['string', 'null']`: the one type that is not null. */
const typeOf = (schema: SourceSchema): string | undefined =>
    typeof schema.type === 'string' ? schema.type : schema.type?.find((t) => t !== 'null');

/**
 * One JSON Schema property as Graph publishes it: `$defs` references and inline typed objects (a complex type, an
 * assignment inside the action's set) become references by their OData type; a GUID is a string with a pattern
 * rather than `format: uuid`, which generators turn into a GUID type Graph's SDKs never use for these properties;
 * an integer is an Edm.Int32; base64 content (an Edm.Stream sent inline) is `format: base64url`, as Graph's 2021
 * OpenAPI described stream properties; `readOnly` (what the service computes) is kept.
 */
function property(schema: SourceSchema, defs: Defs): Json {
    const { description } = schema;
    const extra = {
        ...(description === undefined ? {} : { description }),
        ...(schema.readOnly ? { readOnly: true } : {}),
    };
    const type = typeOf(schema);
    if (schema.$ref?.startsWith(DEFS)) {
        const target = defs[schema.$ref.slice(DEFS.length)]?.title;
        if (target === undefined) {
            throw new Error(`lib/graph/schema: ${schema.$ref} names no titled definition`);
        }
        return { ...schemaRef(target), ...extra };
    }
    if (type === 'object' && schema.title !== undefined) {
        return { ...schemaRef(schema.title), ...extra };
    }
    if (type === 'array' && schema.items) {
        return {
            type: 'array',
            items: property(schema.items, defs),
            ...(schema.maxItems === undefined ? {} : { maxItems: schema.maxItems }),
            ...extra,
        };
    }
    if (type === 'string' && schema.format === 'uuid') {
        return { type: 'string', pattern: GUID_PATTERN, ...extra };
    }
    if (type === 'string' && schema.contentEncoding !== undefined) {
        return { type: 'string', format: 'base64url', ...extra };
    }
    if (type === 'integer') {
        return {
            type: 'integer',
            format: 'int32',
            ...(schema.minimum === undefined ? {} : { minimum: schema.minimum }),
            ...(schema.maximum === undefined ? {} : { maximum: schema.maximum }),
            ...extra,
        };
    }
    return { type: type ?? 'string', ...extra };
}

function properties(schema: SourceSchema, defs: Defs, omit: string[]) {
    return Object.fromEntries(
        Object.entries(schema.properties ?? {})
            .filter(([name]) => !omit.includes(name))
            .map(([name, child]) => [name, property(child, defs)]),
    );
}

/** The titled objects a schema holds inline (the configuration's complex types), its own title aside. */
function inlineTypes(schema: SourceSchema, found = new Map<string, SourceSchema>()): Map<string, SourceSchema> {
    for (const child of Object.values(schema.properties ?? {})) {
        const object = child.items ?? child;
        if (typeOf(object) === 'object' && object.title !== undefined && object.title !== schema.title) {
            found.set(object.title, object);
            inlineTypes(object, found);
        }
    }
    return found;
}

/**
 * The concrete types an entity schema's `@odata.type` admits besides its own title: the configuration's create
 * schema is titled by the abstract base and lists the two concrete types, whose OpenAPI types derive from it.
 */
const concreteTypes = (entity: SourceSchema): string[] => [
    ...new Set(
        (entity.properties?.[ODATA_TYPE]?.enum ?? [])
            .map((name) => bareTypeName(String(name)))
            .filter((name) => name !== entity.title),
    ),
];

/**
 * Graph's `subscription`, with every property $metadata declares: what a create may send, described as
 * lib/graph/schema describes it, and what the service fills in. A value the service may leave out is `null`.
 */
function subscriptionType(): GraphType {
    const source = createSubscriptionSchema.properties as Readonly<Record<string, SourceSchema>>;
    const from = (name: string) => property(source[name]!, {});
    const nullable = (description: string, extra: Json = {}) => ({ type: ['string', 'null'], description, ...extra });
    const unsupported = nullable('Not offered by this service: always null.');
    const unknownWhenOff = 'null while authentication is off';
    return {
        name: SUBSCRIPTION_TYPE,
        base: ENTITY_TYPE,
        description:
            'A subscription to change notifications on one collection of this API: its notificationUrl is POSTed a ' +
            'notification for each change until expirationDateTime.',
        required: [],
        properties: {
            applicationId: nullable(`The client id of the application that created it; ${unknownWhenOff}.`, {
                readOnly: true,
            }),
            changeType: from('changeType'),
            clientState: from('clientState'),
            creatorId: nullable(`The object id of the caller that created it, as its token says; ${unknownWhenOff}.`, {
                readOnly: true,
            }),
            encryptionCertificate: unsupported,
            encryptionCertificateId: unsupported,
            expirationDateTime: {
                type: 'string',
                format: 'date-time',
                description: `${source.expirationDateTime!.description!} At most ${MAX_SUBSCRIPTION_MINUTES} minutes ahead.`,
            },
            includeResourceData: { type: 'boolean', description: source.includeResourceData!.description! },
            latestSupportedTlsVersion: nullable('`v1_0`, `v1_1`, `v1_2` or `v1_3`; `v1_2` when not given.', {
                examples: ['v1_2'],
            }),
            lifecycleNotificationUrl: nullable(source.lifecycleNotificationUrl!.description!),
            notificationQueryOptions: unsupported,
            notificationUrl: from('notificationUrl'),
            notificationUrlAppId: unsupported,
            resource: from('resource'),
        },
    };
}

/**
 * The OData types lib/graph/schema describes. An entity type (one with `id`) derives from microsoft.graph.entity, which
 * takes `id`; one whose `@odata.type` names other types is their abstract base. A polymorphic definition (`oneOf`
 * under a `discriminator`) is its base type, titled like the definition, and the other branches derive from it with
 * only the properties they add. The singleton's type has no body to validate: it is made of the complex types the
 * configurations already use, and is read-only.
 */
function graphTypes(): GraphType[] {
    const defs = createAssignmentSchema.$defs as Defs;
    const types: GraphType[] = [];
    const entities: SourceSchema[] = [createAssignmentSchema, createConfigurationSchema];
    const complex = new Map<string, SourceSchema>();
    for (const entity of entities) {
        const derived = concreteTypes(entity);
        types.push({
            name: entity.title!,
            base: ENTITY_TYPE,
            ...(derived.length > 0 ? { abstract: true } : {}),
            ...(entity.description === undefined ? {} : { description: entity.description }),
            // Nothing is required of an entity here (a PATCH sends only what changes, `$select` returns a part)
            // but the discriminator of an abstract type, which names the concrete one.
            required: derived.length > 0 ? [ODATA_TYPE] : [],
            properties: {
                ...properties(entity, defs, ['id', ODATA_TYPE]),
                ...navigationProperties(entity.title!),
            },
        });
        for (const name of derived) {
            types.push({ name, base: entity.title!, required: [], properties: {} });
        }
        inlineTypes(entity, complex);
    }
    for (const [name, schema] of complex) {
        types.push({ name, required: [], properties: properties(schema, defs, [ODATA_TYPE]) });
    }
    types.push(subscriptionType());
    types.push({
        name: OFFICE_CONFIGURATION_TYPE,
        description: "The tenant's Office cloud policy service: its client configurations and their check-ins.",
        required: [],
        properties: {
            tenantCheckinStatuses: { type: 'array', items: schemaRef(CHECKIN_STATUS_TYPE), readOnly: true },
            tenantUserCheckinSummary: { ...schemaRef(CHECKIN_SUMMARY_TYPE), readOnly: true },
            ...navigationProperties(OFFICE_CONFIGURATION_TYPE),
        },
    });
    for (const definition of Object.values(defs)) {
        const branches = definition.discriminator ? (definition.oneOf ?? []) : [definition];
        const base = branches.find((branch) => branch.title === definition.title);
        if (!base) {
            throw new Error(`lib/graph/schema: ${definition.title} has no branch of its own type`);
        }
        const baseProperties = Object.keys(base.properties ?? {});
        for (const branch of branches) {
            const own = branch === base;
            types.push({
                name: branch.title!,
                ...(own ? {} : { base: definition.title }),
                ...(own && definition.description !== undefined ? { description: definition.description } : {}),
                required: [...(definition.required ?? []), ...(branch.required ?? [])].filter(
                    (name) => own || !baseProperties.includes(name),
                ),
                properties: properties(branch, defs, own ? [] : baseProperties),
            });
        }
    }
    return types;
}

/**
 * A type as Graph's OpenAPI writes it. Graph marks `@odata.type` required on every type; here it is required where
 * lib/graph/schema requires it (the targets) and where a discriminator needs it (the bases), not on the assignment, whose
 * create and update bodies may leave it out. A concrete derived type's `@odata.type` defaults to its own name.
 */
function typeSchema(type: GraphType, derived: GraphType[]): Json {
    const isBase = type.base === undefined;
    const body: Json = {
        title: shortName(type.name),
        ...(type.required.length > 0 ? { required: type.required } : {}),
        type: 'object',
        properties: {
            ...type.properties,
            [ODATA_TYPE]: isBase || type.abstract ? { type: 'string' } : { type: 'string', default: `#${type.name}` },
        },
        ...(type.description === undefined ? {} : { description: type.description }),
    };
    const mapping = Object.fromEntries(
        derived.flatMap((child) => discriminatorKeys(child.name).map((key) => [key, `${SCHEMAS}${child.name}`])),
    );
    const discriminator = derived.length > 0 ? { discriminator: { propertyName: ODATA_TYPE, mapping } } : {};
    if (isBase) {
        return { ...body, ...discriminator };
    }
    return {
        allOf: [schemaRef(type.base!), body],
        ...discriminator,
        'x-ms-discriminator-value': `#${type.name}`,
    };
}

function typeSchemas(): Json {
    const types = graphTypes();
    const derivedFrom = (name: string) => types.filter((type) => type.base === name);
    /** Graph's entity maps every entity type, however far down it derives. */
    const descendants = (name: string): GraphType[] =>
        derivedFrom(name).flatMap((type) => [type, ...descendants(type.name)]);
    const entity: Json = {
        title: shortName(ENTITY_TYPE),
        // A discriminator's property must be required (OpenAPI; Kiota refuses it otherwise), as Graph's is. Responses
        // always carry it; a create or update body may leave it out, and the service then takes the one entity type.
        required: [ODATA_TYPE],
        type: 'object',
        properties: {
            id: property(createAssignmentSchema.properties.id, {}),
            [ODATA_TYPE]: { type: 'string' },
        },
        discriminator: {
            propertyName: ODATA_TYPE,
            mapping: Object.fromEntries(
                descendants(ENTITY_TYPE).map((type) => [`#${type.name}`, `${SCHEMAS}${type.name}`]),
            ),
        },
    };
    return {
        [ENTITY_TYPE]: entity,
        ...Object.fromEntries(types.map((type) => [type.name, typeSchema(type, derivedFrom(type.name))])),
    };
}

const collectionOf = (type: string) => ({
    type: 'object',
    properties: { value: { type: 'array', items: schemaRef(type) } },
});

/** Graph's error body, as Graph's OpenAPI names its parts; every error of every route has this shape. */
const errorSchemas: Json = {
    [ODATA_ERROR]: {
        required: ['error'],
        type: 'object',
        properties: { error: schemaRef(MAIN_ERROR) },
    },
    [MAIN_ERROR]: {
        required: ['code', 'message'],
        type: 'object',
        properties: {
            code: { type: 'string', examples: ['BadRequest'] },
            message: { type: 'string', 'x-ms-primary-error-message': true },
            target: { type: 'string' },
            details: {
                description: 'One entry for each validation failure.',
                type: 'array',
                items: schemaRef(ERROR_DETAILS),
            },
            innerError: schemaRef(INNER_ERROR),
        },
    },
    [ERROR_DETAILS]: {
        required: ['code', 'message'],
        type: 'object',
        properties: {
            code: { type: 'string', examples: ['InvalidValue'] },
            message: { type: 'string' },
            target: { type: 'string', description: 'The property, as a dotted path.', examples: ['target.groupId'] },
        },
    },
    [INNER_ERROR]: {
        description: 'Where to look for the request in the logs.',
        type: 'object',
        properties: {
            // Graph's `date` carries no zone designator, so it is not an RFC 3339 `date-time`: it stays a string.
            date: {
                type: 'string',
                description: 'UTC, to the second, without a zone designator.',
                pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$',
            },
            'request-id': { type: 'string', description: 'The `request-id` response header: quote it in a report.' },
            'client-request-id': {
                type: 'string',
                description: 'The `client-request-id` the request sent, or else the request-id.',
            },
        },
    },
};

/**
 * The audit trail's types: this service's extension, shaped as Intune's `microsoft.graph.auditEvent`, declared in
 * $metadata in the service's own namespace (lib/graph/csdl). Here each is named `microsoft.graph.` + its CSDL name
 * (`microsoft.graph.officeConfigurationService.auditEvent` for `officeConfigurationService.auditEvent`), a namespace of
 * its own under Graph's prefix, as Graph's OpenAPI names the types of its own sub-namespaces: Kiota places models by
 * the prefix every schema name shares, so a second top-level prefix would move Graph's models out of `models/` (to
 * `models/microsoft/...`), unlike the Graph SDK's; this way they stay, and the extension's land in
 * `models/officeConfigurationService/`. Graph's schemas neither reference nor map them; each says it is the service's
 * extension in its description and with `x-service-extension: true`. Standalone rather than `allOf` Graph's entity,
 * whose discriminator maps Graph's types only. A value the service may leave out is `null`.
 *
 * The CSDL's `officeConfigurationService.officeConfiguration` (the derived type that holds `auditEvents`) is not
 * described: no response carries it, its one navigation property is the path `/officeConfiguration/auditEvents`
 * itself, and Kiota 1.38 generates a deserializer for it that calls itself in place of its base's (same-named types
 * in two namespaces).
 */
const extensionSchema = (csdlName: string) => `${NAMESPACE}.${csdlName}`;
const AUDIT_EVENT = extensionSchema(AUDIT_EVENT_TYPE);
const AUDIT_ACTOR = extensionSchema(`${AUDIT_NAMESPACE}.auditActor`);
const AUDIT_RESOURCE = extensionSchema(`${AUDIT_NAMESPACE}.auditResource`);
const AUDIT_PROPERTY = extensionSchema(`${AUDIT_NAMESPACE}.auditProperty`);
/** Marks every part of the document that describes the service's extension rather than Graph. */
const EXTENSION = { 'x-service-extension': true } as const;
const EXTENSION_NOTE = "This service's extension: not part of Microsoft Graph.";

const auditShortName = (schema: string) => schema.slice(`${NAMESPACE}.${AUDIT_NAMESPACE}.`.length);
const text = (description: string) => ({ type: 'string', description });
const nullableText = (description: string) => ({ type: ['string', 'null'], description });

function auditSchemas(): Json {
    const extension = (name: string, description: string, body: Json): Json => ({
        title: auditShortName(name),
        type: 'object',
        ...body,
        description: `${description} ${EXTENSION_NOTE}`,
        ...EXTENSION,
    });
    return {
        [AUDIT_EVENT]: extension(
            AUDIT_EVENT,
            `\`${AUDIT_EVENT_TYPE}\`: one acknowledged write, as Intune's \`microsoft.graph.auditEvent\` tells one; ` +
                'a refused write has none.',
            {
                required: ['id', 'activityDateTime', 'correlationId'],
                properties: {
                    id: { type: 'string', pattern: GUID_PATTERN, description: 'A GUID.', readOnly: true },
                    displayName: text('The activity, as `activity` says it.'),
                    componentName: { type: 'string', examples: ['OfficeConfiguration'] },
                    actor: schemaRef(AUDIT_ACTOR),
                    activity: { type: 'string', examples: ['Create OfficeClientConfiguration'] },
                    activityDateTime: {
                        type: 'string',
                        format: 'date-time',
                        description: 'When the write was sent to storage (UTC, milliseconds).',
                    },
                    activityType: { type: 'string', examples: ['Patch OfficeClientConfigurationAssignment'] },
                    activityOperationType: { type: 'string', examples: ['Create', 'Patch', 'Delete', 'Action'] },
                    activityResult: { type: 'string', examples: ['Success'] },
                    correlationId: {
                        type: 'string',
                        pattern: GUID_PATTERN,
                        description: "The `request-id` the write was answered with (a `$batch` step's own).",
                    },
                    resources: {
                        type: 'array',
                        items: schemaRef(AUDIT_RESOURCE),
                        description:
                            'What the write changed, with old and new values; then the configuration an assignment ' +
                            'belongs to, and each configuration whose priority moved.',
                    },
                    category: { type: 'string', examples: ['OfficeConfiguration'] },
                    [ODATA_TYPE]: { type: 'string', default: `#${AUDIT_EVENT_TYPE}` },
                },
            },
        ),
        [AUDIT_ACTOR]: extension(AUDIT_ACTOR, 'Who made the change (`auditActor`).', {
            properties: {
                auditActorType: {
                    type: 'string',
                    description:
                        '`ItPro` (a delegated token), `Application`, or `Unknown` while authentication is off.',
                    examples: ['ItPro', 'Application', 'Unknown'],
                },
                type: text('As `auditActorType`; `Unauthenticated` while authentication is off.'),
                userId: nullableText("The user's object id (a delegated token)."),
                userPrincipalName: nullableText("The user's principal name (a delegated token)."),
                applicationId: nullableText("The calling application's client id."),
                applicationDisplayName: nullableText("The calling application's name, when the token says it."),
                servicePrincipalName: nullableText('Not recorded: always null.'),
                ipAddress: nullableText('Not recorded: always null.'),
                userPermissions: {
                    type: 'array',
                    items: { type: 'string' },
                    description: 'The permissions the token granted.',
                },
            },
        }),
        [AUDIT_RESOURCE]: extension(AUDIT_RESOURCE, 'A resource the change touched (`auditResource`).', {
            properties: {
                displayName: nullableText("The resource's displayName, when it has one."),
                modifiedProperties: { type: 'array', items: schemaRef(AUDIT_PROPERTY) },
                type: { type: 'string', examples: [CONFIGURATION_BASE_TYPE, ASSIGNMENT_TYPE] },
                auditResourceType: { type: 'string', examples: [CONFIGURATION_BASE_TYPE, ASSIGNMENT_TYPE] },
                resourceId: text("The resource's id."),
            },
        }),
        [AUDIT_PROPERTY]: extension(AUDIT_PROPERTY, 'A property the change modified (`auditProperty`).', {
            properties: {
                displayName: text("The property's name."),
                oldValue: nullableText('Its value before, as text (a string as it is, else JSON); null if none.'),
                newValue: nullableText('Its value after, as text (a string as it is, else JSON); null if none.'),
            },
        }),
        [collectionResponse(AUDIT_EVENT)]: {
            title: `Collection of ${auditShortName(AUDIT_EVENT)}`,
            type: 'object',
            allOf: [schemaRef(BASE_COLLECTION), collectionOf(AUDIT_EVENT)],
            description: EXTENSION_NOTE,
            ...EXTENSION,
        },
    };
}

const componentSchemas = (): Json => ({
    ...typeSchemas(),
    [BASE_COLLECTION]: {
        title: 'Base collection pagination and count responses',
        type: 'object',
        properties: {
            '@odata.count': { type: 'integer', format: 'int64', description: 'Present when `$count=true`.' },
            '@odata.nextLink': {
                type: 'string',
                description: 'The next page, with an opaque `$skiptoken`; absent on the last page.',
            },
        },
    },
    ...Object.fromEntries(
        [ASSIGNMENT_TYPE, CONFIGURATION_BASE_TYPE, SUBSCRIPTION_TYPE].map((type) => [
            collectionResponse(type),
            {
                title: `Collection of ${shortName(type)}`,
                type: 'object',
                allOf: [schemaRef(BASE_COLLECTION), collectionOf(type)],
            },
        ]),
    ),
    [BASE_DELTA]: {
        title: 'Base delta function response',
        type: 'object',
        properties: {
            '@odata.nextLink': {
                type: 'string',
                description: 'More of this round: request it at once. Never on the same page as `@odata.deltaLink`.',
            },
            '@odata.deltaLink': {
                type: 'string',
                description:
                    'The round is over: keep it, and request it later for what changed since. Never on the same ' +
                    'page as `@odata.nextLink`.',
            },
        },
    },
    ...errorSchemas,
    ...auditSchemas(),
});

const ref = (kind: 'schemas' | 'parameters' | 'headers' | 'responses', name: string) => ({
    $ref: `#/components/${kind}/${name}`,
});

const JSON_MEDIA = 'application/json';
const json = (schema: Json, extra: Json = {}) => ({ [JSON_MEDIA]: { schema, ...extra } });

const COMMON_HEADERS = ['request-id', 'client-request-id', 'OData-Version'];
const headers = (...names: string[]) =>
    Object.fromEntries([...COMMON_HEADERS, ...names].map((n) => [n, ref('headers', n)]));

/** Graph's names for the key segments, so that generated builders read `byOfficeClientConfigurationId(...)`. */
const CONFIGURATION_KEY = 'officeClientConfiguration-id';
const ASSIGNMENT_KEY = 'officeClientConfigurationAssignment-id';
const AUDIT_EVENT_KEY = 'auditEvent-id';
const SUBSCRIPTION_KEY = 'subscription-id';

/** `$select` over the properties a resource may be narrowed to. */
const selectParameter = (names: readonly string[]): Json => ({
    name: '$select',
    in: 'query',
    description: 'Select properties to be returned; `@odata.type` always comes back.',
    style: 'form',
    explode: false,
    schema: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...names] } },
});

const parameters: Json = {
    [CONFIGURATION_KEY]: {
        name: CONFIGURATION_KEY,
        in: 'path',
        required: true,
        description:
            'The unique identifier of officeClientConfiguration: the service assigns lowercase GUIDs. A value of 1 to ' +
            '128 characters after one URL-decoding, without `/`, `\\`, `?`, `#` or control characters and without ' +
            'leading or trailing white space, that names no configuration is a 404, on the configuration and on ' +
            'everything under it; any other value is a 400.',
        schema: { type: 'string', minLength: 1, maxLength: MAX_CONFIGURATION_ID_LENGTH },
        'x-ms-docs-key-type': 'officeClientConfiguration',
    },
    [ASSIGNMENT_KEY]: {
        name: ASSIGNMENT_KEY,
        in: 'path',
        required: true,
        description:
            'The unique identifier of officeClientConfigurationAssignment: the service assigns lowercase GUIDs, and ' +
            'any other value names no assignment (404).',
        schema: { type: 'string' },
        'x-ms-docs-key-type': 'officeClientConfigurationAssignment',
    },
    top: {
        name: '$top',
        in: 'query',
        description: 'Show only the first n items: the page size. Also accepted without `$`, in any case.',
        style: 'form',
        explode: false,
        schema: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP },
        example: 50,
    },
    skiptoken: {
        name: '$skiptoken',
        in: 'query',
        description: 'Opaque; copied from `@odata.nextLink`, which carries the other options too.',
        style: 'form',
        explode: false,
        schema: { type: 'string' },
    },
    count: {
        name: '$count',
        in: 'query',
        description: 'Include count of items: adds `@odata.count`, the size of the whole collection.',
        style: 'form',
        explode: false,
        schema: { type: 'boolean', default: false },
    },
    select: selectParameter(SELECTABLE),
    selectConfiguration: selectParameter(CONFIGURATION_SELECTABLE),
    selectOfficeConfiguration: selectParameter(OFFICE_CONFIGURATION_SELECTABLE),
    orderby: {
        name: '$orderby',
        in: 'query',
        description:
            'Order items by property values: `priority` (ascending, the default order) or `priority desc`. ' +
            'Any other property is a 400.',
        style: 'form',
        explode: false,
        schema: { type: 'array', uniqueItems: true, items: { type: 'string', enum: ['priority', 'priority desc'] } },
    },
    deltatoken: {
        name: '$deltatoken',
        in: 'query',
        description:
            'Opaque; copied from `@odata.deltaLink`, which carries `$select` too: the changes since that round. ' +
            '`latest` starts from now, with no items and a deltaLink. Never with `$skiptoken`.',
        style: 'form',
        explode: false,
        schema: { type: 'string', examples: ['latest'] },
    },
    preferPageSize: {
        name: 'Prefer',
        in: 'header',
        description:
            `\`odata.maxpagesize=n\`: at most n items a page (1 to ${MAX_DELTA_PAGE_SIZE}; ${DEFAULT_DELTA_PAGE_SIZE} ` +
            'without it), answered with `Preference-Applied`. Send it with every request of a round; a value the ' +
            'service cannot honour is ignored.',
        schema: { type: 'string', examples: ['odata.maxpagesize=50'] },
    },
    topAuditEvents: {
        name: '$top',
        in: 'query',
        description: 'Show only the first n events: the page size. Also accepted without `$`, in any case.',
        style: 'form',
        explode: false,
        schema: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_AUDIT_TOP },
        example: 20,
    },
    filterAuditEvents: {
        name: '$filter',
        in: 'query',
        description:
            '`activityDateTime` compared with `ge`, `le`, `gt` or `lt` to a DateTimeOffset literal, the comparisons ' +
            'joined by `and`; any other filter is a 400.',
        style: 'form',
        explode: false,
        schema: { type: 'string' },
        example: 'activityDateTime ge 2026-12-01T00:00:00Z and activityDateTime lt 2026-12-02T00:00:00Z',
    },
    [AUDIT_EVENT_KEY]: {
        name: AUDIT_EVENT_KEY,
        in: 'path',
        required: true,
        description: 'The unique identifier of auditEvent, a GUID; any other value names no event (404).',
        schema: { type: 'string' },
        'x-ms-docs-key-type': 'auditEvent',
    },
    [SUBSCRIPTION_KEY]: {
        name: SUBSCRIPTION_KEY,
        in: 'path',
        required: true,
        description:
            'The unique identifier of subscription, a GUID the service assigns; any other value, and the ' +
            'subscription of another application, names no subscription (404).',
        schema: { type: 'string' },
        'x-ms-docs-key-type': 'subscription',
    },
    ifMatch: {
        name: 'If-Match',
        in: 'header',
        description:
            'An `ETag` from an earlier response (quotes optional), or `*` (the resource must exist): 412 when stale.',
        schema: { type: 'string' },
    },
    prefer: {
        name: 'Prefer',
        in: 'header',
        description: '`return=representation`: answer 200 with the updated entity instead of 204.',
        schema: { type: 'string', examples: ['return=representation'] },
    },
    idempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description:
            'Makes a create safe to retry: a retry with the same key and body gets the original 201 (with ' +
            '`Idempotent-Replayed: true`) and stores nothing new; the same key with another body is a 422.',
        schema: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH },
    },
    clientRequestId: {
        name: 'client-request-id',
        in: 'header',
        description: "The caller's own id for the request, echoed in the response and in error bodies.",
        schema: { type: 'string', maxLength: 256 },
    },
};

const headerObjects: Json = {
    'request-id': {
        description: 'A new GUID per request; it is logged server-side, quote it when reporting a problem.',
        schema: { type: 'string', format: 'uuid' },
    },
    'client-request-id': {
        description: "The request's own `client-request-id`, echoed; else the request-id.",
        schema: { type: 'string' },
    },
    'OData-Version': { schema: { type: 'string', const: '4.0' } },
    ETag: {
        description: "The resource's version: send it back in `If-Match`.",
        schema: { type: 'string' },
    },
    Location: { description: 'The absolute URL of the new entity.', schema: { type: 'string' } },
    'Content-Type': { description: 'The media type the payload was stored with.', schema: { type: 'string' } },
    'Retry-After': {
        description: 'Seconds to wait before retrying.',
        schema: { type: 'integer', minimum: 1, examples: [UNAVAILABLE_RETRY_AFTER_SECONDS] },
    },
    Allow: { description: 'The methods the resource supports.', schema: { type: 'string' } },
    'WWW-Authenticate': { description: 'The bearer challenge.', schema: { type: 'string' } },
    'Preference-Applied': { schema: { type: 'string', const: 'return=representation' } },
    'Idempotent-Replayed': {
        description: 'Present on the replay of an earlier create with the same `Idempotency-Key`.',
        schema: { type: 'string', const: 'true' },
    },
};

const errorResponse = (description: string, ...extraHeaders: string[]) => ({
    description,
    headers: headers(...extraHeaders),
    content: json(ref('schemas', ODATA_ERROR)),
});

const errorResponses = {
    BadRequest: [
        '400',
        errorResponse(
            '`BadRequest`: invalid JSON, a schema violation (one `details` entry each, its `target` naming the ' +
                'property), a bad path or query value, a `$skiptoken` or `$deltatoken` the service did not issue ' +
                'for this resource, or an unsupported query option (`$filter`, `$orderby`, `$search`, `$expand`, ' +
                '`$skip`, where the operation does not list them).',
        ),
    ],
    Unauthorized: [
        '401',
        errorResponse(
            '`InvalidAuthenticationToken`: no, malformed, expired or untrusted bearer token.',
            'WWW-Authenticate',
        ),
    ],
    Forbidden: ['403', errorResponse('`Authorization_RequestDenied`: a valid token without the permission.')],
    NotFound: [
        '404',
        errorResponse(
            '`ResourceNotFound`: no such configuration, no such assignment in this configuration, no such ' +
                'audit event, or no such subscription of the calling application.',
        ),
    ],
    MethodNotAllowed: ['405', errorResponse('`MethodNotAllowed`: a known path, another method.', 'Allow')],
    Conflict: [
        '409',
        errorResponse(
            '`Conflict`: another write raced this one (the set changed while an assign ran, the order changed while ' +
                'priorities were updated) or a limit is reached; nothing was changed.',
        ),
    ],
    Gone: [
        '410',
        errorResponse(
            '`SyncStateNotFound`: the token is older than the change log keeps (the retention, ' +
                `${DEFAULT_CHANGE_RETENTION_DAYS} days unless configured otherwise); start over with a request ` +
                'without a token.',
        ),
    ],
    PreconditionFailed: [
        '412',
        errorResponse('`PreconditionFailed`: `If-Match` does not match, or `If-None-Match: *` and it exists.'),
    ],
    UnprocessableEntity: [
        '422',
        errorResponse('`UnprocessableEntity`: the `Idempotency-Key` was already used for another request body.'),
    ],
    PayloadTooLarge: [
        '413',
        errorResponse(
            `\`RequestEntityTooLarge\`: a JSON body over ${MAX_BODY_BYTES} bytes (a configuration's create, ` +
                `which may carry both payloads inline, ${MAX_CREATE_CONFIGURATION_BODY_BYTES}), or a payload over ` +
                `${MAX_PAYLOAD_BYTES} bytes, declared or streamed.`,
        ),
    ],
    UnsupportedMediaType: ['415', errorResponse('`UnsupportedMediaType`: a body that is not `application/json`.')],
    TooManyRequests: [
        '429',
        errorResponse('`TooManyRequests`: storage still throttling after retries.', 'Retry-After'),
    ],
    InternalServerError: [
        '500',
        errorResponse('`InternalServerError`: logged server-side with the request-id; nothing internal in the body.'),
    ],
    ServiceUnavailable: [
        '503',
        errorResponse('`ServiceUnavailable`: storage unreachable or timing out.', 'Retry-After'),
    ],
} satisfies Record<string, [status: string, response: Json]>;

type ErrorName = keyof typeof errorResponses;

/** Every operation that reaches storage or checks a token can answer these. */
const ALWAYS: ErrorName[] = [
    'Unauthorized',
    'Forbidden',
    'TooManyRequests',
    'InternalServerError',
    'ServiceUnavailable',
];
const WITH_BODY: ErrorName[] = ['BadRequest', 'PayloadTooLarge', 'UnsupportedMediaType'];

function responses(success: Json, ...errors: ErrorName[]): Json {
    const all: [string, unknown][] = [
        ...Object.entries(success),
        ...[...errors, ...ALWAYS].map((name): [string, unknown] => [errorResponses[name][0], ref('responses', name)]),
    ];
    return Object.fromEntries(all.sort(([a], [b]) => a.localeCompare(b)));
}

const READ = [{ bearer: [DEFAULT_READ_PERMISSION] }, { bearer: [DEFAULT_WRITE_PERMISSION] }];
const WRITE = [{ bearer: [DEFAULT_WRITE_PERMISSION] }];
/** Graph tags operations by entity set and the type they reach. */
const TAG = 'officeConfiguration.officeClientConfiguration';
/** Graph's operation ids: `<entity set path>.<Verb><navigation property>`. */
const OPERATION_PREFIX = 'officeConfiguration.clientConfigurations';

/** A collection's page: `value` and, where there is more, `@odata.nextLink`. */
const pageResponse = (type: string, description: string) => ({
    description,
    headers: headers(),
    content: json(ref('schemas', collectionResponse(type))),
});

/** AutoRest's (and Kiota's) paging: follow `@odata.nextLink`. */
const PAGEABLE = { nextLinkName: '@odata.nextLink', operationName: 'listMore' };

const typedResponse = (type: string, description: string, ...extraHeaders: string[]) => ({
    description,
    headers: headers(...extraHeaders),
    content: json(ref('schemas', type)),
});
const entityResponse = (description: string, ...extraHeaders: string[]) =>
    typedResponse(ASSIGNMENT_TYPE, description, ...extraHeaders);

/** As Graph's: one entity schema for what is sent and what comes back. */
const typedBody = (type: string, description: string, examples: Json) => ({
    description,
    required: true,
    content: json(ref('schemas', type), { examples }),
});
const entityBody = (description: string, examples: Json) => typedBody(ASSIGNMENT_TYPE, description, examples);

const GROUP_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const baseTarget = { [ODATA_TYPE]: BASE_TARGET_TYPE };
const groupTarget = { [ODATA_TYPE]: `#${GROUP_TARGET_TYPE}`, groupId: GROUP_ID };

/** The `assign` action's parameters, inline as Graph's are, so generators name the body `AssignPostRequestBody`. */
function assignParameters(): Json {
    const defs = assignActionSchema.$defs as Readonly<Record<string, SourceSchema>>;
    return {
        type: 'object',
        ...(assignActionSchema.required.length > 0 ? { required: [...assignActionSchema.required] } : {}),
        properties: properties(assignActionSchema, defs, []),
    };
}

// A function, as every part of the document: built at load, it would cost each cold start an ICU collator
// (`responses` sorts with localeCompare) for a document few ask for.
const assignOperation = (): Json => ({
    tags: [TAG],
    summary: 'Invoke action assign',
    description:
        "Replaces the configuration's whole set of assignments in one transactional batch. Assignments whose " +
        'target is unchanged keep their id; two entries with the same target are a 400.',
    operationId: `${OPERATION_PREFIX}.officeClientConfiguration.assign`,
    security: WRITE,
    requestBody: {
        description: 'Action parameters',
        required: true,
        content: json(assignParameters(), {
            examples: { group: { value: { officeConfigurationAssignments: [{ target: groupTarget }] } } },
        }),
    },
    responses: responses(
        {
            '200': {
                description: 'The new set.',
                headers: headers(),
                content: json({
                    title: `Collection of ${shortName(ASSIGNMENT_TYPE)}`,
                    ...collectionOf(ASSIGNMENT_TYPE),
                }),
            },
        },
        'BadRequest',
        'NotFound',
        'Conflict',
        'PayloadTooLarge',
        'UnsupportedMediaType',
    ),
    'x-ms-docs-operation-type': 'action',
});

const serviceDocument = (operationId: string, summary: string, media: string, schema: Json) => ({
    get: {
        tags: ['service documents'],
        operationId,
        summary,
        security: [],
        responses: { '200': { description: summary, headers: headers(), content: { [media]: { schema } } } },
    },
});

const SINGLETON = '/officeConfiguration';
const CONFIGURATIONS = `${SINGLETON}/clientConfigurations`;
const CONFIGURATION = `${CONFIGURATIONS}/{${CONFIGURATION_KEY}}`;
const resourceParameters = [ref('parameters', CONFIGURATION_KEY), ref('parameters', 'clientRequestId')];

/**
 * One path per action, as Graph's OpenAPI has. Graph's (the one its SDKs are generated from) strips the
 * `microsoft.graph.` prefix from bound operations, so generators name the builder `assign` and its body
 * `AssignPostRequestBody`. The service also answers the qualified `.../microsoft.graph.assign`; docs/clients.md says so,
 * the document does not, so that generators make one builder.
 */
const ASSIGN_PATH = `${CONFIGURATION}/assign`;
/** The same for `updatePriorities`: the service also answers `.../microsoft.graph.updatePriorities`. */
const UPDATE_PRIORITIES_PATH = `${CONFIGURATIONS}/updatePriorities`;

/** Graph's operation ids for what hangs off the singleton: `<singleton>.<Verb><navigation property>`. */
const SINGLETON_PREFIX = 'officeConfiguration';
const SINGLETON_TAG = 'officeConfiguration.officeConfiguration';

const windowsConfiguration = {
    [ODATA_TYPE]: `#${CONFIGURATION_TYPES[0]}`,
    displayName: 'Office apps: update channel',
    description: 'Monthly Enterprise Channel for the finance department.',
};

/** The updatePriorities action's parameters, inline as Graph's are (`UpdatePrioritiesPostRequestBody`). */
function updatePrioritiesParameters(): Json {
    return {
        type: 'object',
        required: [...updatePrioritiesSchema.required],
        properties: properties(updatePrioritiesSchema, {}, []),
    };
}

/**
 * A stream property (Edm.Stream) as Graph's OpenAPI describes one: its own path, whose GET answers the bytes and
 * whose PUT replaces them, in any media type (the service keeps the type it was given and answers with it).
 */
function payloadPath(name: PayloadProperty): Json {
    const media = { '*/*': { schema: { type: 'string', format: 'binary' } } };
    const title = name[0]!.toUpperCase() + name.slice(1);
    return {
        description: 'Provides operations to manage the media for the officeConfiguration entity.',
        parameters: resourceParameters,
        get: {
            tags: [TAG],
            summary: `Get ${name} for the navigation property clientConfigurations from officeConfiguration`,
            description: 'The bytes as stored, with the media type they were stored with and their ETag.',
            operationId: `${SINGLETON_PREFIX}.GetClientConfigurations${title}`,
            security: READ,
            responses: responses(
                {
                    // The service answers 204 while the configuration has no such payload. Described as a response
                    // of its own, it makes Kiota generate a `get` that never returns the bytes (it then sends the
                    // request as one without content), so it is in words here; generated clients return undefined.
                    '200': {
                        description: 'Retrieved media content (204 and no content while there is none).',
                        headers: headers('ETag', 'Content-Type'),
                        content: media,
                    },
                },
                'BadRequest',
                'NotFound',
            ),
            'x-ms-docs-operation-type': 'operation',
        },
        put: {
            tags: [TAG],
            summary: `Update ${name} for the navigation property clientConfigurations in officeConfiguration`,
            description: `Replaces the bytes whole; at most ${MAX_PAYLOAD_BYTES} bytes, in any media type.`,
            operationId: `${SINGLETON_PREFIX}.UpdateClientConfigurations${title}`,
            security: WRITE,
            parameters: [ref('parameters', 'ifMatch')],
            requestBody: { description: 'New media content.', required: true, content: media },
            responses: responses(
                { '204': { description: 'Success', headers: headers('ETag') } },
                'BadRequest',
                'NotFound',
                'PreconditionFailed',
                'PayloadTooLarge',
            ),
            'x-ms-docs-operation-type': 'operation',
        },
    };
}

function configurationPaths(): Json {
    return {
        [SINGLETON]: {
            description: 'Provides operations to manage the officeConfiguration singleton.',
            parameters: [ref('parameters', 'clientRequestId')],
            get: {
                tags: [SINGLETON_TAG],
                summary: 'Get officeConfiguration',
                description: "The tenant's check-in statuses and summary (empty until check-ins are recorded).",
                operationId: `${SINGLETON_PREFIX}.officeConfiguration.GetOfficeConfiguration`,
                security: READ,
                parameters: [ref('parameters', 'selectOfficeConfiguration')],
                responses: responses(
                    { '200': typedResponse(OFFICE_CONFIGURATION_TYPE, 'The singleton.') },
                    'BadRequest',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        [CONFIGURATIONS]: {
            description:
                'Provides operations to manage the clientConfigurations property of the microsoft.graph.officeConfiguration entity.',
            parameters: [ref('parameters', 'clientRequestId')],
            get: {
                tags: [TAG],
                summary: 'List clientConfigurations',
                description: 'In priority order (1 first) unless `$orderby=priority desc`.',
                operationId: `${SINGLETON_PREFIX}.ListClientConfigurations`,
                security: READ,
                parameters: ['top', 'skiptoken', 'count', 'orderby', 'selectConfiguration'].map((p) =>
                    ref('parameters', p),
                ),
                responses: responses(
                    {
                        '200': pageResponse(CONFIGURATION_BASE_TYPE, 'A page of the collection.'),
                    },
                    'BadRequest',
                ),
                'x-ms-pageable': PAGEABLE,
                'x-ms-docs-operation-type': 'operation',
            },
            post: {
                tags: [TAG],
                summary: 'Create new navigation property to clientConfigurations for officeConfiguration',
                description:
                    '`@odata.type` names one of the concrete types; the abstract base is a 400. Without `priority` ' +
                    'the new configuration goes last; with one, those at and after it move down by one. The ' +
                    'payloads may come inline, base64-encoded.',
                operationId: `${SINGLETON_PREFIX}.CreateClientConfigurations`,
                security: WRITE,
                parameters: [ref('parameters', 'idempotencyKey')],
                requestBody: typedBody(CONFIGURATION_BASE_TYPE, 'New navigation property', {
                    windows: { summary: 'A Windows Office client configuration', value: windowsConfiguration },
                }),
                responses: responses(
                    {
                        '201': typedResponse(
                            CONFIGURATION_BASE_TYPE,
                            'Created navigation property.',
                            'ETag',
                            'Location',
                            'Idempotent-Replayed',
                        ),
                    },
                    ...WITH_BODY,
                    'Conflict',
                    'UnprocessableEntity',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        [CONFIGURATION]: {
            description:
                'Provides operations to manage the clientConfigurations property of the microsoft.graph.officeConfiguration entity.',
            parameters: resourceParameters,
            get: {
                tags: [TAG],
                summary: 'Get clientConfigurations from officeConfiguration',
                description:
                    'The payloads are not inline: `policyPayload@odata.mediaReadLink` and its siblings say where ' +
                    'they are, when they exist.',
                operationId: `${SINGLETON_PREFIX}.GetClientConfigurations`,
                security: READ,
                parameters: [ref('parameters', 'selectConfiguration')],
                responses: responses(
                    { '200': typedResponse(CONFIGURATION_BASE_TYPE, 'The configuration.', 'ETag') },
                    'BadRequest',
                    'NotFound',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
            patch: {
                tags: [TAG],
                summary: 'Update the navigation property clientConfigurations in officeConfiguration',
                description:
                    'Changes `displayName`, `description` and `priority` (the others move to keep the order ' +
                    'dense); the payloads change at their own paths, and the type never changes.',
                operationId: `${SINGLETON_PREFIX}.UpdateClientConfigurations`,
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch'), ref('parameters', 'prefer')],
                requestBody: typedBody(CONFIGURATION_BASE_TYPE, 'New navigation property values', {
                    rename: { value: { displayName: 'Office apps: current channel' } },
                }),
                responses: responses(
                    {
                        '200': typedResponse(
                            CONFIGURATION_BASE_TYPE,
                            'Updated; the request said `Prefer: return=representation`.',
                            'ETag',
                            'Preference-Applied',
                        ),
                        '204': { description: 'Updated.', headers: headers('ETag') },
                    },
                    ...WITH_BODY,
                    'NotFound',
                    'PreconditionFailed',
                    'Conflict',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
            delete: {
                tags: [TAG],
                summary: 'Delete navigation property clientConfigurations for officeConfiguration',
                description: 'Deletes the configuration and all its assignments; those after it move up by one.',
                operationId: `${SINGLETON_PREFIX}.DeleteClientConfigurations`,
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch')],
                responses: responses(
                    { '204': { description: 'Deleted.', headers: headers() } },
                    'BadRequest',
                    'NotFound',
                    'PreconditionFailed',
                    'Conflict',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        ...Object.fromEntries(PAYLOAD_PROPERTIES.map((name) => [`${CONFIGURATION}/${name}`, payloadPath(name)])),
        [UPDATE_PRIORITIES_PATH]: {
            description: 'Provides operations to call the updatePriorities method.',
            parameters: [ref('parameters', 'clientRequestId')],
            post: {
                tags: [TAG],
                summary: 'Invoke action updatePriorities',
                description:
                    'Moves each listed configuration to its new priority in one step, all or nothing: the arrays ' +
                    'pair ids with priorities, every id must exist, and the others keep their relative order ' +
                    'around them, so priorities stay 1..N with no two alike.',
                operationId: `${SINGLETON_PREFIX}.clientConfigurations.updatePriorities`,
                security: WRITE,
                requestBody: {
                    description: 'Action parameters',
                    required: true,
                    content: json(updatePrioritiesParameters(), {
                        examples: {
                            swap: {
                                value: {
                                    officeConfigurationPolicyIds: [
                                        '0f8fad5b-d9cb-469f-a165-70867728950e',
                                        '7c9e6679-7425-40de-944b-e07fc1f90ae7',
                                    ],
                                    officeConfigurationPriorities: [2, 1],
                                },
                            },
                        },
                    }),
                },
                responses: responses(
                    { '204': { description: 'Success', headers: headers() } },
                    ...WITH_BODY,
                    'NotFound',
                    'Conflict',
                ),
                'x-ms-docs-operation-type': 'action',
            },
        },
    };
}

function paths(): Json {
    return {
        ...configurationPaths(),
        [`${CONFIGURATION}/assignments`]: {
            description:
                'Provides operations to manage the assignments property of the microsoft.graph.officeClientConfiguration entity.',
            parameters: resourceParameters,
            get: {
                tags: [TAG],
                summary: 'List officeClientConfigurationAssignments',
                operationId: `${OPERATION_PREFIX}.ListAssignments`,
                security: READ,
                parameters: ['top', 'skiptoken', 'count', 'select'].map((p) => ref('parameters', p)),
                responses: responses(
                    {
                        '200': pageResponse(ASSIGNMENT_TYPE, 'A page of the collection.'),
                    },
                    'BadRequest',
                    'NotFound',
                ),
                'x-ms-pageable': PAGEABLE,
                'x-ms-docs-operation-type': 'operation',
            },
            post: {
                tags: [TAG],
                summary: 'Create officeClientConfigurationAssignment',
                operationId: `${OPERATION_PREFIX}.CreateAssignments`,
                security: WRITE,
                parameters: [ref('parameters', 'idempotencyKey')],
                requestBody: entityBody('New navigation property', {
                    seed: {
                        summary: "The Graph documentation's example",
                        value: { [ODATA_TYPE]: `#${ASSIGNMENT_TYPE}`, target: baseTarget },
                    },
                    group: { summary: 'A group target', value: { target: groupTarget } },
                }),
                responses: responses(
                    {
                        '201': entityResponse(
                            'Created navigation property.',
                            'ETag',
                            'Location',
                            'Idempotent-Replayed',
                        ),
                    },
                    ...WITH_BODY,
                    'NotFound',
                    'UnprocessableEntity',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        [`${CONFIGURATION}/assignments/{${ASSIGNMENT_KEY}}`]: {
            description:
                'Provides operations to manage the assignments property of the microsoft.graph.officeClientConfiguration entity.',
            parameters: [...resourceParameters, ref('parameters', ASSIGNMENT_KEY)],
            get: {
                tags: [TAG],
                summary: 'Get officeClientConfigurationAssignment',
                operationId: `${OPERATION_PREFIX}.GetAssignments`,
                security: READ,
                parameters: [ref('parameters', 'select')],
                responses: responses({ '200': entityResponse('The assignment.', 'ETag') }, 'BadRequest', 'NotFound'),
                'x-ms-docs-operation-type': 'operation',
            },
            patch: {
                tags: [TAG],
                summary: 'Update officeClientConfigurationAssignment',
                description: "Replaces `target` whole; an `id` in the body must equal the path's.",
                operationId: `${OPERATION_PREFIX}.UpdateAssignments`,
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch'), ref('parameters', 'prefer')],
                requestBody: entityBody('New navigation property values', {
                    group: { value: { target: groupTarget } },
                }),
                responses: responses(
                    {
                        '200': entityResponse(
                            'Updated; the request said `Prefer: return=representation`.',
                            'ETag',
                            'Preference-Applied',
                        ),
                        '204': { description: 'Updated.', headers: headers('ETag') },
                    },
                    ...WITH_BODY,
                    'NotFound',
                    'PreconditionFailed',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
            delete: {
                tags: [TAG],
                summary: 'Delete officeClientConfigurationAssignment',
                operationId: `${OPERATION_PREFIX}.DeleteAssignments`,
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch')],
                responses: responses(
                    { '204': { description: 'Deleted.', headers: headers() } },
                    'BadRequest',
                    'NotFound',
                    'PreconditionFailed',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        [ASSIGN_PATH]: {
            description: 'Provides operations to call the assign method.',
            parameters: resourceParameters,
            post: assignOperation(),
        },
        ...deltaPaths(),
        ...auditPaths(),
        ...subscriptionPaths(),
        '/$metadata': serviceDocument('getMetadata', 'The CSDL of the types this service exposes.', 'application/xml', {
            type: 'string',
        }),
        '/openapi.json': serviceDocument('getOpenApi', 'This OpenAPI description.', JSON_MEDIA, { type: 'object' }),
    };
}

/**
 * A delta function's page, as Graph's OpenAPI writes one (generators name it `DeltaGetResponse`): the items, and
 * either `@odata.nextLink` or `@odata.deltaLink`. A removed item comes as `{"id", "@removed": {"reason": "deleted"}}`
 * in the same array, as Graph sends it; generated clients keep `@removed` in its additional data.
 */
const deltaResponse = (type: string) => ({
    description: 'A page of the round.',
    headers: {
        ...headers(),
        'Preference-Applied': {
            description: 'The page size applied, when the request said `Prefer: odata.maxpagesize`.',
            schema: { type: 'string', pattern: '^odata\\.maxpagesize=\\d+$' },
        },
    },
    content: json({
        title: `Collection of ${shortName(type)}`,
        type: 'object',
        allOf: [
            schemaRef(BASE_DELTA),
            { type: 'object', properties: { value: { type: 'array', items: schemaRef(type) } } },
        ],
    }),
});

const DELTA_DESCRIPTION =
    'Delta query. A request without a token starts a round that pages the current state; its pages carry ' +
    '`@odata.nextLink` until the last, which carries `@odata.deltaLink`. Requesting the deltaLink later answers ' +
    "what changed since, each changed item whole (or narrowed by the round's `$select`), each removed one as " +
    '`{"id": …, "@removed": {"reason": "deleted"}}`, and ends on a new deltaLink. Tokens are opaque and signed.';

/**
 * One path per delta function, as Graph's OpenAPI has, so generators make one `delta` builder. The service also
 * answers the qualified `.../microsoft.graph.delta()`; docs/clients.md says so, the document does not.
 */
function deltaPaths(): Json {
    const operation = (operationId: string, select: string, errors: ErrorName[], type: string) => ({
        tags: [TAG],
        summary: 'Invoke function delta',
        description: DELTA_DESCRIPTION,
        operationId,
        security: READ,
        parameters: [select, 'skiptoken', 'deltatoken', 'preferPageSize'].map((p) => ref('parameters', p)),
        responses: responses({ '200': deltaResponse(type) }, 'BadRequest', ...errors, 'Gone'),
        'x-ms-docs-operation-type': 'function',
        'x-ms-pageable': PAGEABLE,
    });
    const description =
        'Provides operations to call the delta method (also answered at `.../microsoft.graph.delta()`).';
    return {
        [`${CONFIGURATIONS}/delta`]: {
            description,
            parameters: [ref('parameters', 'clientRequestId')],
            get: operation(`${OPERATION_PREFIX}.delta`, 'selectConfiguration', [], CONFIGURATION_BASE_TYPE),
        },
        [`${CONFIGURATION}/assignments/delta`]: {
            description,
            parameters: resourceParameters,
            get: operation(
                `${OPERATION_PREFIX}.officeClientConfiguration.assignments.delta`,
                'select',
                ['NotFound'],
                ASSIGNMENT_TYPE,
            ),
        },
    };
}

const AUDIT_TAG = 'officeConfiguration.auditEvent';

function auditPaths(): Json {
    const description = `Provides operations to read the audit trail. ${EXTENSION_NOTE}`;
    return {
        [`/${AUDIT_EVENTS_PATH}`]: {
            description,
            parameters: [ref('parameters', 'clientRequestId')],
            get: {
                tags: [AUDIT_TAG],
                summary: 'List auditEvents',
                description:
                    'Every acknowledged write, newest first, kept as long as the change log keeps its records ' +
                    `(${DEFAULT_CHANGE_RETENTION_DAYS} days unless configured otherwise). ${EXTENSION_NOTE}`,
                operationId: `${SINGLETON_PREFIX}.ListAuditEvents`,
                security: READ,
                parameters: ['topAuditEvents', 'skiptoken', 'filterAuditEvents'].map((p) => ref('parameters', p)),
                responses: responses(
                    {
                        '200': pageResponse(AUDIT_EVENT, 'A page of the trail.'),
                    },
                    'BadRequest',
                ),
                'x-ms-pageable': PAGEABLE,
                'x-ms-docs-operation-type': 'operation',
                ...EXTENSION,
            },
        },
        [`/${AUDIT_EVENTS_PATH}/{${AUDIT_EVENT_KEY}}`]: {
            description,
            parameters: [ref('parameters', AUDIT_EVENT_KEY), ref('parameters', 'clientRequestId')],
            get: {
                tags: [AUDIT_TAG],
                summary: 'Get auditEvent',
                description: EXTENSION_NOTE,
                operationId: `${SINGLETON_PREFIX}.GetAuditEvents`,
                security: READ,
                responses: responses({ '200': typedResponse(AUDIT_EVENT, 'The event.') }, 'BadRequest', 'NotFound'),
                'x-ms-docs-operation-type': 'operation',
                ...EXTENSION,
            },
        },
    };
}

/** Graph's tag and operation ids for its `subscriptions` entity set. */
const SUBSCRIPTION_TAG = 'subscriptions.subscription';

function subscriptionPaths(): Json {
    const subscription = {
        changeType: 'created,updated,deleted',
        notificationUrl: 'https://receiver.example.com/notifications',
        lifecycleNotificationUrl: 'https://receiver.example.com/lifecycle',
        resource: 'officeConfiguration/clientConfigurations',
        expirationDateTime: '2026-12-04T12:00:00Z',
        clientState: 'secret-client-state',
    };
    return {
        [`/${SUBSCRIPTIONS_PATH}`]: {
            description: 'Provides operations to manage the collection of subscription entities.',
            parameters: [ref('parameters', 'clientRequestId')],
            get: {
                tags: [SUBSCRIPTION_TAG],
                summary: 'List subscriptions',
                description: "The calling application's subscriptions, all on one page.",
                operationId: 'subscriptions.subscription.ListSubscription',
                security: READ,
                responses: responses({
                    '200': pageResponse(SUBSCRIPTION_TYPE, 'The collection.'),
                }),
                'x-ms-docs-operation-type': 'operation',
            },
            post: {
                tags: [SUBSCRIPTION_TAG],
                summary: 'Create subscription',
                description:
                    '`resource` is `officeConfiguration/clientConfigurations` or ' +
                    '`officeConfiguration/clientConfigurations/{id}/assignments`. Before anything is created, the ' +
                    'notificationUrl (and the lifecycleNotificationUrl, when given) must answer the validation ' +
                    'handshake: a POST with `?validationToken=…`, answered within 10 seconds with 200, `text/plain` and ' +
                    'the token as the body. The URLs must be https (plain http only to a loopback address, locally) ' +
                    `and reach public addresses. A tenant holds at most ${MAX_SUBSCRIPTIONS} subscriptions. Needs ` +
                    'only the read permission, as in Graph.',
                operationId: 'subscriptions.subscription.CreateSubscription',
                security: READ,
                requestBody: typedBody(SUBSCRIPTION_TYPE, 'New entity', {
                    configurations: { summary: 'Every change of the client configurations', value: subscription },
                }),
                responses: responses(
                    { '201': typedResponse(SUBSCRIPTION_TYPE, 'Created entity.', 'Location') },
                    ...WITH_BODY,
                    'NotFound',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
        },
        [`/${SUBSCRIPTIONS_PATH}/{${SUBSCRIPTION_KEY}}`]: {
            description: 'Provides operations to manage the collection of subscription entities.',
            parameters: [ref('parameters', SUBSCRIPTION_KEY), ref('parameters', 'clientRequestId')],
            get: {
                tags: [SUBSCRIPTION_TAG],
                summary: 'Get subscription',
                operationId: 'subscriptions.subscription.GetSubscription',
                security: READ,
                responses: responses({ '200': typedResponse(SUBSCRIPTION_TYPE, 'The subscription.') }, 'NotFound'),
                'x-ms-docs-operation-type': 'operation',
            },
            patch: {
                tags: [SUBSCRIPTION_TAG],
                summary: 'Update subscription',
                description:
                    `Renews it: \`expirationDateTime\`, at most ${MAX_SUBSCRIPTION_MINUTES} minutes ahead, is the ` +
                    'one property a PATCH may send. An expired subscription has ended and cannot be renewed (404).',
                operationId: 'subscriptions.subscription.UpdateSubscription',
                security: READ,
                requestBody: typedBody(SUBSCRIPTION_TYPE, 'New property values', {
                    renew: { value: { expirationDateTime: subscription.expirationDateTime } },
                }),
                responses: responses(
                    { '200': typedResponse(SUBSCRIPTION_TYPE, 'The renewed subscription.') },
                    ...WITH_BODY,
                    'NotFound',
                ),
                'x-ms-docs-operation-type': 'operation',
            },
            delete: {
                tags: [SUBSCRIPTION_TAG],
                summary: 'Delete subscription',
                description: 'Once answered, no notification of it reaches its receivers.',
                operationId: 'subscriptions.subscription.DeleteSubscription',
                security: READ,
                responses: responses({ '204': { description: 'Deleted.', headers: headers() } }, 'NotFound'),
                'x-ms-docs-operation-type': 'operation',
            },
        },
    };
}

/**
 * JSON batching, described as Graph's SDKs see it (BatchRequestContent, BatchRequestStep, BatchResponseContent).
 * Each step's `body` and each answer's `body` is whatever the addressed operation takes or returns, so it is any
 * JSON value here; the steps themselves are described by their own paths.
 */
const BATCH_REQUEST = `${NAMESPACE}.batchRequestContent`;
const BATCH_REQUEST_STEP = `${NAMESPACE}.batchRequestStep`;
const BATCH_RESPONSE = `${NAMESPACE}.batchResponseContent`;
const BATCH_RESPONSE_ITEM = `${NAMESPACE}.batchResponseItem`;

const stringMap = (description: string) => ({
    description,
    type: 'object',
    additionalProperties: { type: 'string' },
});

const batchSchemas: Json = {
    [BATCH_REQUEST]: {
        required: ['requests'],
        type: 'object',
        properties: {
            requests: {
                type: 'array',
                minItems: 1,
                maxItems: MAX_BATCH_REQUESTS,
                items: schemaRef(BATCH_REQUEST_STEP),
            },
        },
    },
    [BATCH_REQUEST_STEP]: {
        required: ['id', 'method', 'url'],
        type: 'object',
        properties: {
            id: { type: 'string', description: 'Unique in the batch, compared without regard to case.' },
            method: { type: 'string', examples: ['GET', 'POST', 'PATCH', 'DELETE'] },
            url: {
                type: 'string',
                description:
                    'Relative to the service root, without `/beta`: `/officeConfiguration/clientConfigurations/{id}/assignments`.',
            },
            headers: stringMap(
                '`Content-Type` with a body; `If-Match`, `Prefer`, `Idempotency-Key`, `client-request-id` as for a ' +
                    'single request. `Authorization` is refused: the batch token applies to every step.',
            ),
            body: { description: 'The JSON body of the step.' },
            dependsOn: {
                type: 'array',
                items: { type: 'string' },
                description: 'Ids that must succeed (2xx) first; otherwise this step is a 424 and does not run.',
            },
        },
    },
    [BATCH_RESPONSE]: {
        required: ['responses'],
        type: 'object',
        properties: { responses: { type: 'array', items: schemaRef(BATCH_RESPONSE_ITEM) } },
    },
    [BATCH_RESPONSE_ITEM]: {
        required: ['id', 'status', 'headers'],
        type: 'object',
        properties: {
            id: { type: 'string' },
            status: { type: 'integer', format: 'int32', examples: [201, 424] },
            headers: stringMap('The headers the step would have had alone, its own `request-id` among them.'),
            body: { description: 'The JSON body of the answer; any other media type base64-encoded.' },
        },
    },
};

const batchResponses: Json = {
    BatchTooLarge: errorResponse(`\`RequestEntityTooLarge\`: a batch body over ${MAX_BATCH_BODY_BYTES} bytes.`),
};

function batchPaths(): Json {
    const error = (name: string) => ref('responses', name);
    return {
        '/$batch': {
            description: 'JSON batching: up to 20 requests in one, each answered as if sent alone.',
            post: {
                tags: ['batch'],
                summary: 'Send a JSON batch',
                description:
                    `At most ${MAX_BATCH_REQUESTS} steps, ${BATCH_CONCURRENCY} at a time, in \`dependsOn\` order; ` +
                    'no atomicity across steps. A malformed batch (too many steps, duplicate ids, an unknown or ' +
                    'cyclic dependency, a nested `$batch`) is a 400 and runs nothing; what fails in a step is ' +
                    "that step's status in a 200. The token needs either permission; each step is authorised by " +
                    'it as if sent alone.',
                operationId: 'batch.post',
                security: READ,
                requestBody: {
                    required: true,
                    content: json(ref('schemas', BATCH_REQUEST), {
                        examples: {
                            createThenList: {
                                value: {
                                    requests: [
                                        {
                                            id: '1',
                                            method: 'POST',
                                            url: '/officeConfiguration/clientConfigurations/cfg-1/assignments',
                                            headers: { 'Content-Type': JSON_MEDIA },
                                            body: { target: groupTarget },
                                        },
                                        {
                                            id: '2',
                                            method: 'GET',
                                            url: '/officeConfiguration/clientConfigurations/cfg-1/assignments',
                                            dependsOn: ['1'],
                                        },
                                    ],
                                },
                            },
                        },
                    }),
                },
                responses: {
                    '200': {
                        description: "Every step's answer, in request order.",
                        headers: headers(),
                        content: json(ref('schemas', BATCH_RESPONSE)),
                    },
                    '400': error('BadRequest'),
                    '401': error('Unauthorized'),
                    '403': error('Forbidden'),
                    '405': error('MethodNotAllowed'),
                    '413': error('BatchTooLarge'),
                    '415': error('UnsupportedMediaType'),
                    '500': error('InternalServerError'),
                },
                'x-ms-docs-operation-type': 'operation',
            },
        },
    };
}

export function openApiDocument(): Json {
    return {
        openapi: '3.1.1',
        jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
        info: {
            title: 'Office client configurations and their assignments (Microsoft Graph beta)',
            version: 'beta',
            description:
                'The Microsoft Graph beta officeConfiguration API (client configurations, their payloads, priorities ' +
                'and assignments, with delta query on both collections and change notifications through ' +
                '`/subscriptions`), served by an Azure Functions app ' +
                'over Cosmos DB. JSON responses are `' +
                ODATA_JSON +
                '`. Every response carries `request-id`, `client-request-id` and `OData-Version`; another method on ' +
                'a known path is a 405 with `Allow`, and an unknown path under the service root a 400, both with ' +
                "the Graph error body. `/officeConfiguration/auditEvents` is the service's own extension, not " +
                "Microsoft Graph's: its types are `officeConfigurationService.*` in $metadata, " +
                '`microsoft.graph.officeConfigurationService.*` here, and marked ' +
                '`x-service-extension`.',
            license: { name: 'MIT', identifier: 'MIT' },
        },
        // Relative to where the document is served (/beta/openapi.json), so it is right on every host. A generated
        // client starts from it: give its request adapter the absolute root (`https://<host>/beta`).
        servers: [{ url: '/beta', description: 'The service root: `https://<function app host>/beta` in Azure.' }],
        tags: [
            { name: SINGLETON_TAG, description: 'The officeConfiguration singleton.', 'x-ms-docs-toc-type': 'page' },
            {
                name: TAG,
                description: 'Client configurations, their payloads, priorities and assignments.',
                'x-ms-docs-toc-type': 'page',
            },
            {
                name: AUDIT_TAG,
                description: `The audit trail of every acknowledged write. ${EXTENSION_NOTE}`,
                'x-ms-docs-toc-type': 'page',
                ...EXTENSION,
            },
            {
                name: SUBSCRIPTION_TAG,
                description: 'Change notifications: subscriptions to the client configurations or their assignments.',
                'x-ms-docs-toc-type': 'page',
            },
            { name: 'service documents', description: 'Served without a token.' },
        ],
        security: READ,
        paths: { ...paths(), ...batchPaths() },
        components: {
            schemas: { ...componentSchemas(), ...batchSchemas },
            parameters,
            headers: headerObjects,
            responses: {
                ...Object.fromEntries(Object.entries(errorResponses).map(([name, [, response]]) => [name, response])),
                ...batchResponses,
            },
            securitySchemes: {
                bearer: {
                    type: 'http',
                    scheme: 'bearer',
                    bearerFormat: 'JWT',
                    description:
                        'A Microsoft Entra ID access token for this API, e.g. from the client-credentials flow with ' +
                        'scope `api://<app id uri>/.default`. An application token carries the permission as an app ' +
                        'role, a delegated token as a scope. The names are the defaults of `AUTH_READ_PERMISSION` ' +
                        'and `AUTH_WRITE_PERMISSION`. Run locally without auth settings, the service needs no token.',
                },
            },
        },
    };
}

/** The document as written to dist/openapi.json and served, byte for byte. */
export function openApiJson(): string {
    return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
