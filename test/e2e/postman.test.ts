/**
 * The Postman collection, run by newman against the app over real HTTP: every assertion must pass, enough of them
 * must have run, every route must have been called, and a response that differs from an expectation must fail.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

import newman, { type NewmanRunOptions, type NewmanRunSummary } from 'newman';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { GraphError } from '../../lib/graph/errors.js';
import { startLocalHost } from '../../lib/http/localHost.js';
import { compileTemplate, isCatchAll, matchTemplate, pathSegments } from '../../lib/http/routing.js';
import { startTestApp, type TestApp } from '../helpers/host.js';

const run = promisify(newman.run) as (options: NewmanRunOptions) => Promise<NewmanRunSummary>;

const postman = (file: string) => new URL(`../../postman/${file}`, import.meta.url);

interface Item {
    name: string;
    item?: Item[];
    request?: { method: string; header: { key: string; value: string }[] };
}
interface Collection {
    info: { schema: string };
    item: Item[];
}
interface Environment {
    values: { key: string; value: string; type: string }[];
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(postman(file), 'utf8')) as T;

let app: TestApp;
let collection: Collection;
let environment: Environment;

beforeAll(async () => {
    app = await startTestApp();
    collection = await readJson<Collection>('office-client-configuration-assignments.postman_collection.json');
    environment = await readJson<Environment>('local.postman_environment.json');
});
afterAll(async () => {
    await app.close();
});

const runAgainstApp = (options: Partial<NewmanRunOptions> = {}) =>
    run({
        collection: structuredClone(collection) as NewmanRunOptions['collection'],
        environment: structuredClone(environment),
        envVar: [{ key: 'baseUrl', value: app.host.origin }],
        timeoutRequest: 10_000,
        ...options,
    });

const requestCount = (items: Item[]): number =>
    items.reduce((count, item) => count + (item.item ? requestCount(item.item) : 1), 0);

describe('Postman collection (newman)', () => {
    it('is a v2.1 collection; the local environment has no secret, the Azure one an empty one', async () => {
        expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
        expect(environment.values.map((v) => v.key)).toEqual(['baseUrl']);
        expect(environment.values[0]?.value).toBe('http://localhost:7071');
        const azure = await readJson<Environment>('azure.postman_environment.json');
        const secret = azure.values.find((v) => v.key === 'clientSecret');
        expect(secret).toMatchObject({ type: 'secret', value: '' });
        expect(azure.values.map((v) => v.key)).toEqual(
            expect.arrayContaining(['baseUrl', 'tenantId', 'clientId', 'scope']),
        );
    });

    it('passes every assertion against the app, and calls every route', async () => {
        const summary = await runAgainstApp();
        const failures = summary.run.failures.map(
            (f) => `${f.source?.name ?? f.at}: ${f.error.test} — ${f.error.message}`,
        );
        expect(failures).toEqual([]);
        expect(summary.error).toBeUndefined();
        const { assertions, requests, prerequestScripts, testScripts } = summary.run.stats;
        expect(requests.total).toBe(requestCount(collection.item));
        expect(requests.failed).toBe(0);
        expect(prerequestScripts.failed).toBe(0);
        expect(testScripts.failed).toBe(0);
        // A script that stopped early would pass with fewer assertions: require the ones the collection holds.
        expect(assertions.total).toBeGreaterThanOrEqual(357);
        expect(assertions.failed).toBe(0);

        const compiled = routes
            .map((route) => ({ route, template: compileTemplate(route.template) }))
            .sort((a, b) => Number(isCatchAll(a.template)) - Number(isCatchAll(b.template)));
        const called = new Set(
            summary.run.executions.map((execution) => {
                const segments = pathSegments(new URL(execution.request.url.toString()).pathname) ?? [];
                const match = compiled.find(({ template }) => matchTemplate(template, segments) !== undefined);
                return `${execution.request.method} ${match?.route.name ?? 'none'}`;
            }),
        );
        const served = routes.flatMap((route) => Object.keys(route.operations).map((m) => `${m} ${route.name}`));
        const missing = served.filter((s) => !called.has(s) && !s.endsWith(' unknownSegment'));
        expect(missing).toEqual([]);
        expect([...called].some((s) => s.endsWith(' unknownSegment'))).toBe(true);

        // Assignments exist only under a configuration: every assignment request but the one about a missing
        // configuration goes to one the run created (and got a 201 for) before.
        const created = new Set<string>();
        const under: string[] = [];
        for (const { request, response } of summary.run.executions) {
            const path = new URL(request.url.toString()).pathname;
            if (request.method === 'POST' && path === '/beta/officeConfiguration/clientConfigurations') {
                if (response.code === 201) {
                    created.add((JSON.parse(response.stream!.toString()) as { id: string }).id);
                }
                continue;
            }
            const parent = /^\/beta\/officeConfiguration\/clientConfigurations\/([^/]+)\/(?:assignments|assign)\b/.exec(
                path,
            );
            if (parent && response.code !== 404) {
                under.push(parent[1]!);
            }
        }
        expect(created.size).toBe(3);
        expect(under.length).toBeGreaterThanOrEqual(15);
        expect(under.filter((id) => !created.has(id))).toEqual([]);
    });

    it('with a clientSecret, gets a token by the client-credentials flow once and sends it on every request', async () => {
        const forms: URLSearchParams[] = [];
        const tokenServer = createServer((request, response) => {
            let body = '';
            request.on('data', (chunk: Buffer) => (body += chunk.toString()));
            request.on('end', () => {
                forms.push(new URLSearchParams(body));
                response.setHeader('Content-Type', 'application/json');
                response.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'token-1' }));
            });
        });
        tokenServer.listen(0, '127.0.0.1');
        await once(tokenServer, 'listening');
        // The same app, now refusing any request without that token.
        const secured = await startLocalHost({
            routes,
            services: {
                ...app.cosmos.services,
                authenticator: {
                    authenticate: (authorization) =>
                        authorization === 'Bearer token-1'
                            ? Promise.resolve({ objectId: undefined, kind: 'application' })
                            : Promise.reject(new GraphError('InvalidAuthenticationToken', 'No valid token.')),
                },
            },
        });
        try {
            const azure = await readJson<Environment>('azure.postman_environment.json');
            const summary = await run({
                collection: structuredClone(collection) as NewmanRunOptions['collection'],
                environment: azure,
                envVar: [
                    { key: 'baseUrl', value: secured.origin },
                    { key: 'authority', value: `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}` },
                    { key: 'tenantId', value: 'tenant-1' },
                    { key: 'clientId', value: 'client-1' },
                    { key: 'clientSecret', value: 'secret-1' },
                    { key: 'scope', value: 'api://office-config-assignments/.default' },
                ],
            });
            expect(summary.run.failures.map((f) => `${f.source?.name ?? f.at}: ${f.error.message}`)).toEqual([]);
            expect(summary.run.stats.requests.total).toBe(requestCount(collection.item) + 1);
            expect(forms.map((form) => Object.fromEntries(form))).toEqual([
                {
                    grant_type: 'client_credentials',
                    client_id: 'client-1',
                    client_secret: 'secret-1',
                    scope: 'api://office-config-assignments/.default',
                },
            ]);
        } finally {
            await secured.close();
            await new Promise((resolve) => tokenServer.close(resolve));
        }
    });

    it('runs the Errors folder alone, and it leaves no configuration behind', async () => {
        const count = async () => {
            const response = await fetch(`${app.root}/officeConfiguration/clientConfigurations?$count=true&$top=1`);
            expect(response.status).toBe(200);
            return ((await response.json()) as { '@odata.count': number })['@odata.count'];
        };
        const before = await count();
        const summary = await runAgainstApp({ folder: 'Errors' });
        expect(summary.run.failures.map((f) => `${f.source?.name ?? f.at}: ${f.error.message}`)).toEqual([]);
        const errors = collection.item.find((folder) => folder.name === 'Errors');
        expect(summary.run.stats.requests.total).toBe(requestCount(errors?.item ?? []));
        // It created one configuration of its own, and deleted it.
        const creates = summary.run.executions.filter(
            ({ request, response }) =>
                request.method === 'POST' &&
                new URL(request.url.toString()).pathname === '/beta/officeConfiguration/clientConfigurations' &&
                response.code === 201,
        );
        expect(creates).toHaveLength(1);
        expect(await count()).toBe(before);
    });

    it('fails when a response is not what a request expects', async () => {
        // The 415 request sent as JSON: the service now answers 400, which the request's assertions must catch.
        const changed = structuredClone(collection);
        const errors = changed.item.find((folder) => folder.name === 'Errors');
        const request = errors?.item?.find((item) => item.name.startsWith('415'))?.request;
        request!.header = request!.header.map((h) =>
            h.key === 'Content-Type' ? { key: h.key, value: 'application/json' } : h,
        );
        const summary = await run({
            collection: changed as NewmanRunOptions['collection'],
            environment: structuredClone(environment),
            envVar: [{ key: 'baseUrl', value: app.host.origin }],
            folder: 'Errors',
        });
        expect(summary.run.failures.map((f) => f.error.test)).toEqual(['415 UnsupportedMediaType']);
    });
});
