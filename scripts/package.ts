/**
 * `npm run package`: the deployment package that `azd deploy` (azure.yaml's `dist`) and
 * `func azure functionapp publish` upload. esbuild bundles the built app (dist/functions/index.js) and the telemetry
 * worker into dist/deploy/, beside host.json and a package.json whose `main` is the bundle, and zips that folder to
 * dist/deploy.zip.
 *
 * Why a bundle: a cold start imports the app before the first request is served, and resolving and reading the
 * hundreds of files of node_modules costs more than parsing one file; the package also shrinks from the production
 * node_modules to a few files.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { build, type BuildOptions } from 'esbuild';
import { zipSync } from 'fflate';

import { repoRoot as root } from './paths.js';

export const DEPLOY_DIR = join(root, 'dist', 'deploy');
export const DEPLOY_ZIP = join(root, 'dist', 'deploy.zip');

/**
 * Left out of the bundle:
 * - `@azure/functions-core` is not a package: the Functions worker provides it at run time.
 * - `@vercel/cosmosdb-server` is the embedded Cosmos DB for local runs; lib/platform/config refuses it in Azure.
 */
export const EXTERNAL = ['@azure/functions-core', '@vercel/cosmosdb-server'];

/**
 * CommonJS code bundled into an ES module still calls require() (Node built-ins, `@azure/functions-core`) and may use
 * __dirname: give every output file its own, as Node gives each CommonJS module.
 */
const BANNER = [
    "import { createRequire as __createRequire } from 'node:module';",
    "import { fileURLToPath as __fileURLToPath } from 'node:url';",
    "import { dirname as __pathDirname } from 'node:path';",
    'const require = __createRequire(import.meta.url);',
    'const __filename = __fileURLToPath(import.meta.url);',
    'const __dirname = __pathDirname(__filename);',
].join('\n');

/** How the app is bundled; bench/coldImport bundles its baseline (the two SDKs alone) the same way. */
export const BUNDLE_OPTIONS = {
    bundle: true,
    // Chunks keep what is imported dynamically (identity, the SDK's own lazy parts) out of the start-up path.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: EXTERNAL,
    banner: { js: BANNER },
    minifyWhitespace: true,
    minifySyntax: true,
    // Names stay readable in the stack traces the app logs.
    minifyIdentifiers: false,
    legalComments: 'eof',
    logLevel: 'warning',
    // Bundled libraries reach for optional modules inside try/catch; those are not errors.
    logOverride: { 'require-resolve-not-external': 'silent' },
} satisfies BuildOptions;

export interface PackageResult {
    dir: string;
    zip: string;
    /** Size of the zip, in bytes. */
    zipBytes: number;
    /** Files in the package, relative to its folder, with their sizes. */
    files: Record<string, number>;
}

async function listFiles(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
        .filter((e) => e.isFile())
        .map((e) => relative(dir, join(e.parentPath, e.name)))
        .sort();
}

export async function buildPackage(dir: string = DEPLOY_DIR, zip: string = DEPLOY_ZIP): Promise<PackageResult> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await build({
        entryPoints: [
            { in: join(root, 'dist', 'functions', 'index.js'), out: 'index' },
            // lib/platform/telemetry starts it as `./telemetryWorker.js` beside itself: here, beside the bundle.
            { in: join(root, 'dist', 'lib', 'platform', 'telemetryWorker.js'), out: 'telemetryWorker' },
        ],
        outdir: dir,
        ...BUNDLE_OPTIONS,
    });
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    const deployManifest = {
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        private: true,
        license: manifest.license,
        type: 'module',
        main: 'index.js',
        engines: manifest.engines,
        // Everything is in the bundle: a remote build has nothing to install.
        dependencies: {},
    };
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(deployManifest, null, 2)}\n`);
    await writeFile(join(dir, 'host.json'), await readFile(join(root, 'host.json')));

    const names = await listFiles(dir);
    const contents: Record<string, [Uint8Array, { mtime: Date }]> = {};
    const files: Record<string, number> = {};
    // A fixed time stamp: the same build gives the same zip.
    const mtime = new Date('2020-01-01T00:00:00Z');
    for (const name of names) {
        const data = await readFile(join(dir, name));
        contents[name.split('\\').join('/')] = [data, { mtime }];
        files[name] = data.byteLength;
    }
    await writeFile(zip, zipSync(contents, { level: 9 }));
    return { dir, zip, zipBytes: (await stat(zip)).size, files };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
    const result = await buildPackage();
    const total = Object.values(result.files).reduce((a, b) => a + b, 0);
    console.info(
        `Deployment package: ${relative(root, result.dir)} (${Object.keys(result.files).length} files, ` +
            `${(total / 1024).toFixed(0)} KiB) zipped to ${relative(root, result.zip)} (${(result.zipBytes / 1024).toFixed(0)} KiB)`,
    );
}
