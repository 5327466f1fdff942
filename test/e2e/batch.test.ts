/**
 * Graph JSON batching over real HTTP: `POST /beta/$batch` answers each part as the route table answers it alone
 * (validation, limits, If-Match, idempotency, permissions, storage faults), orders parts by `dependsOn` (424 when a
 * dependency failed), and refuses a malformed batch whole, running none of it.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { MAX_BATCH_BODY_BYTES } from '../../lib/http/batch.js';
import { MAX_BODY_BYTES } from '../../lib/http/body.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { createAuthenticator } from '../../lib/platform/auth.js';
import { DEFAULT_READ_PERMISSION } from '../../lib/platform/config.js';
import type { Services } from '../../lib/platform/services.js';
import { AssignmentStore } from '../../lib/store/assignmentStore.js';
import { newConfiguration, newStoredConfiguration } from '../helpers/configurations.js';
import { type FaultyCosmos, startFaultyCosmos } from '../helpers/faultProxy.js';
import {
    expectGraphError,
    GUID,
    JSON_HEADERS,
    ODATA_CONTENT_TYPE,
    SEED_REQUEST_BODY,
    useTestApp,
} from '../helpers/host.js';
import { startTokenServer, type TokenServer } from '../helpers/tokens.js';

interface Part {
    id: string;
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
    dependsOn?: string[];
}

interface PartResponse {
    id: string;
    status: number;
    headers: Record<string, string>;
    body?: Record<string, unknown> & { value?: { id: string }[]; error?: { code: string; message: string } };
}

const SEED = JSON.parse(SEED_REQUEST_BODY) as unknown;
const GROUP_TARGET = {
    target: {
        '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
        groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    },
};
const assignments = (cfg: string) => `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
const createPart = (id: string, cfg: string, extra: Partial<Part> = {}): Part => ({
    id,
    method: 'POST',
    url: assignments(cfg),
    headers: JSON_HEADERS,
    body: SEED,
    ...extra,
});

function postBatch(root: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${root}/$batch`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
    });
}

/** A 200 batch: its parts' answers by id, each checked for the headers every answer carries. */
async function batchOf(response: Response): Promise<Map<string, PartResponse>> {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(ODATA_CONTENT_TYPE);
    const { responses } = (await response.json()) as { responses: PartResponse[] };
    const outerId = response.headers.get('request-id');
    const ids = new Set<string>();
    for (const part of responses) {
        expect(part.headers['request-id']).toMatch(GUID);
        expect(part.headers['request-id']).not.toBe(outerId);
        expect(part.headers['OData-Version']).toBe('4.0');
        ids.add(part.headers['request-id'] as string);
        if (part.status >= 400) {
            expect(part.body?.error?.code).toBeTruthy();
            expect((part.body?.error as { innerError?: Record<string, string> }).innerError?.['request-id']).toBe(
                part.headers['request-id'],
            );
        }
    }
    expect(ids.size).toBe(responses.length); // one request-id per part
    return new Map(responses.map((r) => [r.id, r]));
}

const part = (answers: Map<string, PartResponse>, id: string): PartResponse => {
    const found = answers.get(id);
    expect(found, `answer for '${id}'`).toBeDefined();
    return found as PartResponse;
};

