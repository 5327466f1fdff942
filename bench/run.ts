/**
 * `npm run bench`: the app's performance as ratios against baselines measured in the same run, with their spread.
 * Targets are reported ("met"/"not met"), not asserted: these machines are shared, and a timing is evidence, not a
 * test. The headline is CPU time per create against the library floor (bench/creates); wall rates are context.
 *
 *   npm run bench [-- --app <root of another build>] [--trials 7] [--creates 8000] [--warmup 4000]
 *                 [--concurrency 32] [--import-runs 15] [--handler-pairs 5] [--unbundled] [--out <file>] [--quick]
 *                 [--only store-costs]
 *
 * `--app` measures another checkout's build (its dist/) with this bench: how the before and after of a change are
 * compared. `--unbundled` also zips what a deployment without the bundle would upload (slower). `--quick` is a smoke
 * run (few trials, small counts): its figures are not worth reading. `--only store-costs` runs the last step alone:
 * request units and store calls per operation, and create latency, at 3 instances on the Azure-like Cosmos DB; and
 * the change log's price, every write kind without the log and with it, same simulator, same run (bench/storeCosts).
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { MAX_ASSIGNMENTS_PER_CONFIGURATION } from '../lib/store/assignmentStore.js';
import { describeBatch, measureBatch } from './batch.js';
import { type ColdImport, measureColdImport } from './coldImport.js';
import { type Creates, measureCreates } from './creates.js';
import { type HandlerOverhead, measureHandlerOverhead } from './handlerOverhead.js';
import { measurePackageSize, type PackageSize } from './packageSize.js';
import { round, showRatio, type Spread } from './stats.js';
import { describeStoreCosts, measureStoreCosts } from './storeCosts.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..', '..');

/** The targets of issue 14; a ratio is "met" when its median is on the right side. */
export const TARGETS = {
    appToFloorCpu: { max: 1.1, what: 'app CPU per create ÷ library floor CPU per create' },
    telemetryToAppCpu: { max: 1.05, what: 'app with telemetry on ÷ app with telemetry off, CPU per create' },
    handlerToFloor: { max: 1.5, what: 'create handler (store stubbed) ÷ body-read floor, clean processes' },
    bundleToBaselineBundle: { max: 1.1, what: 'cold import, deployed bundle ÷ baseline bundle of the two SDKs' },
    appToRawRate: { min: 0.5, what: 'app rate ÷ raw SDK rate, both warm, load generator counted apart' },
} as const;

type TargetName = keyof typeof TARGETS;

interface Verdict {
    median: number;
    spread?: Spread;
    target: string;
    met: boolean;
}

interface Results {
    app: string;
    node: string;
    /** Timings on a shared machine mean little without what else ran: cores, and the load average before and after. */
    machine: { cpus: number; loadAverage: { before: number; after: number } };
    measuredAt: string;
    seconds: number;
    targets: typeof TARGETS;
    verdicts: Partial<Record<TargetName, Verdict>>;
    handler: HandlerOverhead;
    creates: Creates;
    coldImport: ColdImport;
    packageSize: PackageSize;
}

function verdictOf(name: TargetName, value: Spread | number): Verdict {
    const target = TARGETS[name];
    const median = typeof value === 'number' ? value : value.median;
    const bound = 'max' in target ? `≤ ${target.max}×` : `≥ ${target.min}×`;
    const met = 'max' in target ? median <= target.max : median >= target.min;
    return { median, ...(typeof value === 'number' ? {} : { spread: value }), target: bound, met };
}

