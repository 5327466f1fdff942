/**
 * The repository as a newcomer meets it: `npm install` must leave package-lock.json as it is, which it does only when
 * the file is written as npm writes it (npm indents the lockfile as package.json is indented) and records every
 * version package.json pins. And one Node.js major everywhere: the one the Bicep deploys.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { BUNDLE_OPTIONS } from '../scripts/package.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

interface Manifest {
    engines?: Record<string, string>;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
}

const indentOf = (json: string) => /^\{\n( +)"/.exec(json)?.[1];

describe('package-lock.json', () => {
    const manifestText = read('package.json');
    const lockText = read('package-lock.json');

    it('is indented as package.json is, as npm writes it', () => {
        expect(indentOf(manifestText)).toBe('    ');
        expect(indentOf(lockText)).toBe(indentOf(manifestText));
        expect(lockText.endsWith('}\n')).toBe(true);
    });

    it('pins exactly what package.json pins', () => {
        const manifest = JSON.parse(manifestText) as Manifest;
        const root = (JSON.parse(lockText) as { packages: Record<string, Manifest> }).packages[''];
        for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
            expect(root?.[kind], kind).toEqual(manifest[kind]);
            for (const version of Object.values(manifest[kind] ?? {})) {
                expect(version, kind).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
            }
        }
    });
});

describe('Node.js: the version Azure runs, everywhere', () => {
    // infra/modules/function-app.bicep: functionAppConfig.runtime { name: 'node', version: '22' }.
    const deployed = /runtime: \{\s*name: 'node'\s*version: '(\d+)'/.exec(
        read('infra/modules/function-app.bicep'),
    )?.[1];
    const manifest = JSON.parse(read('package.json')) as Manifest;

    it('the Bicep deploys one Node.js major', () => {
        expect(deployed).toMatch(/^\d+$/);
    });

    it('package.json requires it, and types the code for it', () => {
        expect(manifest.engines?.node).toBe(`>=${deployed}`);
        expect(manifest.devDependencies?.['@types/node']).toMatch(new RegExp(`^${deployed}\\.`));
    });

    it('the deployment bundle is built for it', () => {
        expect(BUNDLE_OPTIONS.target).toBe(`node${deployed}`);
    });

    it('.ci/run tests on it (scripts/install-node.sh pins an exact version of that major)', () => {
        expect(read('.ci/run')).toContain('scripts/install-node.sh');
        expect(read('scripts/install-node.sh')).toMatch(new RegExp(`^NODE_VERSION="${deployed}\\.\\d+\\.\\d+"$`, 'm'));
    });

    it('CI tests on it', () => {
        const ci = parse(read('.github/workflows/ci.yml')) as {
            jobs: Record<string, { strategy?: { matrix?: { node?: unknown[] } } }>;
        };
        expect(Object.values(ci.jobs)[0]?.strategy?.matrix?.node).toContain(Number(deployed));
    });
});
