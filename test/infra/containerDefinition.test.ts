/**
 * The Bicep's Cosmos DB container is infra/modules/cosmos-container.json, the file the app also creates its own
 * container from (lib/store/cosmosClient.ts): every property of the file, and nothing else but the container's id.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_COSMOS_CONTAINER } from '../../lib/platform/config.js';
import {
    asObject,
    bicep,
    CLI_TIMEOUT_MS,
    type FoundResource,
    type JsonObject,
    repoRoot,
    runBicep,
    single,
    valueAt,
    walk,
} from './arm.js';

if (!bicep.cli) console.warn(`infra tests skipped: ${bicep.reason}`);

const definition = JSON.parse(
    readFileSync(path.join(repoRoot, 'infra', 'modules', 'cosmos-container.json'), 'utf8'),
) as JsonObject;

describe.skipIf(!bicep.cli)("infra/main.bicep's Cosmos DB container", () => {
    let container: FoundResource;

    beforeAll(() => {
        const compiled = JSON.parse(runBicep(['build', path.join(repoRoot, 'infra', 'main.bicep'), '--stdout']));
        const walked = walk(compiled as JsonObject, {
            environmentName: 'test',
            location: 'westeurope',
            authAudience: 'api://office-config-assignments',
        });
        container = single(walked, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    }, CLI_TIMEOUT_MS);

    it('is infra/modules/cosmos-container.json, with its id', () => {
        const resource = Object.keys(asObject(valueAt(container, 'properties.resource') as JsonObject));
        expect(resource.sort()).toEqual(['id', ...Object.keys(definition)].sort());
        for (const key of Object.keys(definition)) {
            expect(valueAt(container, `properties.resource.${key}`), key).toEqual(definition[key]);
        }
        expect(valueAt(container, 'properties.resource.id')).toBe(DEFAULT_COSMOS_CONTAINER);
    });
});
