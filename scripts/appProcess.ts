/**
 * The built app as a child process, the way `npm start` runs it: the load run and the benchmarks drive it over
 * loopback HTTP from another process, as clients would.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Starts `dist/scripts/start.js` of `appRoot` on a free port and resolves to its origin once it serves. */
export async function startAppProcess(
    appRoot: string,
    env: NodeJS.ProcessEnv,
): Promise<{ origin: string; child: ChildProcess }> {
    const child = spawn(process.execPath, ['dist/scripts/start.js', '--host', 'local', '--port', '0'], {
        cwd: appRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const origin = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            const match = /at (http:\/\/127\.0\.0\.1:\d+)\/beta/.exec(output);
            if (match?.[1]) {
                resolve(match[1]);
            }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.on('exit', (code) => reject(new Error(`the app exited (${code}) before serving:\n${output}`)));
    });
    return { origin, child };
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
