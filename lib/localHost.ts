/**
 * A small stand-in for the Functions host, for machines without Azure Functions Core Tools: it serves the same route
 * table over node:http, turning each request into the `@azure/functions` HttpRequest the real host would pass and
 * writing back the handler's HttpResponseInit. The functions run unchanged.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import functions, { type HttpHandler, type HttpResponseInit } from '@azure/functions';

import { MAX_BODY_BYTES } from './body.js';
import { errorBody, GraphError } from './errors.js';
import { createHttpHandler, type Route } from './http.js';
import { ODATA_JSON } from './odata.js';
import { compileTemplate, isCatchAll, matchTemplate, pathSegments } from './routing.js';
import type { Logger, Services } from './services.js';

export interface LocalHostOptions {
    routes: readonly Route[];
    services: Services;
    port?: number;
    hostname?: string;
    /** PEM key and certificate: serve HTTPS instead of HTTP. */
    tls?: { key: string | Buffer; cert: string | Buffer };
    logger?: Logger;
}

export interface LocalHost {
    /** e.g. `http://127.0.0.1:7071` */
    origin: string;
    port: number;
    /** Stops accepting connections and resolves once every in-flight request has been answered. */
    close(): Promise<void>;
}

// The package is CommonJS built by a bundler: Node's ESM loader cannot see these two as named exports.
const { HttpRequest, InvocationContext } = functions;

interface Entry {
    route: Route;
    compiled: ReturnType<typeof compileTemplate>;
    handler: HttpHandler;
}

/**
 * Keeps at most one byte past the app's limit (enough for the function to see that the body is too large) and
 * reads the rest without keeping it: the client then gets the 413, where stopping mid-body would reset its
 * connection.
 */
async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
        if (size <= MAX_BODY_BYTES) {
            const buffer = chunk as Buffer;
            chunks.push(buffer);
            size += buffer.byteLength;
        }
    }
    return Buffer.concat(chunks);
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined) {
            headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
    }
    return headers;
}

function writeResponse(response: ServerResponse, init: HttpResponseInit): void {
    response.statusCode = init.status ?? 200;
    // The handlers give a plain record; its names keep their case on the wire, as the Functions host keeps them.
    for (const [name, value] of Object.entries((init.headers ?? {}) as Record<string, string>)) {
        response.setHeader(name, value);
    }
    response.end(typeof init.body === 'string' ? init.body : undefined);
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
    const logger = options.logger ?? options.services.logger;
    const entries: Entry[] = options.routes
        .map((route) => ({
            route,
            compiled: compileTemplate(route.template),
            handler: createHttpHandler(route, () => options.services),
        }))
        .sort((a, b) => Number(isCatchAll(a.compiled)) - Number(isCatchAll(b.compiled)));
    let inFlight = 0;
    let drained: (() => void) | undefined;

    const serve = async (request: IncomingMessage, response: ServerResponse, scheme: string) => {
        const url = new URL(request.url ?? '/', `${scheme}://${request.headers.host ?? 'localhost'}`);
        const segments = pathSegments(url.pathname);
        const entry = segments && entries.find((e) => matchTemplate(e.compiled, segments) !== undefined);
        if (!entry) {
            // Outside the route prefix the Functions host has nothing either; answer in Graph's shape all the same.
            const error = new GraphError(
                'ResourceNotFound',
                `Nothing is served at '${url.pathname}'; the API is under /beta.`,
            );
            const id = randomUUID();
            response.writeHead(error.status, { 'Content-Type': ODATA_JSON, 'request-id': id, 'client-request-id': id });
            response.end(JSON.stringify(errorBody(error, { requestId: id, clientRequestId: id }, new Date())));
            return;
        }
        const body = await readBody(request);
        const method = request.method ?? 'GET';
        const httpRequest = new HttpRequest({
            method,
            url: url.toString(),
            headers: flatHeaders(request),
            query: Object.fromEntries(url.searchParams),
            // Informative only: the functions read their parameters from the URL themselves (lib/routing).
            params: matchTemplate(entry.compiled, segments) ?? {},
            ...(body.byteLength > 0 ? { body: { bytes: body } } : {}),
        });
        const context = new InvocationContext({
            invocationId: randomUUID(),
            functionName: entry.route.name,
            logHandler: (level, ...args) => {
                const line = `[${entry.route.name}] ${args.map(String).join(' ')}`;
                if (level === 'error' || level === 'critical') {
                    logger.error(line);
                } else if (level === 'warning') {
                    logger.warn(line);
                }
            },
        });
        writeResponse(response, (await entry.handler(httpRequest, context)) as HttpResponseInit);
    };

    const scheme = options.tls ? 'https' : 'http';
    const listener = (request: IncomingMessage, response: ServerResponse) => {
        inFlight += 1;
        serve(request, response, scheme)
            .catch((error: unknown) => {
                logger.error(`local host: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
                if (!response.headersSent) {
                    response.statusCode = 500;
                }
                response.end();
            })
            .finally(() => {
                inFlight -= 1;
                if (inFlight === 0) {
                    drained?.();
                }
            });
    };
    const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
    server.listen(options.port ?? 0, options.hostname ?? '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const displayHost =
        options.hostname === undefined || options.hostname === '127.0.0.1' ? '127.0.0.1' : options.hostname;

    return {
        origin: `${scheme}://${displayHost}:${port}`,
        port,
        close: async () => {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            if (inFlight > 0) {
                await new Promise<void>((resolve) => (drained = resolve));
            }
            server.closeAllConnections();
            await closed;
        },
    };
}
