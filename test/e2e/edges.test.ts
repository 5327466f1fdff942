/**
 * Edges an outside probe found, over real HTTP: media types that could not be sent back, payloads served as pages,
 * slow bodies blamed on the server, and `If-None-Match: *` on a change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { ConfigurationStore } from '../../lib/store/configurationStore.js';
import { configurationsUrl, newConfiguration, WINDOWS_CONFIGURATION } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, JSON_HEADERS } from '../helpers/host.js';
import { head, rawRequest } from '../helpers/raw.js';

let cosmos: TestCosmos;
let host: LocalHost;
let root: string;
beforeAll(async () => {
    cosmos = await startTestCosmos();
    host = await startLocalHost({ routes, services: cosmos.services });
    root = `${host.origin}/beta`;
});
afterAll(async () => {
    await host.close();
    await cosmos.close();
});

const itemUrl = (id: string) => `${configurationsUrl(root)}/${id}`;
const payload = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');

async function createWith(mediaType: unknown): Promise<Response> {
    return await fetch(configurationsUrl(root), {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({
            '@odata.type': WINDOWS_CONFIGURATION,
            policyPayload: payload,
            'policyPayload@odata.mediaContentType': mediaType,
        }),
    });
}

async function countConfigurations(): Promise<number> {
    const response = await fetch(`${configurationsUrl(root)}?$count=true&$top=1`);
    return ((await response.json()) as { '@odata.count': number })['@odata.count'];
}

/** Values no Content-Type can carry, or that are not media types at all. */
const NOT_MEDIA_TYPES = [
    'text/plain\nX: y',
    'text/plain\r\nSet-Cookie: a=b',
    'text/plain\u0000',
    'text/plain; charset="utf-8\u0001"',
    'text',
    'text/',
    '/plain',
    'text/plain/extra',
    'text/plain; charset',
    'text/pl ain',
    'text/plain; charset=ü',
    `application/${'x'.repeat(300)}`,
    '',
];

describe('media types', () => {
    it('refuses a create whose stated media type is not one (400 naming the property), storing nothing', async () => {
        const before = await countConfigurations();
        for (const mediaType of [...NOT_MEDIA_TYPES, 42, true, {}]) {
            const response = await createWith(mediaType);
            const error = await expectGraphError(response, 400, 'BadRequest', expect);
            expect(error.error.message, JSON.stringify(mediaType)).toContain("'policyPayload@odata.mediaContentType'");
        }
        expect(await countConfigurations()).toBe(before);
    });

    it('takes RFC 9110 media types with parameters, and serves them back as sent', async () => {
        for (const mediaType of [
            'text/html',
            'application/vnd.ms-office.policy+xml',
            'text/plain; charset=utf-8',
            'text/plain;charset="utf-8";format=flowed',
            'multipart/mixed; boundary="a \\"quoted\\" one"',
        ]) {
            const response = await createWith(mediaType);
            expect(response.status, mediaType).toBe(201);
            const { id } = (await response.json()) as { id: string };
            const got = await fetch(`${itemUrl(id)}/policyPayload`);
            expect(got.headers.get('content-type')).toBe(mediaType);
        }
    });

    it('refuses a payload PUT whose Content-Type is not a media type, before reading it, keeping the old bytes', async () => {
        const id = await newConfiguration(root);
        const url = `${itemUrl(id)}/policyPayload`;
        expect((await fetch(url, { method: 'PUT', body: Buffer.from('kept') })).status).toBe(204);
        // What fetch lets through; control characters never reach the app (node's parser refuses them first).
        for (const contentType of ['text', 'text/plain; charset', 'a/b/c', `application/${'x'.repeat(300)}`]) {
            const response = await fetch(url, {
                method: 'PUT',
                headers: { 'Content-Type': contentType },
                body: Buffer.from('new'),
            });
            const error = await expectGraphError(response, 400, 'BadRequest', expect);
            expect(error.error.message).toContain('Content-Type of policyPayload');
        }
        const kept = await fetch(url);
        expect(kept.headers.get('content-type')).toBe('application/octet-stream');
        expect(await kept.text()).toBe('kept');
    });

    it('serves a stored media type that cannot be sent as application/octet-stream, never a 500', async () => {
        const id = await newConfiguration(root);
        // Stored as an earlier version let it through: behind the API's back, through the store.
        const store = new ConfigurationStore(cosmos.services.store);
        const bytes = Buffer.from('bytes');
        await store.writePayload(
            id,
            { property: 'policyPayload', contentType: 'text/plain\nX: y', bytes, etag: '"stored"' },
            undefined,
        );
        const url = `${itemUrl(id)}/policyPayload`;
        for (const method of ['GET', 'HEAD']) {
            const response = await fetch(url, { method });
            expect(response.status, method).toBe(200);
            expect(response.headers.get('content-type')).toBe('application/octet-stream');
            expect(response.headers.get('x')).toBeNull();
        }
        expect(await (await fetch(url)).text()).toBe('bytes');
        const entity = (await (await fetch(itemUrl(id))).json()) as Record<string, unknown>;
        expect(entity['policyPayload@odata.mediaContentType']).toBe('application/octet-stream');
        const batch = await fetch(`${root}/$batch`, {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify({
                requests: [
                    { id: '1', method: 'GET', url: `/officeConfiguration/clientConfigurations/${id}/policyPayload` },
                ],
            }),
        });
        const [part] = ((await batch.json()) as { responses: { status: number; headers: Record<string, string> }[] })
            .responses;
        expect(part?.status).toBe(200);
        expect(part?.headers['Content-Type']).toBe('application/octet-stream');
    });
});

