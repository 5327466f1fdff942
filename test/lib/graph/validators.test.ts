/**
 * The validators generated at build time (scripts/build-validators.ts → lib/generated/validators.js): current with
 * lib/graph/schema, self-contained, and judging every body exactly as ajv compiling the same schemas at run time does,
 * errors included (lib/graph/validation turns those into Graph error details).
 */
import { readFile } from 'node:fs/promises';

import type { ErrorObject, ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import * as generated from '../../../lib/graph/generated/validators.js';
import {
    ASSIGNMENT_TYPE,
    BASE_TARGET_TYPE,
    type BodyKind,
    bodySchemas,
    GROUP_TARGET_TYPE,
} from '../../../lib/graph/schema.js';
import { createAjv, validatorsSource } from '../../../scripts/build-validators.js';

const GENERATED = new URL('../../../lib/graph/generated/validators.js', import.meta.url);

const compiled: Record<BodyKind, ValidateFunction> = (() => {
    const ajv = createAjv();
    return {
        create: ajv.compile(bodySchemas.create),
        update: ajv.compile(bodySchemas.update),
        assign: ajv.compile(bodySchemas.assign),
        createConfiguration: ajv.compile(bodySchemas.createConfiguration),
        updateConfiguration: ajv.compile(bodySchemas.updateConfiguration),
        updatePriorities: ajv.compile(bodySchemas.updatePriorities),
        createSubscription: ajv.compile(bodySchemas.createSubscription),
        updateSubscription: ajv.compile(bodySchemas.updateSubscription),
    };
})();

/** What lib/graph/validation reads of an error. */
const comparable = (errors: ErrorObject[] | null | undefined) =>
    (errors ?? []).map((e) => ({
        keyword: e.keyword,
        instancePath: e.instancePath,
        params: e.params,
        title: (e.parentSchema as { title?: unknown } | undefined)?.title,
        data: e.data,
    }));

function judge(kind: BodyKind, body: unknown) {
    const validate = generated[kind];
    const valid = validate(body);
    return { valid, errors: valid ? [] : comparable(validate.errors) };
}

function reference(kind: BodyKind, body: unknown) {
    const valid = compiled[kind](body);
    return { valid, errors: valid ? [] : comparable(compiled[kind].errors) };
}

const groupId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const typeName = (name: string) => fc.constantFrom(name, `#${name}`, name.toUpperCase(), `${name}x`, '');
const target = fc.oneof(
    fc.record({ '@odata.type': typeName(BASE_TARGET_TYPE), '@odata.context': fc.string() }, { requiredKeys: [] }),
    fc.record(
        {
            '@odata.type': typeName(GROUP_TARGET_TYPE),
            groupId: fc.oneof(
                fc.uuid(),
                fc.constant(`urn:uuid:${groupId}`),
                fc.string(),
                fc.integer(),
                fc.constant(null),
            ),
            other: fc.boolean(),
        },
        { requiredKeys: ['@odata.type'] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
);
const assignment = fc.record(
    {
        '@odata.type': fc.oneof(typeName(ASSIGNMENT_TYPE), fc.string()),
        id: fc.oneof(fc.uuid(), fc.integer()),
        target,
        'target@odata.type': fc.string(),
        extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
);
const body = fc.oneof(
    assignment,
    fc.record({ officeConfigurationAssignments: fc.array(assignment, { maxLength: 4 }) }),
    fc.jsonValue({ maxDepth: 3 }),
);

describe('the generated validators', () => {
    it('are what the build makes of the current schemas', async () => {
        expect(await readFile(GENERATED, 'utf8'), 'run `npm run build` to regenerate them').toBe(validatorsSource());
    });

    it('import nothing: ajv is not needed at run time', async () => {
        const source = await readFile(GENERATED, 'utf8');
        expect(source).not.toMatch(/\brequire\(|^\s*import\b|\bimport\(/m);
        expect(Object.keys(generated).sort()).toEqual(Object.keys(bodySchemas).sort());
    });

    it('keep the uuid format and the discriminator', () => {
        expect(judge('create', { target: { '@odata.type': GROUP_TARGET_TYPE, groupId } }).valid).toBe(true);
        expect(
            judge('create', { target: { '@odata.type': GROUP_TARGET_TYPE, groupId: `urn:uuid:${groupId}` } }),
        ).toEqual({
            valid: false,
            errors: [expect.objectContaining({ keyword: 'format', instancePath: '/target/groupId' })],
        });
        // One error for an unknown type, from the discriminator, not one per branch of the oneOf.
        expect(judge('create', { target: { '@odata.type': 'microsoft.graph.other' } }).errors).toEqual([
            expect.objectContaining({
                keyword: 'discriminator',
                params: expect.objectContaining({ error: 'mapping' }),
            }),
        ]);
    });

    it('judge any body as ajv compiling the schemas at run time does', () => {
        fc.assert(
            fc.property(fc.constantFrom<BodyKind>('create', 'update', 'assign'), body, (kind, value) => {
                expect(judge(kind, value)).toEqual(reference(kind, value));
            }),
            { numRuns: 500 },
        );
    });
});
