/**
 * The OpenAPI 3.1 description of the service. Request bodies are the JSON Schemas of lib/schema themselves (only
 * their `$defs` moved to `components/schemas`), and limits come from the constants the code enforces, so the
 * published contract cannot drift from what the service accepts. scripts/build-openapi writes the text of
 * `openApiJson()` to dist/openapi.json; lib/metadata serves the same text at /beta/openapi.json.
 */
import { MAX_CONFIGURATION_ID_LENGTH } from './assignments.js';
import { MAX_BODY_BYTES } from './body.js';
import { DEFAULT_READ_PERMISSION, DEFAULT_WRITE_PERMISSION } from './config.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from './http.js';
import { MAX_KEY_LENGTH } from './idempotency.js';
import { ODATA_JSON } from './odata.js';
import { DEFAULT_TOP, MAX_TOP, SELECTABLE } from './queryOptions.js';
import {
    assignActionSchema,
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    createAssignmentSchema,
    GROUP_TARGET_TYPE,
    NAMESPACE,
    updateAssignmentSchema,
} from './schema.js';
import type { BodyKind } from './validation.js';

type Json = Record<string, unknown>;

const DEFS_PREFIX = '#/$defs/';
const SCHEMAS_PREFIX = '#/components/schemas/';

/** Where each body kind of lib/validation is published: the component is named after the schema's `$id`. */
export const REQUEST_BODY_SCHEMAS = {
    create: createAssignmentSchema,
    update: updateAssignmentSchema,
    assign: assignActionSchema,
} as const satisfies Record<BodyKind, { $id: string }>;

function rewriteRefs(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(rewriteRefs);
    }
    if (value !== null && typeof value === 'object') {
        return Object.fromEntries(
            Object.entries(value).map(([key, child]) => [
                key,
                key === '$ref' && typeof child === 'string' && child.startsWith(DEFS_PREFIX)
                    ? `${SCHEMAS_PREFIX}${child.slice(DEFS_PREFIX.length)}`
                    : rewriteRefs(child),
            ]),
        );
    }
    return value;
}

/**
 * A body schema as a component. `$id` must go: it would rebase every `$ref` inside the component away from the
 * document. `$schema` is the document's `jsonSchemaDialect`, and `$defs` become components of their own.
 */
function bodyComponents(): Json {
    const components: Json = {};
    for (const schema of Object.values(REQUEST_BODY_SCHEMAS)) {
        const { $schema, $id, $defs, ...rest } = schema;
        void $schema;
        for (const [name, definition] of Object.entries($defs)) {
            components[name] = rewriteRefs(definition);
        }
        components[$id] = rewriteRefs(rest);
    }
    return components;
}

const ref = (kind: 'schemas' | 'parameters' | 'headers' | 'responses', name: string) => ({
    $ref: `#/components/${kind}/${name}`,
});

const JSON_MEDIA = 'application/json';
const json = (schema: Json, extra: Json = {}) => ({ [JSON_MEDIA]: { schema, ...extra } });

const COMMON_HEADERS = ['request-id', 'client-request-id', 'OData-Version'];
const headers = (...names: string[]) =>
    Object.fromEntries([...COMMON_HEADERS, ...names].map((n) => [n, ref('headers', n)]));

const ENTITY = 'officeClientConfigurationAssignment';
const COLLECTION = 'officeClientConfigurationAssignmentCollectionResponse';
const ERROR = 'ODataError';

