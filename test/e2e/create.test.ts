/**
 * POST .../assignments over real HTTP against the local host, storing into the embedded Cosmos DB.
 */
import { request as httpRequest } from 'node:http';

import { beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { startLocalHost } from '../../lib/http/localHost.js';
import { AssignmentStore } from '../../lib/store/assignmentStore.js';
import { configurationsByName } from '../helpers/configurations.js';
import {
    expectGraphError,
    GUID,
    JSON_HEADERS,
    ODATA_CONTENT_TYPE,
    SEED_REQUEST_BODY,
    useTestApp,
} from '../helpers/host.js';

const app = useTestApp();
const configuration = configurationsByName(() => app.root);

const post = (configurationId: string, body: string, headers: Record<string, string> = JSON_HEADERS) =>
    fetch(app.assignmentsUrl(configurationId), { method: 'POST', headers, body });

describe('create: the seed example', () => {
    it('answers 201 with the seed response shape, a new GUID and the OData headers', async () => {
        const response = await post(await configuration('seed'), SEED_REQUEST_BODY);
        expect(response.status).toBe(201);
        const body = (await response.json()) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual(['@odata.context', '@odata.type', 'id', 'target']);
        expect(body['@odata.context']).toBe(
            `${app.root}/$metadata#officeConfiguration/clientConfigurations('${await configuration('seed')}')/assignments/$entity`,
        );
        expect(body['@odata.type']).toBe('#microsoft.graph.officeClientConfigurationAssignment');
        expect(body.id).toMatch(GUID);
        // Sent without `#` (the seed's example echoes it so); Graph writes every @odata.type with it.
        expect(body.target).toEqual({ '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' });

        expect(response.headers.get('content-type')).toBe(ODATA_CONTENT_TYPE);
        expect(response.headers.get('odata-version')).toBe('4.0');
        expect(response.headers.get('location')).toBe(
            `${app.assignmentsUrl(await configuration('seed'))}/${String(body.id)}`,
        );
        const requestId = response.headers.get('request-id');
        expect(requestId).toMatch(GUID);
        expect(response.headers.get('client-request-id')).toBe(requestId);

        // The document is in Cosmos DB under the configuration's partition key, with the ETag the client was given.
        const { resource } = await app.cosmos.container.item(String(body.id), await configuration('seed')).read();
        // Stored as sent; the response spells the type as Graph does.
        expect(resource).toMatchObject({
            id: body.id,
            configurationId: await configuration('seed'),
            target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
        });
        expect(response.headers.get('etag')).toBe(`"${String(resource?._etag).replace(/"/g, '')}"`);
    });

    it('gives every assignment a new id, even when the body carries one', async () => {
        const ids = new Set<string>();
        for (let i = 0; i < 5; i++) {
            const body = JSON.stringify({ id: 'chosen-by-client', target: JSON.parse(SEED_REQUEST_BODY).target });
            const created = (await (await post(await configuration('ids'), body)).json()) as { id: string };
            expect(created.id).toMatch(GUID);
            ids.add(created.id);
        }
        expect(ids.size).toBe(5);
        expect(await app.cosmos.documents(await configuration('ids'))).toHaveLength(5);
    });

    it('echoes the client-request-id the client sent', async () => {
        const response = await post(await configuration('seed'), SEED_REQUEST_BODY, {
            ...JSON_HEADERS,
            'client-request-id': 'my-id-42',
        });
        expect(response.status).toBe(201);
        expect(response.headers.get('client-request-id')).toBe('my-id-42');
        expect(response.headers.get('request-id')).not.toBe('my-id-42');
    });
});

describe('create: target types', () => {
    it('stores a group target and returns it as sent', async () => {
        const target = {
            '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
            groupId: 'A1B2C3D4-0000-4000-8000-00000000000F',
        };
        const response = await post(await configuration('group'), JSON.stringify({ target }));
        expect(response.status).toBe(201);
        const body = (await response.json()) as { id: string; target: unknown };
        expect(body.target).toEqual(target);
        const { resource } = await app.cosmos.container.item(body.id, await configuration('group')).read();
        expect(resource?.target).toEqual(target);
    });

    it('accepts Content-Type parameters and annotations, and stores no annotation', async () => {
        const response = await post(
            await configuration('annotations'),
            JSON.stringify({
                '@odata.context': 'https://graph.microsoft.com/beta/$metadata#whatever',
                target: {
                    '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget',
                    '@odata.etag': 'W/"1"',
                },
            }),
            { 'Content-Type': 'application/json; charset=utf-8' },
        );
        expect(response.status).toBe(201);
        const body = (await response.json()) as { id: string; target: unknown };
        expect(body.target).toEqual({ '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' });
        const [document] = await app.cosmos.documents(await configuration('annotations'));
        expect(Object.keys(document ?? {}).filter((k) => !k.startsWith('_'))).toEqual([
            'id',
            'configurationId',
            'target',
        ]);
    });

    it('reads the configuration id in either case and uses it, lowercase, as the partition key', async () => {
        const id = await configuration('case');
        const response = await post(id.toUpperCase(), SEED_REQUEST_BODY);
        expect(response.status).toBe(201);
        const body = (await response.json()) as { '@odata.context': string; id: string };
        expect(body['@odata.context']).toContain(`clientConfigurations('${id}')`);
        expect(await app.cosmos.documents(id)).toHaveLength(1);
    });

    it('URL-decodes the configuration id once: a well-formed id of no configuration is a 404', async () => {
        const response = await post('config 1 (ü)', SEED_REQUEST_BODY);
        const body = await expectGraphError(response, 404, 'ResourceNotFound', expect);
        expect(body.error.message).toBe("The configuration 'config 1 (ü)' does not exist.");
        expect(await app.cosmos.documents('config 1 (ü)')).toEqual([]);
    });
});

describe('create: every error is Graph-shaped and stores nothing', () => {
    let cfg = '';
    beforeAll(async () => {
        cfg = await configuration('errors');
    });

    it('malformed JSON → 400', async () => {
        const body = await expectGraphError(await post(cfg, '{"target": '), 400, 'BadRequest', expect);
        expect(body.error.message).toBe('The request body is not valid JSON.');
    });

    it('an empty body → 400', async () => {
        await expectGraphError(await post(cfg, ''), 400, 'BadRequest', expect);
    });

    it('a JSON value that is not an object → 400', async () => {
        const body = await expectGraphError(await post(cfg, '[1,2]'), 400, 'BadRequest', expect);
        expect(body.error.details?.[0]?.code).toBe('InvalidType');
    });

    it('no Content-Type → 415', async () => {
        const response = await fetch(app.assignmentsUrl(cfg), {
            method: 'POST',
            body: new Blob([SEED_REQUEST_BODY]), // a Blob without a type: fetch sends no Content-Type
        });
        await expectGraphError(response, 415, 'UnsupportedMediaType', expect);
    });

    it('a Content-Type other than JSON → 415', async () => {
        for (const type of ['text/plain', 'application/xml', 'application/jsonx']) {
            const response = await post(cfg, SEED_REQUEST_BODY, { 'Content-Type': type });
            await expectGraphError(response, 415, 'UnsupportedMediaType', expect);
        }
    });

    it('a body over 64 KiB → 413, whether its length is declared or not', async () => {
        const big = JSON.stringify({ target: { '@odata.type': 'x', pad: 'x'.repeat(70_000) } });
        await expectGraphError(await post(cfg, big), 413, 'RequestEntityTooLarge', expect);

        // Chunked transfer: no Content-Length, the size is only known once read.
        const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            const url = new URL(app.assignmentsUrl(cfg));
            const req = httpRequest(
                url,
                { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } },
                (res) => {
                    let text = '';
                    res.on('data', (c: Buffer) => (text += c.toString()));
                    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
                },
            );
            req.on('error', reject);
            // 2 MB: far past the limit, and the client still gets its answer rather than a reset connection.
            for (let i = 0; i < 200; i++) {
                req.write('x'.repeat(10_000));
            }
            req.end();
        });
        expect(chunked.status).toBe(413);
        expect(JSON.parse(chunked.body).error.code).toBe('RequestEntityTooLarge');
    });

    it('a body of exactly 64 KiB is read and validated', async () => {
        const base = JSON.stringify({
            target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
        });
        const padded = base.replace(/}$/, `${' '.repeat(64 * 1024 - base.length)}}`);
        expect(Buffer.byteLength(padded)).toBe(64 * 1024);
        const response = await post(await configuration('exact'), padded);
        expect(response.status).toBe(201);
    });

    it('schema violations → 400 with one detail per violation', async () => {
        const cases: { body: unknown; targets: string[]; codes: string[] }[] = [
            { body: {}, targets: ['target'], codes: ['MissingProperty'] },
            { body: { target: 'group' }, targets: ['target'], codes: ['InvalidType'] },
            { body: { target: {} }, targets: ['target.@odata.type'], codes: ['MissingProperty'] },
            {
                body: { target: { '@odata.type': 'microsoft.graph.somethingElse' } },
                targets: ['target.@odata.type'],
                codes: ['InvalidValue'],
            },
            {
                body: { target: { '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget' } },
                targets: ['target.groupId'],
                codes: ['MissingProperty'],
            },
            {
                body: {
                    target: {
                        '@odata.type': 'microsoft.graph.officeConfigurationGroupAssignmentTarget',
                        groupId: 'urn:uuid:a1b2c3d4-0000-4000-8000-00000000000f',
                    },
                },
                targets: ['target.groupId'],
                codes: ['InvalidValue'],
            },
            {
                body: {
                    target: {
                        '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget',
                        groupId: GUID_VALUE,
                    },
                },
                targets: ['target.groupId'],
                codes: ['UnknownProperty'],
            },
            {
                body: { '@odata.type': '#microsoft.graph.officeClientConfiguration', target: SEED_TARGET },
                targets: ['@odata.type'],
                codes: ['InvalidValue'],
            },
            { body: { id: 7, target: SEED_TARGET }, targets: ['id'], codes: ['InvalidType'] },
            {
                body: { target: { '@odata.type': 5, groupId: 1 }, priority: 1, displayName: 'x' },
                targets: ['priority', 'displayName', 'target.@odata.type'],
                codes: ['UnknownProperty', 'UnknownProperty', 'InvalidType'],
            },
        ];
        for (const { body, targets, codes } of cases) {
            const error = await expectGraphError(await post(cfg, JSON.stringify(body)), 400, 'BadRequest', expect);
            expect(error.error.message, JSON.stringify(body)).toMatch(/^Invalid request body: /);
            expect(
                error.error.details?.map((d) => d.target),
                JSON.stringify(body),
            ).toEqual(targets);
            expect(error.error.details?.map((d) => d.code)).toEqual(codes);
        }
    });

    it('names the unknown property in the message', async () => {
        const error = await expectGraphError(
            await post(cfg, JSON.stringify({ target: SEED_TARGET, priority: 1 })),
            400,
            'BadRequest',
            expect,
        );
        expect(error.error.message).toContain(
            "The property 'priority' does not exist on type 'microsoft.graph.officeClientConfigurationAssignment'.",
        );
    });

    it('a bad configuration id → 400', async () => {
        for (const raw of [
            'x'.repeat(129),
            'a%2Fb',
            'a%5Cb',
            '%20lead',
            'trail%20',
            'ctl%01',
            'q%3Fx',
            'h%23x',
            'bad%zz',
        ]) {
            const url = `${app.root}/officeConfiguration/clientConfigurations/${raw}/assignments`;
            const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY });
            await expectGraphError(response, 400, 'BadRequest', expect);
        }
        // 128 characters is still a well-formed configuration id: it names none, so 404 rather than 400.
        expect((await post('y'.repeat(128), SEED_REQUEST_BODY)).status).toBe(404);
    });

    it('an unknown path under /beta → 400 naming the segment; an unknown method → 405 with Allow', async () => {
        const unknown = await fetch(`${app.root}/officeConfiguration/clientConfigurationz/x/assignments`);
        const body = await expectGraphError(unknown, 400, 'BadRequest', expect);
        expect(body.error.message).toBe("Resource not found for the segment 'clientConfigurationz'.");

        const deeper = await fetch(`${app.assignmentsUrl(cfg)}/${GUID_VALUE}/more`, { method: 'POST' });
        expect((await expectGraphError(deeper, 400, 'BadRequest', expect)).error.message).toBe(
            "Resource not found for the segment 'more'.",
        );

        const sideways = await fetch(`${app.root}/officeConfiguration/clientConfigurations/${cfg}/assignmentz`);
        expect((await expectGraphError(sideways, 400, 'BadRequest', expect)).error.message).toBe(
            "Resource not found for the segment 'assignmentz'.",
        );

        const put = await fetch(app.assignmentsUrl(cfg), { method: 'PUT', headers: JSON_HEADERS, body: '{}' });
        await expectGraphError(put, 405, 'MethodNotAllowed', expect);
        expect(put.headers.get('allow')).toBe('GET, POST');
    });

    it('stored nothing for any of the refused requests', async () => {
        expect(await app.cosmos.documents(cfg)).toEqual([]);
    });
});

