/**
 * The Bicep's Cosmos DB container is lib/store/cosmos-container.json, the file the app also creates its own
 * container from (lib/store/cosmosClient.ts): every property of the file, and nothing else but the container's id.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_COSMOS_CONTAINER } from '../../lib/platform/config.js';
import {
    asObject,
    bicepCli,
    CLI_TIMEOUT_MS,
    type FoundResource,
    INSTALL_TIMEOUT_MS,
    type JsonObject,
    repoRoot,
    runBicep,
    single,
    valueAt,
    walk,
} from './arm.js';

const definition = JSON.parse(
    readFileSync(path.join(repoRoot, 'lib', 'store', 'cosmos-container.json'), 'utf8'),
) as JsonObject;

describe("infra/main.bicep's Cosmos DB container", () => {
    let container: FoundResource;

    beforeAll(() => {
        bicepCli(); // installs it first where it is missing (test/infra/arm.ts)
        const compiled = JSON.parse(runBicep(['build', path.join(repoRoot, 'infra', 'main.bicep'), '--stdout']));
        const walked = walk(compiled as JsonObject, {
            environmentName: 'test',
            location: 'westeurope',
            authAudience: 'api://office-config-assignments',
        });
        container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    }, INSTALL_TIMEOUT_MS + CLI_TIMEOUT_MS);

    it('is lib/store/cosmos-container.json, with its id', () => {
        const resource = Object.keys(asObject(valueAt(container, 'properties.resource') as JsonObject));
        expect(resource.sort()).toEqual(['id', ...Object.keys(definition)].sort());
        for (const key of Object.keys(definition)) {
            expect(valueAt(container, `properties.resource.${key}`), key).toEqual(definition[key]);
        }
        expect(valueAt(container, 'properties.resource.id')).toBe(DEFAULT_COSMOS_CONTAINER);
    });
});
