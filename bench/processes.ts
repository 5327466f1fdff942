/**
 * The processes of the create measurements: servers started once and kept warm across trials (a line on stdout says
 * where they listen), workers driven over an IPC channel (the load generator, the raw SDK loop), and the CPU time
 * each has used, read from /proc so that every process is measured the same way, the app included.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';

/** USER_HZ: 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) a process has used, in ms, from /proc (Linux); undefined elsewhere. */
export async function processCpuMs(pid: number | undefined): Promise<number | undefined> {
    if (pid === undefined) {
        return undefined;
    }
    try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in ticks.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    } catch {
        return undefined;
    }
}

export const cpuMsOf = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/** What a server script prints once it serves: a line with `listening at http://127.0.0.1:port`. */
export const LISTENING = /listening at (http:\/\/[^\s]+).*\n/;

export interface ServerProcess {
    origin: string;
    /** Everything it printed until it served. */
    output: string;
    child: ChildProcess;
    stop: () => Promise<void>;
}

/** Starts `node <script> ...args` and resolves once it prints where it listens. */
export async function startServerProcess(
    script: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
): Promise<ServerProcess> {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const origin = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            const match = LISTENING.exec(output);
            if (match?.[1]) {
                resolve(match[1]);
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`${script} exited (${code}) before serving:\n${output}`)));
    });
    return { origin, output, child, stop: () => stopChild(child) };
}

/**
 * Keeps the first `max` lines a server writes that say why a request failed (the app logs each 5xx with its
 * request-id and cause; the library floor logs its own): a bench that counts failures can also say what they were.
 */
export function failureLines(child: ChildProcess, max = 5): string[] {
    const lines: string[] = [];
    let pending = '';
    const onData = (chunk: Buffer) => {
        pending += chunk.toString();
        const complete = pending.split('\n');
        pending = complete.pop() ?? '';
        for (const line of complete) {
            if (lines.length < max && /failed|error/i.test(line)) {
                lines.push(line.slice(0, 400));
            }
        }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    return lines;
}

export async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
}

export interface Worker<Request, Reply> {
    child: ChildProcess;
    /** Sends one request and resolves to the worker's reply; one request at a time. */
    call: (request: Request) => Promise<Reply>;
    stop: () => Promise<void>;
}

/** Forks a worker script that answers each message with one message (or `{ error }`). */
export async function forkWorker<Request, Reply>(
    script: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
): Promise<Worker<Request, Reply>> {
    const child = fork(script, [...args], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`${script} exited (${String(code)})`);
    });
    exited.catch(() => {}); // raced below; unobserved otherwise
    // The worker says it is ready (e.g. its Cosmos container is open) with a first message.
    await Promise.race([once(child, 'message'), exited]);
    return {
        child,
        call: async (request) => {
            child.send(request as object);
            const [reply] = (await Promise.race([once(child, 'message'), exited])) as [Reply | { error: string }];
            if (reply && typeof reply === 'object' && 'error' in reply) {
                throw new Error(`${script}: ${reply.error}`);
            }
            return reply;
        },
        stop: async () => {
            child.disconnect();
            await stopChild(child);
        },
    };
}

/** Inside a worker: answers each request with `handle`'s result, after saying it is ready. */
export function serveWorker<Request, Reply>(handle: (request: Request) => Promise<Reply>): void {
    process.on('message', (request: Request) => {
        handle(request).then(
            (reply) => process.send?.(reply),
            (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }),
        );
    });
    process.on('disconnect', () => process.exit(0));
    process.send?.({ ready: true });
}