const responseSchemas: Json = {
    [ENTITY]: {
        title: ASSIGNMENT_TYPE,
        description: 'An assignment as the service returns it; `$select` may leave `id` or `target` out.',
        type: 'object',
        required: ['@odata.type'],
        properties: {
            '@odata.context': { type: 'string', format: 'uri' },
            '@odata.type': { const: `#${ASSIGNMENT_TYPE}` },
            id: { type: 'string', format: 'uuid', readOnly: true, description: 'Assigned by the service.' },
            target: ref('schemas', 'officeConfigurationAssignmentTarget'),
        },
    },
    [COLLECTION]: {
        type: 'object',
        required: ['@odata.context', 'value'],
        properties: {
            '@odata.context': { type: 'string', format: 'uri' },
            '@odata.count': { type: 'integer', minimum: 0, description: 'Present when `$count=true`.' },
            '@odata.nextLink': {
                type: 'string',
                format: 'uri',
                description: 'The next page, with an opaque `$skiptoken`; absent on the last page.',
            },
            value: { type: 'array', items: ref('schemas', ENTITY) },
        },
    },
    [ERROR]: {
        description: 'The Microsoft Graph error body, returned by every error of every route.',
        type: 'object',
        required: ['error'],
        properties: {
            error: {
                type: 'object',
                required: ['code', 'message', 'innerError'],
                properties: {
                    code: { type: 'string', examples: ['BadRequest'] },
                    message: { type: 'string' },
                    details: {
                        description: 'One entry for each validation failure.',
                        type: 'array',
                        items: {
                            type: 'object',
                            required: ['code', 'message'],
                            properties: {
                                code: { type: 'string', examples: ['InvalidValue'] },
                                message: { type: 'string' },
                                target: {
                                    type: 'string',
                                    description: 'The property, as a dotted path.',
                                    examples: ['target.groupId'],
                                },
                            },
                        },
                    },
                    innerError: {
                        type: 'object',
                        required: ['date', 'request-id', 'client-request-id'],
                        properties: {
                            date: {
                                type: 'string',
                                description: 'UTC, to the second, without a zone designator.',
                                pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$',
                            },
                            'request-id': { type: 'string', format: 'uuid' },
                            'client-request-id': { type: 'string' },
                        },
                    },
                },
            },
        },
    },
};

