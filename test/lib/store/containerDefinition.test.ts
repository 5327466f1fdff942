/**
 * The container the app creates itself (with a key: the emulator, or the embedded server) is the Bicep's: the same
 * partition key, default TTL and indexing policy, from lib/store/cosmos-container.json. Read back through the
 * SDK, as Cosmos DB stores it.
 */
import { readFileSync } from 'node:fs';

import type { ContainerDefinition } from '@azure/cosmos';
import { describe, expect, it } from 'vitest';

import { openContainer, openEmbeddedContainer } from '../../../lib/store/cosmosClient.js';
import { startEmbeddedCosmos } from '../../../lib/store/embeddedCosmos.js';
import { azureServerless } from '../../../lib/store/simulator/profile.js';
import { testSettings } from '../../helpers/cosmos.js';

/** The one source, read as a file: what the Bicep loads, whatever the app's module makes of it. */
const definition = JSON.parse(
    readFileSync(new URL('../../../lib/store/cosmos-container.json', import.meta.url), 'utf8'),
) as Omit<ContainerDefinition, 'id'>;

/** The parts of a container's definition that the file sets. */
function asDefined(container: ContainerDefinition | undefined) {
    return Object.fromEntries(
        Object.keys(definition).map((key) => [key, container?.[key as keyof ContainerDefinition]]),
    );
}

describe('the container the app creates', () => {
    it('with an account key (the emulator) has the partition key, default TTL and indexing policy of the Bicep', async () => {
        const embedded = await startEmbeddedCosmos({ protocol: 'http' });
        try {
            const opened = await openContainer({
                ...testSettings,
                connection: { kind: 'key', endpoint: embedded.endpoint, key: embedded.key },
            });
            try {
                const { resource } = await opened.container.read();
                expect(resource?.defaultTtl).toBe(-1); // the idempotency-key records' own `ttl` counts
                expect(asDefined(resource)).toEqual(definition);
            } finally {
                await opened.dispose();
            }
        } finally {
            await embedded.close();
        }
    });

    it('on the embedded server is the same container', async () => {
        const embedded = await startEmbeddedCosmos();
        try {
            const opened = await openEmbeddedContainer(testSettings, embedded);
            try {
                const { resource } = await opened.container.read();
                expect(asDefined(resource)).toEqual(definition);
            } finally {
                await opened.dispose();
            }
        } finally {
            await embedded.close();
        }
    });
});

describe("the simulator's charges", () => {
    it('count the index terms of the same indexing policy', () => {
        const { includedPaths, excludedPaths } = definition.indexingPolicy as {
            includedPaths: { path: string }[];
            excludedPaths: { path: string }[];
        };
        expect(azureServerless.charges.indexingPolicy).toEqual({
            includedPaths: includedPaths.map((p) => p.path),
            excludedPaths: excludedPaths.map((p) => p.path),
        });
    });
});
