/**
 * `npm start` itself, as the README says to run it, in a copy of the project (test/helpers/project): it builds, serves
 * the API with the local host when Azure Functions Core Tools are absent, on loopback only, at the URL it prints, and
 * stops cleanly, leaving nothing running, when `npm start`'s own PID gets SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { newConfiguration } from '../helpers/configurations.js';
import { GUID, JSON_HEADERS, SEED_REQUEST_BODY } from '../helpers/host.js';
import { allGone, cleanEnv, copyProject, descendants, removeProject, start, type Started } from '../helpers/project.js';

const SERVING = /Serving with the local host \(Azure Functions Core Tools not found\) at (http:\/\/[^\s]+)\/beta/;

let dir: string;
let app: Started;
let origin = '';

beforeAll(async () => {
    dir = copyProject();
    app = start('npm', ['start', '--', '--port', '0', '--host', 'local'], dir, cleanEnv());
    origin = (await app.waitFor(SERVING))[1] ?? '';
}, 180_000);

afterAll(() => {
    if (app.child.exitCode === null) {
        app.child.kill('SIGKILL');
    }
    removeProject(dir);
});

/** LISTEN sockets on a port, by local address, from /proc/net/tcp{,6} (Linux). */
function listeners(port: number): string[] {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
        readFileSync(file, 'utf8')
            .split('\n')
            .slice(1)
            .map((line) => line.trim().split(/\s+/))
            .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')
            .map((fields) => fields[1]?.split(':')[0] ?? ''),
    );
}

describe('npm start (local host)', () => {
    it('says which host serves, where, where the data lives and where its settings come from', () => {
        const output = app.output();
        expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        // Configurations and payloads live there too, not assignments alone.
        expect(output).toMatch(
            /Configurations, payloads and assignments are stored in memory \(embedded Cosmos DB server/,
        );
        expect(output).toContain('WARNING: authentication is OFF');
        expect(output).toContain('settings from the process environment');
    });

    it('listens on loopback only, at the URL it printed', () => {
        const port = Number(new URL(origin).port);
        expect(listeners(port)).toEqual(['0100007F']);
    });

    it('answers the seed request with 201 and reads it back', async () => {
        const configuration = await newConfiguration(`${origin}/beta`);
        const url = `${origin}/beta/officeConfiguration/clientConfigurations/${configuration}/assignments`;
        const created = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: SEED_REQUEST_BODY });
        expect(created.status).toBe(201);
        const body = (await created.json()) as { id: string };
        expect(body.id).toMatch(GUID);
        expect(created.headers.get('location')?.startsWith(`${origin}/beta/`)).toBe(true);
        const read = await fetch(created.headers.get('location') ?? '');
        expect(read.status).toBe(200);
        expect(((await read.json()) as { id: string }).id).toBe(body.id);
    });

    it('stops gracefully when npm start’s PID gets SIGTERM, and leaves nothing running', async () => {
        const pid = app.child.pid ?? 0;
        const below = descendants(pid);
        expect(below.length).toBeGreaterThan(0);
        app.child.kill('SIGTERM');
        await app.exited;
        await allGone(below);
        // The log names the PID that was signalled, npm's, not the shell npm runs the script in.
        expect(app.output()).toContain(`npm start (PID ${pid}) ended: finishing requests in flight, then stopping.`);
        await expect(fetch(origin)).rejects.toThrow();
    });
});

describe('npm start, what a new user meets', () => {
    it('prints its usage with --help, and serves nothing', async () => {
        const help = start('npm', ['start', '--', '--help'], dir, cleanEnv());
        expect(await help.exited).toBe(0);
        const output = help.output();
        for (const option of ['--port', '--host <which>', 'auto', 'local', 'func', '--listen']) {
            expect(output).toContain(option);
        }
        expect(output).not.toContain('Serving with');
    }, 120_000);

    it('says how to pick another port when its port is in use', async () => {
        const taken = createServer();
        await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
        const port = (taken.address() as { port: number }).port;
        try {
            // The script npm start runs (built above): the message is its own.
            const busy = start(
                process.execPath,
                ['dist/scripts/start.js', '--port', String(port), '--host', 'local'],
                dir,
                cleanEnv(),
            );
            expect(await busy.exited).toBe(1);
            expect(busy.output()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
            expect(busy.output()).toMatch(/npm start -- --port \d+/);
            // Nothing was served: no banner about where data would live or about auth comes before the error.
            expect(busy.output()).not.toContain('are stored');
            expect(busy.output()).not.toContain('authentication is OFF');
        } finally {
            taken.close();
        }
    }, 120_000);

    it('listens on every interface only when asked, and then warns that auth is off', async () => {
        const exposed = start(
            process.execPath,
            ['dist/scripts/start.js', '--port', '0', '--host', 'local', '--listen', '0.0.0.0'],
            dir,
            cleanEnv(),
        );
        try {
            const [, url] = await exposed.waitFor(SERVING);
            expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
            expect(listeners(Number(new URL(url ?? '').port))).toEqual(['00000000']);
            // On stderr, right after the line above on stdout: the two pipes may reach this process in either order.
            await exposed.waitFor(/WARNING: listening on 0\.0\.0\.0 with authentication OFF/, 10_000);
            expect((await fetch(`${url}/beta/$metadata`)).status).toBe(200);
        } finally {
            exposed.child.kill('SIGTERM');
            await exposed.exited;
        }
    }, 120_000);
});
