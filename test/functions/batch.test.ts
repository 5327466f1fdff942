/**
 * The `$batch` function as the Functions host calls it: `@azure/functions`' own HttpRequest (a buffered body, the
 * host's absolute URL) and InvocationContext, no socket. Its parts must come back with links on the host's origin.
 */
import { randomUUID } from 'node:crypto';

import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { createHttpHandler } from '../../lib/http/pipeline.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { SEED_REQUEST_BODY } from '../helpers/host.js';

const { HttpRequest, InvocationContext } = functions;

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos.close();
});

describe('the $batch function', () => {
    it('answers its parts through the route table, on the host origin', async () => {
        const route = routes.find((r) => r.template === '$batch');
        expect(route).toBeDefined();
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const url = `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
        const batch = {
            requests: [
                {
                    id: 'c',
                    method: 'POST',
                    url,
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.parse(SEED_REQUEST_BODY) as unknown,
                },
                { id: 'l', method: 'GET', url, dependsOn: ['c'] },
            ],
        };
        const context = new InvocationContext({
            invocationId: randomUUID(),
            functionName: 'batch',
            logHandler: () => {},
        });
        const response = await createHttpHandler(route!, () => cosmos.services)(
            new HttpRequest({
                method: 'POST',
                url: 'https://app.example.net/beta/$batch',
                headers: { 'content-type': 'application/json' },
                body: { string: JSON.stringify(batch) },
            }),
            context,
        );
        expect(response.status).toBe(200);
        const { responses } = JSON.parse(response.body as string) as {
            responses: {
                id: string;
                status: number;
                headers: Record<string, string>;
                body: { id?: string; value?: unknown[] };
            }[];
        };
        expect(responses.map((r) => [r.id, r.status])).toEqual([
            ['c', 201],
            ['l', 200],
        ]);
        expect(responses[0]!.headers.Location).toBe(`https://app.example.net/beta${url}/${responses[0]!.body.id}`);
        expect(responses[1]!.body.value).toHaveLength(1);
    });
});
