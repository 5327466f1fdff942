/**
 * Part 2: creates per second through the app over HTTP (the local host, in its own process, reaching Cosmos DB over
 * loopback HTTP as in `npm run load`) against creates per second of a raw `@azure/cosmos` loop in a process of its
 * own, both against the same embedded Cosmos DB server in this process, at the same concurrency. Trials alternate
 * between the two; each side's median counts.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { startEmbeddedCosmos } from '../lib/embeddedCosmos.js';
import { startAppProcess } from '../scripts/appProcess.js';
import { cleanEnv, median, round, runNode } from './stats.js';

export interface Throughput {
    concurrency: number;
    createsPerTrial: number;
    trials: number;
    createsPerSecond: { http: number; raw: number };
    ratio: number;
    non201: number;
    /**
     * CPU time per create of each process (medians over trials; warm-up creates included for the server and the
     * app): the machine's cores, not the server, set the rate once three processes share two.
     */
    cpuMicrosPerCreate: {
        rawClient: number;
        cosmosWithRaw: number;
        httpClient: number;
        app?: number;
        cosmosWithHttp: number;
    };
}

/** CPU time a process has used, in ms, from /proc (Linux); undefined elsewhere. */
async function processCpuMs(pid: number | undefined): Promise<number | undefined> {
    try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in ticks.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    } catch {
        return undefined;
    }
}

/** USER_HZ: 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

const cpuOf = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

interface ChildResult {
    creates: number;
    seconds: number;
    cpuMs: number;
}

export async function measureThroughput(
    appRoot: string,
    benchDir: string,
    { concurrency = 32, creates = 2500, trials = 5, warmup = 300 } = {},
): Promise<Throughput> {
    const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    const app = await startAppProcess(appRoot, cleanEnv({ COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key }));
    const collection = `${app.origin}/beta/officeConfiguration/clientConfigurations/{id}/assignments`;
    const raw: number[] = [];
    const http: number[] = [];
    const cpu = {
        rawClient: [] as number[],
        cosmosWithRaw: [] as number[],
        httpClient: [] as number[],
        app: [] as number[],
        cosmosWithHttp: [] as number[],
    };
    const perCreate = (ms: number, n: number) => (ms * 1000) / n;
    let non201 = 0;
    try {
        for (let trial = 0; trial < trials; trial += 1) {
            const sides = [
                async () => {
                    const server = process.cpuUsage();
                    const out = await runNode(
                        [
                            join(benchDir, 'rawCreates.js'),
                            cosmos.endpoint,
                            cosmos.key,
                            String(creates),
                            String(concurrency),
                            String(warmup),
                        ],
                        { cwd: appRoot, env: cleanEnv() },
                    );
                    cpu.cosmosWithRaw.push(perCreate(cpuOf(process.cpuUsage(server)), creates + warmup));
                    const result = JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
                    raw.push(result.creates / result.seconds);
                    cpu.rawClient.push(perCreate(result.cpuMs, result.creates));
                },
                async () => {
                    const server = process.cpuUsage();
                    const appBefore = await processCpuMs(app.child.pid);
                    const out = await runNode(
                        [
                            join(benchDir, 'httpCreates.js'),
                            collection,
                            String(creates),
                            String(concurrency),
                            String(warmup),
                        ],
                        { cwd: appRoot, env: cleanEnv() },
                    );
                    cpu.cosmosWithHttp.push(perCreate(cpuOf(process.cpuUsage(server)), creates + warmup));
                    const appAfter = await processCpuMs(app.child.pid);
                    if (appBefore !== undefined && appAfter !== undefined) {
                        cpu.app.push(perCreate(appAfter - appBefore, creates + warmup));
                    }
                    const result = JSON.parse(out.trim().split('\n').pop()!) as ChildResult & { non201: number };
                    http.push(result.creates / result.seconds);
                    cpu.httpClient.push(perCreate(result.cpuMs, result.creates));
                    non201 += result.non201;
                },
            ];
            // Alternate which side goes first: neither always meets a fuller (or a warmer) server.
            for (const side of trial % 2 === 0 ? sides : [...sides].reverse()) {
                await side();
            }
        }
    } finally {
        app.child.kill('SIGTERM');
        await once(app.child, 'exit');
        await cosmos.close();
    }
    const httpRate = median(http);
    const rawRate = median(raw);
    return {
        concurrency,
        createsPerTrial: creates,
        trials,
        createsPerSecond: { http: round(httpRate, 0), raw: round(rawRate, 0) },
        ratio: round(httpRate / rawRate, 2),
        non201,
        cpuMicrosPerCreate: {
            rawClient: round(median(cpu.rawClient), 0),
            cosmosWithRaw: round(median(cpu.cosmosWithRaw), 0),
            httpClient: round(median(cpu.httpClient), 0),
            ...(cpu.app.length > 0 ? { app: round(median(cpu.app), 0) } : {}),
            cosmosWithHttp: round(median(cpu.cosmosWithHttp), 0),
        },
    };
}
