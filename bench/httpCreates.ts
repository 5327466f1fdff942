/**
 * Child process of part 2: POSTs creates to the app with autocannon at a fixed concurrency, and prints
 * `{ creates, seconds, non201, cpuMs }` as JSON. A process of its own, so that the load generator shares no CPU time with
 * the Cosmos DB server, as the raw loop (rawCreates) does not either.
 *
 *   node dist/bench/httpCreates.js <assignments collection url> <count> <concurrency> <warmup>
 */
import autocannon from 'autocannon';

const [url = '', count = '3000', concurrency = '32', warmup = '300'] = process.argv.slice(2);

const BODY = JSON.stringify({
    '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
    target: { '@odata.type': 'microsoft.graph.officeConfigurationAssignmentTarget' },
});

async function run(amount: number, target: string): Promise<{ created: number; other: number; seconds: number }> {
    const began = performance.now();
    const result = await autocannon({
        url: target,
        connections: Number(concurrency),
        amount,
        timeout: 30,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
    });
    const seconds = (performance.now() - began) / 1000;
    const created = result['2xx'];
    return { created, other: result.non2xx + result.errors + result.timeouts, seconds };
}

await run(Number(warmup), url.replace('{id}', 'http-warmup'));
const cpu = process.cpuUsage();
const measured = await run(Number(count), url.replace('{id}', `http-${Date.now()}`));
const used = process.cpuUsage(cpu);
console.info(
    JSON.stringify({
        creates: measured.created,
        seconds: measured.seconds,
        non201: measured.other,
        cpuMs: (used.user + used.system) / 1000,
    }),
);