describe('headers against content sniffing', () => {
    it('serves a payload as a download: nosniff, attachment, a CSP that runs nothing', async () => {
        const response = await createWith('text/html');
        const { id } = (await response.json()) as { id: string };
        const url = `${itemUrl(id)}/policyPayload`;
        for (const method of ['GET', 'HEAD']) {
            const got = await fetch(url, { method });
            expect(got.headers.get('content-type')).toBe('text/html');
            expect(got.headers.get('x-content-type-options')).toBe('nosniff');
            expect(got.headers.get('content-disposition')).toBe('attachment');
            expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
        }
    });

    it('sends nosniff on every answer: entities, errors, the service documents, the host’s own refusals', async () => {
        const id = await newConfiguration(root);
        const answers = await Promise.all([
            fetch(itemUrl(id)),
            fetch(itemUrl('00000000-0000-4000-8000-000000000000')),
            fetch(`${root}/$metadata`),
            fetch(`${root}/officeConfiguration/nothing`),
            fetch(`${host.origin}/elsewhere`),
            fetch(configurationsUrl(root), { method: 'POST', body: 'x' }),
        ]);
        for (const answer of answers) {
            expect(answer.headers.get('x-content-type-options'), answer.url).toBe('nosniff');
        }
        const { response } = rawRequest(host.port, 'GET /beta/$metadata HTTP/1.1\r\nHost: \r\n\r\n');
        expect((await response).headers['x-content-type-options']).toBe('nosniff');
    });
});

