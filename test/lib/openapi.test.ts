/**
 * The OpenAPI description: valid for an OpenAPI validator, built from the very schemas the service validates with,
 * covering every route of the table, and served byte for byte as the build writes it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { HTTP_METHODS } from '../../lib/http.js';
import { openApiDocument } from '../../lib/openapi.js';
import { GUID_PATTERN } from '../../lib/schema.js';
import { BODY_KINDS, type BodyKind, bodySchema, validateBody } from '../../lib/validation.js';
import { writeOpenApi } from '../../scripts/build-openapi.js';
import { GUID, startTestApp, type TestApp } from '../helpers/host.js';

interface Operation {
    operationId: string;
    requestBody?: { content: Record<string, { schema: { $ref: string } }> };
    security?: unknown[];
}
interface Document {
    openapi: string;
    servers: { url: string; variables: Record<string, { default: string }> }[];
    paths: Record<string, Record<string, unknown>>;
    components: {
        schemas: Record<string, unknown>;
        parameters: Record<string, { name: string; in: string; schema: Record<string, unknown> }>;
        securitySchemes: Record<string, Record<string, unknown>>;
    };
}

const doc = openApiDocument() as unknown as Document;

const SCHEMA_REF = '#/components/schemas/';

function operations(): { path: string; method: string; operation: Operation }[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item)
            .filter(([key]) => HTTP_METHODS.includes(key.toUpperCase() as (typeof HTTP_METHODS)[number]))
            .map(([method, operation]) => ({ path, method, operation: operation as Operation })),
    );
}

function componentOf(reference: string): unknown {
    expect(reference.startsWith(SCHEMA_REF)).toBe(true);
    return doc.components.schemas[reference.slice(SCHEMA_REF.length)];
}

/** The test's own, independent spelling of the one rewrite the description may apply. */
function asComponent(schema: unknown): unknown {
    const { $schema, $id, $defs, ...rest } = schema as Record<string, unknown>;
    void [$schema, $id, $defs];
    return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${SCHEMA_REF}`));
}

const BODY_OF: Record<string, BodyKind> = {
    'post /officeConfiguration/clientConfigurations/{configurationId}/assignments': 'create',
    'patch /officeConfiguration/clientConfigurations/{configurationId}/assignments/{assignmentId}': 'update',
    'post /officeConfiguration/clientConfigurations/{configurationId}/assign': 'assign',
    'post /officeConfiguration/clientConfigurations/{configurationId}/microsoft.graph.assign': 'assign',
};

describe('OpenAPI description', () => {
    it('is a valid OpenAPI 3.1 document', async () => {
        const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
        expect(result.valid, compileErrors(result)).toBe(true);
        expect(doc.openapi).toMatch(/^3\.1\./);
    });

    it('the validator itself rejects a broken variant (so the check above can fail)', async () => {
        const broken = structuredClone(doc);
        broken.paths['/officeConfiguration/clientConfigurations/{configurationId}/assign'] = {
            post: { responses: { '200': { description: 'x' } } },
        };
        const result = await validate(broken as unknown as Parameters<typeof validate>[0]);
        expect(result.valid).toBe(false);
    });

    it('publishes as request bodies the very schemas lib/validation compiled, $defs moved to components', () => {
        const withBody = operations().filter(({ operation }) => operation.requestBody);
        expect(withBody.map(({ path, method }) => `${method} ${path}`).sort()).toEqual(Object.keys(BODY_OF).sort());
        for (const { path, method, operation } of withBody) {
            const kind = BODY_OF[`${method} ${path}`]!;
            const reference = operation.requestBody!.content['application/json']!.schema.$ref;
            expect(componentOf(reference), `${method} ${path}`).toEqual(asComponent(bodySchema(kind)));
        }
        expect(new Set(Object.values(BODY_OF))).toEqual(new Set(BODY_KINDS));
        for (const kind of BODY_KINDS) {
            const { $defs } = bodySchema(kind) as { $defs: Record<string, unknown> };
            for (const [name, definition] of Object.entries($defs)) {
                expect(doc.components.schemas[name], name).toEqual(asComponent(definition));
            }
        }
    });

    it("accepts and refuses the same bodies as the service's validator", () => {
        const ajv = new Ajv2020({ strict: false, discriminator: true, allErrors: true });
        ajv.addFormat('uuid', new RegExp(GUID_PATTERN));
        ajv.addSchema({ $id: 'https://openapi.test/doc', components: { schemas: doc.components.schemas } });
        const base = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };
        const group = {
            '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
            groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
        };
        const targets = [base, group, { ...group, groupId: 'x' }, { ...base, groupId: group.groupId }, {}, 'x'];
        const bodies = [
            {},
            [],
            { '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment', target: base },
            { id: 'ignored', target: group, '@odata.context': 'x' },
            { target: base, extra: 1 },
            ...targets.map((target) => ({ target })),
            { officeConfigurationAssignments: [] },
            ...targets.map((target) => ({ officeConfigurationAssignments: [{ target }] })),
            { officeConfigurationAssignments: Array.from({ length: 101 }, () => ({ target: base })) },
        ];
        const outcomes = new Set<boolean>();
        for (const { path, method, operation } of operations().filter((o) => o.operation.requestBody)) {
            const kind = BODY_OF[`${method} ${path}`]!;
            const reference = operation.requestBody!.content['application/json']!.schema.$ref;
            const fromDocument = ajv.getSchema(`https://openapi.test/doc${reference}`)!;
            for (const body of bodies) {
                const { valid } = validateBody(kind, body);
                outcomes.add(valid);
                expect(fromDocument(body), `${kind} ${JSON.stringify(body).slice(0, 80)}`).toBe(valid);
            }
        }
        expect(outcomes).toEqual(new Set([true, false]));
    });

    it('describes every route of the table and nothing else', () => {
        const described = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
        const served = routes
            .filter((route) => !route.template.includes('{*'))
            .flatMap((route) => Object.keys(route.operations).map((method) => `${method} /${route.template}`));
        expect(described.sort()).toEqual(served.sort());
        expect(new Set(operations().map(({ operation }) => operation.operationId)).size).toBe(described.length);
    });

    it('states the limits the service enforces, the server root and the bearer scheme', () => {
        const { parameters, securitySchemes } = doc.components;
        expect(parameters.top).toMatchObject({ name: '$top', in: 'query', schema: { minimum: 1, maximum: 999 } });
        expect(parameters.configurationId).toMatchObject({ in: 'path', schema: { minLength: 1, maxLength: 128 } });
        expect(parameters.assignmentId).toMatchObject({ in: 'path', schema: { format: 'uuid' } });
        expect(Object.values(parameters).map((p) => p.name)).toEqual(
            expect.arrayContaining(['$skiptoken', '$count', '$select', 'If-Match', 'Prefer']),
        );
        expect(doc.servers[0]).toMatchObject({ url: '{root}', variables: { root: { default: '/beta' } } });
        expect(securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
        const create = doc.paths['/officeConfiguration/clientConfigurations/{configurationId}/assignments']!
            .post as Operation;
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
