/**
 * The client configurations over real HTTP, on the real SDK and the embedded Cosmos DB: the singleton, create, list
 * (priority order, paging, $count, $select, $orderby), get, PATCH, DELETE, updatePriorities, the stream properties,
 * and the rules that tie assignments to their configuration.
 */
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { SET_VERSION_ID, STALE_MARK_MS } from '../../lib/store/assignmentStore.js';
import { TENANT_PARTITION } from '../../lib/store/configurationStore.js';
import { configurationsUrl, newConfiguration, WINDOWS_CONFIGURATION } from '../helpers/configurations.js';
import { expectGraphError, GUID, JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();

interface Configuration {
    '@odata.context'?: string;
    '@odata.type': string;
    id: string;
    displayName?: string | null;
    description?: string | null;
    priority: number;
    checkinStatuses?: unknown[];
    userCheckinSummary?: { failedUserCount: number; succeededUserCount: number };
    [annotation: string]: unknown;
}
interface Collection {
    '@odata.context': string;
    '@odata.count'?: number;
    '@odata.nextLink'?: string;
    value: Configuration[];
}

const collection = () => configurationsUrl(app.root);
const itemUrl = (id: string) => `${collection()}/${id}`;
const SECURITY = '#microsoft.graph.windowsOfficeClientSecurityConfiguration';

async function create(body: Record<string, unknown> = {}): Promise<{ entity: Configuration; response: Response }> {
    const response = await fetch(collection(), {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ '@odata.type': WINDOWS_CONFIGURATION, displayName: 'x', ...body }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return { entity: (await response.json()) as Configuration, response };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return await fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
}

/** Every configuration in priority order, read page by page. */
async function listAll(query = ''): Promise<Configuration[]> {
    const all: Configuration[] = [];
    let url: string | undefined = `${collection()}?$top=999${query}`;
    while (url) {
        const response: Response = await fetch(url);
        expect(response.status).toBe(200);
        const page = (await response.json()) as Collection;
        all.push(...page.value);
        url = page['@odata.nextLink'];
    }
    return all;
}

async function deleteAll(): Promise<void> {
    for (const c of await listAll('&$select=id')) {
        expect((await fetch(itemUrl(c.id), { method: 'DELETE' })).status).toBe(204);
    }
}

/** Priorities as clients see them are exactly 1..N, in order. */
function expectDense(configurations: readonly Configuration[]): void {
    expect(configurations.map((c) => c.priority)).toEqual(configurations.map((_, i) => i + 1));
}

const updatePriorities = (ids: string[], priorities: number[], qualified = false) =>
    post(`${collection()}/${qualified ? 'microsoft.graph.updatePriorities' : 'updatePriorities'}`, {
        officeConfigurationPolicyIds: ids,
        officeConfigurationPriorities: priorities,
    });

describe('the officeConfiguration singleton', () => {
    it('answers the tenant check-in statuses (none recorded) and a summary of zeros', async () => {
        const response = await fetch(`${app.root}/officeConfiguration`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
            '@odata.context': `${app.root}/$metadata#officeConfiguration`,
            '@odata.type': '#microsoft.graph.officeConfiguration',
            tenantCheckinStatuses: [],
            tenantUserCheckinSummary: { failedUserCount: 0, succeededUserCount: 0 },
        });
    });

    it('refuses writes with 405', async () => {
        const response = await fetch(`${app.root}/officeConfiguration`, { method: 'PATCH', headers: JSON_HEADERS });
        await expectGraphError(response, 405, 'MethodNotAllowed', expect);
    });
});

describe('create', () => {
    it('creates a configuration: 201, Location, ETag, the entity with its priority, empty check-ins', async () => {
        await deleteAll();
        const { entity, response } = await create({ displayName: 'Baseline', description: 'For everyone' });
        expect(entity.id).toMatch(GUID);
        expect(response.headers.get('location')).toBe(itemUrl(entity.id));
        expect(response.headers.get('etag')).toMatch(/^".+"$/);
        expect(entity).toEqual({
            '@odata.context': `${app.root}/$metadata#officeConfiguration/clientConfigurations/$entity`,
            '@odata.type': WINDOWS_CONFIGURATION,
            id: entity.id,
            displayName: 'Baseline',
            description: 'For everyone',
            priority: 1,
            checkinStatuses: [],
            userCheckinSummary: { failedUserCount: 0, succeededUserCount: 0 },
        });
    });

    it('picks the concrete type from @odata.type, with or without #, and writes it with #', async () => {
        const { entity } = await create({ '@odata.type': SECURITY.slice(1) });
        expect(entity['@odata.type']).toBe(SECURITY);
        const read = (await (await fetch(itemUrl(entity.id))).json()) as Configuration;
        expect(read['@odata.type']).toBe(SECURITY);
    });

    it('refuses the abstract base type, and a missing or unknown type, with a 400 that says so', async () => {
        const before = (await listAll()).length;
        for (const type of [
            '#microsoft.graph.officeClientConfiguration',
            'microsoft.graph.officeClientConfiguration',
        ]) {
            const body = await expectGraphError(
                await post(collection(), { '@odata.type': type }),
                400,
                'BadRequest',
                expect,
            );
            expect(body.error.message).toContain('abstract');
        }
        const missing = await expectGraphError(
            await post(collection(), { displayName: 'x' }),
            400,
            'BadRequest',
            expect,
        );
        expect(missing.error.details?.[0]?.target).toBe('@odata.type');
        await expectGraphError(
            await post(collection(), { '@odata.type': '#microsoft.graph.somethingElse' }),
            400,
            'BadRequest',
            expect,
        );
        expect((await listAll()).length).toBe(before);
    });

    it('refuses the read-only checkinStatuses and userCheckinSummary, naming them', async () => {
        for (const property of ['checkinStatuses', 'userCheckinSummary']) {
            const value = property === 'checkinStatuses' ? [] : { failedUserCount: 0, succeededUserCount: 0 };
            const body = await expectGraphError(
                await post(collection(), { '@odata.type': WINDOWS_CONFIGURATION, [property]: value }),
                400,
                'BadRequest',
                expect,
            );
            expect(body.error.message).toContain(property);
            expect(body.error.details?.[0]).toMatchObject({ code: 'ReadOnlyProperty', target: property });
        }
    });

    it('refuses unknown properties, bad priorities and over-long names, storing nothing', async () => {
        const before = await listAll();
        const bad: Record<string, unknown>[] = [
            { color: 'red' },
            { priority: 0 },
            { priority: 1.5 },
            { priority: '1' },
            { priority: before.length + 2 },
            { displayName: 'x'.repeat(257) },
            { policyPayload: 'not base64!' },
        ];
        for (const extra of bad) {
            const response = await post(collection(), { '@odata.type': WINDOWS_CONFIGURATION, ...extra });
            await expectGraphError(response, 400, 'BadRequest', expect);
        }
        expect(await listAll()).toEqual(before);
        // The parent documents of refused creates are not left behind either.
    });

    it('inserts at the priority asked (1..N+1) and moves the others down; omitted means last', async () => {
        await deleteAll();
        const a = (await create({ displayName: 'a' })).entity;
        const b = (await create({ displayName: 'b' })).entity;
        expect([a.priority, b.priority]).toEqual([1, 2]);
        const c = (await create({ displayName: 'c', priority: 1 })).entity;
        expect(c.priority).toBe(1);
        const d = (await create({ displayName: 'd', priority: 4 })).entity;
        expect(d.priority).toBe(4);
        const all = await listAll();
        expect(all.map((x) => x.displayName)).toEqual(['c', 'a', 'b', 'd']);
        expectDense(all);
    });
});

describe('list', () => {
    it('lists in priority order, with $count, paging with $top/$skiptoken, and $orderby=priority desc', async () => {
        await deleteAll();
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
            ids.push((await create({ displayName: `n${i}` })).entity.id);
        }
        const first = await fetch(`${collection()}?$top=3&$count=true`);
        const page = (await first.json()) as Collection;
        expect(page['@odata.context']).toBe(`${app.root}/$metadata#officeConfiguration/clientConfigurations`);
        expect(page['@odata.count']).toBe(7);
        expect(page.value.map((c) => c.id)).toEqual(ids.slice(0, 3));
        expect(page['@odata.nextLink']).toContain('$skiptoken=');
        const second = (await (await fetch(page['@odata.nextLink'] as string)).json()) as Collection;
        expect(second.value.map((c) => c.priority)).toEqual([4, 5, 6]);
        expect(second['@odata.count']).toBe(7);
        const third = (await (await fetch(second['@odata.nextLink'] as string)).json()) as Collection;
        expect(third.value.map((c) => c.priority)).toEqual([7]);
        expect(third['@odata.nextLink']).toBeUndefined();

        const desc = await listAll('&$orderby=priority%20desc');
        expect(desc.map((c) => c.id)).toEqual([...ids].reverse());
        const asc = await listAll('&$orderby=priority');
        expect(asc.map((c) => c.id)).toEqual(ids);
        const descPaged = (await (await fetch(`${collection()}?$top=2&$orderby=priority desc`)).json()) as Collection;
        const descNext = (await (await fetch(descPaged['@odata.nextLink'] as string)).json()) as Collection;
        expect(descNext.value.map((c) => c.priority)).toEqual([5, 4]);
    });

    it('answers $select=priority from the order alone, and $select=id,displayName with the documents', async () => {
        await create({ '@odata.type': SECURITY });
        const response = await fetch(`${collection()}?$select=priority`);
        const body = (await response.json()) as Collection;
        expect(body['@odata.context']).toBe(`${app.root}/$metadata#officeConfiguration/clientConfigurations(priority)`);
        expect(body.value.every((c) => Object.keys(c).join() === '@odata.type,priority')).toBe(true);
        // The type, from the order too: it knows each configuration's concrete type.
        const withIds = (await (await fetch(`${collection()}?$select=id,priority&$top=999`)).json()) as Collection;
        expect(Object.keys(withIds.value[0] ?? {})).toEqual(['@odata.type', 'id', 'priority']);
        const full = await listAll();
        expect(withIds.value.map((c) => c['@odata.type'])).toEqual(full.map((c) => c['@odata.type']));
        expect(new Set(full.map((c) => c['@odata.type'])).size).toBe(2);
        const named = (await (await fetch(`${collection()}?$select=id,displayName`)).json()) as Collection;
        expect(Object.keys(named.value[0] ?? {})).toEqual(['@odata.type', 'id', 'displayName']);
    });

    it('refuses other $orderby, unknown $select, and a forged or transplanted $skiptoken', async () => {
        for (const query of [
            '$orderby=displayName',
            '$orderby=priority sideways',
            '$select=target',
            '$filter=priority eq 1',
            '$skiptoken=abc.def',
        ]) {
            await expectGraphError(await fetch(`${collection()}?${query}`), 400, 'BadRequest', expect);
        }
        const page = (await (await fetch(`${collection()}?$top=1`)).json()) as Collection;
        const token = new URL(page['@odata.nextLink'] as string).searchParams.get('$skiptoken') ?? '';
        // Signed for ascending order: refused for the descending one.
        await expectGraphError(
            await fetch(`${collection()}?$orderby=priority desc&$skiptoken=${encodeURIComponent(token)}`),
            400,
            'BadRequest',
            expect,
        );
    });
});

