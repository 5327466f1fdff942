/**
 * The local host at the HTTP layer, over raw sockets where a well-behaved client would not do what is tested:
 * everything the headers decide is decided before a byte of the body is read, errors of the HTTP layer are Graph
 * errors, links never come from the request target, slow clients are timed out, and aborts are one log line.
 * The authenticator is a stand-in (test/e2e/auth.test.ts covers real tokens): it counts its calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { invalidAuthenticationToken, requestDenied } from '../../lib/graph/errors.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import type { Access, Authenticator, Services } from '../../lib/platform/services.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, GUID, ODATA_CONTENT_TYPE, SEED_REQUEST_BODY } from '../helpers/host.js';
import { head, rawRequest, type RawResponse } from '../helpers/raw.js';

const WRITER = 'Bearer writer';
const READER = 'Bearer reader';
/** Created in beforeAll: the path is written before the store runs. */
const CONFIGURATION = '6d1e0c36-5a8e-4d3b-9f0a-8c2b7e4f1a90';
const ASSIGNMENTS = `/beta/officeConfiguration/clientConfigurations/${CONFIGURATION}/assignments`;
const FIFTY_MB = String(50 * 1024 * 1024);

/** Tokens by name: `writer` may do anything, `reader` may read; anything else is refused. */
function stubAuthenticator(): Authenticator & { calls: Access[] } {
    const calls: Access[] = [];
    return {
        calls,
        authenticate: (authorization, access) => {
            calls.push(access);
            if (authorization === WRITER || (authorization === READER && access === 'read')) {
                return Promise.resolve({ objectId: 'caller', kind: 'application' });
            }
            const challenge = { realm: '' };
            return Promise.reject(
                authorization === READER
                    ? requestDenied('The token does not allow writes.', challenge)
                    : invalidAuthenticationToken('A valid bearer token is required.', challenge),
            );
        },
    };
}

let cosmos: TestCosmos;
let authenticator: ReturnType<typeof stubAuthenticator>;
let host: LocalHost;
const hosts: LocalHost[] = [];

async function extraHost(services: Partial<Services>, timeouts = {}): Promise<LocalHost> {
    const started = await startLocalHost({ routes, services: { ...cosmos.services, ...services }, timeouts });
    hosts.push(started);
    return started;
}

beforeAll(async () => {
    cosmos = await startTestCosmos();
    await newStoredConfiguration(cosmos.services.store, CONFIGURATION);
    authenticator = stubAuthenticator();
    host = await extraHost({ authenticator });
});
afterAll(async () => {
    await Promise.all(hosts.map((h) => h.close()));
    await cosmos.close();
});

