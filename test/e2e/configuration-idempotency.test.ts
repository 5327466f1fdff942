/**
 * Idempotency-Key on configuration create (`POST /officeConfiguration/clientConfigurations`), over real HTTP on the
 * embedded Cosmos DB: the rules of assignment create (test/e2e/idempotency.test.ts), judged from the list and from
 * storage. The same key across instances and lost answers: test/e2e/scale-out-configuration-keys.test.ts.
 */
import { describe, expect, it } from 'vitest';

import { KEY_LIFETIME_SECONDS, keyRecordId } from '../../lib/store/idempotency.js';
import { TENANT_PARTITION } from '../../lib/store/tenant.js';
import { configurationsUrl, WINDOWS_CONFIGURATION } from '../helpers/configurations.js';
import { expectGraphError, GUID, JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();

const collection = () => configurationsUrl(app.root);

interface Entity {
    id: string;
    displayName?: string | null;
    priority: number;
    [annotation: string]: unknown;
}

const bodyOf = (name: string, more: Record<string, unknown> = {}) =>
    JSON.stringify({ '@odata.type': WINDOWS_CONFIGURATION, displayName: name, ...more });

async function create(body: string, key?: string): Promise<Response> {
    return await fetch(collection(), {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...(key === undefined ? {} : { 'Idempotency-Key': key }) },
        body,
    });
}

/** The listed configurations named `name`, as a client sees them. */
async function listed(name: string): Promise<Entity[]> {
    const response = await fetch(`${collection()}?$top=999`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { value: Entity[] }).value.filter((c) => c.displayName === name);
}

/** Configuration documents named `name`, as stored: listed or not. */
async function stored(name: string): Promise<Record<string, unknown>[]> {
    const { resources } = await app.cosmos.container.items
        .query<Record<string, unknown>>(
            {
                query: 'SELECT * FROM c WHERE c.configurationId = @tenant',
                parameters: [{ name: '@tenant', value: TENANT_PARTITION }],
            },
            { partitionKey: TENANT_PARTITION },
        )
        .fetchAll();
    return resources.filter((d) => d.kind === 'configuration' && d.displayName === name);
}