describe('get, PATCH, DELETE', () => {
    it('gets one with its ETag, and $select; an unknown or malformed id is a 404', async () => {
        const { entity, response } = await create({ displayName: 'one' });
        const got = await fetch(itemUrl(entity.id));
        expect(got.status).toBe(200);
        expect(got.headers.get('etag')).toBe(response.headers.get('etag'));
        const selected = (await (await fetch(`${itemUrl(entity.id)}?$select=displayName`)).json()) as Configuration;
        expect(selected).toEqual({
            '@odata.context': `${app.root}/$metadata#officeConfiguration/clientConfigurations(displayName)/$entity`,
            '@odata.type': WINDOWS_CONFIGURATION,
            displayName: 'one',
        });
        await expectGraphError(
            await fetch(itemUrl('00000000-0000-4000-8000-000000000000')),
            404,
            'ResourceNotFound',
            expect,
        );
        await expectGraphError(await fetch(itemUrl('not-a-guid')), 404, 'ResourceNotFound', expect);
        // Ids are written lowercase; either case finds it.
        expect((await fetch(itemUrl(entity.id.toUpperCase()))).status).toBe(200);
    });

    it('PATCH: 204, or 200 with Prefer: return=representation; If-Match honoured; the type cannot change', async () => {
        const { entity, response } = await create({ displayName: 'before' });
        const etag = response.headers.get('etag') ?? '';
        const patched = await fetch(itemUrl(entity.id), {
            method: 'PATCH',
            headers: { ...JSON_HEADERS, 'If-Match': etag },
            body: JSON.stringify({ displayName: 'after', description: null }),
        });
        expect(patched.status).toBe(204);
        const newTag = patched.headers.get('etag');
        expect(newTag).not.toBe(etag);
        await expectGraphError(
            await fetch(itemUrl(entity.id), {
                method: 'PATCH',
                headers: { ...JSON_HEADERS, 'If-Match': etag },
                body: JSON.stringify({ displayName: 'stale' }),
            }),
            412,
            'PreconditionFailed',
            expect,
        );
        const represented = await fetch(itemUrl(entity.id), {
            method: 'PATCH',
            headers: { ...JSON_HEADERS, Prefer: 'return=representation' },
            body: JSON.stringify({ description: 'text' }),
        });
        expect(represented.status).toBe(200);
        expect(represented.headers.get('preference-applied')).toBe('return=representation');
        expect(await represented.json()).toMatchObject({ displayName: 'after', description: 'text', id: entity.id });
        await expectGraphError(
            await fetch(itemUrl(entity.id), {
                method: 'PATCH',
                headers: JSON_HEADERS,
                body: JSON.stringify({ '@odata.type': SECURITY }),
            }),
            400,
            'BadRequest',
            expect,
        );
        const readOnly = await fetch(itemUrl(entity.id), {
            method: 'PATCH',
            headers: JSON_HEADERS,
            body: JSON.stringify({ checkinStatuses: [] }),
        });
        expect((await expectGraphError(readOnly, 400, 'BadRequest', expect)).error.message).toContain(
            'checkinStatuses',
        );
    });

    it('PATCH priority moves it (1..N) and shifts the others; out of range is a 400', async () => {
        await deleteAll();
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
            ids.push((await create()).entity.id);
        }
        const moved = await fetch(itemUrl(ids[3] as string), {
            method: 'PATCH',
            headers: JSON_HEADERS,
            body: JSON.stringify({ priority: 1 }),
        });
        expect(moved.status).toBe(204);
        const all = await listAll();
        expect(all.map((c) => c.id)).toEqual([ids[3], ids[0], ids[1], ids[2]]);
        expectDense(all);
        await expectGraphError(
            await fetch(itemUrl(ids[0] as string), {
                method: 'PATCH',
                headers: JSON_HEADERS,
                body: JSON.stringify({ priority: 5 }),
            }),
            400,
            'BadRequest',
            expect,
        );
    });

    it('DELETE: 204, If-Match honoured, gone afterwards, the others close the gap', async () => {
        await deleteAll();
        const a = await create();
        const b = await create();
        const c = await create();
        await expectGraphError(
            await fetch(itemUrl(b.entity.id), { method: 'DELETE', headers: { 'If-Match': '"stale"' } }),
            412,
            'PreconditionFailed',
            expect,
        );
        const deleted = await fetch(itemUrl(b.entity.id), {
            method: 'DELETE',
            headers: { 'If-Match': b.response.headers.get('etag') ?? '' },
        });
        expect(deleted.status).toBe(204);
        await expectGraphError(await fetch(itemUrl(b.entity.id)), 404, 'ResourceNotFound', expect);
        await expectGraphError(
            await fetch(itemUrl(b.entity.id), { method: 'DELETE' }),
            404,
            'ResourceNotFound',
            expect,
        );
        const all = await listAll();
        expect(all.map((x) => x.id)).toEqual([a.entity.id, c.entity.id]);
        expectDense(all);
    });
});

