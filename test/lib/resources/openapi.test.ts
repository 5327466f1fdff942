/**
 * The OpenAPI description: valid for an OpenAPI validator, laid out as Microsoft Graph's own (so generators make the
 * Graph SDK's classes: test/e2e/kiota.test.ts runs one), derived from the schemas the service validates with,
 * covering every route of the table (delta as Graph describes its delta functions, the audit trail as the service's
 * own extension, subscriptions as Graph describes them), and served byte for byte as the build writes it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../../functions/routes.js';
import { CSDL_XML } from '../../../lib/graph/csdl.js';
import {
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    CONFIGURATION_BASE_TYPE,
    CONFIGURATION_TYPES,
    createAssignmentSchema,
    createConfigurationSchema,
    createSubscriptionSchema,
    GROUP_TARGET_TYPE,
    GUID_PATTERN,
    MAX_ASSIGNMENTS_PER_ASSIGN,
    OFFICE_CONFIGURATION_TYPE,
    PAYLOAD_PROPERTIES,
    READ_ONLY_CONFIGURATION_PROPERTIES,
    SUBSCRIPTION_TYPE,
} from '../../../lib/graph/schema.js';
import { validateBody } from '../../../lib/graph/validation.js';
import { HTTP_METHODS } from '../../../lib/http/pipeline.js';
import { AUDIT_EVENT_TYPE, AUDIT_NAMESPACE, auditEventOf } from '../../../lib/resources/auditEvents.js';
import { openApiDocument } from '../../../lib/resources/openapi.js';
import { subscriptionResource } from '../../../lib/resources/subscriptions.js';
import {
    ASSIGNMENT_RESOURCE_TYPE,
    CONFIGURATION_RESOURCE_TYPE,
    DEFAULT_CHANGE_LOG,
    toRecord,
    UNAUTHENTICATED_ACTOR,
} from '../../../lib/store/changeLog.js';
import { writeOpenApi } from '../../../scripts/build-openapi.js';
import { GUID, startTestApp, type TestApp } from '../../helpers/host.js';
import { storedSubscription } from '../../helpers/subscriptions.js';

interface Schema {
    $ref?: string;
    type?: string | string[];
    description?: string;
    default?: unknown;
    items?: Schema;
    'x-service-extension'?: boolean;
    format?: string;
    readOnly?: boolean;
    title?: string;
    required?: string[];
    properties?: Record<string, Schema & Record<string, unknown>>;
    allOf?: Schema[];
    discriminator?: { propertyName: string; mapping: Record<string, string> };
    'x-ms-discriminator-value'?: string;
}
interface Operation {
    operationId: string;
    tags?: string[];
    parameters?: { $ref: string }[];
    'x-ms-docs-operation-type'?: string;
    'x-service-extension'?: boolean;
    requestBody?: { description?: string; content: Record<string, { schema: Schema }> };
    responses: Record<string, { $ref?: string }>;
    security?: unknown[];
}
interface Document {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, unknown>>;
    components: {
        schemas: Record<string, Schema>;
        parameters: Record<
            string,
            { name: string; in: string; description?: string; example?: unknown; schema: Record<string, unknown> }
        >;
        responses: Record<string, { description: string; content: Record<string, { schema: Schema }> }>;
        securitySchemes: Record<string, Record<string, unknown>>;
    };
}

const doc = openApiDocument() as unknown as Document;

const SCHEMA_REF = '#/components/schemas/';
const CONFIGURATION = '/officeConfiguration/clientConfigurations/{officeClientConfiguration-id}';
const ITEM = `${CONFIGURATION}/assignments/{officeClientConfigurationAssignment-id}`;
const ENTITY = `${SCHEMA_REF}${ASSIGNMENT_TYPE}`;
const CONFIGURATIONS = '/officeConfiguration/clientConfigurations';
const CONFIGURATION_ENTITY = `${SCHEMA_REF}${CONFIGURATION_BASE_TYPE}`;
/** The service's own types: `microsoft.graph.` + their CSDL name (lib/resources/openapi says why). */
const EXTENSION_PREFIX = `microsoft.graph.${AUDIT_NAMESPACE}.`;
const AUDIT_EVENT = `microsoft.graph.${AUDIT_EVENT_TYPE}`;
const AUDIT_EVENTS = '/officeConfiguration/auditEvents';

function operations(): { path: string; method: string; operation: Operation }[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item)
            .filter(([key]) => HTTP_METHODS.includes(key.toUpperCase() as (typeof HTTP_METHODS)[number]))
            .map(([method, operation]) => ({ path, method, operation: operation as Operation })),
    );
}

function component(name: string): Schema {
    const schema = doc.components.schemas[name];
    expect(schema, name).toBeDefined();
    return schema!;
}

/** A type's own part: the schema itself, or the second member of its `allOf`. */
const ownPart = (schema: Schema): Schema => (schema.allOf ? schema.allOf[1]! : schema);
const baseOf = (schema: Schema): string | undefined => schema.allOf?.[0]?.$ref?.slice(SCHEMA_REF.length);

/** Every property a type has, its bases' included. */
function allProperties(name: string): string[] {
    const schema = component(name);
    const base = baseOf(schema);
    return [...(base ? allProperties(base) : []), ...Object.keys(ownPart(schema).properties ?? {})];
}

function walk(value: unknown, visit: (key: string, child: unknown) => void): void {
    if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
            visit(key, child);
            walk(child, visit);
        }
    }
}

