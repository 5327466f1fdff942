/**
 * `npm run build`'s last step: writes the OpenAPI description to dist/openapi.json (or the path given), the same text
 * the app serves at /beta/openapi.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { openApiJson } from '../lib/resources/openapi.js';

/** Beside the compiled script's folder: dist/scripts/build-openapi.js writes dist/openapi.json. */
export const DEFAULT_OUTPUT = fileURLToPath(new URL('../openapi.json', import.meta.url));

export async function writeOpenApi(file: string = DEFAULT_OUTPUT): Promise<string> {
    const path = resolve(file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, openApiJson(), 'utf8');
    return path;
}

// Only when run as a script: the test imports writeOpenApi without writing into the repository.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
    const written = await writeOpenApi(process.argv[2]);
    console.info(`OpenAPI description written to ${written}`);
}