describe('updatePriorities', () => {
    it('moves the listed ids to their priorities; the others keep their relative order (plain and qualified)', async () => {
        await deleteAll();
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
            ids.push((await create()).entity.id);
        }
        const [a, b, c, d, e] = ids as [string, string, string, string, string];
        expect((await updatePriorities([e, a], [1, 3])).status).toBe(204);
        let all = await listAll();
        expect(all.map((x) => x.id)).toEqual([e, b, a, c, d]);
        expectDense(all);
        expect((await updatePriorities([b.toUpperCase()], [5], true)).status).toBe(204);
        all = await listAll();
        expect(all.map((x) => x.id)).toEqual([e, a, c, d, b]);
        expectDense(all);
    });

    it('refuses, changing nothing: unequal lengths, unknown or repeated ids, repeated or out-of-range priorities', async () => {
        const before = (await listAll()).map((c) => c.id);
        const [a, b] = before as [string, string];
        const cases: [string[], number[]][] = [
            [[a, b], [1]],
            [['00000000-0000-4000-8000-000000000000'], [1]],
            [
                [a, a],
                [1, 2],
            ],
            [
                [a, b],
                [2, 2],
            ],
            [[a], [before.length + 1]],
            [[a], [0]],
        ];
        for (const [ids, priorities] of cases) {
            await expectGraphError(await updatePriorities(ids, priorities), 400, 'BadRequest', expect);
        }
        await expectGraphError(await post(`${collection()}/updatePriorities`, {}), 400, 'BadRequest', expect);
        expect((await listAll()).map((c) => c.id)).toEqual(before);
    });
});

