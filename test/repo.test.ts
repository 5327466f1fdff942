/**
 * The repository as a newcomer meets it: `npm install` must leave package-lock.json as it is, which it does only when
 * the file is written as npm writes it (npm indents the lockfile as package.json is indented) and records every
 * version package.json pins.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

interface Manifest {
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
