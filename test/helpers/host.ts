/**
 * The app served by the local host on 127.0.0.1 over the embedded Cosmos DB: what the end-to-end suites call.
 */
import { afterAll, beforeAll } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import { startTestCosmos, type TestCosmos } from './cosmos.js';

export interface TestApp {
    cosmos: TestCosmos;
    host: LocalHost;
    /** `http://127.0.0.1:port/beta` */
    root: string;
    /** URL of a configuration's assignments collection. */
    assignmentsUrl(configurationId: string): string;
    close(): Promise<void>;
}

export async function startTestApp(): Promise<TestApp> {
    const cosmos = await startTestCosmos();
    const host = await startLocalHost({ routes, services: cosmos.services });
    const root = `${host.origin}/beta`;
    return {
        cosmos,
        host,
        root,
        assignmentsUrl: (configurationId) =>
            `${root}/officeConfiguration/clientConfigurations/${encodeURIComponent(configurationId)}/assignments`,
        close: async () => {
            await host.close();
            await cosmos.close();
        },
    };
}

/**
 * Starts the app before a file's suites and closes it after them; the object it returns reads the running app, so
 * suites can name it at module level.
 */
export function useTestApp(): TestApp {
    let current: TestApp | undefined;
    beforeAll(async () => {
        current = await startTestApp();
    });
    afterAll(async () => {
        await current?.close();
    });
    const app = (): TestApp => {
        if (!current) {
            throw new Error('the test app starts in beforeAll: use it inside a test');
        }
        return current;
    };
    return {
        get cosmos() {
            return app().cosmos;
        },
        get host() {
            return app().host;
        },
        get root() {
            return app().root;
        },
        assignmentsUrl: (configurationId) => app().assignmentsUrl(configurationId),
        close: () => app().close(),
    };
}

/** The seed page's example request body, verbatim. */
export const SEED_REQUEST_BODY = `{
  "@odata.type": "#microsoft.graph.officeClientConfigurationAssignment",
  "target": {
    "@odata.type": "microsoft.graph.officeConfigurationAssignmentTarget"
  }
}`;

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const ODATA_CONTENT_TYPE =
    'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export interface GraphErrorJson {
    error: {
        code: string;
        message: string;
        details?: { code: string; message: string; target?: string }[];
        innerError: { date: string; 'request-id': string; 'client-request-id': string };
    };
}

/** Checks the Graph error shape and the headers every error carries; returns the body. */
export async function expectGraphError(
    response: Response,
    status: number,
    code: string,
    expect: (value: unknown) => { toBe(v: unknown): void; toMatch(v: RegExp): void },
): Promise<GraphErrorJson> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe(ODATA_CONTENT_TYPE);
    expect(response.headers.get('odata-version')).toBe('4.0');
    const requestId = response.headers.get('request-id') ?? '';
    expect(requestId).toMatch(GUID);
    const body = (await response.json()) as GraphErrorJson;
    expect(body.error.code).toBe(code);
    expect(body.error.innerError['request-id']).toBe(requestId);
    expect(body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    return body;
}
