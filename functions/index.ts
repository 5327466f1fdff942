/**
 * Entry point of the Function app: registers every route of the table with the Functions host. Settings are read
 * here, at load, so a bad one stops the app with a message that names it. Nothing here connects or loads the
 * telemetry SDK: start-up is the first request's wait on a cold start (lib/platform/services opens Cosmos DB on first use;
 * lib/platform/telemetry loads Application Insights on a worker thread, afterwards).
 *
 * `authLevel` is anonymous on purpose: function keys are shared secrets with no identity or permissions, so the app
 * checks Entra ID bearer tokens itself (lib/platform/auth; docs/entra-id.md says why not App Service authentication).
 */
import { app } from '@azure/functions';

import { createHttpHandler, HTTP_METHODS } from '../lib/http/pipeline.js';
import { startScheduler } from '../lib/jobs/scheduler.js';
import { describeAuth, loadConfig } from '../lib/platform/config.js';
import { consoleLogger, createAppServices } from '../lib/platform/services.js';
import { routes } from './routes.js';
import { deliverySettings, localJobs, triggers } from './triggers.js';

// The host hands each request over as a stream, so the pipeline decides on the headers (token, method, type, declared
// length) before a byte of the body is read, and stops reading past its limit, as the local host does.
app.setup({ enableHttpStream: true });

const config = loadConfig();
const services = createAppServices(config, consoleLogger);
// In Azure auth is always on (lib/platform/config refuses otherwise); under `func start` this is the warning that it is off.
if (config.auth) {
    consoleLogger.info(describeAuth(config));
} else {
    consoleLogger.warn(describeAuth(config));
}

for (const route of routes) {
    app.http(route.name, {
        route: route.template,
        methods: [...HTTP_METHODS],
        authLevel: 'anonymous',
        // The pipeline hands each request's scope to the store: Cosmos DB dependencies carry its request-id.
        handler: createHttpHandler(route, () => services),
    });
}

if (config.hostStorage) {
    for (const trigger of triggers) {
        app.timer(trigger.name, {
            schedule: trigger.schedule(config),
            handler: async (_timer, context) => {
                const logger = {
                    info: (message: string) => context.log(message),
                    warn: (message: string) => context.warn(message),
                    error: (message: string) => context.error(message),
                };
                await trigger.run({ store: services.store, logger, delivery: deliverySettings(config) });
            },
        });
    }
} else {
    // `func start` without AzureWebJobsStorage cannot run timer triggers (the host keeps their locks in storage):
    // the jobs run in this worker instead, as under the local host. Never in Azure, where storage is always set.
    consoleLogger.warn(
        'AzureWebJobsStorage is not set: the timer jobs (the sweeper, notification delivery) run inside this ' +
            'worker. Set it (Azurite: ' +
            'UseDevelopmentStorage=true) to run them as timer triggers.',
    );
    startScheduler(localJobs(config, services.store, consoleLogger), consoleLogger);
}

if (services.telemetry) {
    // A scaled-in instance sends what the SDK still holds before it goes.
    const { telemetry } = services;
    app.hook.appTerminate(() => telemetry.flush());
}