/** The JSON Schema titles lib/graph/schema gives the target types: the oneOf branches of the one definition. */
const targetBranches = (
    createAssignmentSchema.$defs.officeConfigurationAssignmentTarget.oneOf as readonly {
        title: string;
        properties: Record<string, unknown>;
        required?: readonly string[];
    }[]
).map((branch) => branch);

describe('OpenAPI description', () => {
    it('is a valid OpenAPI 3.1 document', async () => {
        const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
        expect(result.valid, compileErrors(result)).toBe(true);
        expect(doc.openapi).toMatch(/^3\.1\./);
    });

    it('the validator itself rejects a broken variant (so the check above can fail)', async () => {
        const broken = structuredClone(doc);
        broken.paths[`${CONFIGURATION}/assign`] = { post: { responses: { '200': { description: 'x' } } } };
        const result = await validate(broken as unknown as Parameters<typeof validate>[0]);
        expect(result.valid).toBe(false);
    });

    it("names schemas as Graph's OpenAPI does, with no oneOf and no GUID-typed id", () => {
        const graphsOwn = ['BaseCollectionPaginationCountResponse', 'BaseDeltaFunctionResponse'];
        for (const name of Object.keys(doc.components.schemas)) {
            expect(graphsOwn.includes(name) || name.startsWith('microsoft.graph.'), name).toBe(true);
        }
        walk(doc, (key) => {
            expect(key, 'generators make wrapper classes of a oneOf').not.toBe('oneOf');
            expect(key).not.toBe('anyOf');
        });
        // Headers may say uuid (generators type no headers); a body property or a key that did would be a GUID type.
        const { schemas, parameters } = doc.components;
        walk({ paths: doc.paths, schemas, parameters }, (key, child) => {
            if (key === 'format') expect(child).not.toBe('uuid');
        });
        expect(component('microsoft.graph.entity').properties?.id).toMatchObject({ type: 'string' });
    });

    it('derives every type from lib/graph/schema with allOf inheritance and a discriminator mapping on each base', () => {
        const entity = component('microsoft.graph.entity');
        expect(entity.required).toEqual(['@odata.type']);
        expect(entity.discriminator).toEqual({
            propertyName: '@odata.type',
            mapping: Object.fromEntries(
                [ASSIGNMENT_TYPE, CONFIGURATION_BASE_TYPE, ...CONFIGURATION_TYPES, SUBSCRIPTION_TYPE].map((type) => [
                    `#${type}`,
                    `${SCHEMA_REF}${type}`,
                ]),
            ),
        });
        const assignment = component(ASSIGNMENT_TYPE);
        expect(baseOf(assignment)).toBe('microsoft.graph.entity');
        expect(new Set(allProperties(ASSIGNMENT_TYPE))).toEqual(
            new Set(Object.keys(createAssignmentSchema.properties)),
        );
        expect(ownPart(assignment).properties?.target).toMatchObject({ $ref: `${SCHEMA_REF}${BASE_TARGET_TYPE}` });

        const base = component(BASE_TARGET_TYPE);
        expect(base.required).toEqual(['@odata.type']);
        expect(targetBranches.map((b) => b.title).sort()).toEqual([BASE_TARGET_TYPE, GROUP_TARGET_TYPE].sort());
        const derived = targetBranches.filter((b) => b.title !== BASE_TARGET_TYPE);
        expect(base.discriminator).toEqual({
            propertyName: '@odata.type',
            mapping: Object.fromEntries(
                derived.flatMap((b) => [
                    [`#${b.title}`, `${SCHEMA_REF}${b.title}`],
                    [b.title, `${SCHEMA_REF}${b.title}`],
                ]),
            ),
        });
        for (const branch of targetBranches) {
            expect(new Set(allProperties(branch.title)), branch.title).toEqual(new Set(Object.keys(branch.properties)));
        }
        for (const branch of derived) {
            const schema = component(branch.title);
            expect(baseOf(schema)).toBe(BASE_TARGET_TYPE);
            expect(schema['x-ms-discriminator-value']).toBe(`#${branch.title}`);
            expect(ownPart(schema).required).toEqual(branch.required);
            expect(ownPart(schema).properties?.['@odata.type']).toEqual({
                type: 'string',
                default: `#${branch.title}`,
            });
        }
        expect(ownPart(component(GROUP_TARGET_TYPE)).properties?.groupId).toMatchObject({
            type: 'string',
            pattern: GUID_PATTERN,
        });
    });

    it('describes the configurations as Graph does: an abstract base with a discriminator, two concrete types', () => {
        const base = component(CONFIGURATION_BASE_TYPE);
        expect(baseOf(base)).toBe('microsoft.graph.entity');
        expect(ownPart(base).required).toEqual(['@odata.type']);
        expect(ownPart(base).properties?.['@odata.type']).toEqual({ type: 'string' });
        expect(base.discriminator).toEqual({
            propertyName: '@odata.type',
            mapping: Object.fromEntries(
                CONFIGURATION_TYPES.flatMap((type) => [
                    [`#${type}`, `${SCHEMA_REF}${type}`],
                    [type, `${SCHEMA_REF}${type}`],
                ]),
            ),
        });
        for (const type of CONFIGURATION_TYPES) {
            const concrete = component(type);
            expect(baseOf(concrete), type).toBe(CONFIGURATION_BASE_TYPE);
            expect(concrete['x-ms-discriminator-value']).toBe(`#${type}`);
            expect(ownPart(concrete).properties).toEqual({ '@odata.type': { type: 'string', default: `#${type}` } });
        }
        // Every property a create body may carry, plus the navigation property no body carries.
        expect(new Set(allProperties(CONFIGURATION_BASE_TYPE))).toEqual(
            new Set([...Object.keys(createConfigurationSchema.properties), 'assignments']),
        );
        const own = ownPart(base).properties!;
        expect(own.assignments).toEqual({
            type: 'array',
            items: { $ref: ENTITY },
            'x-ms-navigationProperty': true,
        });
        expect(own.priority).toMatchObject({ type: 'integer', format: 'int32', minimum: 1 });
        // Stream properties as Graph's 2021 OpenAPI described them.
        for (const name of PAYLOAD_PROPERTIES) {
            expect(own[name], name).toMatchObject({ type: 'string', format: 'base64url' });
        }
        for (const name of READ_ONLY_CONFIGURATION_PROPERTIES) {
            expect(own[name]?.readOnly, name).toBe(true);
        }
        expect(own.checkinStatuses).toMatchObject({
            type: 'array',
            items: { $ref: `${SCHEMA_REF}microsoft.graph.officeClientCheckinStatus` },
        });
        expect(own.userCheckinSummary).toMatchObject({ $ref: `${SCHEMA_REF}microsoft.graph.officeUserCheckinSummary` });

        const singleton = component(OFFICE_CONFIGURATION_TYPE);
        expect(singleton.allOf).toBeUndefined();
        expect(singleton.properties).toMatchObject({
            tenantCheckinStatuses: {
                type: 'array',
                items: { $ref: `${SCHEMA_REF}microsoft.graph.officeClientCheckinStatus` },
                readOnly: true,
            },
            tenantUserCheckinSummary: { $ref: `${SCHEMA_REF}microsoft.graph.officeUserCheckinSummary`, readOnly: true },
            clientConfigurations: { type: 'array', items: { $ref: CONFIGURATION_ENTITY } },
        });
        expect(component('microsoft.graph.officeUserCheckinSummary').properties).toMatchObject({
            failedUserCount: { type: 'integer', format: 'int32' },
            succeededUserCount: { type: 'integer', format: 'int32' },
        });
    });

    it('has every property of every type the CSDL ($metadata) declares, and no other', () => {
        interface Declared {
            Name: string;
            BaseType?: string;
            Property?: { Name: string }[];
            NavigationProperty?: { Name: string }[];
        }
        const schemas = (
            new XMLParser({
                ignoreAttributes: false,
                attributeNamePrefix: '',
                isArray: (name) =>
                    ['Schema', 'EntityType', 'ComplexType', 'Property', 'NavigationProperty'].includes(name),
            }).parse(CSDL_XML) as {
                'edmx:Edmx': {
                    'edmx:DataServices': {
                        Schema: { Namespace: string; EntityType: Declared[]; ComplexType?: Declared[] }[];
                    };
                };
            }
        )['edmx:Edmx']['edmx:DataServices'].Schema;
        const declared = new Map(
            schemas.flatMap((csdl) =>
                [...csdl.EntityType, ...(csdl.ComplexType ?? [])].map((t) => [`${csdl.Namespace}.${t.Name}`, t]),
            ),
        );
        const own = (type: Declared) => [
            ...(type.Property ?? []).map((p) => p.Name),
            ...(type.NavigationProperty ?? []).map((p) => p.Name),
        ];
        const inherited = (type: Declared): string[] => [
            ...own(type),
            ...(type.BaseType ? inherited(declared.get(type.BaseType.replace(/^graph\./, 'microsoft.graph.'))!) : []),
        ];
        const described = (name: string) =>
            Object.keys(ownPart(component(name)).properties ?? {}).filter((p) => p !== '@odata.type');
        let graphs = 0;
        for (const [name, type] of declared) {
            if (name.startsWith('microsoft.graph.')) {
                graphs += 1;
                expect(described(name).sort(), name).toEqual(own(type).sort());
            } else if (name === `${AUDIT_NAMESPACE}.officeConfiguration`) {
                // The derived type that holds auditEvents: described by its path alone (lib/resources/openapi).
                expect(doc.components.schemas[`microsoft.graph.${name}`], name).toBeUndefined();
                expect(own(type)).toEqual(['auditEvents']);
                expect(doc.paths[AUDIT_EVENTS]).toBeDefined();
            } else {
                // The service's own, standalone (not allOf Graph's entity): every property, the inherited `id` too.
                expect(name.startsWith(`${AUDIT_NAMESPACE}.`), name).toBe(true);
                expect(described(`microsoft.graph.${name}`).sort(), name).toEqual(inherited(type).sort());
            }
        }
        expect(graphs).toBeGreaterThanOrEqual(11);
        expect(declared.has(SUBSCRIPTION_TYPE)).toBe(true);
        expect(declared.size).toBeGreaterThanOrEqual(graphs + 5);
    });

    it('uses the one entity schema for create, update and every response; assign takes Graph-named parameters', () => {
        const collection = doc.paths[`${CONFIGURATION}/assignments`]!;
        const item = doc.paths[ITEM]!;
        const bodyOf = (operation: unknown) =>
            (operation as Operation).requestBody!.content['application/json']!.schema;
        expect(bodyOf(collection.post).$ref).toBe(ENTITY);
        expect(bodyOf(item.patch).$ref).toBe(ENTITY);
        const responseSchema = (operation: unknown, status: string) =>
            (operation as { responses: Record<string, { content: Record<string, { schema: Schema }> }> }).responses[
                status
            ]!.content['application/json']!.schema;
        expect(responseSchema(collection.post, '201').$ref).toBe(ENTITY);
        expect(responseSchema(item.get, '200').$ref).toBe(ENTITY);
        expect(responseSchema(item.patch, '200').$ref).toBe(ENTITY);

        const page = component(`${ASSIGNMENT_TYPE}CollectionResponse`);
        expect(page.allOf?.[0]).toEqual({ $ref: `${SCHEMA_REF}BaseCollectionPaginationCountResponse` });
        expect(page.allOf?.[1]?.properties?.value).toEqual({ type: 'array', items: { $ref: ENTITY } });

        const assign = doc.paths[`${CONFIGURATION}/assign`]!.post as Operation;
        expect(assign.requestBody!.description).toBe('Action parameters');
        expect(bodyOf(assign)).toEqual({
            type: 'object',
            required: ['officeConfigurationAssignments'],
            properties: {
                officeConfigurationAssignments: {
                    type: 'array',
                    items: { $ref: ENTITY },
                    maxItems: MAX_ASSIGNMENTS_PER_ASSIGN,
                },
            },
        });
        expect(responseSchema(assign, '200').properties?.value).toEqual({ type: 'array', items: { $ref: ENTITY } });
    });

    it('describes the configuration routes: one entity schema, the payloads in any media type, one updatePriorities', () => {
        const collection = doc.paths[CONFIGURATIONS]!;
        const item = doc.paths[CONFIGURATION]!;
        const bodyOf = (operation: unknown, media = 'application/json') =>
            (operation as Operation).requestBody!.content[media]!.schema;
        const responseOf = (operation: unknown, status: string, media = 'application/json') =>
            (operation as { responses: Record<string, { content: Record<string, { schema: Schema }> }> }).responses[
                status
            ]!.content[media]!.schema;
        expect(bodyOf(collection.post).$ref).toBe(CONFIGURATION_ENTITY);
        expect(bodyOf(item.patch).$ref).toBe(CONFIGURATION_ENTITY);
        expect(responseOf(collection.post, '201').$ref).toBe(CONFIGURATION_ENTITY);
        expect(responseOf(item.get, '200').$ref).toBe(CONFIGURATION_ENTITY);
        expect(responseOf(item.patch, '200').$ref).toBe(CONFIGURATION_ENTITY);
        expect(responseOf(collection.get, '200').$ref).toBe(
            `${SCHEMA_REF}${CONFIGURATION_BASE_TYPE}CollectionResponse`,
        );
        const page = component(`${CONFIGURATION_BASE_TYPE}CollectionResponse`);
        expect(page.allOf?.[1]?.properties?.value).toEqual({ type: 'array', items: { $ref: CONFIGURATION_ENTITY } });
        const listParameters = (collection.get as { parameters: { $ref: string }[] }).parameters.map((p) => p.$ref);
        expect(listParameters).toEqual(
            ['top', 'skiptoken', 'count', 'orderby', 'selectConfiguration'].map((p) => `#/components/parameters/${p}`),
        );
        expect(doc.components.parameters.orderby).toMatchObject({
            name: '$orderby',
            schema: { items: { enum: ['priority', 'priority desc'] } },
        });

        for (const name of PAYLOAD_PROPERTIES) {
            const payload = doc.paths[`${CONFIGURATION}/${name}`]!;
            expect(Object.keys(payload).filter((k) => k !== 'description' && k !== 'parameters')).toEqual([
                'get',
                'put',
            ]);
            expect(responseOf(payload.get, '200', '*/*')).toEqual({ type: 'string', format: 'binary' });
            expect(bodyOf(payload.put, '*/*')).toEqual({ type: 'string', format: 'binary' });
        }

        const actions = Object.keys(doc.paths).filter((path) => path.includes('updatePriorities'));
        expect(actions).toEqual([`${CONFIGURATIONS}/updatePriorities`]);
        const update = doc.paths[actions[0]!]!.post as Operation;
        expect(update.requestBody!.description).toBe('Action parameters');
        expect(bodyOf(update)).toEqual({
            type: 'object',
            required: ['officeConfigurationPolicyIds', 'officeConfigurationPriorities'],
            properties: {
                officeConfigurationPolicyIds: expect.objectContaining({ type: 'array', items: { type: 'string' } }),
                officeConfigurationPriorities: expect.objectContaining({
                    type: 'array',
                    items: expect.objectContaining({ type: 'integer', format: 'int32' }),
                }),
            },
        });
        expect(Object.keys(update.responses).filter((s) => s.startsWith('2'))).toEqual(['204']);

        const singleton = doc.paths['/officeConfiguration']!;
        expect(Object.keys(singleton)).toEqual(expect.arrayContaining(['get']));
        expect(responseOf(singleton.get, '200').$ref).toBe(`${SCHEMA_REF}${OFFICE_CONFIGURATION_TYPE}`);
    });

    it('lets every operation under a configuration answer 404, so clients read it as an ODataError', () => {
        const under = operations().filter(({ path }) => path.startsWith(CONFIGURATION));
        expect(under.length).toBeGreaterThanOrEqual(12);
        for (const { path, method, operation } of under) {
            expect(operation.responses['404'], `${method} ${path}`).toEqual({
                $ref: '#/components/responses/NotFound',
            });
        }
    });

    it("describes every error as Graph's microsoft.graph.ODataErrors.ODataError", () => {
        const errorRef = `${SCHEMA_REF}microsoft.graph.ODataErrors.ODataError`;
        for (const response of Object.values(doc.components.responses)) {
            expect(response.content['application/json']!.schema.$ref).toBe(errorRef);
        }
        for (const { operation } of operations()) {
            for (const [status, response] of Object.entries(operation.responses)) {
                if (Number(status) >= 400) expect(response.$ref, status).toMatch(/^#\/components\/responses\//);
            }
        }
        expect(component('microsoft.graph.ODataErrors.ODataError').properties?.error).toEqual({
            $ref: `${SCHEMA_REF}microsoft.graph.ODataErrors.MainError`,
        });
        const main = component('microsoft.graph.ODataErrors.MainError');
        expect(main.required).toEqual(['code', 'message']);
        expect(main.properties?.innerError).toEqual({ $ref: `${SCHEMA_REF}microsoft.graph.ODataErrors.InnerError` });
        expect(Object.keys(component('microsoft.graph.ODataErrors.InnerError').properties ?? {}).sort()).toEqual([
            'client-request-id',
            'date',
            'request-id',
        ]);
    });

    it("accepts every body the service's validator accepts, and refuses the group targets it refuses", () => {
        const ajv = new Ajv2020({ strict: false, allErrors: true });
        ajv.addSchema({ $id: 'https://openapi.test/doc', components: { schemas: doc.components.schemas } });
        const schema = (name: string) => ajv.getSchema(`https://openapi.test/doc#/components/schemas/${name}`)!;
        const targetMapping = component(BASE_TARGET_TYPE).discriminator!.mapping;
        /** What a generator does with the discriminator: checks the target as the type its `@odata.type` maps to. */
        const target = (value: unknown) => {
            const mapped = targetMapping[(value as Record<string, string>)['@odata.type'] ?? ''];
            return schema(mapped ? mapped.slice(SCHEMA_REF.length) : BASE_TARGET_TYPE)(value);
        };
        // Graph's entity schema requires `@odata.type`; generators always send it, and the service infers it.
        const entity = (body: Record<string, unknown>) =>
            schema(ASSIGNMENT_TYPE)({ '@odata.type': `#${ASSIGNMENT_TYPE}`, ...body }) &&
            (body.target === undefined || target(body.target));
        const base = { '@odata.type': BASE_TARGET_TYPE };
        const group = { '@odata.type': `#${GROUP_TARGET_TYPE}`, groupId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
        const bareGroup = { ...group, '@odata.type': GROUP_TARGET_TYPE };
        const accepted = [
            { target: base },
            { target: group },
            { target: bareGroup },
            { '@odata.type': `#${ASSIGNMENT_TYPE}`, target: base, id: 'ignored' },
        ];
        for (const body of accepted) {
            expect(validateBody('create', body).valid).toBe(true);
            expect(entity(body), JSON.stringify(body)).toBe(true);
        }
        expect(validateBody('assign', { officeConfigurationAssignments: accepted }).valid).toBe(true);
        const refused = [{ target: { ...group, groupId: 'x' } }, { target: { '@odata.type': GROUP_TARGET_TYPE } }];
        for (const body of refused) {
            expect(validateBody('create', body).valid).toBe(false);
            expect(entity(body), JSON.stringify(body)).toBe(false);
        }

        /** A configuration checked as the concrete type its `@odata.type` maps to, as a generated client reads it. */
        const configurationMapping = component(CONFIGURATION_BASE_TYPE).discriminator!.mapping;
        const configuration = (body: Record<string, unknown>) => {
            const mapped = configurationMapping[String(body['@odata.type'])];
            return mapped !== undefined && schema(mapped.slice(SCHEMA_REF.length))(body);
        };
        const configurations = CONFIGURATION_TYPES.flatMap((type) => [
            { '@odata.type': `#${type}`, displayName: 'Channel', priority: 1 },
            { '@odata.type': type, description: 'x', policyPayload: 'PHBvbGljeS8+', userPreferencePayload: '' },
        ]);
        for (const body of configurations) {
            expect(validateBody('createConfiguration', body).valid, JSON.stringify(body)).toBe(true);
            expect(configuration(body), JSON.stringify(body)).toBe(true);
        }
        const abstract = { '@odata.type': `#${CONFIGURATION_BASE_TYPE}`, displayName: 'x' };
        expect(validateBody('createConfiguration', abstract).valid).toBe(false);
        expect(configuration(abstract)).toBe(false);
    });

    it('describes every route of the table once, the qualified action aliases aside', () => {
        const keys = (path: string) => path.replace(/\{[^}]+\}/g, '{}');
        const qualified = (template: string) =>
            /\/microsoft\.graph\.(assign|updatePriorities|delta\(\))$/.test(template);
        const described = operations().map(({ path, method }) => `${method.toUpperCase()} ${keys(path)}`);
        const served = routes
            .filter((route) => !route.template.includes('{*') && !qualified(route.template))
            .flatMap((route) => Object.keys(route.operations).map((method) => `${method} /${keys(route.template)}`));
        expect(described.sort()).toEqual(served.sort());
        expect(routes.filter((route) => qualified(route.template))).toHaveLength(4);
        expect(Object.keys(doc.paths).filter((path) => path.includes('microsoft.graph.'))).toEqual([]);
        expect(
            Object.keys(doc.paths).filter((path) => path.includes('assign') && !path.includes('assignments')),
        ).toEqual([`${CONFIGURATION}/assign`]);
        expect(new Set(operations().map(({ operation }) => operation.operationId)).size).toBe(described.length);
    });

    it('describes delta as Graph describes its delta functions: one path each, a page with nextLink or deltaLink', () => {
        const base = component('BaseDeltaFunctionResponse');
        expect(Object.keys(base.properties ?? {})).toEqual(['@odata.nextLink', '@odata.deltaLink']);
        const deltas = [
            { path: `${CONFIGURATIONS}/delta`, type: CONFIGURATION_BASE_TYPE, select: 'selectConfiguration' },
            { path: `${CONFIGURATION}/assignments/delta`, type: ASSIGNMENT_TYPE, select: 'select' },
        ];
        expect(Object.keys(doc.paths).filter((path) => path.endsWith('/delta'))).toEqual(deltas.map((d) => d.path));
        for (const { path, type, select } of deltas) {
            const item = doc.paths[path]!;
            expect(
                Object.keys(item).filter((k) => !['description', 'parameters'].includes(k)),
                path,
            ).toEqual(['get']);
            expect(item.description).toContain('microsoft.graph.delta()');
            const get = item.get as Operation & {
                responses: Record<
                    string,
                    { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }
                >;
            };
            expect(get['x-ms-docs-operation-type']).toBe('function');
            expect(get.parameters?.map((p) => p.$ref)).toEqual(
                [select, 'skiptoken', 'deltatoken', 'preferPageSize'].map((p) => `#/components/parameters/${p}`),
            );
            const page = get.responses['200']!;
            expect(page.content!['application/json']!.schema).toEqual({
                title: `Collection of ${type.slice('microsoft.graph.'.length)}`,
                type: 'object',
                allOf: [
                    { $ref: `${SCHEMA_REF}BaseDeltaFunctionResponse` },
                    {
                        type: 'object',
                        properties: { value: { type: 'array', items: { $ref: `${SCHEMA_REF}${type}` } } },
                    },
                ],
            });
            expect(page.headers).toHaveProperty('Preference-Applied');
            expect(get.responses['400']).toEqual({ $ref: '#/components/responses/BadRequest' });
            expect(get.responses['410']).toEqual({ $ref: '#/components/responses/Gone' });
        }
        expect((doc.paths[`${CONFIGURATION}/assignments/delta`]!.get as Operation).responses['404']).toEqual({
            $ref: '#/components/responses/NotFound',
        });
        expect(doc.components.responses.Gone!.description).toMatch(/^`SyncStateNotFound`/);
        const { deltatoken, preferPageSize } = doc.components.parameters;
        expect(deltatoken).toMatchObject({ name: '$deltatoken', in: 'query', schema: { type: 'string' } });
        expect(preferPageSize).toMatchObject({ name: 'Prefer', in: 'header' });
        expect(preferPageSize!.description).toContain('odata.maxpagesize');
    });

    it("describes the audit trail as the service's own extension, apart from Graph's schemas", () => {
        const list = doc.paths[AUDIT_EVENTS]!.get as Operation;
        const one = doc.paths[`${AUDIT_EVENTS}/{auditEvent-id}`]!.get as Operation;
        expect(list.parameters?.map((p) => p.$ref)).toEqual(
            ['topAuditEvents', 'skiptoken', 'filterAuditEvents'].map((p) => `#/components/parameters/${p}`),
        );
        const { topAuditEvents, filterAuditEvents } = doc.components.parameters;
        expect(topAuditEvents).toMatchObject({ name: '$top', schema: { minimum: 1, maximum: 999, default: 50 } });
        expect(filterAuditEvents).toMatchObject({ name: '$filter', in: 'query' });
        expect(filterAuditEvents!.description).toContain('activityDateTime');
        const responseOf = (operation: Operation) =>
            (operation as unknown as { responses: Record<string, { content: Record<string, { schema: Schema }> }> })
                .responses['200']!.content['application/json']!.schema;
        expect(responseOf(list).$ref).toBe(`${SCHEMA_REF}${AUDIT_EVENT}CollectionResponse`);
        expect(responseOf(one).$ref).toBe(`${SCHEMA_REF}${AUDIT_EVENT}`);
        expect(one.responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });
        for (const operation of [list, one]) {
            expect(operation['x-service-extension']).toBe(true);
            expect(operation.tags).toEqual(['officeConfiguration.auditEvent']);
        }

        // Every extension schema says so, and no schema of Graph's refers to one.
        const extensions = Object.keys(doc.components.schemas).filter((name) => name.startsWith(EXTENSION_PREFIX));
        expect(extensions.sort()).toEqual(
            ['auditActor', 'auditEvent', 'auditEventCollectionResponse', 'auditProperty', 'auditResource'].map(
                (name) => `${EXTENSION_PREFIX}${name}`,
            ),
        );
        for (const name of extensions) {
            expect(component(name)['x-service-extension'], name).toBe(true);
            expect(component(name).description, name).toContain("This service's extension");
        }
        for (const [name, schema] of Object.entries(doc.components.schemas)) {
            if (extensions.includes(name)) continue;
            walk(schema, (key, child) => {
                if (key === '$ref') expect(String(child), name).not.toContain(EXTENSION_PREFIX);
            });
        }
        expect(ownPart(component(AUDIT_EVENT)).properties?.['@odata.type']).toEqual({
            type: 'string',
            default: `#${AUDIT_EVENT_TYPE}`,
        });

        // What the service answers validates against the schemas, nulls and all.
        const record = toRecord(
            'cfg-1',
            3,
            {
                activityType: 'Create OfficeClientConfigurationAssignment',
                activityOperationType: 'Create',
                resources: [
                    {
                        resourceId: 'a-1',
                        type: ASSIGNMENT_RESOURCE_TYPE,
                        displayName: null,
                        modifiedProperties: [{ displayName: 'target', oldValue: null, newValue: '{"x":1}' }],
                    },
                ],
                target: { resourceId: 'cfg-1', type: CONFIGURATION_RESOURCE_TYPE },
            },
            { actor: UNAUTHENTICATED_ACTOR, correlationId: '0f8fad5b-d9cb-469f-a165-70867728950e' },
            DEFAULT_CHANGE_LOG,
            '7c9e6679-7425-40de-944b-e07fc1f90ae7',
            new Date(),
            [['cfg-2', 2, 3]],
        );
        const event = auditEventOf(record);
        const ajv = new Ajv2020({ strict: false, allErrors: true });
        ajv.addSchema({ $id: 'https://openapi.test/audit', components: { schemas: doc.components.schemas } });
        const check = (name: string, value: unknown) => {
            const validator = ajv.getSchema(`https://openapi.test/audit#/components/schemas/${name}`)!;
            expect(validator(value), JSON.stringify(validator.errors)).toBe(true);
        };
        check(AUDIT_EVENT, event);
        check(`${AUDIT_EVENT}CollectionResponse`, { value: [event], '@odata.nextLink': 'https://host/x' });
        const validator = ajv.getSchema(`https://openapi.test/audit#/components/schemas/${AUDIT_EVENT}`)!;
        expect(validator({ ...event, correlationId: 'not-a-guid' })).toBe(false);
    });

    it("describes subscriptions as Graph does: one entity schema, the read permission, Graph's error responses", () => {
        const SUBSCRIPTIONS = '/subscriptions';
        const SUBSCRIPTION = `${SUBSCRIPTIONS}/{subscription-id}`;
        const SUBSCRIPTION_ENTITY = `${SCHEMA_REF}${SUBSCRIPTION_TYPE}`;
        const methods = (path: string) =>
            Object.keys(doc.paths[path] ?? {}).filter((k) => !['description', 'parameters'].includes(k));
        expect(methods(SUBSCRIPTIONS)).toEqual(['get', 'post']);
        expect(methods(SUBSCRIPTION)).toEqual(['get', 'patch', 'delete']);
        expect(doc.paths[SUBSCRIPTION]!.parameters).toEqual([
            { $ref: '#/components/parameters/subscription-id' },
            { $ref: '#/components/parameters/clientRequestId' },
        ]);
        expect(doc.components.parameters['subscription-id']).toMatchObject({ in: 'path', schema: { type: 'string' } });
        type Described = Operation & {
            responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }>;
        };
        const operation = (path: string, method: string) => doc.paths[path]![method] as Described;
        const success = (path: string, method: string) =>
            Object.keys(operation(path, method).responses).filter((status) => status.startsWith('2'));
        const schemaOf = (path: string, method: string, status: string) =>
            operation(path, method).responses[status]!.content!['application/json']!.schema;
        const bodyOf = (path: string, method: string) =>
            operation(path, method).requestBody!.content['application/json']!.schema;

        expect(success(SUBSCRIPTIONS, 'get')).toEqual(['200']);
        expect(schemaOf(SUBSCRIPTIONS, 'get', '200').$ref).toBe(`${SUBSCRIPTION_ENTITY}CollectionResponse`);
        expect(success(SUBSCRIPTIONS, 'post')).toEqual(['201']);
        expect(bodyOf(SUBSCRIPTIONS, 'post').$ref).toBe(SUBSCRIPTION_ENTITY);
        expect(schemaOf(SUBSCRIPTIONS, 'post', '201').$ref).toBe(SUBSCRIPTION_ENTITY);
        expect(success(SUBSCRIPTION, 'get')).toEqual(['200']);
        expect(schemaOf(SUBSCRIPTION, 'get', '200').$ref).toBe(SUBSCRIPTION_ENTITY);
        expect(success(SUBSCRIPTION, 'patch')).toEqual(['200']);
        expect(bodyOf(SUBSCRIPTION, 'patch').$ref).toBe(SUBSCRIPTION_ENTITY);
        expect(schemaOf(SUBSCRIPTION, 'patch', '200').$ref).toBe(SUBSCRIPTION_ENTITY);
        expect(success(SUBSCRIPTION, 'delete')).toEqual(['204']);

        const errors = (path: string, method: string) =>
            Object.keys(operation(path, method).responses).filter((status) => Number(status) >= 400);
        const always = ['401', '403', '429', '500', '503'];
        expect(errors(SUBSCRIPTIONS, 'get')).toEqual(always);
        for (const [path, method] of [
            [SUBSCRIPTIONS, 'post'],
            [SUBSCRIPTION, 'patch'],
        ] as const) {
            expect(errors(path, method)).toEqual(['400', '401', '403', '404', '413', '415', '429', '500', '503']);
        }
        for (const method of ['get', 'patch', 'delete']) {
            expect(operation(SUBSCRIPTION, method).responses['404']).toEqual({
                $ref: '#/components/responses/NotFound',
            });
        }
        const created = operation(SUBSCRIPTIONS, 'post').responses['201'] as { headers?: Record<string, unknown> };
        expect(Object.keys(created.headers ?? {})).toContain('Location');
        // Subscribing needs only the read permission (the write permission holds it too), as in Graph.
        for (const [path, method] of [
            [SUBSCRIPTIONS, 'get'],
            [SUBSCRIPTIONS, 'post'],
            [SUBSCRIPTION, 'get'],
            [SUBSCRIPTION, 'patch'],
            [SUBSCRIPTION, 'delete'],
        ] as const) {
            const described = operation(path, method);
            expect(described.security, `${method} ${path}`).toEqual([
                { bearer: ['DeviceManagementConfiguration.Read.All'] },
                { bearer: ['DeviceManagementConfiguration.ReadWrite.All'] },
            ]);
            expect(described.tags).toEqual(['subscriptions.subscription']);
        }

        // The entity derives from Graph's, with the properties lib/graph/schema lets a create send and the ones the
        // service fills in; what the service answers validates against it, and what its validator refuses does not.
        const schema = component(SUBSCRIPTION_TYPE);
        expect(baseOf(schema)).toBe('microsoft.graph.entity');
        const own = ownPart(schema).properties!;
        expect(own.expirationDateTime).toMatchObject({ type: 'string', format: 'date-time' });
        expect(own.includeResourceData).toMatchObject({ type: 'boolean' });
        expect(own.applicationId?.readOnly).toBe(true);
        expect(own.creatorId?.readOnly).toBe(true);
        const sendable = Object.keys(createSubscriptionSchema.properties);
        expect(new Set(allProperties(SUBSCRIPTION_TYPE))).toEqual(
            new Set([...sendable, '@odata.type', 'applicationId', 'creatorId']),
        );
        const response = subscriptionResource(
            storedSubscription({ id: '0f8fad5b-d9cb-469f-a165-70867728950e', changeType: 'created,updated' }),
        );
        const ajv = new Ajv2020({ strict: false, allErrors: true });
        ajv.addSchema({ $id: 'https://openapi.test/subscription', components: { schemas: doc.components.schemas } });
        const validator = (name: string) =>
            ajv.getSchema(`https://openapi.test/subscription#/components/schemas/${name}`)!;
        // Graph's entity schema requires `@odata.type` (its discriminator); generators send it and read without it.
        const typed = { '@odata.type': `#${SUBSCRIPTION_TYPE}`, ...response };
        const entity = validator(SUBSCRIPTION_TYPE);
        expect(entity(typed), JSON.stringify(entity.errors)).toBe(true);
        expect(validator(`${SUBSCRIPTION_TYPE}CollectionResponse`)({ value: [typed] })).toBe(true);
        const body = {
            changeType: 'created',
            notificationUrl: 'https://receiver.example.com/hook',
            resource: 'officeConfiguration/clientConfigurations',
            expirationDateTime: '2026-12-04T12:00:00.000Z',
            clientState: 'secret',
        };
        expect(validateBody('createSubscription', { '@odata.type': `#${SUBSCRIPTION_TYPE}`, ...body }).valid).toBe(
            true,
        );
        expect(entity({ '@odata.type': `#${SUBSCRIPTION_TYPE}`, ...body })).toBe(true);
        expect(validateBody('updateSubscription', { expirationDateTime: body.expirationDateTime }).valid).toBe(true);
        expect(entity({ ...typed, includeResourceData: 'no' })).toBe(false);
    });

    it('states the limits the service enforces, the server root and the bearer scheme', () => {
        const { parameters, securitySchemes } = doc.components;
        expect(parameters.top).toMatchObject({ name: '$top', in: 'query', schema: { minimum: 1, maximum: 999 } });
        expect(parameters['officeClientConfiguration-id']).toMatchObject({
            in: 'path',
            schema: { type: 'string', minLength: 1, maxLength: 128 },
        });
        expect(parameters['officeClientConfigurationAssignment-id']).toMatchObject({
            in: 'path',
            schema: { type: 'string' },
        });
        expect(Object.values(parameters).map((p) => p.name)).toEqual(
            expect.arrayContaining(['$skiptoken', '$count', '$select', 'If-Match', 'Prefer']),
        );
        expect(doc.servers).toEqual([expect.objectContaining({ url: '/beta' })]);
        expect(securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
        const create = doc.paths[`${CONFIGURATION}/assignments`]!.post as Operation;
        expect(create.security).toEqual([{ bearer: ['DeviceManagementConfiguration.ReadWrite.All'] }]);
        expect(JSON.stringify(doc)).toContain('DeviceManagementConfiguration.Read.All');
    });

    describe('served at /beta/openapi.json', () => {
        let app: TestApp;
        let dir: string;
        beforeAll(async () => {
            app = await startTestApp();
            dir = await mkdtemp(join(tmpdir(), 'openapi-'));
        });
        afterAll(async () => {
            await app.close();
            await rm(dir, { recursive: true, force: true });
        });

        it('byte for byte as the build step writes it', async () => {
            const file = await writeOpenApi(join(dir, 'openapi.json'));
            const response = await fetch(`${app.root}/openapi.json`);
            expect(response.status).toBe(200);
            expect(response.headers.get('content-type')).toBe('application/json');
            expect(response.headers.get('odata-version')).toBe('4.0');
            expect(response.headers.get('request-id')).toMatch(GUID);
            expect(await response.text()).toBe(await readFile(file, 'utf8'));
            expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(doc);
        });
    });
});
