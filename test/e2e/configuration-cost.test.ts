/**
 * What listing client configurations costs in Cosmos DB calls and bytes, at 500 configurations. The embedded
 * server charges 1 RU for every call, so the figures that carry over to Azure are the calls made and the size of
 * what they read (docs/design.md turns them into RU). Counted, never timed.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { type LocalHost, startLocalHost } from '../../lib/http/localHost.js';
import type { StoreCall } from '../../lib/store/assignmentStore.js';
import { ConfigurationStore, ORDER_ID, TENANT_PARTITION } from '../../lib/store/configurationStore.js';
import { configurationsUrl, WINDOWS_CONFIGURATION } from '../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';

const CONFIGURATIONS = 500;

let cosmos: TestCosmos;
let host: LocalHost;
const calls: StoreCall[] = [];
/** The calls a request made: the committer's work after a batch (dropping its receipt) runs for no request. */
const requestCalls = () => calls.filter((c) => c.scope !== undefined);

beforeAll(async () => {
    cosmos = await startTestCosmos({ observer: (call) => calls.push(call) });
    const store = new ConfigurationStore(cosmos.services.store);
    for (let i = 0; i < CONFIGURATIONS; i++) {
        const id = randomUUID();
        await store.create(
            id,
            {
                odataType: WINDOWS_CONFIGURATION.slice(1),
                displayName: `Configuration ${i}`,
                description: 'x'.repeat(100),
            },
            (ids) => [...ids, id],
            [],
        );
    }
    host = await startLocalHost({ routes, services: cosmos.services });
}, 120_000);

afterAll(async () => {
    await host.close();
    await cosmos.close();
});

/** The stored size of a tenant-partition document, as Cosmos DB returns it (system properties included). */
async function storedBytes(id: string): Promise<number> {
    const { resource } = await cosmos.container.item(id, TENANT_PARTITION).read<Record<string, unknown>>();
    return Buffer.byteLength(JSON.stringify(resource));
}

describe(`listing ${CONFIGURATIONS} configurations`, () => {
    it('answers $select=priority from the order document alone: one point read, every priority', async () => {
        calls.length = 0;
        const response = await fetch(`${configurationsUrl(`${host.origin}/beta`)}?$select=priority&$top=999`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { value: { priority: number }[] };
        expect(body.value.map((c) => c.priority)).toEqual(Array.from({ length: CONFIGURATIONS }, (_, i) => i + 1));
        expect(requestCalls().map((c) => c.operation)).toEqual(['configuration.read']);
        const orderBytes = await storedBytes(ORDER_ID);
        // 500 GUIDs (36 characters, quoted, a comma), a type character each, and the document's own properties.
        expect(orderBytes).toBeLessThan(CONFIGURATIONS * 41 + 400);
        console.info(
            `$select=priority at ${CONFIGURATIONS} configurations: ${calls.length} Cosmos DB call (a point read of ` +
                `the order document, ${orderBytes} bytes), ${calls.reduce((s, c) => s + c.requestCharge, 0)} RU on ` +
                'the embedded server',
        );
    });

    it('reads a page of full entities with the order, then one single-partition query of the order and the page', async () => {
        calls.length = 0;
        const response = await fetch(`${configurationsUrl(`${host.origin}/beta`)}?$top=100`);
        expect(response.status).toBe(200);
        expect(((await response.json()) as { value: unknown[] }).value).toHaveLength(100);
        // One operation of the store: a point read of the order, then the query (ConfigurationStore.page).
        expect(requestCalls().map((c) => c.operation)).toEqual(['configuration.query']);
        const { resources } = await cosmos.container.items
            .query<Record<string, unknown>>('SELECT * FROM c WHERE c.kind = "configuration"', {
                partitionKey: TENANT_PARTITION,
                maxItemCount: 1,
            })
            .fetchNext();
        console.info(
            `a page of 100 full configurations: 2 Cosmos DB calls (the order document, then one query returning it ` +
                `again and 100 documents of about ${Buffer.byteLength(JSON.stringify(resources[0]))} bytes each)`,
        );
    });
});
