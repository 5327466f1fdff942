/**
 * Part 1: the create handler's own cost per request, in process, with a store whose container answers at once.
 * The handler is lib/http's createHttpHandler around the real route table, called as the Functions host calls it,
 * with `@azure/functions`' HttpRequest and InvocationContext.
 *
 * Measured, each as the median over batches of the time per operation:
 * - baseline: JSON.parse + JSON.stringify of the request body;
 * - floor: reading that body out of a prebuilt HttpRequest (`arrayBuffer()`, a web stream) and the JSON round trip,
 *   the least any handler on `@azure/functions` does with a body;
 * - handler: the handler with the HttpRequest built beforehand (the host builds it, not the app);
 * - handler + request: the same with HttpRequest and InvocationContext built in the timed loop.
 */
import { pathToFileURL } from 'node:url';

import type { Container } from '@azure/cosmos';
import functions, { type HttpHandler } from '@azure/functions';

import { median, round } from './stats.js';

const { HttpRequest, InvocationContext } = functions;

const URL_OF_CREATE = 'http://localhost:7071/beta/officeConfiguration/clientConfigurations/cfg-1/assignments';

export const PAYLOAD = JSON.stringify({
    '@odata.type': '#microsoft.graph.officeClientConfigurationAssignment',
    target: {
        '@odata.type': '#microsoft.graph.officeConfigurationGroupAssignmentTarget',
        groupId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    },
});

export interface HandlerOverhead {
    nsPerOp: { baseline: number; floor: number; handler: number; handlerWithRequest: number };
    ratio: { handlerToBaseline: number; handlerToFloor: number; handlerWithRequestToBaseline: number };
}

type Http = typeof import('../lib/http.js');
type Routes = typeof import('../functions/routes.js');
type Store = typeof import('../lib/store.js');

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
    const { createHttpHandler } = await load<Http>('dist/lib/http.js');
    const { routes } = await load<Routes>('dist/functions/routes.js');
    const { AssignmentStore } = await load<Store>('dist/lib/store.js');
    const container = {
        items: {
            create: (document: Record<string, unknown>) =>
                Promise.resolve({
                    resource: { ...document, _etag: '"00000000-0000-0000-0000-000000000000"' },
                    requestCharge: 6.29,
                    statusCode: 201,
                    activityId: '00000000-0000-0000-0000-000000000000',
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
 * Median time per operation, in ns, of each measure: after a warm-up, rounds of one batch of each, so that whatever
 * else the machine does in the meantime falls on all of them alike.
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
            const started = process.hrtime.bigint();
            for (const input of inputs) {
                await run(input);
            }
            samples[name].push(Number(process.hrtime.bigint() - started) / size);
        }
    }
    return Object.fromEntries(entries.map(([k]) => [k, median(samples[k])])) as Record<K, number>;
}

export async function measureHandlerOverhead(appRoot: string): Promise<HandlerOverhead> {
    const handler = await createHandler(appRoot);
    const check = await handler(newRequest(), newContext());
    if (check.status !== 201) {
        throw new Error(`the stubbed create answered ${check.status}: ${JSON.stringify(check.body)}`);
    }
    const none = (n: number) => new Array<undefined>(n).fill(undefined);
    const requests = (n: number) => Array.from({ length: n }, newRequest);
    const context = newContext();
    const { baseline, floor, handlerOnly, handlerWithRequest } = await timePerOp({
        baseline: { prepare: none, run: () => JSON.stringify(JSON.parse(PAYLOAD)) },
        floor: {
            prepare: requests,
            run: async (request) => {
                const bytes = await (request as InstanceType<typeof HttpRequest>).arrayBuffer();
                return JSON.stringify(JSON.parse(Buffer.from(bytes).toString('utf8')));
            },
        },
        handlerOnly: {
            prepare: requests,
            run: (request) => handler(request as InstanceType<typeof HttpRequest>, context),
        },
        handlerWithRequest: { prepare: none, run: () => handler(newRequest(), newContext()) },
    });
    return {
        nsPerOp: {
            baseline: round(baseline, 0),
            floor: round(floor, 0),
            handler: round(handlerOnly, 0),
            handlerWithRequest: round(handlerWithRequest, 0),
        },
        ratio: {
            handlerToBaseline: round(handlerOnly / baseline, 1),
            handlerToFloor: round(handlerOnly / floor, 2),
            handlerWithRequestToBaseline: round(handlerWithRequest / baseline, 1),
        },
    };
}