describe('Idempotency-Key on configuration create', () => {
    it('replays the first answer for the same key and body (201, same id, body, Location, ETag), storing nothing new', async () => {
        const payload = Buffer.from('<policy/>').toString('base64');
        const body = bodyOf('idem-replay', {
            description: 'd',
            policyPayload: payload,
            'policyPayload@odata.mediaContentType': 'application/xml',
        });
        const first = await create(body, '"cfg-1"');
        expect(first.status).toBe(201);
        expect(first.headers.get('idempotent-replayed')).toBeNull();
        const original = (await first.json()) as Entity;
        expect(original.id).toMatch(GUID);

        // The same request with its keys reordered, other spacing, an ignored id and annotation; the key unquoted.
        const same = JSON.stringify({
            ...JSON.parse(body),
            id: 'ignored',
            '@odata.context': 'ignored',
        }).replace(/,/g, ', ');
        for (const retry of [await create(body, 'cfg-1'), await create(same, '"cfg-1"')]) {
            expect(retry.status).toBe(201);
            expect(retry.headers.get('idempotent-replayed')).toBe('true');
            expect(retry.headers.get('location')).toBe(first.headers.get('location'));
            expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
            expect(await retry.json()).toEqual(original);
        }
        expect((await listed('idem-replay')).map((c) => c.id)).toEqual([original.id]);
        expect(await stored('idem-replay')).toHaveLength(1);
    });

    it('keeps the record in the tenant partition under the key-record id, with a ttl of 24 h', async () => {
        expect((await create(bodyOf('idem-record'), 'record-key')).status).toBe(201);
        const { resource } = await app.cosmos.container
            .item(keyRecordId('record-key'), TENANT_PARTITION)
            .read<Record<string, unknown>>();
        expect(resource).toMatchObject({ kind: 'idempotencyKey', ttl: KEY_LIFETIME_SECONDS });
    });

    it('refuses the same key with another body: 422, Graph-shaped, nothing stored', async () => {
        expect((await create(bodyOf('idem-422'), 'k-422')).status).toBe(201);
        for (const other of [bodyOf('idem-422-other'), bodyOf('idem-422', { priority: 1 })]) {
            const refused = await create(other, 'k-422');
            const error = await expectGraphError(refused, 422, 'UnprocessableEntity', expect);
            expect(error.error.message).toContain('Idempotency-Key');
        }
        expect(await listed('idem-422')).toHaveLength(1);
        expect(await stored('idem-422-other')).toEqual([]);
    });

    it('refuses a malformed key with 400, as assignment create does, creating nothing', async () => {
        for (const key of ['""', 'x'.repeat(256), '   ', 'caf\u00e9']) {
            await expectGraphError(await create(bodyOf('idem-bad'), key), 400, 'BadRequest', expect);
        }
        expect(await stored('idem-bad')).toEqual([]);
    });

    it('holds under concurrency: 20 simultaneous requests with one key → one configuration, one id', async () => {
        const responses = await Promise.all(Array.from({ length: 20 }, () => create(bodyOf('idem-race'), 'race')));
        expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
        const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as Entity).id)));
        expect(ids.size).toBe(1);
        expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
        expect((await listed('idem-race')).map((c) => c.id)).toEqual([...ids]);
        expect(await stored('idem-race')).toHaveLength(1);
    });

    it('replays the first answer after a PATCH or a DELETE, for the key lifetime; then the key is free', async () => {
        const first = await create(bodyOf('idem-life'), 'life');
        const original = (await first.json()) as Entity;
        const url = `${collection()}/${original.id}`;
        const patch = { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify({ displayName: 'renamed' }) };
        expect((await fetch(url, patch)).status).toBe(204);
        // The first answer, not the renamed configuration; no ETag, as it is no longer that version.
        const afterPatch = await create(bodyOf('idem-life'), 'life');
        expect(afterPatch.status).toBe(201);
        expect(afterPatch.headers.get('idempotent-replayed')).toBe('true');
        expect(afterPatch.headers.get('etag')).toBeNull();
        expect(await afterPatch.json()).toEqual(original);

        expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
        const afterDelete = await create(bodyOf('idem-life'), 'life');
        expect(afterDelete.status).toBe(201);
        expect(afterDelete.headers.get('idempotent-replayed')).toBe('true');
        expect(await afterDelete.json()).toEqual(original);
        expect(await stored('idem-life')).toEqual([]); // a replay never creates it again
        await expectGraphError(await create(bodyOf('idem-life-2'), 'life'), 422, 'UnprocessableEntity', expect);

        // Past the lifetime the key names nothing: the same request is a new create, and the key names that one.
        const { services } = app.cosmos;
        const clock = services.clock;
        services.clock = () => new Date(Date.now() + (KEY_LIFETIME_SECONDS + 60) * 1000);
        try {
            const later = await create(bodyOf('idem-life'), 'life');
            expect(later.status).toBe(201);
            expect(later.headers.get('idempotent-replayed')).toBeNull();
            const fresh = (await later.json()) as Entity;
            expect(fresh.id).not.toBe(original.id);
            const replayed = await create(bodyOf('idem-life'), 'life');
            expect(replayed.headers.get('idempotent-replayed')).toBe('true');
            expect(((await replayed.json()) as Entity).id).toBe(fresh.id);
        } finally {
            services.clock = clock;
        }
        expect(await listed('idem-life')).toHaveLength(1);
    });

    it('shows the priority the create placed it at, on the replay too', async () => {
        const first = await create(bodyOf('idem-priority', { priority: 1 }), 'prio');
        const original = (await first.json()) as Entity;
        expect(original.priority).toBe(1);
        expect((await create(bodyOf('idem-priority-later'))).status).toBe(201);
        const replay = await create(bodyOf('idem-priority', { priority: 1 }), 'prio');
        expect(await replay.json()).toEqual(original);
        const last = await create(bodyOf('idem-last'), 'last');
        const placed = (await last.json()) as Entity;
        expect(((await (await create(bodyOf('idem-last'), 'last')).json()) as Entity).priority).toBe(placed.priority);
    });

    it('leaves keyless creates as they were, and keeps configuration and assignment keys apart', async () => {
        expect((await create(bodyOf('idem-none'))).status).toBe(201);
        expect((await create(bodyOf('idem-none'))).status).toBe(201);
        expect(await listed('idem-none')).toHaveLength(2);
        const configuration = (await (await create(bodyOf('idem-shared'), 'shared')).json()) as Entity;
        const assignment = await fetch(app.assignmentsUrl(configuration.id), {
            method: 'POST',
            headers: { ...JSON_HEADERS, 'Idempotency-Key': 'shared' },
            body: JSON.stringify({ target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' } }),
        });
        expect(assignment.status).toBe(201);
        expect(assignment.headers.get('idempotent-replayed')).toBeNull();
    });
});
