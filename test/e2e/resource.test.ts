/**
 * The rest of the resource over real HTTP: list with paging, get, update, delete, the assign action, ETags.
 */
import { describe, expect, it } from 'vitest';

import { SET_VERSION_ID } from '../../lib/store/assignmentStore.js';
import { configurationsByName } from '../helpers/configurations.js';
import { expectGraphError, GUID, JSON_HEADERS, SEED_REQUEST_BODY, useTestApp } from '../helpers/host.js';

const app = useTestApp();
const configuration = configurationsByName(() => app.root);

interface Entity {
    '@odata.context'?: string;
    '@odata.type': string;
    id: string;
    target: { '@odata.type': string; groupId?: string };
}
interface Collection {
    '@odata.context': string;
    '@odata.count'?: number;
    '@odata.nextLink'?: string;
    value: Entity[];
}

const group = (n: number) => ({
    '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
    groupId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
});

async function create(configurationId: string, target: object = group(1)): Promise<{ entity: Entity; etag: string }> {
    const response = await fetch(app.assignmentsUrl(configurationId), {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ target }),
    });
    expect(response.status).toBe(201);
    return { entity: (await response.json()) as Entity, etag: response.headers.get('etag') ?? '' };
}

const itemUrl = (configurationId: string, id: string) => `${app.assignmentsUrl(configurationId)}/${id}`;
const assignUrl = (configurationId: string, qualified = false) =>
    `${app.root}/officeConfiguration/clientConfigurations/${configurationId}/${qualified ? 'microsoft.graph.assign' : 'assign'}`;

async function listAll(configurationId: string): Promise<Entity[]> {
    const response = await fetch(`${app.assignmentsUrl(configurationId)}?$top=999`);
    expect(response.status).toBe(200);
    return ((await response.json()) as Collection).value;
}

