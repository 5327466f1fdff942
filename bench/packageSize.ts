/**
 * Part 4: the size of the deployment package, zipped: `npm run package`'s dist/deploy.zip. With `unbundled`, also
 * the zip a deployment without the bundle would upload (the built app, host.json, package.json and the production
 * node_modules, as .funcignore selects them), for comparison.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

import { zipSync } from 'fflate';

export interface PackageSize {
    bundleZipBytes?: number;
    unbundledZipBytes?: number;
}

async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A package's folder as Node would find it from `fromDir`: the nearest node_modules above that has it. */
function packageDir(name: string, fromDir: string): string | undefined {
    for (let dir = fromDir; ; dir = dirname(dir)) {
        const candidate = join(dir, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
            return candidate;
        }
        if (dirname(dir) === dir) {
            return undefined;
        }
    }
}

interface Manifest {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
}

/** The folders of every production dependency, transitively, as `npm install --omit=dev` would install them. */
async function productionPackages(appRoot: string): Promise<Set<string>> {
    const found = new Set<string>();
    const queue: string[] = [appRoot];
    while (queue.length > 0) {
        const from = queue.shift()!;
        const manifest = JSON.parse(await readFile(join(from, 'package.json'), 'utf8')) as Manifest;
        const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
        for (const name of names) {
            // An optional dependency may be absent (e.g. Core Tools here): it is then not deployed either.
            const dir = packageDir(name, from);
            if (dir !== undefined && !found.has(dir)) {
                found.add(dir);
                queue.push(dir);
            }
        }
    }
    return found;
}

async function unbundledZipBytes(appRoot: string): Promise<number> {
    const files = new Set<string>([join(appRoot, 'host.json'), join(appRoot, 'package.json')]);
    for (const folder of ['functions', 'lib']) {
        (await filesUnder(join(appRoot, 'dist', folder))).forEach((f) => files.add(f));
    }
    for (const dir of await productionPackages(appRoot)) {
        // A package's own files; the packages nested in its node_modules are walked as packages of their own.
        (await filesUnder(dir)).filter((f) => !relative(dir, f).includes('node_modules')).forEach((f) => files.add(f));
    }
    const contents: Record<string, Uint8Array> = {};
    for (const file of files) {
        contents[relative(appRoot, file)] = await readFile(file);
    }
    return zipSync(contents, { level: 6 }).byteLength;
}

export async function measurePackageSize(appRoot: string, { unbundled = false } = {}): Promise<PackageSize> {
    const zip = join(appRoot, 'dist', 'deploy.zip');
    const bundleZipBytes = await stat(zip).then(
        (s) => s.size,
        () => undefined,
    );
    return {
        ...(bundleZipBytes !== undefined ? { bundleZipBytes } : {}),
        ...(unbundled ? { unbundledZipBytes: await unbundledZipBytes(appRoot) } : {}),
    };
}