describe('$batch over HTTP', () => {
    const app = useTestApp();

    async function createOne(cfg: string): Promise<{ id: string; etag: string }> {
        const response = await fetch(app.assignmentsUrl(cfg), {
            method: 'POST',
            headers: JSON_HEADERS,
            body: SEED_REQUEST_BODY,
        });
        expect(response.status).toBe(201);
        return { id: ((await response.json()) as { id: string }).id, etag: response.headers.get('etag') ?? '' };
    }

    it('mixes creates, reads, a PATCH with If-Match, a failing request and its dependents (424, not run)', async () => {
        const cfg = await newConfiguration(app.root);
        const other = await newConfiguration(app.root);
        const existing = await createOne(cfg);
        const one = `${assignments(cfg)}/${existing.id}`;
        const response = await postBatch(app.root, {
            requests: [
                createPart('c1', cfg),
                createPart('c2', cfg, { body: GROUP_TARGET, headers: { ...JSON_HEADERS, 'Idempotency-Key': 'k-1' } }),
                { id: 'get', method: 'GET', url: one },
                {
                    id: 'patch',
                    method: 'PATCH',
                    url: one,
                    dependsOn: ['get'],
                    headers: { ...JSON_HEADERS, 'If-Match': existing.etag, Prefer: 'return=representation' },
                    body: GROUP_TARGET,
                },
                // Stale by then: the PATCH it waits for changed the ETag.
                {
                    id: 'stale',
                    method: 'DELETE',
                    url: one,
                    dependsOn: ['patch'],
                    headers: { 'If-Match': existing.etag },
                },
                createPart('after-stale', other, { dependsOn: ['stale'] }),
                createPart('after-after', other, { dependsOn: ['after-stale'] }),
                {
                    id: 'list',
                    method: 'GET',
                    url: `${assignments(cfg)}?$count=true`,
                    dependsOn: ['c1', 'C2'], // ids match whatever their case
                    headers: { 'client-request-id': 'mine-1' },
                },
            ],
        });
        const answers = await batchOf(response);
        expect([...answers.keys()]).toEqual([
            'c1',
            'c2',
            'get',
            'patch',
            'stale',
            'after-stale',
            'after-after',
            'list',
        ]);

        const c1 = part(answers, 'c1');
        expect(c1.status).toBe(201);
        expect(c1.headers.Location).toBe(`${app.root}${assignments(cfg)}/${String(c1.body?.id)}`);
        expect(c1.headers.ETag).toBeTruthy();
        expect(c1.body?.['@odata.context']).toBe(
            `${app.root}/$metadata#officeConfiguration/clientConfigurations('${cfg}')/assignments/$entity`,
        );
        expect(part(answers, 'c2').status).toBe(201);
        expect(part(answers, 'get').status).toBe(200);
        expect(part(answers, 'get').body?.id).toBe(existing.id);
        const patched = part(answers, 'patch');
        expect(patched.status).toBe(200);
        expect(patched.headers['Preference-Applied']).toBe('return=representation');
        expect(patched.body?.target).toEqual(GROUP_TARGET.target);
        expect(part(answers, 'stale').status).toBe(412);
        expect(part(answers, 'stale').body?.error?.code).toBe('PreconditionFailed');
        for (const id of ['after-stale', 'after-after']) {
            expect(part(answers, id).status).toBe(424);
            expect(part(answers, id).body?.error?.code).toBe('FailedDependency');
        }
        const list = part(answers, 'list');
        expect(list.status).toBe(200);
        expect(list.headers['client-request-id']).toBe('mine-1');
        expect(list.body?.['@odata.count']).toBe(3);

        // What each part did stands on its own (no batch-wide atomicity); the dependents of the failure did nothing.
        expect(await app.cosmos.documents(cfg)).toHaveLength(3);
        expect(await app.cosmos.documents(other)).toHaveLength(0);

        // The Idempotency-Key inside the batch is the same key as outside it: a retry replays the first answer.
        const replay = await fetch(app.assignmentsUrl(cfg), {
            method: 'POST',
            headers: { ...JSON_HEADERS, 'Idempotency-Key': 'k-1' },
            body: JSON.stringify(GROUP_TARGET),
        });
        expect(replay.status).toBe(201);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(((await replay.json()) as { id: string }).id).toBe(part(answers, 'c2').body?.id);
    });

    it('runs every part through the route table: validation, 404, 405, the body limit of a single request', async () => {
        const cfg = await newConfiguration(app.root);
        const big = { target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' }, pad: 'x' };
        big.pad = 'x'.repeat(MAX_BODY_BYTES);
        const answers = await batchOf(
            await postBatch(app.root, {
                requests: [
                    createPart('invalid', cfg, { body: { target: { '@odata.type': 'nope' } } }),
                    createPart('no-type', cfg, { headers: {} }),
                    createPart('too-large', cfg, { body: big }),
                    { id: 'missing', method: 'GET', url: `${assignments(cfg)}/${randomUUID()}` },
                    { id: 'put', method: 'PUT', url: assignments(cfg), headers: JSON_HEADERS, body: SEED },
                    { id: 'unknown', method: 'GET', url: '/officeConfiguration/nothingHere' },
                    { id: 'metadata', method: 'GET', url: '/$metadata' },
                ],
            }),
        );
        expect(part(answers, 'invalid').status).toBe(400);
        expect(part(answers, 'no-type').status).toBe(415);
        // The same refusal as a request sent alone without the header: the part carries no type the client never sent.
        expect(part(answers, 'no-type').body?.error?.message).toBe(
            "Write requests must carry the header 'Content-Type: application/json'.",
        );
        expect(part(answers, 'too-large').status).toBe(413);
        expect(part(answers, 'missing').status).toBe(404);
        expect(part(answers, 'put').status).toBe(405);
        expect(part(answers, 'put').headers.Allow).toBe('GET, POST');
        expect(part(answers, 'unknown').status).toBe(400);
        expect(part(answers, 'unknown').body?.error?.message).toMatch(/nothingHere/);
        // A body that is not JSON comes back base64-encoded, as Graph writes it.
        const metadata = part(answers, 'metadata');
        expect(metadata.status).toBe(200);
        expect(Buffer.from(metadata.body as unknown as string, 'base64').toString()).toMatch(/^<\?xml/);
        expect(await app.cosmos.documents(cfg)).toHaveLength(0);
    });

    it('refuses a URL that is not relative to the service root, per part, and runs the others', async () => {
        const cfg = await newConfiguration(app.root);
        const bad = [
            `http://evil.example/beta${assignments(cfg)}`,
            `//evil.example${assignments(cfg)}`,
            `/../beta${assignments(cfg)}`,
            `/officeConfiguration/%2e%2e/%2E%2E/x`,
            `${assignments(cfg)}#fragment`,
            `/officeConfiguration/clientConfigurations/a b/assignments`,
            `\\officeConfiguration`,
            `/${'a'.repeat(2100)}`,
        ];
        const answers = await batchOf(
            await postBatch(app.root, {
                requests: [
                    ...bad.map((url, i) => createPart(`bad-${i}`, cfg, { url })),
                    // Relative to the service root means without /beta: that is a segment the root does not have.
                    createPart('beta', cfg, { url: `/beta${assignments(cfg)}` }),
                    createPart('token', cfg, { headers: { ...JSON_HEADERS, Authorization: 'Bearer other' } }),
                    createPart('get-body', cfg, { method: 'GET' }),
                    createPart('good', cfg, { url: assignments(cfg).slice(1) }),
                ],
            }),
        );
        bad.forEach((_, i) => {
            expect(part(answers, `bad-${i}`).status, bad[i]).toBe(400);
            expect(part(answers, `bad-${i}`).body?.error?.message).toMatch(/url/);
        });
        expect(part(answers, 'beta').status).toBe(400);
        expect(part(answers, 'beta').body?.error?.message).toMatch(/segment 'beta'/);
        expect(part(answers, 'token').status).toBe(400);
        expect(part(answers, 'token').body?.error?.message).toMatch(/Authorization/);
        expect(part(answers, 'get-body').status).toBe(400);
        expect(part(answers, 'good').status).toBe(201);
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
    });

    it('carries a body of another media type base64-encoded both ways, as Graph does: a payload PUT and its GET', async () => {
        const cfg = await newConfiguration(app.root);
        const payload = `/officeConfiguration/clientConfigurations/${cfg}/policyPayload`;
        const bytes = Buffer.from('<policy>\u00e9</policy>', 'utf8');
        const answers = await batchOf(
            await postBatch(app.root, {
                requests: [
                    {
                        id: 'put',
                        method: 'PUT',
                        url: payload,
                        headers: { 'Content-Type': 'application/xml' },
                        body: bytes.toString('base64'),
                    },
                    { id: 'get', method: 'GET', url: payload, dependsOn: ['put'] },
                    {
                        id: 'not-base64',
                        method: 'PUT',
                        url: payload,
                        headers: { 'Content-Type': 'text/plain' },
                        body: 'plain text, not base64',
                    },
                ],
            }),
        );
        expect(part(answers, 'put').status).toBe(204);
        expect(part(answers, 'get').status).toBe(200);
        expect(part(answers, 'get').body).toBe(bytes.toString('base64'));
        expect(part(answers, 'not-base64').status).toBe(400);
        // Sent alone, the same bytes come back: the batch stored what it was given, not its JSON spelling.
        const alone = await fetch(`${app.root}${payload}`);
        expect(Buffer.from(await alone.arrayBuffer())).toEqual(bytes);
        expect(alone.headers.get('content-type')).toBe('application/xml');
    });

    it('takes bodies nested too deeply to re-serialise, and dependsOn lists of repeats, as what they are', async () => {
        const cfg = await newConfiguration(app.root);
        const depth = 100_000;
        const text =
            `{"requests":[{"id":"deep","method":"POST","url":"${assignments(cfg)}",` +
            `"headers":{"Content-Type":"application/json"},"body":${'['.repeat(depth)}${']'.repeat(depth)}},` +
            `{"id":"repeats","method":"GET","url":"${assignments(cfg)}",` +
            `"dependsOn":[${Array.from({ length: 100_000 }, () => '"first"').join(',')}]},` +
            `{"id":"first","method":"POST","url":"${assignments(cfg)}",` +
            `"headers":{"Content-Type":"application/json"},"body":${SEED_REQUEST_BODY}}]}`;
        expect(text.length).toBeLessThan(MAX_BATCH_BODY_BYTES);
        const answers = await batchOf(await postBatch(app.root, text));
        expect(part(answers, 'deep').status).toBe(400);
        expect(part(answers, 'deep').body?.error?.message).toMatch(/nested too deeply/);
        expect(part(answers, 'first').status).toBe(201);
        expect(part(answers, 'repeats').status).toBe(200);
        expect(part(answers, 'repeats').body?.value).toHaveLength(1);
    });

    describe('a malformed batch is a 400 that names the problem, and nothing of it runs', () => {
        const cases: [string, (cfg: string) => unknown, RegExp][] = [
            [
                '21 requests',
                (cfg) => ({ requests: Array.from({ length: 21 }, (_, i) => createPart(String(i), cfg)) }),
                /21 requests; at most 20/,
            ],
            ['no requests', () => ({ requests: [] }), /no requests/],
            ['no requests array', () => ({ request: [] }), /'requests' array/],
            ['an unknown property', (cfg) => ({ requests: [createPart('1', cfg)], atomic: true }), /'atomic'/],
            [
                'ids that differ only in case',
                (cfg) => ({ requests: [createPart('a', cfg), createPart('A', cfg)] }),
                /'A' is used by more than one/,
            ],
            [
                'a nested $batch',
                (cfg) => ({ requests: [createPart('1', cfg), { id: '2', method: 'POST', url: '/%24batch' }] }),
                /'2' is a \$batch/,
            ],
            [
                'a dependency not in the batch',
                (cfg) => ({ requests: [createPart('1', cfg, { dependsOn: ['9'] })] }),
                /depends on '9', which is not in the batch/,
            ],
            [
                'a cycle',
                (cfg) => ({
                    requests: [
                        createPart('1', cfg),
                        createPart('2', cfg, { dependsOn: ['3'] }),
                        createPart('3', cfg, { dependsOn: ['2'] }),
                    ],
                }),
                /'2', '3' form a cycle/,
            ],
            [
                'a request that depends on itself',
                (cfg) => ({ requests: [createPart('1', cfg, { dependsOn: ['1'] })] }),
                /'1' form a cycle/,
            ],
            ['a request without a method', (cfg) => ({ requests: [{ id: '1', url: assignments(cfg) }] }), /'method'/],
            ['a request without an id', (cfg) => ({ requests: [{ method: 'GET', url: assignments(cfg) }] }), /'id'/],
            [
                'headers that are not strings',
                (cfg) => ({ requests: [createPart('1', cfg, { headers: { 'Content-Type': 1 } as never })] }),
                /'headers'/,
            ],
            ['not JSON', () => '{"requests":[', /not valid JSON/],
        ];
        it.each(cases)('%s', async (_, body, message) => {
            const cfg = await newConfiguration(app.root);
            const response = await postBatch(app.root, body(cfg));
            const error = await expectGraphError(response, 400, 'BadRequest', expect);
            expect(error.error.message).toMatch(message);
            expect(await app.cosmos.documents(cfg)).toHaveLength(0);
        });

        it('a body over the cap is a 413 before it is parsed, and other media types a 415', async () => {
            const cfg = await newConfiguration(app.root);
            const padding = 'x'.repeat(MAX_BATCH_BODY_BYTES);
            const tooLarge = await postBatch(app.root, { requests: [createPart('1', cfg, { body: { padding } })] });
            const error = await expectGraphError(tooLarge, 413, 'RequestEntityTooLarge', expect);
            expect(error.error.message).toMatch(String(MAX_BATCH_BODY_BYTES));
            const text = await fetch(`${app.root}/$batch`, {
                method: 'POST',
                headers: { 'Content-Type': 'text/plain' },
                body: JSON.stringify({ requests: [createPart('1', cfg)] }),
            });
            await expectGraphError(text, 415, 'UnsupportedMediaType', expect);
            await expectGraphError(await fetch(`${app.root}/$batch`), 405, 'MethodNotAllowed', expect);
            expect(await app.cosmos.documents(cfg)).toHaveLength(0);
        });
    });

    it('20 parts at the limit all run, and a part waits for its dependencies', async () => {
        const cfg = await newConfiguration(app.root);
        const answers = await batchOf(
            await postBatch(app.root, {
                requests: [
                    ...Array.from({ length: 19 }, (_, i) => createPart(`c${i}`, cfg)),
                    {
                        id: 'count',
                        method: 'GET',
                        url: `${assignments(cfg)}?$count=true&$top=1`,
                        dependsOn: ['c0', 'c18'],
                    },
                ],
            }),
        );
        expect([...answers.values()].filter((a) => a.status === 201)).toHaveLength(19);
        // Both its dependencies were stored before the count ran.
        expect(part(answers, 'count').body?.['@odata.count']).toBeGreaterThanOrEqual(2);
        expect(await app.cosmos.documents(cfg)).toHaveLength(19);
    });
});

describe('$batch with Entra ID tokens', () => {
    let idp: TokenServer;
    let host: LocalHost;
    const app = useTestApp();

    beforeAll(async () => {
        idp = await startTokenServer();
        const authenticator = createAuthenticator(idp.settings, { logger: app.cosmos.services.logger });
        host = await startLocalHost({ routes, services: { ...app.cosmos.services, authenticator } });
    });
    afterAll(async () => {
        await host.close();
        await idp.close();
    });

    it('authorises each part by the batch token: a read-only token reads (200) and is refused a write (403)', async () => {
        const root = `${host.origin}/beta`;
        const reader = await idp.appToken([DEFAULT_READ_PERMISSION]);
        const cfg = await newStoredConfiguration(app.cosmos.services.store);
        const answers = await batchOf(
            await postBatch(
                root,
                {
                    requests: [
                        { id: 'list', method: 'GET', url: assignments(cfg) },
                        createPart('create', cfg),
                        createPart('after', cfg, { dependsOn: ['create'] }),
                    ],
                },
                { Authorization: `Bearer ${reader}` },
            ),
        );
        expect(part(answers, 'list').status).toBe(200);
        expect(part(answers, 'create').status).toBe(403);
        expect(part(answers, 'create').body?.error?.code).toBe('Authorization_RequestDenied');
        expect(part(answers, 'after').status).toBe(424);
        expect(await app.cosmos.documents(cfg)).toHaveLength(0);

        const writer = await idp.appToken();
        const written = await batchOf(
            await postBatch(root, { requests: [createPart('create', cfg)] }, { Authorization: `Bearer ${writer}` }),
        );
        expect(part(written, 'create').status).toBe(201);
    });

    it('a batch without a valid token is a 401, before its body is read', async () => {
        const root = `${host.origin}/beta`;
        const cfg = await newStoredConfiguration(app.cosmos.services.store);
        const response = await postBatch(root, { requests: [createPart('create', cfg)] });
        await expectGraphError(response, 401, 'InvalidAuthenticationToken', expect);
        const forged = await postBatch(
            root,
            { requests: [createPart('create', cfg)] },
            { Authorization: 'Bearer not.a-jwt' },
        );
        await expectGraphError(forged, 401, 'InvalidAuthenticationToken', expect);
        expect(await app.cosmos.documents(cfg)).toHaveLength(0);
    });
});

describe('$batch under storage faults', () => {
    let faulty: FaultyCosmos;
    let host: LocalHost;
    const services = (): Services => ({
        store: new AssignmentStore(() => Promise.resolve(faulty.opened.container)),
        clock: () => new Date(),
        logger: { info: () => {}, warn: () => {}, error: () => {} },
        requestBudgetMs: 1500,
    });

    beforeAll(async () => {
        faulty = await startFaultyCosmos({ requestTimeoutMs: 60_000 });
        host = await startLocalHost({ routes, services: services() });
    });
    afterAll(async () => {
        await host.close();
        await faulty.close();
    });

    it('a throttled store is a 429 with Retry-After on the writes, inside a 200 batch whose reads succeed', async () => {
        const root = `${host.origin}/beta`;
        const cfg = await newConfiguration(root);
        faulty.fault = { kind: 'throttle', retryAfterMs: 20, on: 'writes' };
        let answers: Map<string, PartResponse>;
        try {
            answers = await batchOf(
                await postBatch(root, {
                    requests: [createPart('create', cfg), { id: 'list', method: 'GET', url: assignments(cfg) }],
                }),
            );
        } finally {
            faulty.fault = { kind: 'none' };
        }
        expect(part(answers, 'create').status).toBe(429);
        expect(part(answers, 'create').headers['Retry-After']).toBe('1');
        expect(part(answers, 'list').status).toBe(200);
    });

    it('a hung store is a 503 with Retry-After within the batch budget; parts left without time are 503s, not run', async () => {
        const root = `${host.origin}/beta`;
        const cfg = await newConfiguration(root);
        faulty.fault = { kind: 'hang', on: 'writes' };
        let answers: Map<string, PartResponse>;
        try {
            answers = await batchOf(
                await postBatch(root, {
                    requests: [
                        ...Array.from({ length: 5 }, (_, i) => createPart(`c${i}`, cfg)),
                        { id: 'list', method: 'GET', url: assignments(cfg) },
                        // Waits for a part that ends in a 503: failed dependency.
                        { id: 'after', method: 'GET', url: assignments(cfg), dependsOn: ['c0'] },
                    ],
                }),
            );
        } finally {
            faulty.fault = { kind: 'none' };
        }
        for (let i = 0; i < 5; i += 1) {
            expect(part(answers, `c${i}`).status).toBe(503);
            expect(Number(part(answers, `c${i}`).headers['Retry-After'])).toBeGreaterThan(0);
        }
        // Four creates took the whole 1.5 s budget; the read after them had none left and was answered, not run.
        expect(part(answers, 'list').status).toBe(503);
        expect(part(answers, 'after').status).toBe(424);
    });
});
