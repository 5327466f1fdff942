/**
 * `npm start` where Azure Functions Core Tools are installed, with a stand-in `func` first on PATH
 * (test/fixtures/func/func): npm start gives it a local.settings.json (created from the sample when missing, never
 * overwritten, refused when unusable), the port, and SIGTERM when `npm start`'s own PID gets it; nothing is left.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
    allGone,
    cleanEnv,
    copyProject,
    descendants,
    removeProject,
    repo,
    start,
    type Started,
} from '../helpers/project.js';

interface Record {
    event: 'start' | 'signal';
    pid?: number;
    args?: string[];
    cwd?: string;
    settings?: string | null;
    signal?: string;
}

let dir: string;
let bin: string;
let recordFile: string;

beforeAll(() => {
    dir = copyProject();
    // Outside the project: the stand-in is CommonJS, the project's package.json says "module".
    bin = mkdtempSync(join(tmpdir(), 'func-bin-'));
    copyFileSync(join(repo, 'test', 'fixtures', 'func', 'func'), join(bin, 'func'));
    recordFile = join(bin, 'record.jsonl');
});
beforeEach(() => {
    rmSync(recordFile, { force: true });
});
afterAll(() => {
    removeProject(dir);
    rmSync(bin, { recursive: true, force: true });
});

const settingsFile = () => join(dir, 'local.settings.json');
const sample = () => readFileSync(join(dir, 'local.settings.json.sample'), 'utf8');
const env = () => cleanEnv({ PATH: `${bin}:${cleanEnv().PATH ?? ''}`, FUNC_RECORD: recordFile });

function records(): Record[] {
    return existsSync(recordFile)
        ? readFileSync(recordFile, 'utf8')
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as Record)
        : [];
}

async function started(): Promise<Record> {
    for (;;) {
        const first = records().find((r) => r.event === 'start');
        if (first) {
            return first;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

/** `npm start -- --port 7345`, as the README says; resolves once the stand-in has started. */
async function npmStart(): Promise<{ app: Started; func: Record }> {
    const app = start('npm', ['start', '--', '--port', '7345'], dir, env());
    const func = await Promise.race([
        started(),
        app.exited.then((code) => Promise.reject(new Error(`npm start exited (${code}):\n${app.output()}`))),
    ]);
    return { app, func };
}

async function stopByPid(app: Started): Promise<void> {
    const below = descendants(app.child.pid ?? 0);
    expect(below.length).toBeGreaterThan(0);
    app.child.kill('SIGTERM');
    await app.exited;
    await allGone(below);
}

describe('npm start with func on PATH', () => {
    it('creates local.settings.json from the sample, passes the port, and stops func with npm start', async () => {
        if (existsSync(settingsFile())) {
            unlinkSync(settingsFile());
        }
        const { app, func } = await npmStart();
        expect(func.args).toEqual(['start', '--port', '7345']);
        expect(func.cwd).toBe(dir);
        expect(func.settings).toBe(sample());
        expect(readFileSync(settingsFile(), 'utf8')).toBe(sample());
        const output = app.output();
        expect(output).toContain(`Created ${settingsFile()} from local.settings.json.sample`);
        expect(output).toMatch(/Serving with Azure Functions Core Tools \(func start --port 7345\)/);
        expect(output).toContain('at http://localhost:7345/beta');
        expect(output).toContain(`settings from ${settingsFile()}`);

        await stopByPid(app);
        expect(records().filter((r) => r.event === 'signal')).toEqual([{ event: 'signal', signal: 'SIGTERM' }]);
    }, 180_000);

    it('leaves an existing local.settings.json alone', async () => {
        const mine = `${JSON.stringify({ IsEncrypted: false, Values: { FUNCTIONS_WORKER_RUNTIME: 'node', MINE: '1' } }, null, 2)}\n`;
        writeFileSync(settingsFile(), mine);
        const { app, func } = await npmStart();
        expect(func.settings).toBe(mine);
        expect(readFileSync(settingsFile(), 'utf8')).toBe(mine);
        expect(app.output()).not.toContain('Created');
        expect(app.output()).toContain(`settings from ${settingsFile()}`);
        await stopByPid(app);
    }, 180_000);

    it('refuses a local.settings.json that is not JSON, or not for node, and never starts func', async () => {
        const cases: [string, RegExp][] = [
            ['{ "Values": { ', /local\.settings\.json is not valid JSON/],
            [JSON.stringify({ Values: { FUNCTIONS_WORKER_RUNTIME: 'dotnet' } }), /FUNCTIONS_WORKER_RUNTIME": "node"/],
            [JSON.stringify({ Values: {} }), /FUNCTIONS_WORKER_RUNTIME": "node"/],
        ];
        for (const [content, message] of cases) {
            writeFileSync(settingsFile(), content);
            // The script npm start runs (built by the tests above): the refusal is its own.
            const app = start(process.execPath, ['dist/scripts/start.js', '--port', '7345'], dir, env());
            expect(await app.exited).toBe(1);
            expect(app.output()).toMatch(message);
            expect(readFileSync(settingsFile(), 'utf8')).toBe(content);
            expect(records()).toEqual([]);
        }
    }, 60_000);
});
