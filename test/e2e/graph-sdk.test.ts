/**
 * The service as Graph SDK users drive it: `@microsoft/microsoft-graph-client` with `baseUrl` at the service,
 * version `beta` and an auth provider. The client sends its token only over HTTPS to `customHosts`, so the local
 * host serves HTTPS here, with a certificate this test makes, and the app checks every token: the client's real
 * auth path runs, not a workaround.
 */
import { Client, GraphError, type PageCollection, PageIterator, ResponseType } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LocalHost } from '../../lib/http/localHost.js';
import { GUID } from '../helpers/host.js';
import { type HttpsApp, startHttpsApp } from '../helpers/https.js';

let host: LocalHost;
let dispatcher: Agent;
let token: string;
let tokenRequests = 0;

function client(): Client {
    return Client.initWithMiddleware({
        baseUrl: host.origin,
        defaultVersion: 'beta',
        customHosts: new Set(['localhost']),
        // Trust the test's own certificate for this client only; nothing global is loosened.
        fetchOptions: { dispatcher },
        authProvider: {
            getAccessToken: () => {
                tokenRequests += 1;
                return Promise.resolve(token);
            },
        },
    });
}

let app: HttpsApp;

beforeAll(async () => {
    app = await startHttpsApp();
    ({ host, dispatcher, token } = app);
});

afterAll(async () => {
    await app.close();
});

const CONFIGURATIONS = '/officeConfiguration/clientConfigurations';
const path = (cfg: string) => `${CONFIGURATIONS}/${cfg}`;

interface Assignment {
    id: string;
    target: { '@odata.type': string; groupId?: string };
}
interface Configuration {
    '@odata.type': string;
    id: string;
    displayName: string;
    priority: number;
}

/** Assignments need a configuration that exists. */
async function newConfiguration(graph: Client, displayName: string): Promise<Configuration> {
    return (await graph.api(CONFIGURATIONS).post({
        '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration',
        displayName,
    })) as Configuration;
}