const kib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(0)} KiB`);
const µs = (value: number) => `${Math.round(value)} µs`;

function table(results: Results): string {
    const { handler, creates, coldImport, packageSize, verdicts } = results;
    const verdict = (name: TargetName) => {
        const v = verdicts[name];
        return v ? `${v.target}: ${v.met ? 'met' : 'not met'}` : 'n/a';
    };
    const side = creates.sides;
    const rows: [string, string, string, string][] = [
        ['measure', 'value', 'ratio (median, spread over trials)', 'target'],
        [
            '1. app CPU per create (server process)',
            `${µs(side.app.serverCpuMicros.median)} vs floor ${µs(side.floor.serverCpuMicros.median)}`,
            showRatio(creates.ratios.appToFloorCpu),
            verdict('appToFloorCpu'),
        ],
        [
            '2. app CPU per create, telemetry on (sampled)',
            `${µs(side.appTelemetry.serverCpuMicros.median)} vs off ${µs(side.app.serverCpuMicros.median)}`,
            showRatio(creates.ratios.telemetryToAppCpu),
            verdict('telemetryToAppCpu'),
        ],
        [
            '3. create handler, store stubbed',
            `${(handler.nsPerOp.handler / 1000).toFixed(1)} µs vs body-read ${(handler.nsPerOp.floor / 1000).toFixed(1)} µs`,
            showRatio(handler.ratio.handlerToFloor),
            verdict('handlerToFloor'),
        ],
        [
            '4. cold import, deployed bundle',
            `${coldImport.medianMs.bundle ?? 'n/a'} ms vs SDKs bundled ${coldImport.medianMs.baselineBundle} ms`,
            coldImport.ratioSpread.bundle ? showRatio(coldImport.ratioSpread.bundle) : 'n/a',
            verdict('bundleToBaselineBundle'),
        ],
        [
            '5. app rate vs raw SDK (CPU of app+store)',
            `${µs(side.app.serverCpuMicros.median + side.app.storeCpuMicros.median)} vs ` +
                `${µs(side.raw.serverCpuMicros.median + side.raw.storeCpuMicros.median)} per create`,
            showRatio(creates.ratios.appToRawRate),
            verdict('appToRawRate'),
        ],
        ['context', '', '', ''],
        [
            '   telemetry on, every call recorded',
            `${µs(side.appTelemetryAll.serverCpuMicros.median)} vs off ${µs(side.app.serverCpuMicros.median)}`,
            showRatio(creates.ratios.telemetryAllToAppCpu),
            'reported',
        ],
        [
            '   wall rate, creates/s (c=' + creates.concurrency + ')',
            `app ${side.app.createsPerSecond.median} · telemetry ${side.appTelemetry.createsPerSecond.median} · ` +
                `every call ${side.appTelemetryAll.createsPerSecond.median} · ` +
                `floor ${side.floor.createsPerSecond.median} · raw ${side.raw.createsPerSecond.median}`,
            `app/raw ${showRatio(creates.ratios.appToRawWallRate)}`,
            'reported',
        ],
        [
            '   store CPU µs per create',
            `app ${side.app.storeCpuMicros.median} · telemetry ${side.appTelemetry.storeCpuMicros.median} · ` +
                `every call ${side.appTelemetryAll.storeCpuMicros.median} · ` +
                `floor ${side.floor.storeCpuMicros.median} · raw ${side.raw.storeCpuMicros.median}`,
            '',
            'reported',
        ],
        [
            '   load generator CPU µs per create',
            `app ${side.app.loadGeneratorCpuMicros?.median} · telemetry ${side.appTelemetry.loadGeneratorCpuMicros?.median}` +
                ` · every call ${side.appTelemetryAll.loadGeneratorCpuMicros?.median}` +
                ` · floor ${side.floor.loadGeneratorCpuMicros?.median}`,
            '',
            'reported',
        ],
        [
            '   telemetry exported, sampled',
            `${creates.telemetry.sampled.dependencies} dependencies for ${Math.round(creates.telemetry.sampled.dependenciesRepresented)} calls`,
            `${creates.telemetry.sampled.items} items in ${creates.telemetry.sampled.posts} posts`,
            'reported',
        ],
        [
            '   telemetry exported, every call',
            `${creates.telemetry.all.dependencies} dependencies for ${Math.round(creates.telemetry.all.dependenciesRepresented)} calls`,
            `${creates.telemetry.all.items} items in ${creates.telemetry.all.posts} posts`,
            'reported',
        ],
        [
            '   telemetry SDK alone, per dependency',
            `${creates.telemetrySdkMicros.median} µs (${creates.telemetrySdkMicros.min}–${creates.telemetrySdkMicros.max})`,
            `${round(1 + creates.telemetrySdkMicros.median / side.app.serverCpuMicros.median)}× the app's create: the least "every call" can be`,
            'reported',
        ],
        [
            '   handler with HttpRequest built in the loop',
            `${(handler.nsPerOp.handlerWithRequest / 1000).toFixed(1)} µs`,
            `${showRatio(handler.ratio.handlerWithRequestToFloor)} the body-read floor`,
            'reported',
        ],
        [
            '   handler vs JSON parse+stringify',
            `JSON ${(handler.nsPerOp.baseline / 1000).toFixed(2)} µs`,
            showRatio(handler.ratio.handlerToBaseline),
            'reported',
        ],
        [
            '   cold import, deployed bundle, CPU time',
            `${coldImport.medianCpuMs.bundle ?? 'n/a'} ms vs SDKs bundled ${coldImport.medianCpuMs.baselineBundle} ms`,
            coldImport.ratioCpuSpread.bundle ? showRatio(coldImport.ratioCpuSpread.bundle) : 'n/a',
            'reported',
        ],
        [
            '   cold import, SDKs + streaming + routes registered',
            `${coldImport.medianMs.bundle ?? 'n/a'} ms vs ${coldImport.medianMs.registrationBundle} ms`,
            coldImport.ratioSpread.bundleToRegistration
                ? `${showRatio(coldImport.ratioSpread.bundleToRegistration)}: the app's own code at load`
                : 'n/a',
            'reported',
        ],
        [
            '   cold import, deployed bundle, telemetry on',
            `${coldImport.medianMs.bundleTelemetry ?? 'n/a'} ms`,
            `${coldImport.ratio.bundleTelemetry ?? 'n/a'}× the SDKs bundled`,
            'reported',
        ],
        [
            '   cold import, unbundled dist/ (off · on)',
            `${coldImport.medianMs.app} · ${coldImport.medianMs.appTelemetry} ms vs SDKs ${coldImport.medianMs.baseline} ms`,
            `${coldImport.ratio.app}× · ${coldImport.ratio.appTelemetry}×`,
            'reported',
        ],
        ['   deployment package, zipped', kib(packageSize.bundleZipBytes), 'dist/deploy.zip', 'reported'],
    ];
    if (packageSize.unbundledZipBytes !== undefined) {
        rows.push([
            '   without the bundle',
            kib(packageSize.unbundledZipBytes),
            'dist + prod node_modules',
            'reported',
        ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows
        .map((r) =>
            r
                .map((cell, i) => cell.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
        )
        .join('\n');
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            app: { type: 'string' },
            out: { type: 'string' },
            trials: { type: 'string' },
            creates: { type: 'string' },
            warmup: { type: 'string' },
            concurrency: { type: 'string', default: '32' },
            'import-runs': { type: 'string' },
            'handler-pairs': { type: 'string' },
            unbundled: { type: 'boolean', default: false },
            quick: { type: 'boolean', default: false },
            only: { type: 'string' },
        },
    });
    const quick = values.quick;
    const number = (value: string | undefined, normal: number, small: number) =>
        value !== undefined ? Number(value) : quick ? small : normal;
    const appRoot = resolve(values.app ?? repoRoot);
    if (values.only !== undefined && values.only !== 'store-costs') {
        throw new Error(`--only takes store-costs, not ${values.only}`);
    }
    const began = performance.now();
    if (values.only === 'store-costs') {
        const storeCosts = await measureStoreCosts(appRoot, {
            samples: number(undefined, 15, 3),
            creates: number(undefined, 2000, 200),
            progress: (line) => console.info(`bench: ${line}`),
        });
        const out = resolve(values.out ?? join(repoRoot, 'bench', 'store-costs.json'));
        await writeFile(out, `${JSON.stringify(storeCosts, null, 2)}\n`);
        console.info(`\n${describeStoreCosts(storeCosts)}\n\nwritten to ${out}`);
        return;
    }
    const loadBefore = loadavg()[0]!;
    const elapsed = () => `${Math.round((performance.now() - began) / 1000)} s`;
    const step = (name: string) => console.info(`bench [${elapsed()}]: ${name}…`);
    const progress = (line: string) => console.info(`bench [${elapsed()}]:   ${line}`);

    step('1/4 create handler against the body-read floor, each in clean processes');
    const handler = await measureHandlerOverhead(appRoot, benchDir, {
        pairs: number(values['handler-pairs'], 9, 2),
        progress,
    });
    step('2/4 CPU per create: app, app with telemetry (sampled, every call), library floor, raw SDK (paired trials)');
    const creates = await measureCreates(appRoot, benchDir, {
        concurrency: Number(values.concurrency),
        trials: number(values.trials, 9, 2),
        // Long enough that a trial spans seconds of CPU, not a few of the 10 ms ticks /proc counts in.
        // Each run of a side creates into a configuration of its own, which holds at most 10,000 assignments.
        creates: Math.min(number(values.creates, 8000, 300), MAX_ASSIGNMENTS_PER_CONFIGURATION),
        warmup: Math.min(number(values.warmup, 4000, 300), MAX_ASSIGNMENTS_PER_CONFIGURATION),
        progress,
    });
    step('3/4 cold import');
    const coldImport = await measureColdImport(appRoot, benchDir, {
        runs: number(values['import-runs'], 15, 3),
        progress,
    });
    step('4/4 package size');
    const packageSize = await measurePackageSize(appRoot, { unbundled: values.unbundled });

    const verdicts: Results['verdicts'] = {
        appToFloorCpu: verdictOf('appToFloorCpu', creates.ratios.appToFloorCpu),
        telemetryToAppCpu: verdictOf('telemetryToAppCpu', creates.ratios.telemetryToAppCpu),
        handlerToFloor: verdictOf('handlerToFloor', handler.ratio.handlerToFloor),
        ...(coldImport.ratio.bundle !== undefined
            ? { bundleToBaselineBundle: verdictOf('bundleToBaselineBundle', coldImport.ratioSpread.bundle!) }
            : {}),
        appToRawRate: verdictOf('appToRawRate', creates.ratios.appToRawRate),
    };
    const results: Results = {
        app: appRoot,
        node: process.version,
        machine: { cpus: cpus().length, loadAverage: { before: round(loadBefore), after: round(loadavg()[0]!) } },
        measuredAt: new Date().toISOString(),
        seconds: Math.round((performance.now() - began) / 1000),
        targets: TARGETS,
        verdicts,
        handler,
        creates,
        coldImport,
        packageSize,
    };
    const out = resolve(values.out ?? join(repoRoot, 'bench', 'results.json'));
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    const { machine } = results;
    const warnings = [
        ...Object.entries(creates.failures).map(
            ([side, kinds]) =>
                `${side}: creates failed during the trials (${JSON.stringify(kinds)}).` +
                (creates.failureLog[side as keyof typeof creates.failureLog] ?? []).map((l) => `\n  ${l}`).join(''),
        ),
        ...Object.entries(creates.telemetry)
            .filter(([, counts]) => counts.dependencies === 0)
            .map(([sink]) => `the ${sink} telemetry sink received no dependency: that side may not have exported.`),
    ];
    console.info(
        `\n${table(results)}\n\n` +
            warnings.map((w) => `WARNING: ${w}\n`).join('') +
            `${results.seconds} s in all, ${machine.cpus} cores, load average ${machine.loadAverage.before} before and ` +
            `${machine.loadAverage.after} after (a shared machine: read the spreads); written to ${out}`,
    );
    // JSON batching (issue 17): reported apart from the targets above, and added to the results file.
    step('JSON batching: 20 creates as one $batch vs 20 single requests');
    const batch = await measureBatch(appRoot, {
        rounds: number(undefined, 15, 3),
        warmup: number(undefined, 3, 1),
        progress,
    });
    await writeFile(out, `${JSON.stringify({ ...results, batch }, null, 2)}\n`);
    console.info(`\n${describeBatch(batch)}`);
    // Scale-out (issue 22): request units per operation and create latency, 3 instances on Azure-like Cosmos DB.
    step(
        'store costs per operation, and create latency at 3 instances, on simulated Azure Cosmos DB; ' +
            'each write without the change log and with it',
    );
    const storeCosts = await measureStoreCosts(appRoot, {
        samples: number(undefined, 15, 3),
        creates: number(undefined, 2000, 200),
        progress,
    });
    await writeFile(out, `${JSON.stringify({ ...results, batch, storeCosts }, null, 2)}\n`);
    console.info(`\n${describeStoreCosts(storeCosts)}`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
