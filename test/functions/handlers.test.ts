/**
 * The functions as the Functions host calls them: `@azure/functions`' own HttpRequest and InvocationContext, the
 * route table's handlers, the real SDK on the embedded Cosmos DB. No socket in between.
 */
import { randomUUID } from 'node:crypto';

import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { createHttpHandler } from '../../lib/http/pipeline.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { GUID, ODATA_CONTENT_TYPE, SEED_REQUEST_BODY } from '../helpers/host.js';

const { HttpRequest, InvocationContext } = functions;

/** The configurations the requests name, made through the store before any request. */
const H = 'c1a5e0b4-2f3d-4e6a-8b7c-9d0e1f2a3b4c';
const H2 = 'c2b6f1c5-3a4e-4f7b-9c8d-0e1f2a3b4c5d';
const GW = 'c3c7a2d6-4b5f-4a8c-8d9e-1f2a3b4c5d6e';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
    for (const id of [H, H2, GW]) {
        await newStoredConfiguration(cosmos.services.store, id);
    }
});
afterAll(async () => {
    await cosmos.close();
});

function handlerOf(name: string) {
    const route = routes.find((r) => r.name === name);
    if (!route) {
        throw new Error(`no route ${name}`);
    }
    return createHttpHandler(route, () => cosmos.services);
}

function invoke(name: string, init: ConstructorParameters<typeof HttpRequest>[0]) {
    const logs: string[] = [];
    const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: name,
        logHandler: (level, ...args) => logs.push(`${level}: ${args.join(' ')}`),
    });
    return { result: handlerOf(name)(new HttpRequest(init), context), logs };
}

const base = 'https://app.example.net/beta/officeConfiguration/clientConfigurations';

describe('the create function', () => {
    it('answers the seed request with 201 and the OData body', async () => {
        const { result } = invoke('officeClientConfigurationAssignments', {
            method: 'POST',
            url: `${base}/${H}/assignments`,
            headers: { 'content-type': 'application/json' },
            body: { string: SEED_REQUEST_BODY },
        });
        const response = await result;
        expect(response).toMatchObject({ status: 201 });
        const headers = response.headers as Record<string, string>;
        expect(headers['Content-Type']).toBe(ODATA_CONTENT_TYPE);
        const body = JSON.parse(response.body as string) as { id: string; '@odata.context': string };
        expect(body.id).toMatch(GUID);
        expect(body['@odata.context']).toBe(
            `https://app.example.net/beta/$metadata#officeConfiguration/clientConfigurations('${H}')/assignments/$entity`,
        );
        expect(headers.Location).toBe(`${base}/${H}/assignments/${body.id}`);
        expect((await cosmos.container.item(body.id, H).read()).resource?.configurationId).toBe(H);
    });

    it('answers a bad body with a Graph error and logs nothing for a client error', async () => {
        const { result, logs } = invoke('officeClientConfigurationAssignments', {
            method: 'POST',
            url: `${base}/${H2}/assignments`,
            headers: { 'content-type': 'application/json' },
            body: { string: '{"target":{}}' },
        });
        const response = await result;
        expect(response.status).toBe(400);
        expect(JSON.parse(response.body as string).error.details[0].target).toBe('target.@odata.type');
        expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
        expect(await cosmos.documents(H2)).toEqual([]);
    });

    it('writes absolute URLs with the public origin when one is set (a gateway in front)', async () => {
        const route = routes.find((r) => r.name === 'officeClientConfigurationAssignments')!;
        const handler = createHttpHandler(route, () => ({
            ...cosmos.services,
            publicOrigin: 'https://api.contoso.com',
        }));
        const response = await handler(
            new HttpRequest({
                method: 'POST',
                url: `${base}/${GW}/assignments`,
                headers: { 'content-type': 'application/json' },
                body: { string: SEED_REQUEST_BODY },
            }),
            new InvocationContext({ invocationId: randomUUID(), functionName: route.name }),
        );
        const headers = response.headers as Record<string, string>;
        expect(
            headers.Location?.startsWith(
                `https://api.contoso.com/beta/officeConfiguration/clientConfigurations/${GW}/assignments/`,
            ),
        ).toBe(true);
        expect(JSON.parse(response.body as string)['@odata.context']).toMatch(
            /^https:\/\/api\.contoso\.com\/beta\/\$metadata#/,
        );
    });

    it('reads route parameters from the URL, whatever the host put in params', async () => {
        const { result } = invoke('officeClientConfigurationAssignments', {
            method: 'GET',
            url: `${base}/a%2Fb/assignments`,
            params: { configurationId: 'a/b' },
        });
        expect((await result).status).toBe(400);
    });
});
