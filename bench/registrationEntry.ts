/**
 * A second baseline of the cold import, for context: the two SDKs (as bench/baselineEntry) plus what any Function app
 * on them does at load, with the library alone: HTTP streaming set up and the app's routes registered (their names
 * and templates, read from the route table when the bench bundles this file and put in as `BENCH_ROUTES`), each with
 * a handler that does nothing. What the deployed bundle costs above this is the project's own code at load.
 */
import { app } from '@azure/functions';

export * as cosmos from '@azure/cosmos';
export * as functions from '@azure/functions';

declare const BENCH_ROUTES: { name: string; template: string }[];

app.setup({ enableHttpStream: true });
for (const route of BENCH_ROUTES) {
    app.http(route.name, {
        route: route.template,
        methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'],
        authLevel: 'anonymous',
        handler: () => Promise.resolve({ status: 204 }),
    });
}
