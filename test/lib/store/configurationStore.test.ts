/**
 * A configuration's create or delete that storage answers ambiguously (a timeout after the batch committed, a
 * clean-up that ran out of the request's time) must leave either a whole configuration or none: never one that lists
 * a priority but has no parent, or one no DELETE can remove.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AssignmentStore, StoreError } from '../../../lib/store/assignmentStore.js';
import { ConfigurationStore } from '../../../lib/store/configurationStore.js';
import { startTestCosmos, type TestCosmos } from '../../helpers/cosmos.js';

let cosmos: TestCosmos;
beforeAll(async () => {
    cosmos = await startTestCosmos();
});
afterAll(async () => {
    await cosmos?.close();
});

const TYPE = 'microsoft.graph.windowsOfficeClientConfiguration';
const payload = {
    property: 'policyPayload' as const,
    contentType: 'text/plain',
    bytes: new Uint8Array([1, 2, 3]),
    etag: '"p"',
};

/** A store whose next batch fails with a transport error, before or after Cosmos DB applied it. */
class Flaky extends AssignmentStore {
    static failNext: 'before' | 'after' | undefined;
    override async batch(...args: Parameters<AssignmentStore['batch']>) {
        const when = Flaky.failNext;
        Flaky.failNext = undefined;
        if (when === 'before') {
            throw new StoreError('unavailable', 'connection reset before the batch');
        }
        const result = await super.batch(...args);
        if (when === 'after') {
            throw new StoreError('unavailable', 'timed out after the batch committed');
        }
        return result;
    }
}

const stores = () => {
    const assignments = new Flaky(() => Promise.resolve(cosmos.container));
    return { assignments, configurations: new ConfigurationStore(assignments) };
};

describe('ConfigurationStore under ambiguous failures', () => {
    it('keeps a configuration whose create batch landed although its answer was lost, and can delete it', async () => {
        const { assignments, configurations } = stores();
        const id = randomUUID();
        Flaky.failNext = 'after';
        await expect(configurations.create(id, { odataType: TYPE }, (ids) => [...ids, id], [payload])).rejects.toThrow(
            StoreError,
        );
        // Whole: listed with its priority, its parent there (assignments can be made), its payload readable.
        expect(await configurations.get(id)).toMatchObject({ id });
        expect(await assignments.hasConfiguration(id)).toBe(true);
        expect([...((await configurations.readPayload(id, 'policyPayload'))?.bytes ?? [])]).toEqual([1, 2, 3]);
        await configurations.delete(id, undefined);
        expect(await configurations.get(id)).toBeUndefined();
        expect(await configurations.readPayload(id, 'policyPayload')).toBeUndefined();
    });

    it('removes what a create wrote when its batch never landed', async () => {
        const { assignments, configurations } = stores();
        const id = randomUUID();
        Flaky.failNext = 'before';
        await expect(configurations.create(id, { odataType: TYPE }, (ids) => [...ids, id], [payload])).rejects.toThrow(
            StoreError,
        );
        expect(await configurations.get(id)).toBeUndefined();
        expect(await assignments.hasConfiguration(id)).toBe(false);
        const { resources } = await cosmos.container.items
            .query({
                query: 'SELECT c.id FROM c WHERE c.configurationId = @p AND STARTSWITH(c.id, @id)',
                parameters: [
                    { name: '@p', value: '/officeConfiguration' },
                    { name: '@id', value: id },
                ],
            })
            .fetchAll();
        expect(resources).toEqual([]);
    });

    it('deletes a configuration whose document names a payload that is already gone', async () => {
        const { configurations } = stores();
        const id = randomUUID();
        await configurations.create(id, { odataType: TYPE }, (ids) => [...ids, id], [payload]);
        // What a clean-up cut short leaves: the payload document gone, the configuration still naming it.
        const { resources } = await cosmos.container.items
            .query({
                query: 'SELECT c.id FROM c WHERE c.configurationId = @p AND STARTSWITH(c.id, @id) AND c.id != @id',
                parameters: [
                    { name: '@p', value: '/officeConfiguration' },
                    { name: '@id', value: id },
                ],
            })
            .fetchAll();
        expect(resources).toHaveLength(1);
        await cosmos.container.item((resources[0] as { id: string }).id, '/officeConfiguration').delete();
        await configurations.delete(id, undefined);
        expect(await configurations.get(id)).toBeUndefined();
    });
});