const GUID_VALUE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const SEED_TARGET = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };

describe('create: storage failures', () => {
    it('storage stopped mid-test → 503 with Retry-After, and nothing is stored', async () => {
        const cfg = await configuration('outage');
        expect((await post(cfg, SEED_REQUEST_BODY)).status).toBe(201);
        await app.cosmos.embedded.stop();
        try {
            const response = await post(cfg, SEED_REQUEST_BODY);
            const body = await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
            expect(JSON.stringify(body)).not.toMatch(/ECONN|cosmos|127\.0\.0\.1|stack|at /i);
        } finally {
            await app.cosmos.embedded.resume();
        }
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
        // And the service recovers by itself once storage is back.
        expect((await post(cfg, SEED_REQUEST_BODY)).status).toBe(201);
    });

    it('an unexpected failure → 500 without internals, logged with the request-id', async () => {
        const logs: string[] = [];
        const broken = await startLocalHost({
            routes,
            services: {
                store: new AssignmentStore(() => Promise.reject(new Error('secret detail: account key rejected'))),
                clock: () => new Date(),
                logger: { info: () => {}, warn: () => {}, error: (m) => logs.push(m) },
            },
        });
        try {
            const response = await fetch(
                `${broken.origin}/beta/officeConfiguration/clientConfigurations/cfg/assignments`,
                { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY },
            );
            const body = await expectGraphError(response, 500, 'InternalServerError', expect);
            expect(JSON.stringify(body)).not.toContain('secret');
            const requestId = response.headers.get('request-id') ?? '';
            expect(logs.some((line) => line.includes(requestId) && line.includes('secret detail'))).toBe(true);
        } finally {
            await broken.close();
        }
    });
});
