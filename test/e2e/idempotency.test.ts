/**
 * Idempotency-Key on create, over real HTTP: retries return the original result and store nothing new.
 */
import { describe, expect, it } from 'vitest';

import { KEY_LIFETIME_SECONDS } from '../../lib/store/idempotency.js';
import { configurationsByName } from '../helpers/configurations.js';
import { expectGraphError, GUID, JSON_HEADERS, SEED_REQUEST_BODY, useTestApp } from '../helpers/host.js';

const app = useTestApp();
const configuration = configurationsByName(() => app.root);

const create = (cfg: string, key: string | undefined, body = SEED_REQUEST_BODY) =>
    fetch(app.assignmentsUrl(cfg), {
        method: 'POST',
        headers: { ...JSON_HEADERS, ...(key === undefined ? {} : { 'Idempotency-Key': key }) },
        body,
    });

const group = {
    target: {
        '@odata.type': 'microsoft.graph.officeConfigurationGroupAssignmentTarget',
        groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    },
};

describe('Idempotency-Key', () => {
    it('returns the original result for a retry with the same key and body, storing nothing new', async () => {
        const cfg = await configuration('idem');
        const first = await create(cfg, '"order-1"');
        expect(first.status).toBe(201);
        const original = (await first.json()) as { id: string };
        expect(original.id).toMatch(GUID);
        expect(first.headers.get('idempotent-replayed')).toBeNull();

        // The same body with other spacing and key order is the same request; the key's quotes are optional.
        const reordered = JSON.stringify(JSON.parse(SEED_REQUEST_BODY));
        const retry = await create(cfg, 'order-1', reordered);
        expect(retry.status).toBe(201);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        expect(retry.headers.get('location')).toBe(first.headers.get('location'));
        expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
        expect(await retry.json()).toEqual(original);
        // What the service ignores (an id, annotations) does not make it another request.
        const annotated = JSON.stringify({ ...JSON.parse(SEED_REQUEST_BODY), id: 'x', '@odata.context': 'y' });
        expect((await create(cfg, 'order-1', annotated)).status).toBe(201);
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
    });

    it('refuses the same key with a different body: 422, nothing stored', async () => {
        const cfg = await configuration('idem-422');
        expect((await create(cfg, 'k')).status).toBe(201);
        const other = await create(cfg, 'k', JSON.stringify(group));
        await expectGraphError(other, 422, 'UnprocessableEntity', expect);
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
    });

    it('scopes keys to the configuration, and leaves keyless creates as they were', async () => {
        const a = (await (await create(await configuration('idem-a'), 'shared')).json()) as { id: string };
        const b = (await (await create(await configuration('idem-b'), 'shared')).json()) as { id: string };
        expect(a.id).not.toBe(b.id);
        await create(await configuration('idem-none'), undefined);
        await create(await configuration('idem-none'), undefined);
        expect(await app.cosmos.documents(await configuration('idem-none'))).toHaveLength(2);
    });

    it('holds under concurrency: 20 simultaneous retries of one key → one document, one id', async () => {
        const cfg = await configuration('idem-race');
        const responses = await Promise.all(Array.from({ length: 20 }, () => create(cfg, 'race-key')));
        expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
        const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
        expect(ids.size).toBe(1);
        expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
    });

    it('replays the first response after a PATCH or a DELETE, for the key lifetime; then the key is free', async () => {
        const cfg = await configuration('idem-life');
        const first = await create(cfg, 'life');
        const original = (await first.json()) as { id: string; target: unknown };
        const url = `${app.assignmentsUrl(cfg)}/${original.id}`;
        const patched = await fetch(url, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(group) });
        expect(patched.status).toBe(204);
        // The first response, not the patched assignment; no ETag, as the assignment is no longer that version.
        const afterPatch = await create(cfg, 'life');
        expect(afterPatch.status).toBe(201);
        expect(afterPatch.headers.get('idempotent-replayed')).toBe('true');
        expect(afterPatch.headers.get('etag')).toBeNull();
        expect(await afterPatch.json()).toEqual(original);

        expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
        const afterDelete = await create(cfg, 'life');
        expect(afterDelete.status).toBe(201);
        expect(afterDelete.headers.get('idempotent-replayed')).toBe('true');
        expect(afterDelete.headers.get('location')).toBe(first.headers.get('location'));
        expect(await afterDelete.json()).toEqual(original);
        expect(await app.cosmos.documents(cfg)).toHaveLength(0); // a replay never creates it again
        // Another body with the used key is still a 422 after the delete.
        await expectGraphError(await create(cfg, 'life', JSON.stringify(group)), 422, 'UnprocessableEntity', expect);

        // Past the lifetime the key names nothing: the same request is a new create.
        const { services } = app.cosmos;
        const clock = services.clock;
        services.clock = () => new Date(Date.now() + (KEY_LIFETIME_SECONDS + 60) * 1000);
        try {
            const later = await create(cfg, 'life', JSON.stringify(group));
            expect(later.status).toBe(201);
            expect(later.headers.get('idempotent-replayed')).toBeNull();
            const fresh = (await later.json()) as { id: string };
            expect(fresh.id).not.toBe(original.id);
            const replayed = await create(cfg, 'life', JSON.stringify(group));
            expect(((await replayed.json()) as { id: string }).id).toBe(fresh.id);
        } finally {
            services.clock = clock;
        }
        expect(await app.cosmos.documents(cfg)).toHaveLength(1);
        const [record] = (await app.cosmos.bookkeeping(cfg)).filter((d) => d.kind === 'idempotencyKey');
        expect(record?.ttl).toBe(KEY_LIFETIME_SECONDS);
    });

    it('refuses a malformed key with 400', async () => {
        for (const key of ['""', 'x'.repeat(256), '   ']) {
            await expectGraphError(await create(await configuration('idem-bad'), key), 400, 'BadRequest', expect);
        }
        expect(await app.cosmos.documents(await configuration('idem-bad'))).toHaveLength(0);
    });
});
