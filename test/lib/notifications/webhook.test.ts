/**
 * postWebhook (lib/notifications/webhook.ts) over real sockets, on 127.0.0.1 only: names are resolved by an injected
 * resolver, so the address check at connection time is shown without DNS, and every server here counts the
 * connections it accepts, so "nothing was sent" is a count of zero, not an absence of errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { LOCAL_URL_POLICY, type NotificationUrlPolicy } from '../../../lib/notifications/notificationUrl.js';
import { postWebhook, type Resolve, WebhookFailure, type WebhookOptions } from '../../../lib/notifications/webhook.js';

/** Plain http to loopback allowed, yet every resolved address must be public: the check at connection time shows. */
const PUBLIC_ONLY: NotificationUrlPolicy = { allowLoopbackHttp: true, publicAddressesOnly: true };

interface TestServer {
    port: number;
    origin: string;
    connections: number;
    requests: { method: string; url: string; contentType: string | undefined; body: string }[];
    close(): Promise<void>;
}

const servers: TestServer[] = [];

async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
    const server: Server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            state.requests.push({
                method: request.method ?? '',
                url: request.url ?? '',
                contentType: request.headers['content-type'],
                body: Buffer.concat(chunks).toString('utf8'),
            });
            handle(request, response);
        });
    });
    server.on('connection', () => {
        state.connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const state: TestServer = {
        port,
        origin: `http://127.0.0.1:${port}`,
        connections: 0,
        requests: [],
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
    servers.push(state);
    return state;
}

afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A resolver from a table; every name it is asked is recorded. */
function tableResolver(table: Record<string, string[]>): Resolve & { asked: string[] } {
    const asked: string[] = [];
    const resolve = (hostname: string) => {
        asked.push(hostname);
        const addresses = table[hostname];
        if (!addresses) {
            return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
        }
        return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    };
    return Object.assign(resolve, { asked });
}

const options = (overrides: Partial<WebhookOptions> = {}): WebhookOptions => ({
    policy: LOCAL_URL_POLICY,
    timeoutMs: 5000,
    maxResponseBytes: 1024,
    needBody: true,
    contentType: 'application/json',
    body: '{"value":[]}',
    ...overrides,
});

/** The WebhookFailure `post` rejects with; fails the test when it resolves. */
async function failure(post: Promise<unknown>): Promise<WebhookFailure> {
    try {
        await post;
    } catch (error) {
        expect(error).toBeInstanceOf(WebhookFailure);
        return error as WebhookFailure;
    }
    throw new Error('the POST succeeded');
}

describe('postWebhook', () => {
    it('POSTs the body with its Content-Type and returns the status, type and text of the answer', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(202, { 'Content-Type': 'text/plain' }).end('thanks');
        });
        const answer = await postWebhook(`${server.origin}/hook?x=1`, options());
        expect(answer).toEqual({ status: 202, contentType: 'text/plain', text: 'thanks' });
        expect(server.requests).toEqual([
            { method: 'POST', url: '/hook?x=1', contentType: 'application/json', body: '{"value":[]}' },
        ]);
    });

    it('resolves a name with the injected resolver', async () => {
        const server = await serve((_request, response) => response.writeHead(200).end());
        const resolve = tableResolver({ localhost: ['127.0.0.1'] });
        const answer = await postWebhook(`http://localhost:${server.port}/hook`, options({ resolve }));
        expect(answer.status).toBe(200);
        expect(resolve.asked).toEqual(['localhost']);
        expect(server.connections).toBe(1);
    });
});

