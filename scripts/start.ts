/**
 * `npm start`: serves the API on port 7071 (`npm start -- --port N` for another). With Azure Functions Core Tools
 * installed it runs `func start`; without them, the local host serves the same route table over node:http.
 * `--host local` picks the local host even where `func` exists.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { routes } from '../functions/routes.js';
import { ConfigurationError, describeAuth, loadConfig } from '../lib/config.js';
import { startLocalHost } from '../lib/localHost.js';
import { createAppServices } from '../lib/services.js';

const DEFAULT_PORT = 7071;

function options(): { port: number; host: 'auto' | 'local' | 'func' } {
    const { values } = parseArgs({
        options: { port: { type: 'string', short: 'p' }, host: { type: 'string' } },
        allowPositionals: false,
    });
    const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--port must be a port number, got '${values.port}'`);
    }
    const host = values.host ?? 'auto';
    if (host !== 'auto' && host !== 'local' && host !== 'func') {
        throw new Error(`--host must be auto, local or func, got '${host}'`);
    }
    return { port, host };
}

/** Core Tools come as an optional dependency (node_modules/.bin) or a global install (PATH). */
function findFunc(): string | undefined {
    const local = join(process.cwd(), 'node_modules', '.bin', 'func');
    if (existsSync(local)) {
        return local;
    }
    const probe = spawnSync('func', ['--version'], { stdio: 'ignore' });
    return probe.status === 0 ? 'func' : undefined;
}

function runFunc(func: string, port: number): void {
    console.info(`Serving with Azure Functions Core Tools (${func} start --port ${port}).`);
    const child = spawn(func, ['start', '--port', String(port)], { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => child.kill(signal));
    }
    child.on('exit', (code) => process.exit(code ?? 0));
}

async function runLocal(port: number): Promise<void> {
    const config = loadConfig();
    const services = createAppServices(config);
    await services.warmUp();
    (config.auth ? console.info : console.warn)(describeAuth(config));
    const host = await startLocalHost({ routes, services, port, hostname: '0.0.0.0' });
    const origin = `http://localhost:${host.port}`;
    console.info(`Serving with the local host (Azure Functions Core Tools not found) at ${origin}/beta`);
    for (const route of routes) {
        console.info(`  ${Object.keys(route.operations).join(',').padEnd(36)} ${origin}/beta/${route.template}`);
    }
    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) {
            return;
        }
        stopping = true;
        console.info(`${signal}: finishing requests in flight, then stopping.`);
        void host
            .close()
            .then(() => services.dispose())
            .then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
    const { port, host } = options();
    const func = host === 'local' ? undefined : findFunc();
    if (host === 'func' && !func) {
        throw new Error('--host func: Azure Functions Core Tools (func) are not installed');
    }
    if (func) {
        runFunc(func, port);
        return;
    }
    await runLocal(port);
}

main().catch((error: unknown) => {
    console.error(error instanceof ConfigurationError || error instanceof Error ? error.message : String(error));
    process.exit(1);
});
