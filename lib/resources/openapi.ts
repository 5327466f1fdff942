/**
 * The OpenAPI 3.1 description of the service, laid out as Microsoft Graph's own OpenAPI is, so that the generators
 * Microsoft builds the Graph SDKs with (Kiota) make the same client here: schemas named `microsoft.graph.<type>`,
 * derived types as `allOf` of their base, a `discriminator` on `@odata.type` with a `mapping` on every base type,
 * one entity schema for request and response bodies, the action's parameters as an inline request body, Graph's
 * `microsoft.graph.ODataErrors.ODataError`, and one path for each action.
 *
 * The types are derived from the JSON Schemas of lib/schema (names, properties, descriptions, what is required),
 * and limits come from the constants the code enforces, so the contract cannot drift from what the service accepts.
 * The keywords differ on purpose: ajv validates a `oneOf` of closed schemas, generators want class hierarchies.
 * scripts/build-openapi writes `openApiJson()` to dist/openapi.json; lib/metadata serves the same text.
 */
import { ODATA_JSON } from '../graph/odata.js';
import { DEFAULT_TOP, MAX_TOP, SELECTABLE } from '../graph/queryOptions.js';
import {
    assignActionSchema,
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    createAssignmentSchema,
    GROUP_TARGET_TYPE,
    GUID_PATTERN,
    NAMESPACE,
} from '../graph/schema.js';
import { MAX_BODY_BYTES } from '../http/body.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../http/pipeline.js';
import { DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from '../platform/config.js';
import { MAX_KEY_LENGTH } from '../store/idempotency.js';
import { MAX_CONFIGURATION_ID_LENGTH } from './assignments.js';

type Json = Record<string, unknown>;

/** The subset of JSON Schema that lib/schema uses. */
interface SourceSchema {
    title?: string;
    description?: string;
    type?: string;
    format?: string;
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

const ODATA_TYPE = '@odata.type';
const SCHEMAS = '#/components/schemas/';
const DEFS = '#/$defs/';

/** Graph's base of every entity type: where `id` lives. */
const ENTITY_TYPE = `${NAMESPACE}.entity`;
/** Graph's own name for the part every collection page shares (`@odata.count`, `@odata.nextLink`). */
const BASE_COLLECTION = 'BaseCollectionPaginationCountResponse';
const ODATA_ERROR = `${NAMESPACE}.ODataErrors.ODataError`;
const MAIN_ERROR = `${NAMESPACE}.ODataErrors.MainError`;
const ERROR_DETAILS = `${NAMESPACE}.ODataErrors.ErrorDetails`;
const INNER_ERROR = `${NAMESPACE}.ODataErrors.InnerError`;
const COLLECTION_RESPONSE = `${ASSIGNMENT_TYPE}CollectionResponse`;

const shortName = (qualified: string) => qualified.slice(NAMESPACE.length + 1);
const schemaRef = (name: string) => ({ $ref: `${SCHEMAS}${name}` });

/**
 * Both spellings of a type name map to the derived schema: Graph writes `#microsoft.graph.x`, and this service echoes
 * a target's `@odata.type` as the client sent it, with or without `#`.
 */
const discriminatorKeys = (type: string) => [`#${type}`, type];

interface GraphType {
    name: string;
    base?: string;
    description?: string;
    required: string[];
    properties: Record<string, Json>;
}

/**
 * One JSON Schema property as Graph publishes it: `$defs` references become component references by the target's
 * OData type, an inline typed object (an assignment inside the action's set) becomes a reference to its type, and a
 * GUID is a string with a pattern rather than `format: uuid`, which generators turn into a GUID type Graph's SDKs
 * never use for these properties.
 */
function property(schema: SourceSchema, defs: Readonly<Record<string, SourceSchema>>): Json {
    const { description } = schema;
    const described = description === undefined ? {} : { description };
    if (schema.$ref?.startsWith(DEFS)) {
        const target = defs[schema.$ref.slice(DEFS.length)]?.title;
        if (target === undefined) {
            throw new Error(`lib/schema: ${schema.$ref} names no titled definition`);
        }
        return { ...schemaRef(target), ...described };
    }
    if (schema.type === 'object' && schema.title !== undefined) {
        return { ...schemaRef(schema.title), ...described };
    }
    if (schema.type === 'array' && schema.items) {
        return {
            type: 'array',
            items: property(schema.items, defs),
            ...(schema.maxItems === undefined ? {} : { maxItems: schema.maxItems }),
            ...described,
        };
    }
    if (schema.type === 'string' && schema.format === 'uuid') {
        return { type: 'string', pattern: GUID_PATTERN, ...described };
    }
    return { type: schema.type ?? 'string', ...described };
}

function properties(schema: SourceSchema, defs: Readonly<Record<string, SourceSchema>>, omit: string[]) {
    return Object.fromEntries(
        Object.entries(schema.properties ?? {})
            .filter(([name]) => !omit.includes(name))
            .map(([name, child]) => [name, property(child, defs)]),
    );
}

/**
 * The OData types lib/schema describes. An entity type (one with `id`) derives from microsoft.graph.entity, which
 * takes `id`. A polymorphic definition (`oneOf` under a `discriminator`) is its base type, titled like the definition,
 * and the other branches derive from it with only the properties they add.
 */
function graphTypes(): GraphType[] {
    const defs = createAssignmentSchema.$defs as Readonly<Record<string, SourceSchema>>;
    const types: GraphType[] = [];
    // The entity types; the configuration types join here when lib/schema has them.
    const entities: SourceSchema[] = [createAssignmentSchema];
    for (const entity of entities) {
        types.push({
            name: entity.title!,
            base: ENTITY_TYPE,
            ...(entity.description === undefined ? {} : { description: entity.description }),
            // Nothing is required of an entity here: a PATCH sends only what changes, `$select` returns a part.
            required: [],
            properties: properties(entity, defs, ['id', ODATA_TYPE]),
        });
    }
    for (const definition of Object.values(defs)) {
        const branches = definition.discriminator ? (definition.oneOf ?? []) : [definition];
        const base = branches.find((branch) => branch.title === definition.title);
        if (!base) {
            throw new Error(`lib/schema: ${definition.title} has no branch of its own type`);
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
 * lib/schema requires it (the targets) and where a discriminator needs it (the bases), not on the assignment, whose
 * create and update bodies may leave it out. A derived type's `@odata.type` defaults to its own name.
 */
function typeSchema(type: GraphType, derived: GraphType[]): Json {
    const isBase = type.base === undefined;
    const body: Json = {
        title: shortName(type.name),
        ...(type.required.length > 0 ? { required: type.required } : {}),
        type: 'object',
        properties: {
            ...type.properties,
            [ODATA_TYPE]: isBase ? { type: 'string' } : { type: 'string', default: `#${type.name}` },
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
                derivedFrom(ENTITY_TYPE).map((type) => [`#${type.name}`, `${SCHEMAS}${type.name}`]),
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
    [COLLECTION_RESPONSE]: {
        title: `Collection of ${shortName(ASSIGNMENT_TYPE)}`,
        type: 'object',
        allOf: [schemaRef(BASE_COLLECTION), collectionOf(ASSIGNMENT_TYPE)],
    },
    ...errorSchemas,
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

const parameters: Json = {
    [CONFIGURATION_KEY]: {
        name: CONFIGURATION_KEY,
        in: 'path',
        required: true,
        description:
            'The unique identifier of officeClientConfiguration (the partition key): 1 to 128 characters after one ' +
            'URL-decoding, without `/`, `\\`, `?`, `#` or control characters and without leading or trailing white ' +
            'space. Any such id is accepted: the parent configuration is not stored by this service.',
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
    select: {
        name: '$select',
        in: 'query',
        description: 'Select properties to be returned; `@odata.type` always comes back.',
        style: 'form',
        explode: false,
        schema: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...SELECTABLE] } },
    },
    ifMatch: {
        name: 'If-Match',
        in: 'header',
        description:
            'An `ETag` from an earlier response (quotes optional), or `*` (the assignment must exist): 412 when stale.',
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
        description: "The assignment's version: send it back in `If-Match`.",
        schema: { type: 'string' },
    },
    Location: { description: 'The absolute URL of the new assignment.', schema: { type: 'string' } },
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
                'property), a bad path or query value, or an unsupported query option (`$filter`, `$orderby`, ' +
                '`$search`, `$expand`, `$skip`).',
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
    NotFound: ['404', errorResponse('`ResourceNotFound`: no such assignment in this configuration.')],
    MethodNotAllowed: ['405', errorResponse('`MethodNotAllowed`: a known path, another method.', 'Allow')],
    Conflict: ['409', errorResponse('`Conflict`: the set changed while the assign ran; nothing was changed.')],
    PreconditionFailed: ['412', errorResponse('`PreconditionFailed`: `If-Match` does not match.')],
    UnprocessableEntity: [
        '422',
        errorResponse('`UnprocessableEntity`: the `Idempotency-Key` was already used for another request body.'),
    ],
    PayloadTooLarge: [
        '413',
        errorResponse(`\`RequestEntityTooLarge\`: a body over ${MAX_BODY_BYTES} bytes, declared or streamed.`),
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

const entityResponse = (description: string, ...extraHeaders: string[]) => ({
    description,
    headers: headers(...extraHeaders),
    content: json(ref('schemas', ASSIGNMENT_TYPE)),
});

/** As Graph's: one entity schema for what is sent and what comes back. */
const entityBody = (description: string, examples: Json) => ({
    description,
    required: true,
    content: json(ref('schemas', ASSIGNMENT_TYPE), { examples }),
});

const GROUP_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const baseTarget = { [ODATA_TYPE]: BASE_TARGET_TYPE };
const groupTarget = { [ODATA_TYPE]: `#${GROUP_TARGET_TYPE}`, groupId: GROUP_ID };

/** The `assign` action's parameters, inline as Graph's are, so generators name the body `AssignPostRequestBody`. */
function assignParameters(): Json {
    const defs = assignActionSchema.$defs as Readonly<Record<string, SourceSchema>>;
    return {
        type: 'object',
        ...(assignActionSchema.required.length > 0 ? { required: [...assignActionSchema.required] } : {}),
        properties: properties(assignActionSchema as SourceSchema, defs, []),
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

const CONFIGURATION = `/officeConfiguration/clientConfigurations/{${CONFIGURATION_KEY}}`;
const resourceParameters = [ref('parameters', CONFIGURATION_KEY), ref('parameters', 'clientRequestId')];

/**
 * One path per action, as Graph's OpenAPI has. Graph's (the one its SDKs are generated from) strips the
 * `microsoft.graph.` prefix from bound operations, so generators name the builder `assign` and its body
 * `AssignPostRequestBody`. The service also answers the qualified `.../microsoft.graph.assign`; the README says so,
 * the document does not, so that generators make one builder.
 */
const ASSIGN_PATH = `${CONFIGURATION}/assign`;

function paths(): Json {
    return {
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
                        '200': {
                            description: 'A page of the collection.',
                            headers: headers(),
                            content: json(ref('schemas', COLLECTION_RESPONSE)),
                        },
                    },
                    'BadRequest',
                ),
                'x-ms-pageable': { nextLinkName: '@odata.nextLink', operationName: 'listMore' },
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
        '/$metadata': serviceDocument('getMetadata', 'The CSDL of the types this service exposes.', 'application/xml', {
            type: 'string',
        }),
        '/openapi.json': serviceDocument('getOpenApi', 'This OpenAPI description.', JSON_MEDIA, { type: 'object' }),
    };
}

export function openApiDocument(): Json {
    return {
        openapi: '3.1.1',
        jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
        info: {
            title: 'Office client configuration assignments (Microsoft Graph beta)',
            version: 'beta',
            description:
                'The Microsoft Graph beta officeClientConfigurationAssignment API, served by an Azure Functions app ' +
                'over Cosmos DB. JSON responses are `' +
                ODATA_JSON +
                '`. Every response carries `request-id`, `client-request-id` and `OData-Version`; another method on ' +
                'a known path is a 405 with `Allow`, and an unknown path under the service root a 400, both with ' +
                'the Graph error body.',
            license: { name: 'MIT', identifier: 'MIT' },
        },
        // Relative to where the document is served (/beta/openapi.json), so it is right on every host. A generated
        // client starts from it: give its request adapter the absolute root (`https://<host>/beta`).
        servers: [{ url: '/beta', description: 'The service root: `https://<function app host>/beta` in Azure.' }],
        tags: [
            { name: TAG, description: 'Assignments of an officeClientConfiguration.', 'x-ms-docs-toc-type': 'page' },
            { name: 'service documents', description: 'Served without a token.' },
        ],
        security: READ,
        paths: paths(),
        components: {
            schemas: componentSchemas(),
            parameters,
            headers: headerObjects,
            responses: Object.fromEntries(
                Object.entries(errorResponses).map(([name, [, response]]) => [name, response]),
            ),
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