describe('stream properties', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 0x7b, 0x22]);

    it('accepts a payload inline on create (base64) and serves it at .../policyPayload with its media annotations', async () => {
        const { entity } = await create({
            policyPayload: bytes.toString('base64'),
            'policyPayload@odata.mediaContentType': 'application/xml',
        });
        const link = `${itemUrl(entity.id)}/policyPayload`;
        expect(entity['policyPayload@odata.mediaReadLink']).toBe(link);
        expect(entity['policyPayload@odata.mediaEditLink']).toBe(link);
        expect(entity['policyPayload@odata.mediaContentType']).toBe('application/xml');
        expect(entity['policyPayload@odata.mediaEtag']).toMatch(/^".+"$/);
        expect(entity).not.toHaveProperty('policyPayload');
        expect(entity).not.toHaveProperty('userPreferencePayload@odata.mediaReadLink');
        const got = await fetch(link);
        expect(got.status).toBe(200);
        expect(got.headers.get('content-type')).toBe('application/xml');
        expect(got.headers.get('etag')).toBe(entity['policyPayload@odata.mediaEtag']);
        expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
        // No user preferences yet: no content.
        expect((await fetch(`${itemUrl(entity.id)}/userPreferencePayload`)).status).toBe(204);
    });

    it('PUT replaces the bytes with their media type; If-Match on the payload ETag; 413 past 1 MiB', async () => {
        const { entity } = await create();
        const url = `${itemUrl(entity.id)}/userPreferencePayload`;
        const put = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: bytes });
        expect(put.status).toBe(204);
        const etag = put.headers.get('etag') ?? '';
        const got = await fetch(url);
        expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
        expect(got.headers.get('content-type')).toBe('application/json');
        const entityNow = (await (await fetch(itemUrl(entity.id))).json()) as Configuration;
        expect(entityNow['userPreferencePayload@odata.mediaEtag']).toBe(etag);

        await expectGraphError(
            await fetch(url, { method: 'PUT', headers: { 'If-Match': '"stale"' }, body: Buffer.from('x') }),
            412,
            'PreconditionFailed',
            expect,
        );
        const max = Buffer.alloc(1024 * 1024, 7);
        const full = await fetch(url, { method: 'PUT', headers: { 'If-Match': etag }, body: max });
        expect(full.status).toBe(204);
        expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(max)).toBe(true);
        await expectGraphError(
            await fetch(url, { method: 'PUT', body: Buffer.alloc(1024 * 1024 + 1) }),
            413,
            'RequestEntityTooLarge',
            expect,
        );
        expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(max)).toBe(true);
        await expectGraphError(
            await fetch(`${itemUrl('00000000-0000-4000-8000-000000000000')}/policyPayload`, {
                method: 'PUT',
                body: 'x',
            }),
            404,
            'ResourceNotFound',
            expect,
        );
    });

    it('takes both payloads at 1 MiB inline on create, and refuses one past it (413)', async () => {
        const max = Buffer.alloc(1024 * 1024, 9).toString('base64');
        const { entity } = await create({ policyPayload: max, userPreferencePayload: max });
        const got = await fetch(`${itemUrl(entity.id)}/policyPayload`);
        expect((await got.arrayBuffer()).byteLength).toBe(1024 * 1024);
        const over = Buffer.alloc(1024 * 1024 + 1).toString('base64');
        await expectGraphError(
            await post(collection(), { '@odata.type': WINDOWS_CONFIGURATION, policyPayload: over }),
            413,
            'RequestEntityTooLarge',
            expect,
        );
        // Other JSON bodies keep their limits: 64 KiB for a PATCH, 256 KiB for updatePriorities (every id at once).
        await expectGraphError(
            await fetch(itemUrl(entity.id), {
                method: 'PATCH',
                headers: JSON_HEADERS,
                body: JSON.stringify({ description: 'x'.repeat(70 * 1024) }),
            }),
            413,
            'RequestEntityTooLarge',
            expect,
        );
        await expectGraphError(
            await post(`${collection()}/updatePriorities`, { pad: 'x'.repeat(257 * 1024) }),
            413,
            'RequestEntityTooLarge',
            expect,
        );
        const manyIds = Array.from({ length: 5000 }, () => '00000000-0000-4000-8000-000000000000');
        const many = await post(`${collection()}/updatePriorities`, {
            officeConfigurationPolicyIds: manyIds,
            officeConfigurationPriorities: manyIds.map((_, i) => i + 1),
        });
        // Read whole (about 215 KB) and refused for what it says, not for its size, in a few details.
        const refusal = await expectGraphError(many, 400, 'BadRequest', expect);
        expect(refusal.error.details).toHaveLength(20);
        expect(refusal.error.message).toContain('more, see details');
    });
});