describe('If-None-Match: * on a change', () => {
    it('answers 412 for a configuration or an assignment that exists, 404 for one that does not, changing nothing', async () => {
        const id = await newConfiguration(root, {}, { displayName: 'before' });
        const patch = (url: string, body: object) =>
            fetch(url, {
                method: 'PATCH',
                headers: { ...JSON_HEADERS, 'If-None-Match': '*' },
                body: JSON.stringify(body),
            });
        await expectGraphError(await patch(itemUrl(id), { displayName: 'after' }), 412, 'PreconditionFailed', expect);
        const entity = (await (await fetch(itemUrl(id))).json()) as { displayName: string };
        expect(entity.displayName).toBe('before');
        await expectGraphError(
            await patch(itemUrl('00000000-0000-4000-8000-000000000000'), { displayName: 'x' }),
            404,
            'ResourceNotFound',
            expect,
        );

        const created = await fetch(`${itemUrl(id)}/assignments`, {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify({ target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' } }),
        });
        expect(created.status).toBe(201);
        const assignment = (await created.json()) as { id: string };
        const assignmentUrl = `${itemUrl(id)}/assignments/${assignment.id}`;
        const target = {
            '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
            groupId: '00000000-0000-4000-8000-000000000001',
        };
        await expectGraphError(await patch(assignmentUrl, { target }), 412, 'PreconditionFailed', expect);
        const kept = (await (await fetch(assignmentUrl)).json()) as { target: { '@odata.type': string } };
        expect(kept.target['@odata.type']).toBe('#microsoft.graph.officeConfigurationAssignmentTarget');
        await expectGraphError(
            await patch(`${itemUrl(id)}/assignments/00000000-0000-4000-8000-000000000009`, { target }),
            404,
            'ResourceNotFound',
            expect,
        );
        // Any other If-None-Match is no condition on a PATCH here: the change is made.
        const plain = await fetch(itemUrl(id), {
            method: 'PATCH',
            headers: { ...JSON_HEADERS, 'If-None-Match': '"other"' },
            body: JSON.stringify({ displayName: 'after' }),
        });
        expect(plain.status).toBe(204);
    });
});

describe('slow bodies are the client’s 408, and the store’s budget starts once the body is in', () => {
    let slow: LocalHost;
    beforeAll(async () => {
        // A budget shorter than the body's idle timeout: on a stalled body, the one that decides must be the body's.
        slow = await startLocalHost({
            routes,
            // As the app's settings always give both: the body's own time, and the store's after it.
            services: { ...cosmos.services, requestBudgetMs: 600, bodyTimeoutMs: 5000 },
            timeouts: { headersMs: 5000, bodyIdleMs: 1200, requestMs: 10_000 },
        });
    });
    afterAll(async () => {
        await slow.close();
    });

    const writes = async () => {
        const id = await newConfiguration(root);
        return [
            { method: 'POST', path: '/beta/officeConfiguration/clientConfigurations', contentType: 'application/json' },
            {
                method: 'PUT',
                path: `/beta/officeConfiguration/clientConfigurations/${id}/policyPayload`,
                contentType: 'text/plain',
            },
            {
                method: 'POST',
                path: `/beta/officeConfiguration/clientConfigurations/${id}/assignments`,
                contentType: 'application/json',
            },
        ];
    };

    it('answers 408 to a body that stalls, on configuration create, payload PUT and assignment create', async () => {
        for (const write of await writes()) {
            const { response } = rawRequest(
                slow.port,
                `${head(`${write.method} ${write.path} HTTP/1.1`, { 'Content-Type': write.contentType, 'Content-Length': '100' }, 'localhost')}{`,
            );
            const answered = await response;
            expect(answered.status, write.path).toBe(408);
            expect(JSON.parse(answered.body)).toMatchObject({ error: { code: 'RequestTimeout' } });
        }
    });

    it('stores a body that took longer than the budget to arrive, never idle for long', async () => {
        for (const write of await writes()) {
            const body =
                write.method === 'PUT'
                    ? 'slow bytes'
                    : write.path.endsWith('assignments')
                      ? JSON.stringify({
                            target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' },
                        })
                      : JSON.stringify({ '@odata.type': WINDOWS_CONFIGURATION, displayName: 'slow' });
            const { socket, response } = rawRequest(
                slow.port,
                head(
                    `${write.method} ${write.path} HTTP/1.1`,
                    { 'Content-Type': write.contentType, 'Content-Length': String(body.length) },
                    'localhost',
                ),
                false,
            );
            // Four pieces 300 ms apart: 900 ms in all, past the 600 ms budget, never idle for the 1.2 s timeout.
            const pieces = [0, 1, 2, 3].map((i) => body.slice((i * body.length) / 4, ((i + 1) * body.length) / 4));
            for (const piece of pieces) {
                socket.write(piece);
                await new Promise((resolve) => setTimeout(resolve, 300));
            }
            const answered = await response;
            socket.destroy();
            expect(answered.status, `${write.path}: ${answered.body}`).toBe(write.method === 'PUT' ? 204 : 201);
        }
    });
});
