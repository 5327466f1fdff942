/**
 * Part 3: how long a fresh process takes to import the Function app, against importing `@azure/functions` and
 * `@azure/cosmos` alone, with and without an Application Insights connection string. Timed inside the child, from
 * just before `import()` to just after it and one more turn of the event loop (which is when lib/telemetry starts
 * its worker): Node's own boot, the same for all, is left out. Runs alternate between the targets; medians count.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { cleanEnv, median, round, runNode } from './stats.js';

export const DUMMY_CONNECTION_STRING =
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/';

export interface ColdImport {
    runs: number;
    medianMs: Record<string, number>;
    ratio: Record<string, number>;
}

const timed = (body: string) =>
    `const t0 = performance.now(); ${body}; await new Promise((r) => setImmediate(() => setImmediate(r)));` +
    `process.stdout.write(JSON.stringify({ ms: performance.now() - t0 })); process.exit(0);`;

export async function measureColdImport(appRoot: string, { runs = 15 } = {}): Promise<ColdImport> {
    // The bundle runs from a folder with no node_modules above it, as in Azure: it must need nothing outside itself.
    const isolated = await mkdtemp(join(tmpdir(), 'bench-deploy-'));
    let bundle: string | undefined;
    try {
        await cp(join(appRoot, 'dist', 'deploy'), isolated, { recursive: true });
        bundle = join(isolated, 'index.js');
    } catch {
        bundle = undefined; // no `npm run package` output (an older build): the bundle rows are left out
    }
    const app = pathToFileURL(join(appRoot, 'dist', 'functions', 'index.js')).href;
    const withTelemetry = { APPLICATIONINSIGHTS_CONNECTION_STRING: DUMMY_CONNECTION_STRING };
    const targets: Record<string, { code: string; env: NodeJS.ProcessEnv }> = {
        baseline: { code: timed("await import('@azure/functions'); await import('@azure/cosmos')"), env: cleanEnv() },
        app: { code: timed(`await import('${app}')`), env: cleanEnv() },
        appTelemetry: { code: timed(`await import('${app}')`), env: cleanEnv(withTelemetry) },
    };
    if (bundle) {
        const url = pathToFileURL(bundle).href;
        targets.bundle = { code: timed(`await import('${url}')`), env: cleanEnv() };
        targets.bundleTelemetry = { code: timed(`await import('${url}')`), env: cleanEnv(withTelemetry) };
    }
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    try {
        for (let run = 0; run < runs + 1; run += 1) {
            for (const [name, target] of Object.entries(targets)) {
                const out = await runNode(['--input-type=module', '-e', target.code], {
                    cwd: appRoot,
                    env: target.env,
                });
                if (run > 0) {
                    // The first round only warms the file system cache.
                    // The app logs to stdout too: the measurement is the last JSON object written.
                    const last = /\{"ms":[^}]*\}(?![\s\S]*\{"ms")/.exec(out)?.[0] ?? '{}';
                    samples[name]!.push((JSON.parse(last) as { ms: number }).ms);
                }
            }
        }
    } finally {
        await rm(isolated, { recursive: true, force: true });
    }
    const medianMs = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)]));
    const base = medianMs.baseline!;
    const ratio = Object.fromEntries(
        Object.entries(medianMs)
            .filter(([k]) => k !== 'baseline')
            .map(([k, v]) => [k, round(v / base, 2)]),
    );
    return { runs, medianMs, ratio };
}
