/**
 * Child process of part 2: creates documents straight through `@azure/cosmos`, with the app's own client options
 * (lib/cosmosClient), at a fixed concurrency, and prints `{ creates, seconds, cpuMs }` as JSON.
 *
 *   node dist/bench/rawCreates.js <endpoint> <key> <count> <concurrency> <warmup>
 */
import { randomUUID } from 'node:crypto';

import { DEFAULT_COSMOS_CONTAINER, DEFAULT_COSMOS_DATABASE } from '../lib/config.js';
import { openContainer } from '../lib/cosmosClient.js';

const [endpoint = '', key = '', count = '3000', concurrency = '32', warmup = '300'] = process.argv.slice(2);

const opened = await openContainer({
    connection: { kind: 'key', endpoint, key },
    database: DEFAULT_COSMOS_DATABASE,
    container: DEFAULT_COSMOS_CONTAINER,
    requestTimeoutMs: 5000,
});

/** `total` creates spread over `concurrency` loops; resolves to the creates that succeeded. */
async function creates(total: number, configurationId: string): Promise<number> {
    let started = 0;
    let succeeded = 0;
    const loop = async () => {
        while (started < total) {
            started += 1;
            await opened.container.items.create({
                id: randomUUID(),
                configurationId,
                target: { '@odata.type': '#microsoft.graph.officeConfigurationAssignmentTarget' },
            });
            succeeded += 1;
        }
    };
    await Promise.all(Array.from({ length: Number(concurrency) }, loop));
    return succeeded;
}

await creates(Number(warmup), `raw-warmup-${randomUUID()}`);
const began = performance.now();
const cpu = process.cpuUsage();
const done = await creates(Number(count), `raw-${randomUUID()}`);
const seconds = (performance.now() - began) / 1000;
const used = process.cpuUsage(cpu);
await opened.dispose();
console.info(JSON.stringify({ creates: done, seconds, cpuMs: (used.user + used.system) / 1000 }));
