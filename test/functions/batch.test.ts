/**
 * The `$batch` function as the Functions host calls it: `@azure/functions`' own HttpRequest (a buffered body, the
 * host's absolute URL) and InvocationContext, no socket. Its parts must come back with links on the host's origin.
 */
import { randomUUID } from 'node:crypto';

import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { createHttpHandler, type Route } from '../../lib/http/pipeline.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { SEED_REQUEST_BODY } from '../helpers/host.js';

const { HttpRequest, InvocationContext } = functions;

const ORIGIN = 'https://app.example.net';

interface PartResponse {
    id: string;
    status: number;
    headers: Record<string, string>;
    body: { id?: string; value?: unknown[]; error?: { code: string; message: string } };
}

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos.close();
});

const routeOf = (name: string): Route => {
    const route = routes.find((r) => r.name === name);
    expect(route, name).toBeDefined();
    return route!;
};

const newContext = (functionName: string) =>
    new InvocationContext({ invocationId: randomUUID(), functionName, logHandler: () => {} });

/** Sends one request to `route` as the host would, at `path` under the service root. */
async function send(
    route: Route,
    init: { method: string; path: string; headers?: Record<string, string>; body?: string },
) {
    return await createHttpHandler(route, () => cosmos.services)(
        new HttpRequest({
            method: init.method,
            url: `${ORIGIN}/beta${init.path}`,
            headers: init.headers ?? {},
            // Bytes, not a string: fetch would give a string body a Content-Type of its own, which a client never sent.
            ...(init.body === undefined ? {} : { body: { bytes: Buffer.from(init.body) } }),
        }),
        newContext(route.name),
    );
}

async function sendBatch(requests: unknown[]): Promise<PartResponse[]> {
    const response = await send(routeOf('batch'), {
        method: 'POST',
        path: '/$batch',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ requests }),
    });
    expect(response.status).toBe(200);
    return (JSON.parse(response.body as string) as { responses: PartResponse[] }).responses;
}

describe('the $batch function', () => {
    it('answers its parts through the route table, on the host origin', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const url = `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
        const responses = await sendBatch([
            {
                id: 'c',
                method: 'POST',
                url,
                headers: { 'Content-Type': 'application/json' },
                body: JSON.parse(SEED_REQUEST_BODY) as unknown,
            },
            { id: 'l', method: 'GET', url, dependsOn: ['c'] },
        ]);
        expect(responses.map((r) => [r.id, r.status])).toEqual([
            ['c', 201],
            ['l', 200],
        ]);
        expect(responses[0]!.headers.Location).toBe(`${ORIGIN}/beta${url}/${responses[0]!.body.id}`);
        expect(responses[1]!.body.value).toHaveLength(1);
    });

    it('gives a part with a body and no Content-Type none: the 415 of a request sent alone, a payload of the default type', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const assignments = `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
        const payload = `/officeConfiguration/clientConfigurations/${cfg}/policyPayload`;
        const alone = await send(routeOf('officeClientConfigurationAssignments'), {
            method: 'POST',
            path: assignments,
            body: SEED_REQUEST_BODY,
        });
        expect(alone.status).toBe(415);
        const responses = await sendBatch([
            { id: 'create', method: 'POST', url: assignments, body: JSON.parse(SEED_REQUEST_BODY) as unknown },
            { id: 'put', method: 'PUT', url: payload, body: { policy: 1 } },
            { id: 'get', method: 'GET', url: payload, dependsOn: ['put'] },
        ]);
        expect(responses.map((r) => [r.id, r.status])).toEqual([
            ['create', 415],
            ['put', 204],
            ['get', 200],
        ]);
        const { message } = (JSON.parse(alone.body as string) as PartResponse['body']).error!;
        expect(message).toBe("Write requests must carry the header 'Content-Type: application/json'.");
        expect(responses[0]!.body.error).toMatchObject({ code: 'UnsupportedMediaType', message });
        // The payload's media type is the one its client sent: none, so the default, and its bytes the JSON sent.
        expect(responses[2]!.headers['Content-Type']).toBe('application/octet-stream');
        expect(Buffer.from(responses[2]!.body as unknown as string, 'base64').toString()).toBe('{"policy":1}');
        expect(await cosmos.documents(cfg)).toHaveLength(0);
    });
});
