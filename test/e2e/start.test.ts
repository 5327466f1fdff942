/**
 * `npm start`'s script as a real process: it serves the API on the port asked for, with the local host when Azure
 * Functions Core Tools are absent, stores into the embedded Cosmos DB, and stops cleanly on SIGTERM.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GUID, JSON_HEADERS, SEED_REQUEST_BODY } from '../helpers/host.js';

const root = join(import.meta.dirname, '..', '..');
let child: ChildProcessWithoutNullStreams;
let output = '';
let origin = '';

beforeAll(async () => {
    const env = { ...process.env };
    for (const name of Object.keys(env)) {
        if (/^(COSMOS_|AUTH_|WEBSITE_|APPLICATIONINSIGHTS_)/.test(name)) {
            delete env[name];
        }
    }
    child = spawn(process.execPath, ['dist/scripts/start.js', '--port', '0', '--host', 'local'], { cwd: root, env });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!/at (http:\/\/localhost:\d+)\/beta/.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null) {
            throw new Error(`the app did not start:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    origin = /at (http:\/\/localhost:\d+)\/beta/.exec(output)?.[1] ?? '';
});

afterAll(() => {
    if (child.exitCode === null) {
        child.kill('SIGKILL');
    }
});

describe('npm start (local host)', () => {
    it('says which host serves and where the data lives', () => {
        expect(output).toContain('Serving with the local host (Azure Functions Core Tools not found)');
        expect(output).toMatch(/stored in memory \(embedded Cosmos DB server/);
        expect(output).toContain('WARNING: authentication is OFF');
    });

    it('answers the seed request with 201 and reads it back', async () => {
        const url = `${origin}/beta/officeConfiguration/clientConfigurations/cfg-start/assignments`;
        const created = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY });
        expect(created.status).toBe(201);
        const body = (await created.json()) as { id: string };
        expect(body.id).toMatch(GUID);
        const read = await fetch(created.headers.get('location') ?? '');
        expect(read.status).toBe(200);
        expect(((await read.json()) as { id: string }).id).toBe(body.id);
    });

    it('stops cleanly on SIGTERM', async () => {
        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number | null];
        expect(code).toBe(0);
        expect(output).toContain('SIGTERM: finishing requests in flight, then stopping.');
    });
});
