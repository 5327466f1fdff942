/**
 * The built app as a child process, the way `npm start` runs it: the load run and the benchmarks drive it over
 * loopback HTTP from another process, as clients would; a cluster (scripts/cluster.ts) runs several of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** One app process, as a cluster (scripts/cluster.ts) keeps track of it. */
export interface AppInstance {
    /** e.g. `http://127.0.0.1:41234`: where this process serves, without any front. */
    origin: string;
    pid: number;
    child: ChildProcess;
    /** Its stdout and stderr so far, interleaved as they came (the latest of them only, past MAX_OUTPUT). */
    output(): string;
    /** Resolves when the process has exited, with its exit code or the signal that ended it. */
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface AppProcessOptions {
    /** How long the process may take to say where it serves before it is killed and the start fails. */
    startTimeoutMs?: number;
}

/** The output kept per process: enough for any start-up failure, bounded for long load runs. */
const MAX_OUTPUT = 1024 * 1024;

/**
 * Starts `dist/scripts/start.js` of `appRoot` on a free port and resolves once it serves; rejects with its output
 * when it exits first or does not serve within the time allowed (then it is killed).
 */
export async function startAppProcess(
    appRoot: string,
    env: NodeJS.ProcessEnv,
    { startTimeoutMs = 60_000 }: AppProcessOptions = {},
): Promise<AppInstance> {
    const child = spawn(process.execPath, ['dist/scripts/start.js', '--host', 'local', '--port', '0'], {
        cwd: appRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // Read for as long as the process runs: a full pipe would stall it.
    const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.length > 2 * MAX_OUTPUT) {
            output = output.slice(-MAX_OUTPUT);
        }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const origin = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`the app did not serve within ${startTimeoutMs} ms:\n${output}`));
        }, startTimeoutMs);
        const onServing = () => {
            const match = /at (http:\/\/127\.0\.0\.1:\d+)\/beta/.exec(output);
            if (match?.[1]) {
                clearTimeout(timer);
                child.stdout?.off('data', onServing);
                child.stderr?.off('data', onServing);
                resolve(match[1]);
            }
        };
        child.stdout?.on('data', onServing);
        child.stderr?.on('data', onServing);
        child.once('error', (error) => {
            clearTimeout(timer);
            reject(new Error(`the app could not be started: ${error.message}`));
        });
        void exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`the app exited (${code ?? signal}) before serving:\n${output}`));
        });
    });
    return { origin, pid: child.pid ?? -1, child, output: () => output, exited };
}

/** Creates a client configuration over HTTP at the app's `origin` and returns its id: assignments need one. */
export async function newConfiguration(origin: string, displayName: string): Promise<string> {
    const response = await fetch(`${origin}/beta/officeConfiguration/clientConfigurations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ '@odata.type': '#microsoft.graph.windowsOfficeClientConfiguration', displayName }),
    });
    if (response.status !== 201) {
        throw new Error(`creating a configuration answered ${response.status}`);
    }
    return ((await response.json()) as { id: string }).id;
}
