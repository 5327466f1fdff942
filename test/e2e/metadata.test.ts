/**
 * The service documents over real HTTP: `$metadata` and the OpenAPI description, answered without a token even when
 * the API itself requires one, with the headers every response carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { CSDL_XML } from '../../lib/graph/csdl.js';
import { GraphError } from '../../lib/graph/errors.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { expectGraphError, GUID } from '../helpers/host.js';

let cosmos: TestCosmos;
let host: LocalHost;
let root: string;

beforeAll(async () => {
    cosmos = await startTestCosmos();
    // An API that refuses every token: what the documents must not depend on.
    const refuseAll = () =>
        Promise.reject(
            new GraphError('InvalidAuthenticationToken', 'Access token is empty.', [], {
                'WWW-Authenticate': 'Bearer',
            }),
        );
    host = await startLocalHost({
        routes,
        services: { ...cosmos.services, authenticator: { authenticate: refuseAll } },
    });
    root = `${host.origin}/beta`;
});
afterAll(async () => {
    await host.close();
    await cosmos.close();
});

describe('service documents over HTTP', () => {
    it('GET /beta/$metadata answers the CSDL as XML, with the common headers', async () => {
        const response = await fetch(`${root}/$metadata`, { headers: { 'client-request-id': 'metadata-1' } });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/xml;charset=utf-8');
        expect(response.headers.get('odata-version')).toBe('4.0');
        expect(response.headers.get('request-id')).toMatch(GUID);
        expect(response.headers.get('client-request-id')).toBe('metadata-1');
        expect(await response.text()).toBe(CSDL_XML);
    });

    it('matches the segment in any case and percent-encoded, as the Functions host does', async () => {
        for (const path of ['$METADATA', '%24metadata']) {
            const response = await fetch(`${root}/${path}`);
            expect(response.status, path).toBe(200);
            expect(await response.text()).toBe(CSDL_XML);
        }
    });

    it('needs no token, while the API does', async () => {
        const openApi = await fetch(`${root}/openapi.json`);
        expect(openApi.status).toBe(200);
        expect(((await openApi.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
        const list = await fetch(`${root}/officeConfiguration/clientConfigurations/cfg-1/assignments`);
        await expectGraphError(list, 401, 'InvalidAuthenticationToken', expect);
    });

    it('answers other methods with 405 and Allow; deeper paths stay with the catch-all, behind the token', async () => {
        const post = await fetch(`${root}/$metadata`, { method: 'POST' });
        await expectGraphError(post, 405, 'MethodNotAllowed', expect);
        expect(post.headers.get('allow')).toBe('GET');
        await expectGraphError(await fetch(`${root}/$metadata/x`), 401, 'InvalidAuthenticationToken', expect);
    });
});
