/**
 * One App ID URI everywhere a user copies it from: the README, docs/ (entra-id.md, deployment.md, settings.md), the
 * azd files and the Postman environment. Two names (api://office-config-assignments and api://office-configuration-assignments) gave 401s to
 * whoever copied one from each place.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { repoRoot } from './arm.js';

const APP_ID_URI = 'api://office-config-assignments';

const FILES = [
    'README.md',
    'docs/entra-id.md',
    'docs/deployment.md',
    'docs/settings.md',
    'infra/README.md',
    'azure.yaml',
    'infra/main.parameters.json',
    '.github/workflows/azure-deploy.yml',
    'postman/azure.postman_environment.json',
];

describe("the API's App ID URI", () => {
    it.each(FILES)('%s names only api://office-config-assignments', (file) => {
        const text = readFileSync(path.join(repoRoot, file), 'utf8');
        const named = [...text.matchAll(/api:\/\/office-[\w-]+/g)].map((m) => m[0]);
        expect([...new Set(named)].filter((uri) => uri !== APP_ID_URI)).toEqual([]);
    });

    it('is the one the Postman environment asks a token for and the deployment guide sets', () => {
        const environment = JSON.parse(
            readFileSync(path.join(repoRoot, 'postman', 'azure.postman_environment.json'), 'utf8'),
        ) as { values: { key: string; value: string }[] };
        expect(environment.values.find((v) => v.key === 'scope')?.value).toBe(`${APP_ID_URI}/.default`);
        expect(readFileSync(path.join(repoRoot, 'docs', 'deployment.md'), 'utf8')).toContain(
            `AUTH_AUDIENCE ${APP_ID_URI}`,
        );
        expect(readFileSync(path.join(repoRoot, 'docs', 'entra-id.md'), 'utf8')).toContain(APP_ID_URI);
    });
});
