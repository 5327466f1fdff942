/**
 * `npm start` as a user runs it, in a copy of the project: its `prestart` build writes into the copy, never into the
 * dist/ and lib/graph/generated/ other suites are reading, and files it creates (local.settings.json) stay there.
 * node_modules is linked package by package, without Core Tools' `func` (tests put their own on PATH).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    realpathSync,
    rmSync,
    symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const repo = join(import.meta.dirname, '..', '..');

const PROJECT_FILES = [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'host.json',
    'local.settings.json.sample',
    'lib',
    'functions',
    'scripts',
];

export function copyProject(): string {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'npm-start-')));
    for (const entry of PROJECT_FILES) {
        cpSync(join(repo, entry), join(dir, entry), { recursive: true });
    }
    const modules = join(repo, 'node_modules');
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    for (const entry of readdirSync(modules)) {
        if (entry !== '.bin') {
            symlinkSync(join(modules, entry), join(dir, 'node_modules', entry));
        }
    }
    for (const entry of readdirSync(join(modules, '.bin'))) {
        if (entry !== 'func' && existsSync(join(modules, '.bin', entry))) {
            symlinkSync(realpathSync(join(modules, '.bin', entry)), join(dir, 'node_modules', '.bin', entry));
        }
    }
    return dir;
}

export function removeProject(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
}

/** The environment of a user with no settings: none of the app's, and none of the npm run that started vitest. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env = { ...process.env };
    for (const name of Object.keys(env)) {
        if (/^(COSMOS_|AUTH_|WEBSITE_|APPLICATIONINSIGHTS_|PUBLIC_ORIGIN|npm_|INIT_CWD)/i.test(name)) {
            delete env[name];
        }
    }
    return { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? ''}`, ...extra };
}

export interface Started {
    child: ChildProcess;
    output(): string;
    /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
    waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
    exited: Promise<number | null>;
}

export function start(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Started {
    const child = spawn(command, args, { cwd, env });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return {
        child,
        output: () => text,
        exited,
        waitFor: async (pattern, timeoutMs = 120_000) => {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const match = pattern.exec(text);
                if (match) {
                    return match;
                }
                if (child.exitCode !== null || Date.now() > deadline) {
                    throw new Error(`${pattern} not seen (exit code ${String(child.exitCode)}):\n${text}`);
                }
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
        },
    };
}

/** A process's parent, from /proc (Linux); undefined once it is gone or a zombie. */
function parentOf(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return fields[0] === 'Z' ? undefined : Number(fields[1]);
    } catch {
        return undefined;
    }
}

export function isRunning(pid: number): boolean {
    return parentOf(pid) !== undefined;
}

/** Every process below `pid`, now. */
export function descendants(pid: number): number[] {
    const all = readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number);
    const found: number[] = [];
    let frontier = [pid];
    while (frontier.length > 0) {
        const children = all.filter((p) => frontier.includes(parentOf(p) ?? -1));
        found.push(...children);
        frontier = children;
    }
    return found;
}

/** Waits until none of `pids` runs; rejects naming the ones left after `timeoutMs`. */
export async function allGone(pids: number[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (pids.some(isRunning)) {
        if (Date.now() > deadline) {
            throw new Error(`still running: ${pids.filter(isRunning).join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}
