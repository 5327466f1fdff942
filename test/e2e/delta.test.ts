/**
 * Delta query over real HTTP (lib/resources/delta.ts): the initial round pages the current state and ends on a
 * deltaLink; following it answers what changed since, whole or `@removed`; tokens are signed and expire with the
 * change log's retention.
 */
import { describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { startLocalHost } from '../../lib/http/localHost.js';
import { configurationsUrl, newConfiguration } from '../helpers/configurations.js';
import { expectGraphError, JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();
const TARGET = { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' };
const group = (groupId: string) => ({
    '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
    groupId,
});

interface DeltaPage {
    '@odata.context': string;
    '@odata.nextLink'?: string;
    '@odata.deltaLink'?: string;
    value: Record<string, unknown>[];
}

async function get(url: string, headers: Record<string, string> = {}): Promise<DeltaPage> {
    const response = await fetch(url, { headers });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return JSON.parse(text) as DeltaPage;
}

/** Follows nextLinks to the round's end: every page's items, and the deltaLink of the last. */
async function round(url: string, headers: Record<string, string> = {}) {
    const items: Record<string, unknown>[] = [];
    const pages: DeltaPage[] = [];
    let next: string | undefined = url;
    for (;;) {
        const page: DeltaPage = await get(next as string, headers);
        pages.push(page);
        expect(page['@odata.nextLink'] !== undefined && page['@odata.deltaLink'] !== undefined).toBe(false);
        items.push(...page.value);
        if (page['@odata.deltaLink']) {
            return { items, pages, deltaLink: page['@odata.deltaLink'] };
        }
        next = page['@odata.nextLink'];
        expect(next, 'a page has a nextLink or a deltaLink').toBeDefined();
    }
}

/** A client's copy of the collection, with each round's items applied in order. */
function apply(copy: Map<string, Record<string, unknown>>, items: Record<string, unknown>[]) {
    for (const item of items) {
        if (item['@removed']) {
            copy.delete(item.id as string);
        } else {
            copy.set(item.id as string, item);
        }
    }
}

async function write(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
        method,
        headers: { ...JSON_HEADERS, ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return response;
}

async function fullList(url: string): Promise<Map<string, Record<string, unknown>>> {
    const all = new Map<string, Record<string, unknown>>();
    let next: string | undefined = url;
    while (next) {
        const page = await get(next);
        page.value.forEach((item) => all.set(item.id as string, item));
        next = page['@odata.nextLink'];
    }
    return all;
}

describe('delta on the client configurations', () => {
    it('pages the current state, ends on a deltaLink, then answers each change whole or removed', async () => {
        const url = `${configurationsUrl(app.root)}/delta`;
        // From the tenant's state now: other tests of this file may have made configurations too.
        const initial = await round(url, { Prefer: 'odata.maxpagesize=2' });
        const copy = new Map<string, Record<string, unknown>>();
        apply(copy, initial.items);
        const ids = await Promise.all(
            [1, 2, 3, 4, 5].map((n) => newConfiguration(app.root, {}, { displayName: `d${n}` })),
        );
        const paged = await round(url, { Prefer: 'odata.maxpagesize=2' });
        expect(paged.pages.length).toBeGreaterThanOrEqual(3);
        expect(paged.pages[0]?.['@odata.context']).toBe(
            `${app.root}/$metadata#officeConfiguration/clientConfigurations/$delta`,
        );

        // Changes after the first round: a PATCH, a priority move, a delete.
        const [a, b, c] = ids as [string, string, string];
        expect((await write('PATCH', `${configurationsUrl(app.root)}/${a}`, { displayName: 'renamed' })).status).toBe(
            204,
        );
        expect((await write('PATCH', `${configurationsUrl(app.root)}/${b}`, { priority: 1 })).status).toBe(204);
        expect((await write('DELETE', `${configurationsUrl(app.root)}/${c}`)).status).toBe(204);
        const changes = await round(initial.deltaLink);
        const removed = changes.items.filter((item) => item['@removed']);
        expect(removed).toContainEqual({ id: c, '@removed': { reason: 'deleted' } });
        expect(changes.items.find((item) => item.id === a)).toMatchObject({ displayName: 'renamed' });
        expect(changes.items.find((item) => item.id === b)).toMatchObject({ priority: 1 });
        apply(copy, changes.items);
        expect(copy).toEqual(await fullList(configurationsUrl(app.root)));

        // Nothing since: no items, and a deltaLink again.
        const quiet = await get(changes.deltaLink);
        expect(quiet.value).toEqual([]);
        expect(quiet['@odata.deltaLink']).toBeDefined();
    });

    it('answers $deltatoken=latest with no items and a deltaLink from now; $select narrows items', async () => {
        const latest = await get(`${configurationsUrl(app.root)}/microsoft.graph.delta()?$deltatoken=latest`);
        expect(latest.value).toEqual([]);
        const id = await newConfiguration(app.root, {}, { displayName: 'after latest', description: 'x' });
        const changes = await get(`${latest['@odata.deltaLink']}`.replace('?', '?$select=displayName&'));
        expect(changes.value).toEqual([
            { '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration', id, displayName: 'after latest' },
        ]);
        expect(changes['@odata.deltaLink']).toContain('$select=displayName');
    });

    it('refuses a forged token (400), a token of another collection (400), and one past the retention (410)', async () => {
        const base = `${configurationsUrl(app.root)}/delta`;
        const { deltaLink } = await round(base);
        const token = new URL(deltaLink).searchParams.get('$deltatoken') ?? '';
        await expectGraphError(
            await fetch(`${base}?$deltatoken=${encodeURIComponent(`x${token}`)}`),
            400,
            'BadRequest',
            expect,
        );
        await expectGraphError(await fetch(`${base}?$deltatoken=abc.def`), 400, 'BadRequest', expect);
        const configurationId = await newConfiguration(app.root);
        await expectGraphError(
            await fetch(`${app.assignmentsUrl(configurationId)}/delta?$deltatoken=${encodeURIComponent(token)}`),
            400,
            'BadRequest',
            expect,
        );
        // The same store, its clock past the retention (30 days): the token is too old.
        const later = await startLocalHost({
            routes,
            services: { ...app.cosmos.services, clock: () => new Date(Date.now() + 31 * 86_400_000) },
        });
        try {
            const response = await fetch(deltaLink.replace(new URL(deltaLink).origin, later.origin));
            const body = await expectGraphError(response, 410, 'SyncStateNotFound', expect);
            expect(JSON.stringify(body)).toMatch(/start over/);
        } finally {
            await later.close();
        }
    });

    it('records nothing for a refused write', async () => {
        const id = await newConfiguration(app.root);
        const { deltaLink } = await round(`${configurationsUrl(app.root)}/delta?$deltatoken=latest`);
        const refused = await write(
            'PATCH',
            `${configurationsUrl(app.root)}/${id}`,
            { displayName: 'x' },
            { 'If-Match': '"stale"' },
        );
        expect(refused.status).toBe(412);
        expect((await write('PATCH', `${configurationsUrl(app.root)}/${id}`, { priority: 10_000 })).status).toBe(400);
        expect((await get(deltaLink)).value).toEqual([]);
    });
});

describe('delta on a configuration’s assignments', () => {
    it('follows creates, PATCHes, DELETEs and assign, and reproduces the full list', async () => {
        const configurationId = await newConfiguration(app.root);
        const url = app.assignmentsUrl(configurationId);
        for (let i = 0; i < 3; i += 1) {
            expect(
                (await write('POST', url, { target: group(`00000000-0000-0000-0000-00000000000${i}`) })).status,
            ).toBe(201);
        }
        const initial = await round(`${url}/delta`, { Prefer: 'odata.maxpagesize=2' });
        expect(initial.pages).toHaveLength(2);
        expect(initial.pages[0]?.['@odata.context']).toMatch(/\/assignments\/\$delta$/);
        const copy = new Map<string, Record<string, unknown>>();
        apply(copy, initial.items);
        expect(copy).toEqual(await fullList(url));

        const created = (await (await write('POST', url, { target: TARGET })).json()) as { id: string };
        const first = [...copy.keys()][0] as string;
        expect(
            (await write('PATCH', `${url}/${created.id}`, { target: group('11111111-1111-1111-1111-111111111111') }))
                .status,
        ).toBe(204);
        expect((await write('DELETE', `${url}/${first}`)).status).toBe(204);
        const changes = await round(initial.deltaLink);
        expect(changes.items).toContainEqual({ id: first, '@removed': { reason: 'deleted' } });
        expect(changes.items.find((i) => i.id === created.id)).toMatchObject({
            target: { groupId: '11111111-1111-1111-1111-111111111111' },
        });
        apply(copy, changes.items);
        expect(copy).toEqual(await fullList(url));

        const assigned = await write('POST', `${configurationsUrl(app.root)}/${configurationId}/assign`, {
            officeConfigurationAssignments: [
                { target: TARGET },
                { target: group('22222222-2222-2222-2222-222222222222') },
            ],
        });
        expect(assigned.status).toBe(200);
        const afterAssign = await round(changes.deltaLink);
        apply(copy, afterAssign.items);
        expect(copy).toEqual(await fullList(url));
        const qualified = await get(`${url}/microsoft.graph.delta()?$deltatoken=latest`);
        expect(qualified.value).toEqual([]);
    });

    it('is a 404 for a configuration that does not exist', async () => {
        await expectGraphError(
            await fetch(`${app.assignmentsUrl('00000000-0000-0000-0000-000000000000')}/delta`),
            404,
            'ResourceNotFound',
            expect,
        );
    });
});