describe('list', () => {
    it('lists an empty configuration as an empty collection', async () => {
        const empty = await configuration('empty');
        const response = await fetch(app.assignmentsUrl(empty));
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
            '@odata.context': `${app.root}/$metadata#officeConfiguration/clientConfigurations('${empty}')/assignments`,
            value: [],
        });
    });

    it('pages through 250 assignments with $top=100: three pages, every id exactly once', async () => {
        const cfg = await configuration('paging');
        const created = new Set<string>();
        for (let start = 0; start < 250; start += 25) {
            const batch = await Promise.all(Array.from({ length: 25 }, (_, i) => create(cfg, group(start + i))));
            batch.forEach(({ entity }) => created.add(entity.id));
        }
        const seen: string[] = [];
        const sizes: number[] = [];
        let url: string | undefined = `${app.assignmentsUrl(cfg)}?$top=100&$count=true`;
        while (url) {
            const response = await fetch(url);
            expect(response.status).toBe(200);
            const page = (await response.json()) as Collection;
            expect(page['@odata.count']).toBe(250);
            sizes.push(page.value.length);
            seen.push(...page.value.map((e) => e.id));
            url = page['@odata.nextLink'];
            if (url) {
                expect(url.startsWith(`${app.assignmentsUrl(cfg)}?`)).toBe(true);
                expect(new URL(url).searchParams.get('$skiptoken')).toBeTruthy();
            }
        }
        expect(sizes).toEqual([100, 100, 50]);
        expect(seen).toHaveLength(250);
        expect(new Set(seen)).toEqual(created);
    });

    it('accepts options without $ and in any case; $select shapes the items and the context', async () => {
        const cfg = await configuration('select');
        await create(cfg);
        const response = await fetch(`${app.assignmentsUrl(cfg)}?select=id&TOP=5&$Count=true`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as Collection;
        expect(body['@odata.context']).toBe(
            `${app.root}/$metadata#officeConfiguration/clientConfigurations('${cfg}')/assignments(id)`,
        );
        expect(body['@odata.count']).toBe(1);
        expect(Object.keys(body.value[0] ?? {})).toEqual(['@odata.type', 'id']);
    });

    it('refuses unsupported and invalid query options with 400', async () => {
        const cfg = await configuration('select');
        const cases: [string, RegExp][] = [
            ['$filter=id eq 1', /\$filter' is not supported/],
            ['$orderby=id', /\$orderby' is not supported/],
            ['$search="x"', /\$search' is not supported/],
            ['$expand=target', /\$expand' is not supported/],
            ['filter=id eq 1', /\$filter' is not supported/],
            ['$top=0', /\$top is invalid/],
            ['$top=1000', /\$top is invalid/],
            ['$top=abc', /\$top is invalid/],
            ['$count=maybe', /\$count is invalid/],
            ['$select=priority', /property named 'priority'/],
            ['$skiptoken=garbage', /\$skiptoken is not valid/],
            ['$skiptoken=eyJ9.AAAAAAAAAAAAAAAAAAAAAA', /\$skiptoken is not valid/],
            ['$top=1&top=2', /more than once/],
            ['$bogus=1', /'\$bogus' is not supported/],
        ];
        for (const [query, message] of cases) {
            const response = await fetch(`${app.assignmentsUrl(cfg)}?${query}`);
            const body = await expectGraphError(response, 400, 'BadRequest', expect);
            expect(body.error.message, query).toMatch(message);
        }
    });

    it('refuses a skiptoken made for another configuration', async () => {
        const cfg = await configuration('token-a');
        await create(cfg, group(1));
        await create(cfg, group(2));
        const first = (await (await fetch(`${app.assignmentsUrl(cfg)}?$top=1`)).json()) as Collection;
        const token = new URL(first['@odata.nextLink'] ?? '').searchParams.get('$skiptoken') ?? '';
        const response = await fetch(
            `${app.assignmentsUrl(await configuration('token-b'))}?$skiptoken=${encodeURIComponent(token)}`,
        );
        await expectGraphError(response, 400, 'BadRequest', expect);
    });
});

describe('get', () => {
    it('answers 200 with the $entity context and the ETag; 404 when absent', async () => {
        const cfg = await configuration('get');
        const { entity, etag } = await create(cfg);
        const response = await fetch(itemUrl(cfg, entity.id));
        expect(response.status).toBe(200);
        expect(response.headers.get('etag')).toBe(etag);
        expect(await response.json()).toEqual(entity);

        const selected = (await (await fetch(`${itemUrl(cfg, entity.id)}?$select=target`)).json()) as Entity;
        expect(Object.keys(selected)).toEqual(['@odata.context', '@odata.type', 'target']);

        const missing = await fetch(itemUrl(cfg, '0f8fad5b-d9cb-469f-a165-70867728950e'));
        await expectGraphError(missing, 404, 'ResourceNotFound', expect);
        await expectGraphError(await fetch(itemUrl(cfg, 'not-a-guid')), 404, 'ResourceNotFound', expect);
        await expectGraphError(await fetch(itemUrl(cfg, '$count')), 400, 'BadRequest', expect);
        // An assignment belongs to its configuration: another configuration does not see it.
        await expectGraphError(
            await fetch(itemUrl(await configuration('other'), entity.id)),
            404,
            'ResourceNotFound',
            expect,
        );
        await expectGraphError(await fetch(`${itemUrl(cfg, entity.id)}?$top=1`), 400, 'BadRequest', expect);
    });
});

describe('update', () => {
    const patch = (cfg: string, id: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(itemUrl(cfg, id), {
            method: 'PATCH',
            headers: { ...JSON_HEADERS, ...headers },
            body: JSON.stringify(body),
        });

    it('replaces the target: 204, or 200 with the entity under Prefer: return=representation', async () => {
        const cfg = await configuration('patch');
        const { entity, etag } = await create(cfg, group(1));
        const first = await patch(cfg, entity.id, { target: group(2) });
        expect(first.status).toBe(204);
        expect(await first.text()).toBe('');
        const newEtag = first.headers.get('etag');
        expect(newEtag).not.toBe(etag);

        const second = await patch(
            cfg,
            entity.id,
            { id: entity.id, target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' } },
            { Prefer: 'return=representation' },
        );
        expect(second.status).toBe(200);
        expect(second.headers.get('preference-applied')).toBe('return=representation');
        const body = (await second.json()) as Entity;
        expect(body).toEqual({
            ...entity,
            target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' },
        });
        const { resource } = await app.cosmos.container.item(entity.id, cfg).read();
        expect(resource?.target).toEqual(body.target);
    });

    it('honours If-Match: a stale ETag → 412 and nothing changes; * and the current ETag succeed', async () => {
        const cfg = await configuration('ifmatch');
        const { entity, etag } = await create(cfg, group(1));
        const moved = await patch(cfg, entity.id, { target: group(2) }, { 'If-Match': etag });
        expect(moved.status).toBe(204);
        const stale = await patch(cfg, entity.id, { target: group(3) }, { 'If-Match': etag });
        await expectGraphError(stale, 412, 'PreconditionFailed', expect);
        expect((await app.cosmos.container.item(entity.id, cfg).read()).resource?.target).toEqual(group(2));
        expect((await patch(cfg, entity.id, { target: group(4) }, { 'If-Match': '*' })).status).toBe(204);
        const current = (await fetch(itemUrl(cfg, entity.id))).headers.get('etag') ?? '';
        expect((await patch(cfg, entity.id, { target: group(5) }, { 'If-Match': current })).status).toBe(204);
        expect((await app.cosmos.container.item(entity.id, cfg).read()).resource?.target).toEqual(group(5));
    });

    it('compares If-Match strongly, and * or any tag fails on a missing assignment (RFC 9110)', async () => {
        const cfg = await configuration('ifmatch-strict');
        const { entity, etag } = await create(cfg, group(1));
        const weak = await patch(cfg, entity.id, { target: group(2) }, { 'If-Match': `W/${etag}` });
        await expectGraphError(weak, 412, 'PreconditionFailed', expect);
        const missing = '0f8fad5b-d9cb-469f-a165-70867728950e';
        await expectGraphError(
            await patch(cfg, missing, { target: group(2) }, { 'If-Match': '*' }),
            412,
            'PreconditionFailed',
            expect,
        );
        await expectGraphError(await patch(cfg, missing, {}, { 'If-Match': '*' }), 412, 'PreconditionFailed', expect);
        const deleteMissing = await fetch(itemUrl(cfg, missing), { method: 'DELETE', headers: { 'If-Match': '*' } });
        await expectGraphError(deleteMissing, 412, 'PreconditionFailed', expect);
        expect((await app.cosmos.container.item(entity.id, cfg).read()).resource?.target).toEqual(group(1));
    });

    it('refuses a changed id, an invalid target, or a missing assignment, changing nothing', async () => {
        const cfg = await configuration('patch-errors');
        const { entity } = await create(cfg, group(1));
        const otherId = '0f8fad5b-d9cb-469f-a165-70867728950e';
        await expectGraphError(await patch(cfg, entity.id, { id: otherId }), 400, 'BadRequest', expect);
        const invalid = await patch(cfg, entity.id, {
            target: { '@odata.type': group(1)['@odata.type'], groupId: 'no' },
        });
        const body = await expectGraphError(invalid, 400, 'BadRequest', expect);
        expect(body.error.details?.[0]?.target).toBe('target.groupId');
        await expectGraphError(await patch(cfg, otherId, { target: group(2) }), 404, 'ResourceNotFound', expect);
        const text = await fetch(itemUrl(cfg, entity.id), {
            method: 'PATCH',
            headers: { 'Content-Type': 'text/plain' },
            body: '{}',
        });
        await expectGraphError(text, 415, 'UnsupportedMediaType', expect);
        expect((await app.cosmos.container.item(entity.id, cfg).read()).resource?.target).toEqual(group(1));
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
    });
});

describe('delete', () => {
    it('answers 204, then 404; a stale If-Match → 412 and the assignment stays', async () => {
        const cfg = await configuration('delete');
        const { entity, etag } = await create(cfg, group(1));
        await fetch(itemUrl(cfg, entity.id), {
            method: 'PATCH',
            headers: JSON_HEADERS,
            body: JSON.stringify({ target: group(2) }),
        });
        const stale = await fetch(itemUrl(cfg, entity.id), { method: 'DELETE', headers: { 'If-Match': etag } });
        await expectGraphError(stale, 412, 'PreconditionFailed', expect);
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);

        const deleted = await fetch(itemUrl(cfg, entity.id), { method: 'DELETE' });
        expect(deleted.status).toBe(204);
        expect(await app.cosmos.documents(cfg)).toHaveLength(0);
        await expectGraphError(
            await fetch(itemUrl(cfg, entity.id), { method: 'DELETE' }),
            404,
            'ResourceNotFound',
            expect,
        );
    });

    it('answers 405 with Allow for other methods on the item and the action', async () => {
        const put = await fetch(itemUrl('cfg', '0f8fad5b-d9cb-469f-a165-70867728950e'), { method: 'PUT' });
        await expectGraphError(put, 405, 'MethodNotAllowed', expect);
        expect(put.headers.get('allow')).toBe('GET, PATCH, DELETE');
        const get = await fetch(assignUrl('cfg'));
        await expectGraphError(get, 405, 'MethodNotAllowed', expect);
        expect(get.headers.get('allow')).toBe('POST');
    });
});

describe('assign', () => {
    const assign = (cfg: string, targets: unknown[], qualified = false) =>
        fetch(assignUrl(cfg, qualified), {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify({ officeConfigurationAssignments: targets.map((target) => ({ target })) }),
        });

    it('replaces the whole set and returns it; unchanged targets keep their id', async () => {
        const cfg = await configuration('assign');
        const kept = await create(cfg, group(1));
        const dropped = await create(cfg, group(2));
        const response = await assign(cfg, [group(1), group(3), SEED_TARGET]);
        expect(response.status).toBe(200);
        const body = (await response.json()) as Collection;
        expect(body['@odata.context']).toBe(
            `${app.root}/$metadata#Collection(microsoft.graph.officeClientConfigurationAssignment)`,
        );
        expect(body.value.map((e) => e.target)).toEqual([
            group(1),
            group(3),
            { '@odata.type': `#${SEED_TARGET['@odata.type']}` },
        ]);
        expect(body.value[0]?.id).toBe(kept.entity.id);
        body.value.forEach((e) => expect(e.id).toMatch(GUID));
        const listed = await listAll(cfg);
        expect(listed.map((e) => e.id).sort()).toEqual(body.value.map((e) => e.id).sort());
        expect(listed.some((e) => e.id === dropped.entity.id)).toBe(false);

        const qualified = await assign(cfg, [], true);
        expect(qualified.status).toBe(200);
        expect(((await qualified.json()) as Collection).value).toEqual([]);
        expect(await listAll(cfg)).toEqual([]);
    });

    it('sends the whole replacement to Cosmos DB as one transactional batch', async () => {
        const cfg = await configuration('assign-batch');
        await create(cfg, group(1));
        await create(cfg, group(2));
        const calls: unknown[][] = [];
        const items = app.cosmos.container.items;
        const original = items.batch.bind(items);
        items.batch = (...args: Parameters<typeof items.batch>) => {
            calls.push(args);
            return original(...args);
        };
        try {
            expect((await assign(cfg, [group(2), group(3), group(4)])).status).toBe(200);
        } finally {
            items.batch = original;
        }
        expect(calls).toHaveLength(1);
        const [operations, partitionKey] = calls[0] as [
            { operationType: string; id?: string; resourceBody?: { id: string } }[],
            string,
        ];
        expect(partitionKey).toBe(cfg);
        // First the set document (made by the creates, replaced on condition), then the removal and the two additions,
        // then the assign's change record (lib/store/changeLog).
        expect(operations.map((o) => o.operationType)).toEqual(['Replace', 'Delete', 'Create', 'Create', 'Create']);
        expect(operations[0]?.resourceBody?.id).toBe(SET_VERSION_ID);
        // The set version never shows in the collection.
        expect((await listAll(cfg)).map((e) => e.target)).toEqual([group(2), group(3), group(4)]);
        const counted = (await (await fetch(`${app.assignmentsUrl(cfg)}?$count=true`)).json()) as Collection;
        expect(counted['@odata.count']).toBe(3);
    });

    it('refuses duplicates, invalid bodies and oversize sets with 400, changing nothing', async () => {
        const cfg = await configuration('assign-errors');
        const before = await create(cfg, group(1));
        const duplicate = await assign(cfg, [group(7), { ...group(7), groupId: group(7).groupId.toUpperCase() }]);
        const body = await expectGraphError(duplicate, 400, 'BadRequest', expect);
        expect(body.error.details?.[0]?.target).toBe('officeConfigurationAssignments[1].target.groupId');
        const invalid = await assign(cfg, [{ '@odata.type': 'microsoft.graph.nope' }]);
        expect((await expectGraphError(invalid, 400, 'BadRequest', expect)).error.details?.[0]?.target).toBe(
            'officeConfigurationAssignments[0].target.@odata.type',
        );
        const tooMany = await assign(
            cfg,
            Array.from({ length: 101 }, (_, i) => group(100 + i)),
        );
        await expectGraphError(tooMany, 400, 'BadRequest', expect);
        const missing = await fetch(assignUrl(cfg), { method: 'POST', headers: JSON_HEADERS, body: '{}' });
        await expectGraphError(missing, 400, 'BadRequest', expect);
        expect((await listAll(cfg)).map((e) => e.id)).toEqual([before.entity.id]);
    });

    it('refuses a set needing more changes than one batch holds (98 besides the set version and the record)', async () => {
        const cfg = await configuration('assign-limit');
        await Promise.all(Array.from({ length: 60 }, (_, i) => create(cfg, group(i))));
        const response = await assign(
            cfg,
            Array.from({ length: 50 }, (_, i) => group(1000 + i)),
        );
        const body = await expectGraphError(response, 400, 'BadRequest', expect);
        expect(body.error.message).toMatch(/at most 98/);
        expect(await listAll(cfg)).toHaveLength(60);
    });

    it('keeps the id of a target sent in another spelling', async () => {
        const cfg = await configuration('assign-spelling');
        const { entity } = await create(cfg, group(1));
        const respelled = {
            ...group(1),
            '@odata.type': group(1)['@odata.type'].slice(1),
            groupId: group(1).groupId.toUpperCase(),
        };
        const body = (await (await assign(cfg, [respelled])).json()) as Collection;
        expect(body.value.map((e) => e.id)).toEqual([entity.id]);
    });

    it('while storage is down → 503, and the earlier set is still listed afterwards', async () => {
        const cfg = await configuration('assign-outage');
        await create(cfg, group(1));
        await create(cfg, group(2));
        const before = (await listAll(cfg)).map((e) => e.id).sort();
        await app.cosmos.embedded.stop();
        try {
            const response = await assign(cfg, [group(9)]);
            await expectGraphError(response, 503, 'ServiceUnavailable', expect);
            expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        } finally {
            await app.cosmos.embedded.resume();
        }
        expect((await listAll(cfg)).map((e) => e.id).sort()).toEqual(before);
    });
});

const SEED_TARGET = (JSON.parse(SEED_REQUEST_BODY) as { target: { '@odata.type': string } }).target;
