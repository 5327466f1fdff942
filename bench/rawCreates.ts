/**
 * Worker process of the create measurements: creates documents straight through `@azure/cosmos`, with the app's own
 * client options (lib/store/cosmosClient), at a fixed concurrency. Like the app, it is one process kept for the whole run
 * and warmed with as many creates as the app, so both sides are measured equally warm. Each create is the
 * transactional batch the app's store sends (the document with a fresh GUID, the patch of its configuration's set
 * document on condition of the partition's last change number, and the create's change record, numbered:
 * lib/store/assignmentStore `createBatchOperations` and `createRecord`), into a configuration bench/creates made.
 * As in the app, the loops' creates into one configuration go one after another in this process, each taking the
 * next number (bench/changeNumbers): one batch in flight per configuration, as the app sends them.
 *
 *   forked by bench/creates.ts with <endpoint> <key>; messages: { amount, concurrency, configurationId } → RawResult
 */
import { randomUUID } from 'node:crypto';

import { DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../lib/platform/config.js';
import { openContainer } from '../lib/store/cosmosClient.js';
import { changeNumbers, numberedCreate } from './changeNumbers.js';
import { PAYLOAD_TARGET } from './payload.js';
import { cpuMsOf, serveWorker } from './processes.js';

export interface RawRequest {
    amount: number;
    concurrency: number;
    configurationId: string;
}

export interface RawResult {
    created: number;
    other: number;
    otherKinds: Record<string, number>;
    seconds: number;
    cpuMs: number;
}

const [endpoint = '', key = ''] = process.argv.slice(2);

const opened = await openContainer({
    connection: { kind: 'key', endpoint, key },
    database: DEFAULT_COSMOS_DATABASE,
    container: DEFAULT_COSMOS_CONTAINER,
    requestTimeoutMs: 5000,
});
const numbered = changeNumbers(opened.container);

serveWorker<RawRequest, RawResult>(async ({ amount, concurrency, configurationId }) => {
    let started = 0;
    let created = 0;
    let other = 0;
    const otherKinds: Record<string, number> = {};
    const loop = async () => {
        while (started < amount) {
            started += 1;
            try {
                const assignment = { id: randomUUID(), target: PAYLOAD_TARGET };
                await numberedCreate(opened.container, numbered, configurationId, assignment, randomUUID());
                created += 1;
            } catch (error) {
                other += 1;
                const code = (error as { code?: unknown }).code;
                const kind = `error ${typeof code === 'number' || typeof code === 'string' ? code : 'unknown'}`;
                otherKinds[kind] = (otherKinds[kind] ?? 0) + 1;
            }
        }
    };
    const cpu = process.cpuUsage();
    const began = performance.now();
    await Promise.all(Array.from({ length: Math.min(concurrency, amount) }, loop));
    const seconds = (performance.now() - began) / 1000;
    return { created, other, otherKinds, seconds, cpuMs: cpuMsOf(process.cpuUsage(cpu)) };
});
