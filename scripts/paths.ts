/**
 * The repository's root, for the build scripts: the nearest folder above with a package.json. The scripts run both
 * compiled (dist/scripts/, from npm scripts) and from source (scripts/, imported by tests).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
    for (let dir = from; ; dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json'))) {
            return dir;
        }
        if (dirname(dir) === dir) {
            throw new Error(`no package.json above ${from}`);
        }
    }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