describe('the Microsoft Graph JS SDK', () => {
    it('serves HTTPS at the origin the client is given', () => {
        expect(host.origin).toMatch(/^https:\/\/localhost:\d+$/);
    });

    it('creates, lists, gets, updates, deletes and assigns', async () => {
        const graph = client();
        const cfg = (await newConfiguration(graph, 'sdk')).id;
        const created = (await graph.api(`${path(cfg)}/assignments`).post({
            '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
            target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
        })) as Assignment & { '@odata.context': string };
        expect(created.id).toMatch(GUID);
        expect(created['@odata.context']).toContain(`clientConfigurations('${cfg}')/assignments/$entity`);
        expect(tokenRequests).toBeGreaterThan(0);

        const listed = (await graph
            .api(`${path(cfg)}/assignments`)
            .top(5)
            .count(true)
            .get()) as {
            '@odata.count': number;
            value: Assignment[];
        };
        expect(listed['@odata.count']).toBe(1);
        expect(listed.value.map((a) => a.id)).toEqual([created.id]);

        const got = (await graph
            .api(`${path(cfg)}/assignments/${created.id}`)
            .select('id')
            .get()) as Assignment;
        expect(got).toMatchObject({ id: created.id });
        expect(got.target).toBeUndefined();

        const group = {
            '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
            groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
        };
        await graph.api(`${path(cfg)}/assignments/${created.id}`).patch({ target: group });
        const updated = (await graph.api(`${path(cfg)}/assignments/${created.id}`).get()) as Assignment;
        expect(updated.target).toEqual(group);

        const assigned = (await graph.api(`${path(cfg)}/assign`).post({
            officeConfigurationAssignments: [
                { target: group },
                { target: { ...group, groupId: '1f8fad5b-d9cb-469f-a165-70867728950e' } },
            ],
        })) as { value: Assignment[] };
        expect(assigned.value).toHaveLength(2);
        expect(assigned.value[0]?.id).toBe(created.id);

        await graph.api(`${path(cfg)}/assignments/${created.id}`).delete();
        const after = (await graph.api(`${path(cfg)}/assignments`).get()) as { value: Assignment[] };
        expect(after.value.map((a) => a.id)).toEqual([assigned.value[1]?.id]);
    });

    it('creates a configuration, uploads its payload, reorders priorities and assigns it', async () => {
        const graph = client();
        const first = await newConfiguration(graph, 'sdk-first');
        const created = (await graph.api(CONFIGURATIONS).post({
            '@odata.type': '#microsoft.graph.windowsOfficeClientSecurityConfiguration',
            displayName: 'sdk-security',
            description: 'made by the Graph JS SDK',
        })) as Configuration & { '@odata.context': string };
        expect(created).toMatchObject({
            '@odata.type': '#microsoft.graph.windowsOfficeClientSecurityConfiguration',
            displayName: 'sdk-security',
        });
        expect(created.id).toMatch(GUID);
        expect(created['@odata.context']).toContain('$metadata#officeConfiguration/clientConfigurations/$entity');
        expect(created.priority).toBeGreaterThan(first.priority);

        // The payload as raw bytes: the SDK sends a Buffer as it is, with the media type given.
        const policy = Buffer.from('<policy><setting name="channel" value="monthly"/></policy>');
        await graph
            .api(`${path(created.id)}/policyPayload`)
            .header('Content-Type', 'application/xml')
            .put(policy);
        const downloaded = (await graph
            .api(`${path(created.id)}/policyPayload`)
            .responseType(ResponseType.ARRAYBUFFER)
            .get()) as ArrayBuffer;
        expect(Buffer.from(downloaded)).toEqual(policy);
        const entity = (await graph.api(path(created.id)).get()) as Record<string, unknown>;
        expect(entity['policyPayload@odata.mediaContentType']).toBe('application/xml');
        expect(entity).not.toHaveProperty('policyPayload');

        const before = (await graph.api(CONFIGURATIONS).top(999).get()) as { value: Configuration[] };
        expect(before.value.map((c) => c.id)).toContain(first.id);
        await graph.api(`${CONFIGURATIONS}/updatePriorities`).post({
            officeConfigurationPolicyIds: [created.id],
            officeConfigurationPriorities: [1],
        });
        const ordered = (await graph.api(CONFIGURATIONS).orderby('priority').top(999).get()) as {
            value: Configuration[];
        };
        // First now; the others keep their order after it, and none is lost.
        expect(ordered.value.map((c) => c.id)).toEqual([
            created.id,
            ...before.value.map((c) => c.id).filter((id) => id !== created.id),
        ]);
        expect(ordered.value.map((c) => c.priority)).toEqual(ordered.value.map((_, i) => i + 1));

        const assigned = (await graph.api(`${path(created.id)}/assign`).post({
            officeConfigurationAssignments: [
                {
                    target: {
                        '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
                        groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
                    },
                },
            ],
        })) as { value: Assignment[] };
        expect(assigned.value.map((a) => a.target.groupId)).toEqual(['0f8fad5b-d9cb-469f-a165-70867728950e']);
        const listed = (await graph.api(`${path(created.id)}/assignments`).get()) as { value: Assignment[] };
        expect(listed.value.map((a) => a.id)).toEqual(assigned.value.map((a) => a.id));
    });

    it('follows a delta round with PageIterator to its deltaLink, which then returns what changed', async () => {
        const graph = client();
        const cfg = (await newConfiguration(graph, 'sdk-delta')).id;
        const groups = ['0', '1', '2'].map((n) => `0f8fad5b-d9cb-469f-a165-70867728950${n}`);
        const created: Assignment[] = [];
        for (const groupId of groups) {
            created.push(
                (await graph.api(`${path(cfg)}/assignments`).post({
                    target: { '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget', groupId },
                })) as Assignment,
            );
        }
        // Two items a page: the round has a nextLink, and the iterator follows it with the same Prefer.
        const prefer = { Prefer: 'odata.maxpagesize=2' };
        const first = (await graph
            .api(`${path(cfg)}/assignments/delta`)
            .headers(prefer)
            .get()) as PageCollection;
        expect(first.value).toHaveLength(2);
        expect(first['@odata.nextLink']).toContain('$skiptoken=');
        expect(first['@odata.deltaLink']).toBeUndefined();
        const seen: Assignment[] = [];
        const iterator = new PageIterator(
            graph,
            first,
            (item) => {
                seen.push(item as Assignment);
                return true;
            },
            { headers: prefer },
        );
        await iterator.iterate();
        expect(iterator.isComplete()).toBe(true);
        expect(seen.map((a) => a.id).sort()).toEqual(created.map((a) => a.id).sort());
        const deltaLink = iterator.getDeltaLink();
        expect(deltaLink).toContain('$deltatoken=');

        // Changes since the round: one target replaced, one assignment deleted.
        const [changed, removed] = created as [Assignment, Assignment];
        const target = {
            '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
            groupId: '1f8fad5b-d9cb-469f-a165-70867728950e',
        };
        await graph.api(`${path(cfg)}/assignments/${changed.id}`).patch({ target });
        await graph.api(`${path(cfg)}/assignments/${removed.id}`).delete();
        const changes = (await graph.api(deltaLink!).get()) as PageCollection;
        expect(changes.value).toHaveLength(2);
        expect(changes.value).toContainEqual({
            '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
            id: changed.id,
            target,
        });
        expect(changes.value).toContainEqual({ id: removed.id, '@removed': { reason: 'deleted' } });
        expect(changes['@odata.nextLink']).toBeUndefined();
        expect(changes['@odata.deltaLink']).toContain('$deltatoken=');

        // The qualified form, from now on: nothing yet, then the next change.
        const latest = (await graph
            .api(`${CONFIGURATIONS}/microsoft.graph.delta()`)
            .query({ $deltatoken: 'latest' })
            .get()) as PageCollection;
        expect(latest.value).toEqual([]);
        const renamed = await newConfiguration(graph, 'sdk-delta-after-latest');
        const after = (await graph.api(latest['@odata.deltaLink']!).get()) as PageCollection;
        expect(after.value).toEqual([
            expect.objectContaining({ id: renamed.id, displayName: 'sdk-delta-after-latest' }),
        ]);
    });

    it('surfaces a Graph error as a GraphError with status, code and request-id', async () => {
        const cfg = (await newConfiguration(client(), 'sdk-errors')).id;
        const error = (await client()
            .api(`${path(cfg)}/assignments`)
            .post({ target: { '@odata.type': 'microsoft.graph.nope' } })
            .catch((e: unknown) => e)) as GraphError;
        expect(error).toBeInstanceOf(GraphError);
        expect(error.statusCode).toBe(400);
        expect(error.code).toBe('BadRequest');
        expect(error.requestId).toMatch(GUID);
        expect(error.message).toMatch(/not a known type/);

        const missing = (await client()
            .api(`${path(cfg)}/assignments/0f8fad5b-d9cb-469f-a165-70867728950e`)
            .get()
            .catch((e: unknown) => e)) as GraphError;
        expect(missing.statusCode).toBe(404);
        expect(missing.code).toBe('ResourceNotFound');
        const assignments = (await client()
            .api(`${path(cfg)}/assignments`)
            .get()) as { value: Assignment[] };
        expect(assignments.value).toEqual([]);

        const noConfiguration = (await client()
            .api(`${path('0f8fad5b-d9cb-469f-a165-70867728950e')}/assignments`)
            .post({ target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' } })
            .catch((e: unknown) => e)) as GraphError;
        expect(noConfiguration.statusCode).toBe(404);
        expect(noConfiguration.code).toBe('ResourceNotFound');
    });

    it("lists the calling application's subscriptions, and a missing one is a ResourceNotFound GraphError", async () => {
        const listed = (await client().api('/subscriptions').get()) as { '@odata.context': string; value: unknown[] };
        expect(listed['@odata.context']).toMatch(/\/\$metadata#subscriptions$/);
        expect(listed.value).toEqual([]);
        const missing = (await client()
            .api('/subscriptions/0f8fad5b-d9cb-469f-a165-70867728950e')
            .get()
            .catch((e: unknown) => e)) as GraphError;
        expect(missing).toBeInstanceOf(GraphError);
        expect(missing.statusCode).toBe(404);
        expect(missing.code).toBe('ResourceNotFound');
    });

    it('is refused with 401 when its token is not trusted', async () => {
        const trusted = token;
        token = await app.idp.appToken(undefined, { key: await app.idp.unpublishedKey() });
        try {
            const error = (await client()
                .api(`${path('0f8fad5b-d9cb-469f-a165-70867728950e')}/assignments`)
                .get()
                .catch((e: unknown) => e)) as GraphError;
            expect(error.statusCode).toBe(401);
            expect(error.code).toBe('InvalidAuthenticationToken');
        } finally {
            token = trusted;
        }
    });
});
