/**
 * `npm run bench`: the app's performance as ratios against baselines measured in the same run, plus the medians.
 * Targets are reported, not asserted: these machines are shared, and a timing is evidence, not a test.
 *
 *   npm run bench [-- --app <root of another build>] [--unbundled] [--out <file>] [--quick]
 *
 * `--app` measures another checkout's build (its dist/) with this bench: how the before and after of a change are
 * compared. `--unbundled` also zips what a deployment without the bundle would upload (slower).
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { type ColdImport, measureColdImport } from './coldImport.js';
import { type HandlerOverhead, measureHandlerOverhead } from './handlerOverhead.js';
import { measurePackageSize, type PackageSize } from './packageSize.js';
import { round } from './stats.js';
import { measureThroughput, type Throughput } from './throughput.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..', '..');

export const TARGETS = { handlerToBaseline: 2, throughputRatio: 0.8, coldImportRatio: 1.15 } as const;

interface Results {
    app: string;
    node: string;
    /** Timings on a shared machine mean little without what else ran: cores, and the load average before and after. */
    machine: { cpus: number; loadAverage: { before: number; after: number } };
    measuredAt: string;
    seconds: number;
    handler: HandlerOverhead;
    throughput?: Throughput;
    coldImport: ColdImport;
    packageSize: PackageSize;
    targets: typeof TARGETS;
}

const kib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(0)} KiB`);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

function table(results: Results): string {
    const { handler, throughput, coldImport, packageSize } = results;
    const rows: [string, string, string, string][] = [
        ['measure', 'value', 'baseline', 'target'],
        [
            '1. create handler, store stubbed (per request)',
            `${(handler.nsPerOp.handler / 1000).toFixed(1)} µs`,
            `JSON parse+stringify ${(handler.nsPerOp.baseline / 1000).toFixed(2)} µs → ${handler.ratio.handlerToBaseline}×`,
            `≤ ${TARGETS.handlerToBaseline}×: ${verdict(handler.ratio.handlerToBaseline <= TARGETS.handlerToBaseline)}`,
        ],
        [
            '   same, against the body-read floor',
            `${(handler.nsPerOp.handler / 1000).toFixed(1)} µs`,
            `HttpRequest.arrayBuffer()+JSON ${(handler.nsPerOp.floor / 1000).toFixed(1)} µs → ${handler.ratio.handlerToFloor}×`,
            '(context)',
        ],
        [
            '   same, HttpRequest built in the loop',
            `${(handler.nsPerOp.handlerWithRequest / 1000).toFixed(1)} µs`,
            `→ ${handler.ratio.handlerWithRequestToBaseline}× the JSON baseline`,
            '(context)',
        ],
    ];
    if (throughput) {
        rows.push([
            `2. HTTP creates/s, local host (c=${throughput.concurrency})`,
            `${throughput.createsPerSecond.http}/s`,
            `raw @azure/cosmos ${throughput.createsPerSecond.raw}/s → ${throughput.ratio}×`,
            `≥ ${TARGETS.throughputRatio}×: ${verdict(throughput.ratio >= TARGETS.throughputRatio)}`,
        ]);
        const cpu = throughput.cpuMicrosPerCreate;
        rows.push([
            '   CPU µs per create, by process',
            `app ${cpu.app ?? 'n/a'} + load ${cpu.httpClient} + cosmos ${cpu.cosmosWithHttp}`,
            `raw client ${cpu.rawClient} + cosmos ${cpu.cosmosWithRaw}`,
            '(context)',
        ]);
    }
    const base = coldImport.medianMs.baseline;
    const importRow = (label: string, key: string) => {
        const ms = coldImport.medianMs[key];
        const ratio = coldImport.ratio[key];
        if (ms !== undefined && ratio !== undefined) {
            rows.push([
                label,
                `${ms} ms`,
                `functions+cosmos ${base} ms → ${ratio}×`,
                `≤ ${TARGETS.coldImportRatio}×: ${verdict(ratio <= TARGETS.coldImportRatio)}`,
            ]);
        }
    };
    importRow('3. cold import, dist/, telemetry off', 'app');
    importRow('   dist/, telemetry on', 'appTelemetry');
    importRow('   bundle (deploy), telemetry off', 'bundle');
    importRow('   bundle (deploy), telemetry on', 'bundleTelemetry');
    rows.push(['4. deployment package, zipped', kib(packageSize.bundleZipBytes), 'dist/deploy.zip', 'reported']);
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
            unbundled: { type: 'boolean', default: false },
            quick: { type: 'boolean', default: false },
        },
    });
    const appRoot = resolve(values.app ?? repoRoot);
    const began = performance.now();
    const loadBefore = loadavg()[0]!;
    const step = (name: string) => console.info(`bench: ${name}…`);
    step('1/4 handler overhead');
    const handler = await measureHandlerOverhead(appRoot);
    step('2/4 HTTP creates against raw Cosmos creates');
    const throughput = await measureThroughput(appRoot, benchDir, values.quick ? { creates: 1000, trials: 1 } : {});
    step('3/4 cold import');
    const coldImport = await measureColdImport(appRoot, values.quick ? { runs: 3 } : {});
    step('4/4 package size');
    const packageSize = await measurePackageSize(appRoot, { unbundled: values.unbundled });
    const results: Results = {
        app: appRoot,
        node: process.version,
        machine: { cpus: cpus().length, loadAverage: { before: round(loadBefore), after: round(loadavg()[0]!) } },
        measuredAt: new Date().toISOString(),
        seconds: Math.round((performance.now() - began) / 1000),
        handler,
        throughput,
        coldImport,
        packageSize,
        targets: TARGETS,
    };
    const out = resolve(values.out ?? join(repoRoot, 'bench', 'results.json'));
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    const { machine } = results;
    console.info(
        `\n${table(results)}\n\n${results.seconds} s in all, ${machine.cpus} cores, load average ` +
            `${machine.loadAverage.before} before and ${machine.loadAverage.after} after; written to ${out}`,
    );
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
