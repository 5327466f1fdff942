/**
 * Graph conventions over real HTTP: paging tokens nobody can forge, the Prefer header read as RFC 7240 writes it,
 * and bodies that are JSON but not an object.
 */
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { configurationsByName } from '../helpers/configurations.js';
import { expectGraphError, JSON_HEADERS, useTestApp } from '../helpers/host.js';

const app = useTestApp();
const configuration = configurationsByName(() => app.root);
const TARGET = { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' };

async function create(configurationId: string): Promise<{ id: string; etag: string }> {
    const response = await fetch(app.assignmentsUrl(configurationId), {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ target: TARGET }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    return { id, etag: response.headers.get('etag') ?? '' };
}

describe('$skiptoken', () => {
    it('refuses a token forged from a real one without the deployment key', async () => {
        const configurationId = await configuration('forged-token');
        for (let i = 0; i < 3; i += 1) {
            await create(configurationId);
        }
        const first = (await (await fetch(`${app.assignmentsUrl(configurationId)}?$top=1`)).json()) as {
            '@odata.nextLink': string;
        };
        const token = new URL(first['@odata.nextLink']).searchParams.get('$skiptoken') ?? '';
        const next = await fetch(
            `${app.assignmentsUrl(configurationId)}?$top=1&$skiptoken=${encodeURIComponent(token)}`,
        );
        expect(next.status).toBe(200);

        // The same continuation, checksummed by anyone who read the code: an unkeyed hash of the payload.
        const [payload = ''] = token.split('.');
        const unkeyed = createHash('sha256').update(`${configurationId}\n${payload}`).digest('base64url').slice(0, 22);
        const forged = await fetch(
            `${app.assignmentsUrl(configurationId)}?$top=1&$skiptoken=${encodeURIComponent(`${payload}.${unkeyed}`)}`,
        );
        const body = await expectGraphError(forged, 400, 'BadRequest', expect);
        expect(body.error.message).toMatch(/\$skiptoken is not valid/);
    });
});

describe('Prefer', () => {
    const update = async (prefer: string) => {
        const { id } = await create(await configuration('prefer'));
        return await fetch(`${app.assignmentsUrl(await configuration('prefer'))}/${id}`, {
            method: 'PATCH',
            headers: { ...JSON_HEADERS, Prefer: prefer },
            body: JSON.stringify({ target: TARGET }),
        });
    };

    it('returns the entity for return=representation, quoted or not', async () => {
        for (const prefer of ['return=representation', 'return="representation"', 'wait=5, return=representation']) {
            const response = await update(prefer);
            expect(response.status, prefer).toBe(200);
            expect(response.headers.get('preference-applied')).toBe('return=representation');
            expect(((await response.json()) as { target: unknown }).target).toEqual(TARGET);
        }
    });

    it('answers 204 when the header only looks like it', async () => {
        for (const prefer of ['return=representation-x', ';return=representation', 'x;return=representation']) {
            const response = await update(prefer);
            expect(response.status, prefer).toBe(204);
            expect(response.headers.get('preference-applied')).toBeNull();
        }
    });
});

describe('a body that is JSON but not an object', () => {
    it.each([
        ['[]', 'an array'],
        ['[{"target":{}}]', 'an array'],
        ['"text"', 'a string'],
        ['null', 'null'],
        ['42', 'a number'],
    ])('%s is refused with a message that says an object was expected', async (body, sent) => {
        const response = await fetch(app.assignmentsUrl(await configuration('not-object')), {
            method: 'POST',
            headers: JSON_HEADERS,
            body,
        });
        const error = await expectGraphError(response, 400, 'BadRequest', expect);
        expect(error.error.message).toBe(
            `Invalid request body: The request body must be a JSON object; it is ${sent}.`,
        );
    });
});
