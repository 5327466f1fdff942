/**
 * A count that Cosmos DB answers in pages. A single-partition query runs without a query plan, so the SDK does not
 * aggregate: the service may answer `VALUE COUNT(1)` as partial counts, one per page. The embedded server always
 * answers a count in one page, whatever `maxItemCount` says; so here the real SDK meets a request plugin that
 * answers the count queries the way Cosmos DB may (a share of the count per page, with a continuation between), and
 * passes every other request to the embedded server.
 */
import { CosmosClient, OperationType, type PluginConfig } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AssignmentStore, SET_VERSION_ID } from '../../../lib/store/assignmentStore.js';
import { startTestCosmos, type TestCosmos, testSettings } from '../../helpers/cosmos.js';

const target = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };

/** The shares of each count, page by page: seven assignments in two pages. */
const SHARES = [3, 4];

/** The request body of a query is its JSON text by the time a request plugin sees it. */
const isCountQuery = (body: unknown) => typeof body === 'string' && body.includes('VALUE COUNT(1)');

/** Pages the plugin answered: each test checks the count went through it, not to the embedded server. */
let pagesAnswered = 0;

/** Answers each count query's pages from SHARES, the continuation token being the next page's index. */
const countInPages: PluginConfig = {
    on: 'request',
    plugin: (context, diagnosticNode, next) => {
        if (context.operationType !== OperationType.Query || !isCountQuery(context.body)) {
            return next(context);
        }
        const page = Number(context.headers?.['x-ms-continuation'] ?? 0);
        const last = page === SHARES.length - 1;
        pagesAnswered += 1;
        return Promise.resolve({
            code: 200,
            headers: { 'x-ms-request-charge': 1, ...(last ? {} : { 'x-ms-continuation': String(page + 1) }) },
            result: { Documents: [SHARES[page]], _count: 1 },
        });
    },
};

let cosmos: TestCosmos;
let client: CosmosClient;
let store: AssignmentStore;
beforeAll(async () => {
    cosmos = await startTestCosmos();
    const { endpoint, key, agent } = cosmos.embedded;
    // `plugins` is a hidden option of the SDK's options type.
    client = new CosmosClient({
        endpoint,
        key,
        ...(agent ? { agent } : {}),
        ...({ plugins: [countInPages] } as object),
    });
    const container = client.database(testSettings.database).container(testSettings.container);
    store = new AssignmentStore(() => Promise.resolve(container));
});
afterAll(async () => {
    client.dispose();
    await cosmos.close();
});

async function assignmentsIn(configurationId: string, count: number) {
    for (let i = 0; i < count; i++) {
        await cosmos.container.items.create({ id: `a${i}`, configurationId, target });
    }
}

describe('a count answered in pages', () => {
    it('is the sum of every page', async () => {
        await cosmos.services.store.createParent('paged');
        await assignmentsIn('paged', 7);
        const before = pagesAnswered;
        expect(await store.count('paged')).toBe(7);
        expect(pagesAnswered - before).toBe(SHARES.length);
    });

    it('sets the whole count on a set document that had none', async () => {
        // A configuration written before the set document counted its assignments: the first write counts them.
        await cosmos.container.items.create({ id: SET_VERSION_ID, configurationId: 'uncounted', revision: 0 });
        await assignmentsIn('uncounted', 7);
        const before = pagesAnswered;
        await store.create('uncounted', { id: 'eighth', target });
        const set = (await cosmos.container.item(SET_VERSION_ID, 'uncounted').read<{ total?: number }>()).resource;
        expect(set?.total).toBe(8);
        expect(pagesAnswered - before).toBe(SHARES.length);
    });
});