describe('assignments belong to a configuration', () => {
    const target = { target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' } };

    it('answers 404 on every assignment route of a configuration that does not exist, storing nothing', async () => {
        const missing = '00000000-0000-4000-8000-00000000abcd';
        const base = app.assignmentsUrl(missing);
        const assignment = `${base}/00000000-0000-4000-8000-000000000001`;
        const responses = [
            await post(base, target),
            await post(base, target, { 'Idempotency-Key': 'k1' }),
            await fetch(base),
            await fetch(assignment),
            await fetch(assignment, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(target) }),
            await fetch(assignment, { method: 'PATCH', headers: JSON_HEADERS, body: '{}' }),
            await fetch(assignment, { method: 'DELETE' }),
            await post(`${app.root}/officeConfiguration/clientConfigurations/${missing}/assign`, {
                officeConfigurationAssignments: [target],
            }),
        ];
        for (const response of responses) {
            const body = await expectGraphError(response, 404, 'ResourceNotFound', expect);
            expect(body.error.message).toBe(`The configuration '${missing}' does not exist.`);
        }
        expect(await app.cosmos.documents(missing)).toEqual([]);
        expect(await app.cosmos.bookkeeping(missing)).toEqual([]);
    });

    it('deletes a configuration with 250 assignments: every route 404s after the 204, and the sweep leaves none', async () => {
        const id = await newConfiguration(app.root);
        for (let i = 0; i < 250; i += 50) {
            await Promise.all(Array.from({ length: 50 }, () => post(app.assignmentsUrl(id), target)));
        }
        const one = (await (await fetch(`${app.assignmentsUrl(id)}?$top=1`)).json()) as Collection;
        const assignmentId = one.value[0]?.id ?? '';
        expect((await app.cosmos.documents(id)).length).toBe(250);
        expect((await fetch(itemUrl(id), { method: 'DELETE' })).status).toBe(204);
        // Gone from every route at once; its documents wait for the sweeper, outside any request.
        const responses = [
            await fetch(itemUrl(id)),
            await fetch(app.assignmentsUrl(id)),
            await fetch(`${app.assignmentsUrl(id)}/${assignmentId}`),
            await post(app.assignmentsUrl(id), target),
            await fetch(`${app.assignmentsUrl(id)}/${assignmentId}`, { method: 'DELETE' }),
            await fetch(itemUrl(id), { method: 'DELETE' }),
            await fetch(`${itemUrl(id)}/policyPayload`),
        ];
        for (const response of responses) {
            await expectGraphError(response, 404, 'ResourceNotFound', expect);
        }
        expect((await app.cosmos.documents(id)).length).toBe(250);
        const report = await app.cosmos.sweep();
        expect(report).toMatchObject({ leased: true, pending: 0 });
        expect(report.swept).toBeGreaterThanOrEqual(1); // the file's other DELETEs too
        expect(report.documents).toBeGreaterThanOrEqual(250);
        expect(await app.cosmos.documents(id)).toEqual([]);
        // The change records stay, the audit trail's, until their ttl (lib/store/changeLog): one a create.
        const left = await app.cosmos.bookkeeping(id);
        expect(left.filter((d) => d.kind !== 'change')).toEqual([]);
        expect(left).toHaveLength(250);
        const tenant = await readTenant();
        expect(tenant.filter((d) => String(d.id).includes(id))).toEqual([]);
    });

    it('outlives a DELETE that died after marking the parent: writes wait on a fresh mark, take off a stale one', async () => {
        const id = await newConfiguration(app.root);
        for (let i = 0; i < 3; i++) {
            expect((await post(app.assignmentsUrl(id), target)).status).toBe(201);
        }
        // As if a DELETE's instance died right after step 1: its mark stays on the parent, its batch never came.
        const parent = app.cosmos.container.item(SET_VERSION_ID, id);
        await parent.patch([{ op: 'set', path: '/deleting', value: { attempt: randomUUID(), at: Date.now() } }]);
        // Fresh: the DELETE may still land, so writes wait for it and then ask to be retried; reads go on.
        await expectGraphError(await post(app.assignmentsUrl(id), target), 409, 'Conflict', expect);
        expect((await fetch(app.assignmentsUrl(id))).status).toBe(200);
        expect((await fetch(itemUrl(id))).status).toBe(200);
        // Stale: no DELETE can land any more; the next write takes the mark off and lands.
        await parent.patch([{ op: 'set', path: '/deleting/at', value: Date.now() - STALE_MARK_MS - 1000 }]);
        expect((await post(app.assignmentsUrl(id), target)).status).toBe(201);
        expect((await app.cosmos.bookkeeping(id))[0]?.deleting).toBeUndefined();
        expect(await app.cosmos.documents(id)).toHaveLength(4);
        expect((await fetch(itemUrl(id), { method: 'DELETE' })).status).toBe(204);
        await app.cosmos.sweep();
        expect(await app.cosmos.documents(id)).toEqual([]);
        await expectGraphError(await fetch(itemUrl(id)), 404, 'ResourceNotFound', expect);
        expect((await listAll('&$select=id')).some((c) => c.id === id)).toBe(false);
    });

    it('keeps the ETag of a PATCH that changes nothing', async () => {
        const { entity, response } = await create();
        const same = await fetch(itemUrl(entity.id), { method: 'PATCH', headers: JSON_HEADERS, body: '{}' });
        expect(same.status).toBe(204);
        expect(same.headers.get('etag')).toBe(response.headers.get('etag'));
    });

    it('deletes the payload documents with the configuration', async () => {
        const { entity } = await create({ policyPayload: 'AAEC' });
        expect((await readTenant()).some((d) => d.id === `${entity.id}.policyPayload`)).toBe(true);
        expect((await fetch(itemUrl(entity.id), { method: 'DELETE' })).status).toBe(204);
        await app.cosmos.sweep();
        expect((await readTenant()).some((d) => String(d.id).includes(entity.id))).toBe(false);
    });

    it('a configuration create writes its parent document in its own partition', async () => {
        const id = await newConfiguration(app.root);
        const parents = await app.cosmos.bookkeeping(id);
        expect(parents.map((d) => d.id)).toEqual([SET_VERSION_ID]);
    });
});

/** Every document of the tenant partition, straight from Cosmos. */
async function readTenant(): Promise<Record<string, unknown>[]> {
    const { resources } = await app.cosmos.container.items
        .query<Record<string, unknown>>('SELECT * FROM c', { partitionKey: TENANT_PARTITION })
        .fetchAll();
    return resources;
}
