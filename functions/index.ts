/**
 * Entry point of the Function app: registers every route of the table with the Functions host. Settings are read
 * here, at load, so a bad one stops the app with a message that names it.
 *
 * `authLevel` is anonymous on purpose: function keys are shared secrets with no identity or permissions, so the app
 * checks Entra ID bearer tokens itself (lib/auth; docs/entra-id.md says why not App Service authentication).
 */
import { app } from '@azure/functions';

import { describeAuth, loadConfig } from '../lib/config.js';
import { createHttpHandler, HTTP_METHODS } from '../lib/http.js';
import { consoleLogger, createAppServices } from '../lib/services.js';
import { routes } from './routes.js';

const config = loadConfig();
const services = createAppServices(config, consoleLogger);
// In Azure auth is always on (lib/config refuses otherwise); under `func start` this is the warning that it is off.
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
        handler: createHttpHandler(route, () => services),
    });
}
