/**
 * `npm start` (after `prestart` built the app): serves the API on port 7071. With Azure Functions Core Tools
 * installed it runs `func start`; without them, the local host serves the same route table over node:http.
 * `npm start -- --help` lists the options.
 *
 * Stopping `npm start` by its PID must stop the server too. npm passes SIGTERM to the shell that runs this script,
 * and the shell dies without passing it on, so this process also stops when its parent goes (see watchParent).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { routes } from '../functions/routes.js';
import { localJobs, triggers } from '../functions/triggers.js';
import { startLocalHost } from '../lib/http/localHost.js';
import { startScheduler } from '../lib/jobs/scheduler.js';
import { ConfigurationError, describeAuth, loadConfig } from '../lib/platform/config.js';
import { consoleLogger, createAppServices } from '../lib/platform/services.js';
import { watchParent } from './parentProcess.js';

const DEFAULT_PORT = 7071;
const LOOPBACK = '127.0.0.1';

const USAGE = `Usage: npm start [-- options]

Serves the Office client configuration assignments API under /beta.

Options:
  --port, -p <n>     port to serve on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host <which>     auto  (default) func start where Azure Functions Core Tools are installed, else the local host
                     local the local host (node:http), even where Core Tools are installed
                     func  func start; fails where Core Tools are not installed
  --listen <addr>    address the local host listens on (default ${LOOPBACK}: this machine only).
                     0.0.0.0 or :: exposes it to the network: set AUTH_TENANT_ID and AUTH_AUDIENCE first.
  --help, -h         this text

Settings: the local host reads the process environment; func start reads local.settings.json, which npm start
creates from local.settings.json.sample when it is missing. See docs/settings.md.`;

class UsageError extends Error {}

type Host = 'auto' | 'local' | 'func';

interface Options {
    port: number;
    host: Host;
    listen: string;
    help: boolean;
}

function options(): Options {
    let values;
    try {
        ({ values } = parseArgs({
            options: {
                port: { type: 'string', short: 'p' },
                host: { type: 'string' },
                listen: { type: 'string' },
                help: { type: 'boolean', short: 'h' },
            },
            allowPositionals: false,
        }));
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
    if (!/^\d{1,5}$/.test(values.port ?? '0') || port > 65535) {
        throw new UsageError(`--port must be a port number from 0 to 65535, got '${values.port}'`);
    }
    const host = values.host ?? 'auto';
    if (host !== 'auto' && host !== 'local' && host !== 'func') {
        throw new UsageError(`--host must be auto, local or func, got '${host}'`);
    }
    const listen = values.listen ?? LOOPBACK;
    if (isIP(listen) === 0 && listen !== 'localhost') {
        throw new UsageError(`--listen must be an IP address such as ${LOOPBACK} or 0.0.0.0, got '${listen}'`);
    }
    return { port, host, listen, help: values.help ?? false };
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

/**
 * `func start` reads the app's settings and `FUNCTIONS_WORKER_RUNTIME` from local.settings.json: created from the
 * sample when missing, never overwritten, and refused when it cannot serve this app.
 */
function ensureLocalSettings(dir: string): { path: string; created: boolean } {
    const path = join(dir, 'local.settings.json');
    if (!existsSync(path)) {
        copyFileSync(join(dir, 'local.settings.json.sample'), path);
        return { path, created: true };
    }
    let settings: unknown;
    try {
        settings = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
        throw new Error(
            `${path} is not valid JSON (${(error as Error).message}); fix it, or delete it to start again from local.settings.json.sample`,
            { cause: error },
        );
    }
    const runtime = (settings as { Values?: Record<string, unknown> } | null)?.Values?.FUNCTIONS_WORKER_RUNTIME;
    if (runtime !== 'node') {
        throw new Error(
            `${path} must set "Values": { "FUNCTIONS_WORKER_RUNTIME": "node" } for func start to run this app ` +
                `(found ${JSON.stringify(runtime ?? null)}); see local.settings.json.sample`,
        );
    }
    return { path, created: false };
}