describe('the address is checked where the connection is made', () => {
    it('refuses a name that resolves to the loopback when only public addresses are allowed, and never connects', async () => {
        const server = await serve((_request, response) => response.writeHead(200).end());
        const resolve = tableResolver({ 'receiver.test': ['127.0.0.1'] });
        // The name passes every rule of the URL; only its resolved address tells it points inside.
        const refused = await failure(
            postWebhook(`https://receiver.test:${server.port}/`, options({ policy: PUBLIC_ONLY, resolve })),
        );
        expect(refused.kind).toBe('refused');
        expect(refused.message).toContain('127.0.0.1');
        expect(refused.message).toContain('loopback');
        expect(refused.message).toContain('127.0.0.0/8');
        expect(resolve.asked).toEqual(['receiver.test']);
        expect(server.connections).toBe(0);
    });

    it('refuses plain http to a name that is not the loopback before resolving it', async () => {
        const server = await serve((_request, response) => response.writeHead(200).end());
        const resolve = tableResolver({ 'receiver.test': ['127.0.0.1'] });
        const refused = await failure(
            postWebhook(`http://receiver.test:${server.port}/`, options({ policy: PUBLIC_ONLY, resolve })),
        );
        expect(refused.kind).toBe('refused');
        expect(refused.message).toBe('plain http is accepted only to a loopback address; use https');
        expect(resolve.asked).toEqual([]);
        expect(server.connections).toBe(0);
    });

    it.each([
        ['a public address first', ['20.0.0.1', '127.0.0.1'], '127.0.0.1'],
        ['an inside address first', ['10.1.2.3', '20.0.0.1'], '10.1.2.3'],
        ['an IPv4-mapped inside address', ['2606:4700:4700::1111', '::ffff:169.254.169.254'], '::ffff:169.254.169.254'],
        ['an uncompressed IPv4-mapped inside address', ['0:0:0:0:0:ffff:a00:1'], '0:0:0:0:0:ffff:a00:1'],
    ])(
        'refuses a name resolving to public and private addresses (%s), never connecting',
        async (_case, addresses, inside) => {
            const server = await serve((_request, response) => response.writeHead(200).end());
            const resolve = tableResolver({ 'receiver.test': addresses });
            const refused = await failure(
                postWebhook(`https://receiver.test:${server.port}/`, options({ policy: PUBLIC_ONLY, resolve })),
            );
            expect(refused.kind).toBe('refused');
            expect(refused.message).toContain(`it resolves to ${inside}`);
            expect(server.connections).toBe(0);
        },
    );

    it('refuses a name that resolves to no address', async () => {
        const resolve = tableResolver({ 'receiver.test': [] });
        const refused = await failure(postWebhook('https://receiver.test/', options({ policy: PUBLIC_ONLY, resolve })));
        expect(refused.kind).toBe('refused');
        expect(refused.message).toBe("its host 'receiver.test' resolves to no address");
    });

    it('reports a name that does not resolve as a network failure', async () => {
        const resolve = tableResolver({});
        const failed = await failure(postWebhook('https://nowhere.test/', options({ policy: PUBLIC_ONLY, resolve })));
        expect(failed.kind).toBe('network');
        expect(failed.message).toContain('ENOTFOUND');
    });

    it('reaches the receiver at the resolved loopback address when private addresses are allowed', async () => {
        const server = await serve((_request, response) => response.writeHead(200).end());
        const resolve = tableResolver({ 'receiver.test': ['127.0.0.1'] });
        // https to a plain http server: the connection is made (counted), then TLS fails on the answer.
        const failed = await failure(
            postWebhook(
                `https://receiver.test:${server.port}/`,
                options({ policy: { allowLoopbackHttp: true, publicAddressesOnly: false }, resolve }),
            ),
        );
        expect(failed.kind).toBe('network');
        expect(resolve.asked).toEqual(['receiver.test']);
        expect(server.connections).toBe(1);
    });

    it('refuses under the URL rules before resolving anything', async () => {
        const resolve = tableResolver({});
        const refused = await failure(postWebhook('https://10.0.0.1/hook', options({ policy: PUBLIC_ONLY, resolve })));
        expect(refused.kind).toBe('refused');
        expect(refused.message).toContain('(10.0.0.0/8)');
        expect(resolve.asked).toEqual([]);
    });
});

describe('what the receiver answers', () => {
    it.each([true, false])('does not follow a redirect (needBody %s): the 302 is the answer', async (needBody) => {
        const target = await serve((_request, response) => response.writeHead(200).end('followed'));
        const server = await serve((_request, response) => {
            response
                .writeHead(302, { Location: `${target.origin}/elsewhere`, 'Content-Type': 'text/plain' })
                .end('moved');
        });
        const answer = await postWebhook(`${server.origin}/hook`, options({ needBody }));
        expect(answer.status).toBe(302);
        expect(server.requests).toHaveLength(1);
        expect(target.connections).toBe(0);
        expect(target.requests).toEqual([]);
    });

    it('fails with kind timeout when the receiver never answers', async () => {
        const server = await serve(() => undefined);
        const failed = await failure(postWebhook(`${server.origin}/hook`, options({ timeoutMs: 300 })));
        expect(failed.kind).toBe('timeout');
        expect(failed.message).toBe('no answer within 0.3 s');
        expect(server.requests).toHaveLength(1);
    });

    it('fails with kind timeout when the answer starts but never ends', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(200, { 'Content-Type': 'text/plain' });
            response.write('partial');
        });
        const failed = await failure(postWebhook(`${server.origin}/hook`, options({ timeoutMs: 300 })));
        expect(failed.kind).toBe('timeout');
    });

    it('fails with kind tooLarge when the answer is longer than the cap and the body is needed', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(64 * 1024));
        });
        const failed = await failure(postWebhook(`${server.origin}/hook`, options({ maxResponseBytes: 100 })));
        expect(failed.kind).toBe('tooLarge');
        expect(failed.message).toBe('its answer is longer than 100 bytes');
    });

    it('reads an answer of exactly the cap', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(100));
        });
        const answer = await postWebhook(`${server.origin}/hook`, options({ maxResponseBytes: 100 }));
        expect(answer.text).toHaveLength(100);
    });

    it('takes the status alone, however long the answer, when the body is not needed', async () => {
        const server = await serve((_request, response) => {
            response.writeHead(202, { 'Content-Type': 'text/plain' }).end('x'.repeat(64 * 1024));
        });
        const answer = await postWebhook(`${server.origin}/hook`, options({ maxResponseBytes: 100, needBody: false }));
        expect(answer).toEqual({ status: 202, contentType: 'text/plain', text: '' });
    });

    it('fails with kind network when nothing listens', async () => {
        const server = await serve(() => undefined);
        const { origin } = server;
        await server.close();
        servers.splice(servers.indexOf(server), 1);
        const failed = await failure(postWebhook(`${origin}/hook`, options()));
        expect(failed.kind).toBe('network');
        expect(failed.message).toMatch(/^it could not be reached \(.*ECONNREFUSED/);
    });
});
