/**
 * Property-based: bodies, paths, query strings and headers generated around the schema, sent over real HTTP. Every
 * answer is a 2xx or a Graph-shaped 4xx, never a 5xx, and a refused request stores nothing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { BASE_TARGET_TYPE, GROUP_TARGET_TYPE } from '../../lib/graph/schema.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { useTestApp } from '../helpers/host.js';

const app = useTestApp();

/** Two configurations the generated requests address (made in beforeAll; the arbitraries are built before). */
const FUZZ_CONFIGURATIONS = ['5f0c2d1e-7a3b-4c8d-9e1f-0a2b3c4d5e6f', '6a1d3e2f-8b4c-4d9e-8f20-1b3c4d5e6f70'];
beforeAll(async () => {
    for (const id of FUZZ_CONFIGURATIONS) {
        await newStoredConfiguration(app.cosmos.services.store, id);
    }
});

async function totalStored(): Promise<number> {
    const { resources } = await app.cosmos.container.items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
    return resources[0] ?? 0;
}

const typeName = (name: string) => fc.constantFrom(name, `#${name}`, name.toUpperCase(), `${name}x`, '');
const target = fc.oneof(
    fc.record({ '@odata.type': typeName(BASE_TARGET_TYPE) }),
    fc.record(
        {
            '@odata.type': typeName(GROUP_TARGET_TYPE),
            groupId: fc.oneof(fc.uuid(), fc.string(), fc.integer(), fc.constant(null)),
        },
        { requiredKeys: ['@odata.type'] },
    ),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 2 }),
);
const assignment = fc.record(
    {
        '@odata.type': fc.oneof(typeName('microsoft.graph.officeClientConfigurationAssignment'), fc.string()),
        id: fc.oneof(fc.uuid(), fc.string(), fc.integer()),
        target,
        '@odata.context': fc.string(),
        extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
);
const body = fc.oneof(
    assignment.map((a) => JSON.stringify(a)),
    fc
        .array(assignment, { maxLength: 4 })
        .map((items) => JSON.stringify({ officeConfigurationAssignments: items.map((a) => ({ target: a.target })) })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
    fc.constant(''),
);

const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019 -_.~!$&'()*+,;=:@%/\\?#".split('')), maxLength: 20 });
const segment = fc.oneof(
    fc.constantFrom(...FUZZ_CONFIGURATIONS),
    printable.map((s) => encodeURIComponent(s)),
    printable,
    fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => encodeURIComponent(s)),
    fc.constant('x'.repeat(129)),
);
const tail = fc.oneof(
    fc.constant('assignments'),
    fc.constant('assign'),
    fc.constant('microsoft.graph.assign'),
    fc.uuid().map((id) => `assignments/${id}`),
    printable.map((s) => `assignments/${encodeURIComponent(s)}`),
    printable.map((s) => encodeURIComponent(s)),
);
const query = fc
    .array(
        fc.tuple(
            fc.constantFrom(
                '$top',
                'top',
                '$skiptoken',
                '$count',
                '$select',
                '$filter',
                '$orderby',
                '$expand',
                'custom',
                '$x',
            ),
            fc.oneof(
                fc.constantFrom('1', '100', '999', '1000', '0', '-1', 'true', 'id,target', 'id', 'nope'),
                printable,
            ),
        ),
        { maxLength: 3 },
    )
    .map((pairs) => new URLSearchParams(pairs).toString());
const headers = fc.record(
    {
        'content-type': fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'APPLICATION/JSON',
            'text/plain',
            'application/xml',
            'multipart/form-data',
        ),
        'if-match': fc.oneof(fc.constant('*'), fc.constant('"x"'), printable),
        prefer: fc.constantFrom('return=representation', 'return=minimal', 'odata.maxpagesize=1'),
        'client-request-id': printable,
        'idempotency-key': printable,
    },
    { requiredKeys: [] },
);
const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT');

/**
 * A fifth of the runs are well-formed creates with a generated target: random requests alone are nearly all
 * refused, and the property must also see the service accept (and store) what it should.
 */
const validTarget = fc.oneof(
    fc.record({ '@odata.type': fc.constantFrom(BASE_TARGET_TYPE, `#${BASE_TARGET_TYPE}`) }),
    fc.record({ '@odata.type': fc.constantFrom(GROUP_TARGET_TYPE, `#${GROUP_TARGET_TYPE}`), groupId: fc.uuid() }),
);
const request = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(method, segment, tail, query, headers, body) },
    {
        weight: 1,
        arbitrary: fc.tuple(
            fc.constant('POST'),
            fc.constantFrom(...FUZZ_CONFIGURATIONS),
            fc.constant('assignments'),
            fc.constant(''),
            fc.constant({ 'content-type': 'application/json' }),
            validTarget.map((target) => JSON.stringify({ target })),
        ),
    },
);

/** `FUZZ_RUNS=5000` runs longer: the test's time limit grows with the runs (a run takes a few ms; 50 ms leaves room). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const TIMEOUT_MS = 30_000 + RUNS * 50;

describe('fuzzing', () => {
    it(
        'answers every generated request with a 2xx or a Graph-shaped 4xx, and stores nothing it refused',
        { timeout: TIMEOUT_MS },
        async () => {
            const seen = { accepted: 0, refused: 0 };
            await fc.assert(
                fc.asyncProperty(request, async ([verb, cfg, rest, search, sent, payload]) => {
                    const url = `${app.root}/officeConfiguration/clientConfigurations/${cfg}/${rest}${search ? `?${search}` : ''}`;
                    const before = await totalStored();
                    const response = await fetch(url, {
                        method: verb,
                        headers: sent,
                        ...(verb === 'GET' ? {} : { body: payload }),
                    });
                    const text = await response.text();
                    expect(response.status, `${verb} ${url} ${text}`).toBeLessThan(500);
                    seen[response.status < 400 ? 'accepted' : 'refused'] += 1;
                    if (response.status >= 400) {
                        const error = (
                            JSON.parse(text) as { error: { code: string; message: string; innerError: object } }
                        ).error;
                        expect(typeof error.code).toBe('string');
                        expect(typeof error.message).toBe('string');
                        expect(error.innerError).toHaveProperty('request-id', response.headers.get('request-id'));
                        expect(await totalStored(), `${verb} ${url} → ${response.status} stored something`).toBe(
                            before,
                        );
                    }
                }),
                { numRuns: RUNS },
            );
            // The generators reach both sides of the validator, or the property would say little.
            expect(seen.accepted).toBeGreaterThan(0);
            expect(seen.refused).toBeGreaterThan(0);
        },
    );
});