function runFunc(func: string, port: number): void {
    const settings = ensureLocalSettings(process.cwd());
    if (settings.created) {
        console.info(`Created ${settings.path} from local.settings.json.sample (func start reads its settings there).`);
    }
    console.info(
        `Serving with Azure Functions Core Tools (${func} start --port ${port}) at http://localhost:${port}/beta, ` +
            `settings from ${settings.path}`,
    );
    const child: ChildProcess = spawn(func, ['start', '--port', String(port)], { stdio: 'inherit' });
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
        stopping = true;
        child.kill(signal);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => stop(signal));
    }
    watchParent((why) => {
        console.info(`${why}: stopping func.`);
        stop('SIGTERM');
    });
    child.on('error', (error) => {
        console.error(`${func} start failed: ${error.message}`);
        process.exit(1);
    });
    child.on('exit', (code, signal) => process.exit(code ?? (stopping || signal === null ? 0 : 1)));
}

async function runLocal(port: number, listen: string): Promise<void> {
    const config = loadConfig();
    const services = createAppServices(config);
    // The port first: where it is taken, the error is all that is printed (no banner about storage or auth).
    let host;
    try {
        host = await startLocalHost({ routes, services, port, hostname: listen, timeouts: config.hostTimeouts });
    } catch (error) {
        await services.dispose();
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
            throw new UsageError(
                `Port ${port} on ${listen} is already in use (another npm start?). ` +
                    `Stop that one, or pick another port: npm start -- --port ${port === DEFAULT_PORT ? 8080 : DEFAULT_PORT}`,
            );
        }
        throw error;
    }
    // Then the store (its banner says where the data lives) and auth, before the line that says where it serves.
    try {
        await services.warmUp();
    } catch (error) {
        await host.close();
        await services.dispose();
        throw error;
    }
    (config.auth ? console.info : console.warn)(describeAuth(config));
    const everywhere = listen === '0.0.0.0' || listen === '::';
    // The wildcard addresses are no one's URL: print the loopback one, which reaches the same server.
    const origin = everywhere ? `http://${listen === '::' ? '[::1]' : LOOPBACK}:${host.port}` : host.origin;
    console.info(
        `Serving with the local host (Azure Functions Core Tools not found) at ${origin}/beta` +
            (everywhere ? ` (listening on every interface: ${listen})` : '') +
            '; settings from the process environment',
    );
    if (!['127.0.0.1', '::1', 'localhost'].includes(listen) && !config.auth) {
        console.warn(
            `WARNING: listening on ${listen} with authentication OFF: anyone who can reach this machine can read ` +
                'and write. Set AUTH_TENANT_ID and AUTH_AUDIENCE, or listen on 127.0.0.1.',
        );
    }
    for (const route of routes) {
        console.info(`  ${Object.keys(route.operations).join(',').padEnd(36)} ${origin}/beta/${route.template}`);
    }
    // The timer jobs the Functions host would run (functions/triggers.ts), each at its setting's period.
    const scheduler = startScheduler(localJobs(config, services.store, consoleLogger), consoleLogger);
    console.info(
        `  timer jobs: ${triggers.map((t) => `${t.name} every ${t.everyMs(config) / 1000} s`).join(', ')} ` +
            '(SWEEP_INTERVAL_SECONDS, NOTIFICATION_INTERVAL_SECONDS)',
    );
    let stopping = false;
    const stop = (why: string) => {
        if (stopping) {
            return;
        }
        stopping = true;
        console.info(`${why}: finishing requests in flight, then stopping.`);
        void Promise.all([host.close(), scheduler.stop()])
            .then(() => services.dispose())
            .then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    watchParent(stop);
}

async function main(): Promise<void> {
    const { port, host, listen, help } = options();
    if (help) {
        console.info(USAGE);
        return;
    }
    const func = host === 'local' ? undefined : findFunc();
    if (host === 'func' && !func) {
        throw new UsageError(
            '--host func: Azure Functions Core Tools (func) are not installed; npm install installs them where it can ' +
                'download them, or use --host local',
        );
    }
    if (func) {
        if (listen !== LOOPBACK) {
            console.warn('--listen applies to the local host only; func start chooses its own address.');
        }
        runFunc(func, port);
        return;
    }
    await runLocal(port, listen);
}

main().catch((error: unknown) => {
    console.error(error instanceof ConfigurationError || error instanceof Error ? error.message : String(error));
    if (error instanceof UsageError) {
        console.error('npm start -- --help lists the options.');
    }
    process.exit(1);
});