function graphError(response: RawResponse, status: number, code: string): void {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe(ODATA_CONTENT_TYPE);
    expect(response.headers['request-id']).toMatch(GUID);
    const body = JSON.parse(response.body) as { error: { code: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe(code);
    expect(body.error.innerError['request-id']).toBe(response.headers['request-id']);
}

describe('refuse before reading', () => {
    it('answers 500 connections announcing 50 MB bodies with 401, closing each, having read < 1 MB', async () => {
        const before = host.bytesRead();
        const request = head(
            `POST ${ASSIGNMENTS} HTTP/1.1`,
            { 'Content-Type': 'application/json', 'Content-Length': FIFTY_MB },
            `127.0.0.1:${host.port}`,
        );
        const responses = await Promise.all(Array.from({ length: 500 }, () => rawRequest(host.port, request).response));
        for (const response of responses) {
            graphError(response, 401, 'InvalidAuthenticationToken');
            expect(response.headers.connection).toBe('close');
            expect(response.closed).toBe(true);
        }
        const read = host.bytesRead() - before;
        console.info(`500 refused 50 MB uploads: ${read} bytes read by the host, headers included`);
        expect(read).toBeLessThan(1024 * 1024);
    });

    it('never asks for a refused body: 401 without a 100 Continue first', async () => {
        const { response } = rawRequest(
            host.port,
            head(
                `POST ${ASSIGNMENTS} HTTP/1.1`,
                { 'Content-Type': 'application/json', 'Content-Length': FIFTY_MB, Expect: '100-continue' },
                `127.0.0.1:${host.port}`,
            ),
        );
        graphError(await response, 401, 'InvalidAuthenticationToken');
    });

    it('answers PUT with an announced upload 405 without reading it', async () => {
        const before = host.bytesRead();
        const { response } = rawRequest(
            host.port,
            head(
                `PUT ${ASSIGNMENTS} HTTP/1.1`,
                { Authorization: WRITER, 'Content-Type': 'application/json', 'Content-Length': FIFTY_MB },
                `127.0.0.1:${host.port}`,
            ),
        );
        const answered = await response;
        graphError(answered, 405, 'MethodNotAllowed');
        expect(answered.headers.allow).toBe('GET, POST');
        expect(answered.closed).toBe(true);
        expect(host.bytesRead() - before).toBeLessThan(4096);
    });

    it('answers Content-Length: 1000000000 with no body 413 at once', async () => {
        const { response } = rawRequest(
            host.port,
            head(
                `POST ${ASSIGNMENTS} HTTP/1.1`,
                { Authorization: WRITER, 'Content-Type': 'application/json', 'Content-Length': '1000000000' },
                `127.0.0.1:${host.port}`,
            ),
        );
        const answered = await response;
        graphError(answered, 413, 'RequestEntityTooLarge');
        expect(answered.closed).toBe(true);
    });

    it('refuses the media type (415) before reading an announced body', async () => {
        const { response } = rawRequest(
            host.port,
            head(
                `POST ${ASSIGNMENTS} HTTP/1.1`,
                { Authorization: WRITER, 'Content-Type': 'text/plain', 'Content-Length': FIFTY_MB },
                `127.0.0.1:${host.port}`,
            ),
        );
        graphError(await response, 415, 'UnsupportedMediaType');
    });

    it('stops reading a streamed body past 64 KiB: 413, and the rest of 8 MB is never read', async () => {
        const before = host.bytesRead();
        const { socket, response } = rawRequest(
            host.port,
            head(
                `POST ${ASSIGNMENTS} HTTP/1.1`,
                { Authorization: WRITER, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
                `127.0.0.1:${host.port}`,
            ),
        );
        socket.on('error', () => undefined);
        const chunk = `${(16 * 1024).toString(16)}\r\n${'x'.repeat(16 * 1024)}\r\n`;
        const write = (left: number) => {
            // As fast as the connection takes it, and no faster: what the server does not read is never sent.
            while (left > 0 && !socket.destroyed) {
                left -= 1;
                if (!socket.write(chunk)) {
                    socket.once('drain', () => write(left));
                    return;
                }
            }
        };
        write(512);
        const answered = await response;
        graphError(answered, 413, 'RequestEntityTooLarge');
        const read = host.bytesRead() - before;
        console.info(`8 MB chunked upload refused at 64 KiB: ${read} bytes read by the host`);
        expect(read).toBeLessThan(1024 * 1024);
    });
});

describe('with auth on, the token comes first on every route', () => {
    const item = `${ASSIGNMENTS}/0f8fad5b-d9cb-469f-a165-70867728950e`;
    const assign = `/beta/officeConfiguration/clientConfigurations/${CONFIGURATION}/assign`;
    const cases: [string, string][] = [
        ['PUT', ASSIGNMENTS],
        ['OPTIONS', ASSIGNMENTS],
        ['HEAD', ASSIGNMENTS],
        ['GET', assign],
        ['PUT', item],
        ['GET', '/beta/officeConfiguration/clientConfigurations/%ZZ/assignments'],
        ['GET', '/beta/officeConfiguration/clientConfigurationz/x/assignments'],
        ['GET', '/beta/$metadata/x'],
    ];

    it('answers 401 before 405, before path decoding and before unknown segments', async () => {
        for (const [method, path] of cases) {
            const response = await fetch(`${host.origin}${path}`, { method });
            expect(response.status, `${method} ${path}`).toBe(401);
            expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
            if (method !== 'HEAD') {
                await expectGraphError(response, 401, 'InvalidAuthenticationToken', expect);
            }
        }
    });

    it('then gives the same requests their own answers', async () => {
        const expected = [405, 405, 200, 405, 405, 400, 400, 400];
        for (const [index, [method, path]] of cases.entries()) {
            const response = await fetch(`${host.origin}${path}`, { method, headers: { Authorization: READER } });
            expect(response.status, `${method} ${path}`).toBe(expected[index]);
        }
    });

    it('serves the two service documents without a token', async () => {
        expect((await fetch(`${host.origin}/beta/$metadata`)).status).toBe(200);
        expect((await fetch(`${host.origin}/beta/openapi.json`)).status).toBe(200);
    });
});

describe('HEAD', () => {
    it('is GET without the body, on the collection and on an entity, and needs only the read permission', async () => {
        const created = await fetch(`${host.origin}${ASSIGNMENTS}`, {
            method: 'POST',
            headers: { Authorization: WRITER, 'Content-Type': 'application/json' },
            body: SEED_REQUEST_BODY,
        });
        expect(created.status).toBe(201);
        const location = created.headers.get('location') ?? '';
        const get = await fetch(location, { headers: { Authorization: READER } });
        authenticator.calls.length = 0;
        const { response } = rawRequest(
            host.port,
            head(
                `HEAD ${new URL(location).pathname} HTTP/1.1`,
                { Authorization: READER, Connection: 'close' },
                `127.0.0.1:${host.port}`,
            ),
        );
        const headed = await response;
        expect(headed.status).toBe(200);
        expect(headed.body).toBe('');
        expect(headed.headers.etag).toBe(get.headers.get('etag'));
        expect(headed.headers['content-type']).toBe(ODATA_CONTENT_TYPE);
        expect(headed.headers['request-id']).toMatch(GUID);
        expect(authenticator.calls).toEqual(['read']);

        const collection = await fetch(`${host.origin}${ASSIGNMENTS}`, {
            method: 'HEAD',
            headers: { Authorization: READER },
        });
        expect(collection.status).toBe(200);
        expect(await collection.text()).toBe('');
        const document = await fetch(`${host.origin}/beta/$metadata`, { method: 'HEAD' });
        expect(document.status).toBe(200);
        expect(await document.text()).toBe('');
        // Only where GET is served.
        const onAssign = await fetch(`${host.origin}/beta/officeConfiguration/clientConfigurations/c/assign`, {
            method: 'HEAD',
            headers: { Authorization: READER },
        });
        expect(onAssign.status).toBe(405);
    });
});

describe('errors of the HTTP layer are Graph errors', () => {
    const get = (requestLine: string, headers: Record<string, string>, hostHeader: string | null) =>
        rawRequest(host.port, head(requestLine, headers, hostHeader)).response;

    it('answers a missing or malformed Host 400, never 500', async () => {
        for (const value of ['[', 'a b', '', 'a%00b', '127.0.0.1:99999', 'user@x', null]) {
            const response = await get(`GET /beta/$metadata HTTP/1.1`, {}, value);
            expect(response.status, `Host: ${String(value)}`).toBe(400);
            graphError(response, 400, 'BadRequest');
        }
    });

    it('answers a 20 KB header 431, and raw non-ASCII bytes or a tab in the path 400', async () => {
        graphError(
            await get('GET /beta/$metadata HTTP/1.1', { 'X-Big': 'a'.repeat(20_000) }, 'localhost'),
            431,
            'RequestHeaderFieldsTooLarge',
        );
        const nonAscii = rawRequest(
            host.port,
            Buffer.concat([
                Buffer.from('GET /beta/caf'),
                Buffer.from([0xe9]),
                Buffer.from(' HTTP/1.1\r\nHost: localhost\r\n\r\n'),
            ]),
        ).response;
        graphError(await nonAscii, 400, 'BadRequest');
        graphError(await get('GET /beta/a\tb HTTP/1.1', {}, 'localhost'), 400, 'BadRequest');
    });
});

describe('generated links', () => {
    const create = (target: string, publicHost: LocalHost = host) =>
        rawRequest(
            publicHost.port,
            `${head(
                `POST ${target} HTTP/1.1`,
                {
                    Authorization: WRITER,
                    'Content-Type': 'application/json',
                    'Content-Length': String(Buffer.byteLength(SEED_REQUEST_BODY)),
                    Connection: 'close',
                },
                `127.0.0.1:${publicHost.port}`,
            )}${SEED_REQUEST_BODY}`,
        ).response;

    it('take their origin from Host, never from the request target', async () => {
        const absolute = await create(`http://evil.example${ASSIGNMENTS}`);
        expect(absolute.status).toBe(201);
        expect(absolute.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/beta/`));
        expect(absolute.body).not.toContain('evil.example');

        const doubleSlash = await create(`//evil.example${ASSIGNMENTS}`);
        expect(doubleSlash.headers.location).toBeUndefined();
        expect(doubleSlash.body).not.toContain('://evil.example');
        graphError(doubleSlash, 404, 'ResourceNotFound');
    });

    it('take it from PUBLIC_ORIGIN when set', async () => {
        const behindGateway = await extraHost({ authenticator, publicOrigin: 'https://api.contoso.com' });
        const response = await create(`http://evil.example${ASSIGNMENTS}`, behindGateway);
        expect(response.status).toBe(201);
        expect(response.headers.location).toMatch(/^https:\/\/api\.contoso\.com\/beta\//);
    });
});

describe('timeouts', () => {
    let slow: LocalHost;
    beforeAll(async () => {
        slow = await extraHost({}, { headersMs: 1000, bodyIdleMs: 1000, requestMs: 3000 });
    });

    it('answers headers that never end 408', async () => {
        const { response } = rawRequest(slow.port, `GET /beta/$metadata HTTP/1.1\r\nHost: localhost\r\n`);
        graphError(await response, 408, 'RequestTimeout');
    });

    it('answers a body that stops coming 408', async () => {
        const { response } = rawRequest(
            slow.port,
            `${head(`POST ${ASSIGNMENTS} HTTP/1.1`, { 'Content-Type': 'application/json', 'Content-Length': '100' }, 'localhost')}{"tar`,
        );
        const answered = await response;
        graphError(answered, 408, 'RequestTimeout');
        expect(answered.closed).toBe(true);
    });

    it('answers a body that trickles in for longer than the whole-request cap 408', async () => {
        const { socket, response } = rawRequest(
            slow.port,
            head(
                `POST ${ASSIGNMENTS} HTTP/1.1`,
                { 'Content-Type': 'application/json', 'Content-Length': '1000' },
                'localhost',
            ),
        );
        // One byte each 300 ms: never idle for the 1 s body timeout, and never done within the 3 s cap.
        const drip = setInterval(() => socket.write(' '), 300);
        try {
            graphError(await response, 408, 'RequestTimeout');
        } finally {
            clearInterval(drip);
        }
    });
});

describe('log volume', () => {
    it('logs a client abort as one line, not a stack at error level', async () => {
        const logs: string[] = [];
        const logger = {
            info: (m: string) => logs.push(`info: ${m}`),
            warn: (m: string) => logs.push(`warn: ${m}`),
            error: (m: string) => logs.push(`error: ${m}`),
        };
        const quiet = await startLocalHost({ routes, services: { ...cosmos.services, logger } });
        hosts.push(quiet);
        const aborts = 20;
        for (let i = 0; i < aborts; i++) {
            // `Expect: 100-continue`: the interim answer says the request reached the app; then the client goes.
            const { socket, response } = rawRequest(
                quiet.port,
                head(
                    `POST ${ASSIGNMENTS} HTTP/1.1`,
                    { 'Content-Type': 'application/json', 'Content-Length': '1000', Expect: '100-continue' },
                    'localhost',
                ),
            );
            response.catch(() => undefined);
            socket.on('error', () => undefined);
            socket.once('data', () => {
                socket.write('{"target":');
                setImmediate(() => socket.destroy());
            });
        }
        while (logs.length < aborts) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(logs.filter((l) => l.includes('closed the connection'))).toHaveLength(aborts);
        expect(logs.filter((l) => l.startsWith('error:'))).toEqual([]);
        expect(logs.every((l) => !l.includes('\n'))).toBe(true);
    });
});
