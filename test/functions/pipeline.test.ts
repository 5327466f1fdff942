/**
 * The request pipeline (lib/http/pipeline + lib/http/body) as the Functions host calls it, with no local host in between: the token
 * is checked before anything else, and the body, a stream as the host's streaming mode gives it, is not pulled
 * until the headers have been found acceptable, and then no further than the limit.
 */
import { randomUUID } from 'node:crypto';
import { ReadableStream } from 'node:stream/web';

import functions, { type HttpRequestInit, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { invalidAuthenticationToken } from '../../lib/graph/errors.js';
import { createHttpHandler } from '../../lib/http/pipeline.js';
import type { Access } from '../../lib/platform/services.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';

const { HttpRequest, InvocationContext } = functions;

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos.close();
});

const accessAsked: Access[] = [];
const authenticator = {
    authenticate: (authorization: string | null, access: Access) => {
        accessAsked.push(access);
        return authorization === 'Bearer ok'
            ? Promise.resolve({ objectId: 'caller', kind: 'application' as const })
            : Promise.reject(invalidAuthenticationToken('A valid bearer token is required.', { realm: '' }));
    },
};

/** A body of `total` bytes in 16 KiB pieces, counting what was pulled. */
function countedBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>(
        {
            pull(controller) {
                if (pulled >= total) {
                    controller.close();
                    return;
                }
                const piece = new Uint8Array(Math.min(16 * 1024, total - pulled)).fill(0x20);
                pulled += piece.byteLength;
                controller.enqueue(piece);
            },
        },
        { highWaterMark: 0 },
    );
    return { stream, pulled: () => pulled };
}

const base = 'https://app.example.net/beta/officeConfiguration/clientConfigurations';

async function call(
    name: string,
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: ReadableStream<Uint8Array>,
): Promise<HttpResponseInit> {
    const route = routes.find((r) => r.name === name);
    if (!route) {
        throw new Error(`no route ${name}`);
    }
    const handler = createHttpHandler(route, () => ({ ...cosmos.services, authenticator }));
    // The form the Functions host's streaming mode builds (createStreamRequest): a fetch Request with a stream body.
    const nativeRequest = new Request(url, {
        method,
        headers,
        ...(body ? { body, duplex: 'half' } : {}),
    });
    const context = new InvocationContext({ invocationId: randomUUID(), functionName: name });
    return await handler(new HttpRequest({ nativeRequest } as HttpRequestInit), context);
}

const codeOf = (response: HttpResponseInit) =>
    (JSON.parse(response.body as string) as { error: { code: string } }).error.code;

describe('the pipeline under the Functions host', () => {
    it('checks the token before the method, the path and the body', async () => {
        const body = countedBody(50 * 1024 * 1024);
        const put = await call('officeClientConfigurationAssignments', 'PUT', `${base}/c/assignments`, {}, body.stream);
        expect(put.status).toBe(401);
        const undecodable = await call('officeClientConfigurationAssignments', 'GET', `${base}/%ZZ/assignments`, {});
        expect(undecodable.status).toBe(401);
        const unknown = await call('unknownSegment', 'GET', `${base}/c/nothing`, {});
        expect(unknown.status).toBe(401);
        const create = await call(
            'officeClientConfigurationAssignments',
            'POST',
            `${base}/c/assignments`,
            { 'content-type': 'application/json' },
            body.stream,
        );
        expect(create.status).toBe(401);
        expect(body.pulled()).toBe(0);
    });

    it('then answers 405, 415 and a declared 413 without pulling the body', async () => {
        const body = countedBody(50 * 1024 * 1024);
        const token = { authorization: 'Bearer ok' };
        const url = `${base}/c/assignments`;
        const name = 'officeClientConfigurationAssignments';
        expect(codeOf(await call(name, 'PUT', url, token, body.stream))).toBe('MethodNotAllowed');
        const plain = await call(name, 'POST', url, { ...token, 'content-type': 'text/plain' }, body.stream);
        expect(codeOf(plain)).toBe('UnsupportedMediaType');
        const declared = await call(
            name,
            'POST',
            url,
            { ...token, 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
            body.stream,
        );
        expect(codeOf(declared)).toBe('RequestEntityTooLarge');
        expect(body.pulled()).toBe(0);
    });

    it('stops pulling a body that passes 64 KiB, but for a bounded part discarded', async () => {
        const body = countedBody(50 * 1024 * 1024);
        const response = await call(
            'officeClientConfigurationAssignments',
            'POST',
            `${base}/c/assignments`,
            { authorization: 'Bearer ok', 'content-type': 'application/json' },
            body.stream,
        );
        expect(codeOf(response)).toBe('RequestEntityTooLarge');
        // What is left is discarded in the background, up to 256 KiB (lib/http/body `discardRest`), then let go.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(body.pulled()).toBeLessThanOrEqual(64 * 1024 + 256 * 1024 + 2 * 16 * 1024);
    });

    it('serves HEAD as GET without the body, asking only for the read permission', async () => {
        const configuration = await newStoredConfiguration(cosmos.services.store);
        accessAsked.length = 0;
        const head = await call(
            'officeClientConfigurationAssignments',
            'HEAD',
            `${base}/${configuration}/assignments`,
            {
                authorization: 'Bearer ok',
            },
        );
        expect(head.status).toBe(200);
        expect(head.body).toBeUndefined();
        expect((head.headers as Record<string, string>)['Content-Type']).toMatch(/^application\/json/);
        expect(accessAsked).toEqual(['read']);
    });
});
