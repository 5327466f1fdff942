/**
 * Entry point of the Function app: registers every route of the table with the Functions host. Settings are read
 * here, at load, so a bad one stops the app with a message that names it.
 */
import { app } from '@azure/functions';

import { loadConfig } from '../lib/config.js';
import { createHttpHandler, HTTP_METHODS } from '../lib/http.js';
import { createAppServices } from '../lib/services.js';
import { routes } from './routes.js';

const services = createAppServices(loadConfig());

for (const route of routes) {
    app.http(route.name, {
        route: route.template,
        methods: [...HTTP_METHODS],
        authLevel: 'anonymous',
        handler: createHttpHandler(route, () => services),
    });
}
