/**
 * `GET /officeConfiguration` and its `$select`: only the selected properties come back, the context URL names them
 * as Graph writes it, and a property the singleton does not have is a 400 that names it. The OpenAPI description
 * offers exactly the singleton's properties of the CSDL.
 */
import { describe, expect, it } from 'vitest';

import { CSDL_XML } from '../../../lib/graph/csdl.js';
import { GraphError } from '../../../lib/graph/errors.js';
import { OFFICE_CONFIGURATION_TYPE } from '../../../lib/graph/schema.js';
import type { OperationCall } from '../../../lib/http/pipeline.js';
import { getOfficeConfiguration } from '../../../lib/resources/officeConfiguration.js';
import { openApiDocument } from '../../../lib/resources/openapi.js';

const ROOT = 'https://graph.example/beta';
const CONTEXT = `${ROOT}/$metadata#officeConfiguration`;
const TYPE = `#${OFFICE_CONFIGURATION_TYPE}`;
const SUMMARY = { failedUserCount: 0, succeededUserCount: 0 };

async function get(query: string): Promise<unknown> {
    const call = { query: new URLSearchParams(query), root: ROOT } as unknown as OperationCall;
    const result = await getOfficeConfiguration(call);
    expect(result.status).toBe(200);
    return result.body;
}

async function refusal(query: string): Promise<GraphError> {
    const call = { query: new URLSearchParams(query), root: ROOT } as unknown as OperationCall;
    const error = await getOfficeConfiguration(call).then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
}

describe('GET /officeConfiguration', () => {
    it('answers every property without $select', async () => {
        expect(await get('')).toEqual({
            '@odata.context': CONTEXT,
            '@odata.type': TYPE,
            tenantCheckinStatuses: [],
            tenantUserCheckinSummary: SUMMARY,
        });
    });

    it('answers only the selected property, and says so in the context', async () => {
        expect(await get('$select=tenantCheckinStatuses')).toEqual({
            '@odata.context': `${CONTEXT}(tenantCheckinStatuses)`,
            '@odata.type': TYPE,
            tenantCheckinStatuses: [],
        });
        expect(await get('$select=tenantUserCheckinSummary')).toEqual({
            '@odata.context': `${CONTEXT}(tenantUserCheckinSummary)`,
            '@odata.type': TYPE,
            tenantUserCheckinSummary: SUMMARY,
        });
    });

    it('answers both when both are selected, comma-separated, named as Graph names them', async () => {
        expect(await get('$select=tenantUserCheckinSummary, TENANTCHECKINSTATUSES')).toEqual({
            '@odata.context': `${CONTEXT}(tenantUserCheckinSummary,tenantCheckinStatuses)`,
            '@odata.type': TYPE,
            tenantCheckinStatuses: [],
            tenantUserCheckinSummary: SUMMARY,
        });
        // Without `$`, as Graph's beta endpoint accepts every system query option.
        expect(await get('select=tenantCheckinStatuses')).toEqual({
            '@odata.context': `${CONTEXT}(tenantCheckinStatuses)`,
            '@odata.type': TYPE,
            tenantCheckinStatuses: [],
        });
    });

    it('accepts the navigation property, which without $expand adds nothing', async () => {
        expect(await get('$select=clientConfigurations')).toEqual({
            '@odata.context': `${CONTEXT}(clientConfigurations)`,
            '@odata.type': TYPE,
        });
    });

    it('refuses a property the singleton does not have with a 400 that names it', async () => {
        for (const name of ['displayName', 'id', 'checkinStatuses']) {
            const error = await refusal(`$select=tenantCheckinStatuses,${name}`);
            expect(error.status).toBe(400);
            expect(error.code).toBe('BadRequest');
            expect(error.message).toBe(
                `Could not find a property named '${name}' on type '${OFFICE_CONFIGURATION_TYPE}'.`,
            );
        }
    });

    it('refuses a $select given twice, and the collection options', async () => {
        expect((await refusal('$select=tenantCheckinStatuses&$select=tenantUserCheckinSummary')).status).toBe(400);
        expect((await refusal('$top=1')).status).toBe(400);
    });
});

describe('the OpenAPI description of GET /officeConfiguration', () => {
    interface Parameter {
        name: string;
        schema: { items: { enum: string[] } };
    }
    const doc = openApiDocument() as {
        paths: Record<string, { get: { parameters?: { $ref: string }[]; responses: Record<string, unknown> } }>;
        components: { parameters: Record<string, Parameter> };
    };
    const operation = doc.paths['/officeConfiguration']!.get;
    const parameters = (operation.parameters ?? []).map(
        (p) => doc.components.parameters[p.$ref.replace('#/components/parameters/', '')]!,
    );

    it('accepts $select, of the properties and navigation property the CSDL gives officeConfiguration', () => {
        const select = parameters.find((p) => p.name === '$select');
        expect(select).toBeDefined();
        const entity = /<EntityType Name="officeConfiguration">([\s\S]*?)<\/EntityType>/.exec(CSDL_XML)?.[1] ?? '';
        const declared = [...entity.matchAll(/<(?:Navigation)?Property Name="(\w+)"/g)].map((m) => m[1]);
        expect([...(select?.schema.items.enum ?? [])].sort()).toEqual(declared.sort());
        expect(Object.keys(operation.responses)).toContain('400');
    });
});
