/**
 * Child process of part 1: the create handler's own cost per request, with a store whose container answers at once.
 * The handler is lib/http/pipeline's createHttpHandler around the real route table, called as the Functions host calls it,
 * with `@azure/functions`' HttpRequest and InvocationContext.
 *
 * Each mode runs in a process of its own, because calling the handler even once turns on the app's
 * AsyncLocalStorage hooks for the whole process, which slows every other measure in it (the floor by 30–40%):
 * - `floor` (the app is never loaded): the JSON baseline, JSON.parse + JSON.stringify of the body; and the
 *   body-read floor, reading that body out of a prebuilt HttpRequest (`arrayBuffer()`, a web stream, then strict
 *   UTF-8 and the JSON round trip), the least any handler on `@azure/functions` does with a body;
 * - `handler`: the handler with the HttpRequest built beforehand (the host builds it, not the app), and the same
 *   with HttpRequest and InvocationContext built in the timed loop.
 * Each measure is the median over batches of the CPU time per operation; the child prints them as JSON, in ns.
 *
 *   node dist/bench/handlerChild.js <appRoot> floor|handler
 */
import { pathToFileURL } from 'node:url';

import type { Container } from '@azure/cosmos';
import functions, { type HttpHandler } from '@azure/functions';

import { PAYLOAD } from './payload.js';
import { median } from './stats.js';

const { HttpRequest, InvocationContext } = functions;

const URL_OF_CREATE = 'http://localhost:7071/beta/officeConfiguration/clientConfigurations/cfg-1/assignments';

type Http = typeof import('../lib/http/pipeline.js');
type Routes = typeof import('../functions/routes.js');
type Store = typeof import('../lib/store/assignmentStore.js');

const newRequest = () =>
    new HttpRequest({
        method: 'POST',
        url: URL_OF_CREATE,
        body: { string: PAYLOAD },
        headers: { 'content-type': 'application/json' },
        params: { configurationId: 'cfg-1' },
    });

const newContext = () => new InvocationContext({ invocationId: 'bench', functionName: 'bench', logHandler: () => {} });

/** The app's create handler, loaded from `appRoot`'s build, over a container that resolves immediately. */
async function createHandler(appRoot: string): Promise<HttpHandler> {
    const load = async <T>(path: string) => (await import(pathToFileURL(`${appRoot}/${path}`).href)) as T;
    const { createHttpHandler } = await load<Http>('dist/lib/http/pipeline.js');
    const { routes } = await load<Routes>('dist/functions/routes.js');
    const { AssignmentStore } = await load<Store>('dist/lib/store/assignmentStore.js');
    // A create is one transactional batch: the assignment, the set document's patch and the create's change record
    // (lib/store/assignmentStore). The first create into a configuration reads its set document for the last change
    // number; the store counts on from there.
    const container = {
        item: (id: string, configurationId: string) => ({
            read: () =>
                Promise.resolve({
                    statusCode: 200,
                    requestCharge: 1,
                    activityId: '00000000-0000-0000-0000-000000000000',
                    resource: {
                        id,
                        configurationId,
                        total: 0,
                        revision: 0,
                        _etag: '"00000000-0000-0000-0000-000000000000"',
                    },
                }),
        }),
        items: {
            batch: (operations: { operationType: string; resourceBody?: Record<string, unknown> }[]) =>
                Promise.resolve({
                    code: 200,
                    headers: { 'x-ms-activity-id': '00000000-0000-0000-0000-000000000000' },
                    result: operations.map((operation) => ({
                        statusCode: operation.operationType === 'Create' ? 201 : 200,
                        requestCharge: 6.29,
                        resourceBody: { ...operation.resourceBody, _etag: '"00000000-0000-0000-0000-000000000000"' },
                    })),
                }),
        },
    } as unknown as Container;
    const store = new AssignmentStore(() => Promise.resolve(container));
    const route = routes.find((r) => r.template.endsWith('/assignments'))!;
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    return createHttpHandler(route, () => ({ store, clock: () => new Date(), logger: quiet }));
}

interface Measure {
    prepare: (n: number) => unknown[];
    run: (input: unknown) => unknown;
}

/**
 * Median CPU time per operation, in ns, of each measure: after a warm-up, rounds of one batch of each, so that whatever
 * else the machine does in the meantime falls on all of them alike. CPU time, not wall time: on a shared machine the
 * time a process waits for a core is not the code's cost (the garbage collector's threads are counted, as they are).
 */
async function timePerOp<K extends string>(
    measures: Record<K, Measure>,
    { rounds = 15, size = 1000, warmup = 4000 } = {},
): Promise<Record<K, number>> {
    const entries = Object.entries(measures) as [K, Measure][];
    for (const [, { prepare, run }] of entries) {
        for (const input of prepare(warmup)) {
            await run(input);
        }
    }
    const samples = Object.fromEntries(entries.map(([k]) => [k, [] as number[]])) as Record<K, number[]>;
    for (let round = 0; round < rounds; round += 1) {
        for (const [name, { prepare, run }] of entries) {
            const inputs = prepare(size);
            const started = process.cpuUsage();
            for (const input of inputs) {
                await run(input);
            }
            const used = process.cpuUsage(started);
            samples[name].push(((used.user + used.system) * 1000) / size);
        }
    }
    return Object.fromEntries(entries.map(([k]) => [k, median(samples[k])])) as Record<K, number>;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const none = (n: number) => new Array<undefined>(n).fill(undefined);
const requests = (n: number) => Array.from({ length: n }, newRequest);

async function floorMeasures(): Promise<Record<string, number>> {
    return await timePerOp({
        baseline: { prepare: none, run: () => JSON.stringify(JSON.parse(PAYLOAD)) },
        floor: {
            prepare: requests,
            run: async (request) => {
                const bytes = await (request as InstanceType<typeof HttpRequest>).arrayBuffer();
                return JSON.stringify(JSON.parse(UTF8.decode(bytes)));
            },
        },
    });
}

async function handlerMeasures(appRoot: string): Promise<Record<string, number>> {
    const handler = await createHandler(appRoot);
    const check = await handler(newRequest(), newContext());
    if (check.status !== 201) {
        throw new Error(`the stubbed create answered ${check.status}: ${JSON.stringify(check.body)}`);
    }
    const context = newContext();
    return await timePerOp({
        handler: {
            prepare: requests,
            run: (request) => handler(request as InstanceType<typeof HttpRequest>, context),
        },
        handlerWithRequest: { prepare: none, run: () => handler(newRequest(), newContext()) },
    });
}

const [appRoot = '.', mode = 'floor'] = process.argv.slice(2);
const measured = mode === 'handler' ? await handlerMeasures(appRoot) : await floorMeasures();
console.info(JSON.stringify(measured));
