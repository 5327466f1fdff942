/**
 * JSON batching as Graph SDK users send it: `BatchRequestContent` builds the `$batch` body from fetch `Request`s,
 * `@microsoft/microsoft-graph-client` posts it over HTTPS with its token, and `BatchResponseContent` reads the
 * answers back as fetch `Response`s. Set up as test/e2e/graph-sdk.test.ts is.
 */
import {
    BatchRequestContent,
    type BatchResponseBody,
    BatchResponseContent,
    Client,
} from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LocalHost } from '../../lib/http/localHost.js';
import { newStoredConfiguration } from '../helpers/configurations.js';
import type { TestCosmos } from '../helpers/cosmos.js';
import { GUID, JSON_HEADERS } from '../helpers/host.js';
import { type HttpsApp, startHttpsApp } from '../helpers/https.js';

let cosmos: TestCosmos;
let host: LocalHost;
let dispatcher: Agent;
let token: string;

function client(): Client {
    return Client.initWithMiddleware({
        baseUrl: host.origin,
        defaultVersion: 'beta',
        customHosts: new Set(['localhost']),
        fetchOptions: { dispatcher },
        authProvider: { getAccessToken: () => Promise.resolve(token) },
    });
}

let app: HttpsApp;

beforeAll(async () => {
    app = await startHttpsApp();
    ({ cosmos, host, dispatcher, token } = app);
});

afterAll(async () => {
    await app.close();
});

/**
 * The SDK (3.0.7) strips scheme and host from a step's URL but keeps the rest, and Graph reads the rest relative to
 * the version root: so a step's URL is the origin and the path under the service root, without `/beta`.
 */
const step = (path: string, init: RequestInit = {}) => new Request(`${host.origin}${path}`, init);
const assignments = (cfg: string) => `/officeConfiguration/clientConfigurations/${cfg}/assignments`;
const SEED = JSON.stringify({
    '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
    target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
});

async function send(batch: BatchRequestContent): Promise<BatchResponseContent> {
    const body = (await client()
        .api('/$batch')
        .post(await batch.getContent())) as BatchResponseBody;
    return new BatchResponseContent(body);
}

describe('BatchRequestContent and BatchResponseContent against the service', () => {
    it('creates, orders by dependsOn, reads back, and reports a failed dependency per step', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        // The SDK accepts three shapes of dependsOn (none, a chain, one shared dependency): a chain here.
        const batch = new BatchRequestContent([
            { id: '1', request: step(assignments(cfg), { method: 'POST', headers: JSON_HEADERS, body: SEED }) },
            {
                id: '2',
                request: step(assignments(cfg), { method: 'POST', headers: JSON_HEADERS, body: SEED }),
                dependsOn: ['1'],
            },
            { id: '3', request: step(`${assignments(cfg)}?$count=true`), dependsOn: ['2'] },
            {
                id: '4',
                request: step(`${assignments(cfg)}/00000000-0000-0000-0000-000000000000`, {
                    method: 'PATCH',
                    headers: { ...JSON_HEADERS, 'If-Match': '"stale"' },
                    body: SEED,
                }),
                dependsOn: ['3'],
            },
            {
                id: '5',
                request: step(assignments(cfg), { method: 'POST', headers: JSON_HEADERS, body: SEED }),
                dependsOn: ['4'],
            },
        ]);
        const answers = await send(batch);

        const first = answers.getResponseById('1');
        expect(first.status).toBe(201);
        expect(first.headers.get('location')).toContain(`/beta${assignments(cfg)}/`);
        const created = (await first.json()) as { id: string };
        expect(created.id).toMatch(GUID);
        expect(answers.getResponseById('2').status).toBe(201);

        const list = answers.getResponseById('3');
        expect(list.status).toBe(200);
        const page = (await list.json()) as { '@odata.count': number; value: { id: string }[] };
        expect(page['@odata.count']).toBe(2);
        expect(page.value.map((a) => a.id)).toContain(created.id);

        expect(answers.getResponseById('4').status).toBe(412);
        const dependent = answers.getResponseById('5');
        expect(dependent.status).toBe(424);
        expect(((await dependent.json()) as { error: { code: string } }).error.code).toBe('FailedDependency');
        expect(await cosmos.documents(cfg)).toHaveLength(2);
    });

    it('a step whose URL keeps the version segment gets the 400 Graph gives, and the others run', async () => {
        const cfg = await newStoredConfiguration(cosmos.services.store);
        const answers = await send(
            new BatchRequestContent([
                { id: 'versioned', request: step(`/beta${assignments(cfg)}`) },
                { id: 'relative', request: step(assignments(cfg)) },
            ]),
        );
        const versioned = answers.getResponseById('versioned');
        expect(versioned.status).toBe(400);
        expect(((await versioned.json()) as { error: { message: string } }).error.message).toBe(
            "Resource not found for the segment 'beta'.",
        );
        expect(answers.getResponseById('relative').status).toBe(200);
    });
});