const parameters: Json = {
    configurationId: {
        name: 'configurationId',
        in: 'path',
        required: true,
        description:
            'Id of the officeClientConfiguration (the partition key): 1 to 128 characters after one URL-decoding, ' +
            'without `/`, `\\`, `?`, `#` or control characters and without leading or trailing white space. ' +
            'Any such id is accepted: the parent configuration is not stored by this service.',
        schema: { type: 'string', minLength: 1, maxLength: MAX_CONFIGURATION_ID_LENGTH },
    },
    assignmentId: {
        name: 'assignmentId',
        in: 'path',
        required: true,
        description: 'Id of the assignment; a value that is not a GUID names no assignment (404).',
        schema: { type: 'string', format: 'uuid' },
    },
    top: {
        name: '$top',
        in: 'query',
        description: 'Page size. Also accepted without `$`, in any case.',
        schema: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP },
    },
    skiptoken: {
        name: '$skiptoken',
        in: 'query',
        description: 'Opaque; copied from `@odata.nextLink`, which carries the other options too.',
        schema: { type: 'string' },
    },
    count: {
        name: '$count',
        in: 'query',
        description: 'Adds `@odata.count`, the size of the whole collection.',
        schema: { type: 'boolean', default: false },
    },
    select: {
        name: '$select',
        in: 'query',
        description: 'Properties to return; `@odata.type` always comes back.',
        style: 'form',
        explode: false,
        schema: { type: 'array', items: { enum: [...SELECTABLE] }, uniqueItems: true },
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
    Location: { description: 'The absolute URL of the new assignment.', schema: { type: 'string', format: 'uri' } },
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
    content: json(ref('schemas', ERROR)),
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
const TAG = 'officeClientConfigurationAssignment';

const entityResponse = (description: string, ...extraHeaders: string[]) => ({
    description,
    headers: headers(...extraHeaders),
    content: json(ref('schemas', ENTITY)),
});

const requestBody = (kind: BodyKind, examples?: Json) => ({
    required: true,
    content: json(ref('schemas', REQUEST_BODY_SCHEMAS[kind].$id), examples ? { examples } : {}),
});

const GROUP_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const baseTarget = { '@odata.type': BASE_TARGET_TYPE };
const groupTarget = { '@odata.type': `#${GROUP_TARGET_TYPE}`, groupId: GROUP_ID };

const assignOperation = (operationId: string) => ({
    tags: [TAG],
    operationId,
    summary: 'Invoke action assign',
    description:
        "Replaces the configuration's whole set of assignments in one transactional batch. Assignments whose " +
        'target is unchanged keep their id; two entries with the same target are a 400.',
    security: WRITE,
    requestBody: requestBody('assign', {
        group: { value: { officeConfigurationAssignments: [{ target: groupTarget }] } },
    }),
    responses: responses(
        { '200': { description: 'The new set.', headers: headers(), content: json(ref('schemas', COLLECTION)) } },
        'BadRequest',
        'Conflict',
        'PayloadTooLarge',
        'UnsupportedMediaType',
    ),
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

const CONFIGURATION = '/officeConfiguration/clientConfigurations/{configurationId}';
const resourceParameters = [ref('parameters', 'configurationId'), ref('parameters', 'clientRequestId')];

function paths(): Json {
    return {
        [`${CONFIGURATION}/assignments`]: {
            parameters: resourceParameters,
            get: {
                tags: [TAG],
                operationId: 'listAssignments',
                summary: 'List officeClientConfigurationAssignments',
                security: READ,
                parameters: ['top', 'skiptoken', 'count', 'select'].map((p) => ref('parameters', p)),
                responses: responses(
                    {
                        '200': {
                            description: 'A page of the collection.',
                            headers: headers(),
                            content: json(ref('schemas', COLLECTION)),
                        },
                    },
                    'BadRequest',
                ),
            },
            post: {
                tags: [TAG],
                operationId: 'createAssignment',
                summary: 'Create officeClientConfigurationAssignment',
                security: WRITE,
                parameters: [ref('parameters', 'idempotencyKey')],
                requestBody: requestBody('create', {
                    seed: {
                        summary: "The Graph documentation's example",
                        value: { '@odata.type': `#${ASSIGNMENT_TYPE}`, target: baseTarget },
                    },
                    group: { summary: 'A group target', value: { target: groupTarget } },
                }),
                responses: responses(
                    { '201': entityResponse('The new assignment.', 'ETag', 'Location', 'Idempotent-Replayed') },
                    ...WITH_BODY,
                    'UnprocessableEntity',
                ),
            },
        },
        [`${CONFIGURATION}/assignments/{assignmentId}`]: {
            parameters: [...resourceParameters, ref('parameters', 'assignmentId')],
            get: {
                tags: [TAG],
                operationId: 'getAssignment',
                summary: 'Get officeClientConfigurationAssignment',
                security: READ,
                parameters: [ref('parameters', 'select')],
                responses: responses({ '200': entityResponse('The assignment.', 'ETag') }, 'BadRequest', 'NotFound'),
            },
            patch: {
                tags: [TAG],
                operationId: 'updateAssignment',
                summary: 'Update officeClientConfigurationAssignment',
                description: "Replaces `target` whole; an `id` in the body must equal the path's.",
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch'), ref('parameters', 'prefer')],
                requestBody: requestBody('update', { group: { value: { target: groupTarget } } }),
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
            },
            delete: {
                tags: [TAG],
                operationId: 'deleteAssignment',
                summary: 'Delete officeClientConfigurationAssignment',
                security: WRITE,
                parameters: [ref('parameters', 'ifMatch')],
                responses: responses(
                    { '204': { description: 'Deleted.', headers: headers() } },
                    'BadRequest',
                    'NotFound',
                    'PreconditionFailed',
                ),
            },
        },
        [`${CONFIGURATION}/assign`]: { parameters: resourceParameters, post: assignOperation('assign') },
        [`${CONFIGURATION}/${NAMESPACE}.assign`]: {
            parameters: resourceParameters,
            post: assignOperation('assignQualified'),
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
        servers: [
            {
                url: '{root}',
                description: 'The service root: `https://<function app host>/beta` in Azure.',
                variables: {
                    root: {
                        default: '/beta',
                        description: 'Relative to where this document is served, e.g. http://localhost:7071/beta.',
                    },
                },
            },
        ],
        tags: [
            { name: TAG, description: 'Assignments of an officeClientConfiguration.' },
            { name: 'service documents', description: 'Served without a token.' },
        ],
        security: READ,
        paths: paths(),
        components: {
            schemas: { ...bodyComponents(), ...responseSchemas },
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
