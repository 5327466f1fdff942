/**
 * The change log's numbers (lib/store/changeLog.ts): gap-free and in order in each partition, and carried on from
 * the partition's last record when the counter went back (a writer of a build that did not move it, as in a rolling
 * deploy), instead of refusing every write from then on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SET_VERSION_ID } from '../../../lib/store/assignmentStore.js';
import { ConfigurationStore, ORDER_ID, TENANT_PARTITION } from '../../../lib/store/configurationStore.js';
import { newStoredConfiguration } from '../../helpers/configurations.js';
import { startTestCosmos, type TestCosmos } from '../../helpers/cosmos.js';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos.close();
});

const TARGET = { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' };

async function numbers(partition: string): Promise<number[]> {
    const { resources } = await cosmos.container.items
        .query<{ sequence: number }>(
            {
                query: "SELECT c.sequence FROM c WHERE c.configurationId = @p AND STARTSWITH(c.id, 'change-')",
                parameters: [{ name: '@p', value: partition }],
            },
            { partitionKey: partition },
        )
        .fetchAll();
    return resources.map((r) => r.sequence).sort((a, b) => a - b);
}

/** Writes `document` back as a build without the change log would: the counter gone. */
async function forgetCounter(partition: string, id: string, field: 'sequence' | 'revision') {
    const { resource } = await cosmos.container.item(id, partition).read<Record<string, unknown>>();
    const rest: Record<string, unknown> = { ...resource };
    delete rest[field];
    await cosmos.container.item(id, partition).replace({ ...rest, ...(field === 'revision' ? { revision: 0 } : {}) });
}

describe('change numbers', () => {
    it('go on from the last record when the order lost its counter', async () => {
        const store = new ConfigurationStore(cosmos.services.store);
        const first = await newStoredConfiguration(cosmos.services.store);
        await store.update(first, { displayName: 'one' }, undefined, undefined);
        const before = await numbers(TENANT_PARTITION);
        expect(before).toEqual(before.map((_, i) => i + 1));
        await forgetCounter(TENANT_PARTITION, ORDER_ID, 'sequence');
        await store.update(first, { displayName: 'two' }, undefined, undefined);
        await newStoredConfiguration(cosmos.services.store);
        const after = await numbers(TENANT_PARTITION);
        expect(after).toEqual(after.map((_, i) => i + 1));
        expect(after).toHaveLength(before.length + 2);
    });

    it("go on from the last record when a configuration's set document lost its counter", async () => {
        const { store } = cosmos.services;
        const configurationId = await newStoredConfiguration(store);
        await store.create(configurationId, { id: 'a1', target: TARGET });
        await store.create(configurationId, { id: 'a2', target: TARGET });
        expect(await numbers(configurationId)).toEqual([1, 2]);
        // Another instance (no cached number here) and a set document written back without its counter.
        const other = new (store.constructor as new (c: () => Promise<typeof cosmos.container>) => typeof store)(() =>
            Promise.resolve(cosmos.container),
        );
        await forgetCounter(configurationId, SET_VERSION_ID, 'revision');
        await other.create(configurationId, { id: 'a3', target: TARGET });
        await forgetCounter(configurationId, SET_VERSION_ID, 'revision');
        await other.applySet(configurationId, await other.setVersion(configurationId), {
            removals: [{ id: 'a1', target: TARGET }],
            additions: [],
            total: 2,
        });
        expect(await numbers(configurationId)).toEqual([1, 2, 3, 4]);
        await store.delete(configurationId, 'a2'); // this instance's cached number is behind: it reads again
        expect(await numbers(configurationId)).toEqual([1, 2, 3, 4, 5]);
    });
});
