/**
 * Part 3: how long a fresh process takes to import the Function app, against importing `@azure/functions` and
 * `@azure/cosmos` alone, with and without an Application Insights connection string. Like with like:
 * - the deployed bundle (dist/deploy) against a baseline bundle of the two SDKs built with the same esbuild options
 *   (bench/baselineEntry, scripts/package's BUNDLE_OPTIONS), each run from a folder with no node_modules above it;
 * - the unbundled app (dist/) against the two SDKs imported from node_modules.
 * Timed inside the child, from just before `import()` to just after it and one more turn of the event loop (which is
 * when lib/platform/telemetry starts its worker): Node's own boot, the same for all, is left out. Runs alternate between the
 * targets; the ratios are taken within each round (paired), and their median and spread count.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { build } from 'esbuild';

import { BUNDLE_OPTIONS } from '../scripts/package.js';
import { cleanEnv, median, round, runNode, type Spread, spread } from './stats.js';

export const DUMMY_CONNECTION_STRING =
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/';

export interface ColdImport {
    runs: number;
    medianMs: Record<string, number>;
    /**
     * Each of RATIOS (bundles against `baselineBundle`, the unbundled app against `baseline`, and the bundle against
     * `registrationBundle`): the median of the ratios taken within each round, and their spread.
     */
    ratio: Record<string, number>;
    ratioSpread: Record<string, Spread>;
    /** The spread of the times, ms. */
    spreadMs: Record<string, Spread>;
    /**
     * The same in CPU time of the importing process (all its threads): steadier than wall time on a shared machine,
     * for context; the target is on wall time, which is what a cold start waits.
     */
    medianCpuMs: Record<string, number>;
    ratioCpu: Record<string, number>;
    ratioCpuSpread: Record<string, Spread>;
}

/**
 * The paired ratios: each named by its target, or by what it compares, and taken as [target, baseline]. The last is
 * context: the bundle against the SDKs that also set up streaming and register the same routes.
 */
export const RATIOS: Record<string, [string, string]> = {
    app: ['app', 'baseline'],
    appTelemetry: ['appTelemetry', 'baseline'],
    bundle: ['bundle', 'baselineBundle'],
    bundleTelemetry: ['bundleTelemetry', 'baselineBundle'],
    bundleToRegistration: ['bundle', 'registrationBundle'],
};

const timed = (body: string) =>
    `const t0 = performance.now(); const c0 = process.cpuUsage(); ${body}; ` +
    `await new Promise((r) => setImmediate(() => setImmediate(r))); const c = process.cpuUsage(c0); ` +
    `process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 })); ` +
    `process.exit(0);`;

/**
 * The baseline bundle: `entry` (bench/baselineEntry, or bench/registrationEntry with the app's `routes`) bundled
 * exactly as the app is, into `outdir`/index.js.
 */
export async function buildBaselineBundle(
    entry: string,
    outdir: string,
    routes?: readonly { name: string; template: string }[],
): Promise<void> {
    await build({
        ...BUNDLE_OPTIONS,
        entryPoints: [{ in: entry, out: 'index' }],
        outdir,
        ...(routes
            ? { define: { BENCH_ROUTES: JSON.stringify(routes.map(({ name, template }) => ({ name, template }))) } }
            : {}),
    });
}

export async function measureColdImport(
    appRoot: string,
    benchDir: string,
    { runs = 15, progress }: { runs?: number; progress?: (line: string) => void } = {},
): Promise<ColdImport> {
    // The bundles run from a folder with no node_modules above it, as in Azure: they must need nothing outside.
    const isolated = await mkdtemp(join(tmpdir(), 'bench-deploy-'));
    let bundle: string | undefined;
    try {
        await cp(join(appRoot, 'dist', 'deploy'), join(isolated, 'app'), { recursive: true });
        bundle = join(isolated, 'app', 'index.js');
    } catch {
        bundle = undefined; // no `npm run package` output (an older build): the bundle rows are left out
    }
    try {
        await mkdir(join(isolated, 'baseline'));
        await buildBaselineBundle(join(benchDir, 'baselineEntry.js'), join(isolated, 'baseline'));
        const { routes } = (await import(
            pathToFileURL(join(appRoot, 'dist', 'functions', 'routes.js')).href
        )) as typeof import('../functions/routes.js');
        await mkdir(join(isolated, 'registration'));
        await buildBaselineBundle(join(benchDir, 'registrationEntry.js'), join(isolated, 'registration'), routes);
    } catch (error) {
        await rm(isolated, { recursive: true, force: true });
        throw error;
    }
    const baselineBundle = pathToFileURL(join(isolated, 'baseline', 'index.js')).href;
    const registrationBundle = pathToFileURL(join(isolated, 'registration', 'index.js')).href;
    const app = pathToFileURL(join(appRoot, 'dist', 'functions', 'index.js')).href;
    const withTelemetry = { APPLICATIONINSIGHTS_CONNECTION_STRING: DUMMY_CONNECTION_STRING };
    const targets: Record<string, { code: string; env: NodeJS.ProcessEnv }> = {
        baseline: { code: timed("await import('@azure/functions'); await import('@azure/cosmos')"), env: cleanEnv() },
        baselineBundle: { code: timed(`await import('${baselineBundle}')`), env: cleanEnv() },
        registrationBundle: { code: timed(`await import('${registrationBundle}')`), env: cleanEnv() },
        app: { code: timed(`await import('${app}')`), env: cleanEnv() },
        appTelemetry: { code: timed(`await import('${app}')`), env: cleanEnv(withTelemetry) },
    };
    if (bundle) {
        const url = pathToFileURL(bundle).href;
        targets.bundle = { code: timed(`await import('${url}')`), env: cleanEnv() };
        targets.bundleTelemetry = { code: timed(`await import('${url}')`), env: cleanEnv(withTelemetry) };
    }
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    const cpuSamples: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
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
                    const { ms, cpuMs } = JSON.parse(last) as { ms: number; cpuMs: number };
                    samples[name]!.push(ms);
                    cpuSamples[name]!.push(cpuMs);
                }
            }
            if (run > 0 && (run % 5 === 0 || run === runs)) {
                progress?.(`run ${run}/${runs}`);
            }
        }
    } finally {
        await rm(isolated, { recursive: true, force: true });
    }
    const medians = (of: Record<string, number[]>) =>
        Object.fromEntries(Object.entries(of).map(([k, v]) => [k, round(median(v), 1)]));
    // Paired: each round imports every target once, close in time; the ratio is taken within the round.
    const paired = (of: Record<string, number[]>) =>
        Object.fromEntries(
            Object.entries(RATIOS)
                .filter(([, [target]]) => of[target] !== undefined)
                .map(([name, [target, base]]) => [name, spread(of[target]!.map((v, i) => v / of[base]![i]!))]),
        );
    const ratioSpread = paired(samples);
    const ratioCpuSpread = paired(cpuSamples);
    const medianOf = (of: Record<string, Spread>) =>
        Object.fromEntries(Object.entries(of).map(([k, v]) => [k, v.median]));
    return {
        runs,
        medianMs: medians(samples),
        ratio: medianOf(ratioSpread),
        ratioSpread,
        spreadMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, spread(v, 1)])),
        medianCpuMs: medians(cpuSamples),
        ratioCpu: medianOf(ratioCpuSpread),
        ratioCpuSpread,
    };
}
