/**
 * A small stand-in for the Functions host, for machines without Azure Functions Core Tools: it serves the same route
 * table over node:http, turning each request into the `@azure/functions` HttpRequest the real host would pass and
 * writing back the handler's HttpResponseInit. The functions run unchanged.
 *
 * The body reaches the function as a stream no one has pulled: the pipeline decides everything the headers allow
 * (route, token, method, media type, declared length) before a byte of it is read, and reads no more than the limit.
 * A request answered before its body was read in full gets `Connection: close`, and the rest is never read.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import https from 'node:https';
import { type AddressInfo, isIP, type Socket } from 'node:net';
import { ReadableStream } from 'node:stream/web';

import functions, { type HttpRequestInit, type HttpResponseInit } from '@azure/functions';

import { badRequest, errorBody, GraphError } from '../graph/errors.js';
import { ODATA_JSON } from '../graph/odata.js';
import type { Logger, Services } from '../platform/services.js';
import { MAX_BODY_BYTES } from './body.js';
import { createHttpHandler, type Route, type RouteHandler } from './pipeline.js';
import { firstMatch, pathSegments, type RankedRoute, rankRoutes } from './routing.js';

/** How long a client may take over each part of a request (lib/platform/config: HEADERS_TIMEOUT_SECONDS, ...). */
export interface HostTimeouts {
    /** From the first byte of a request to the end of its headers. */
    headersMs: number;
    /** Between two pieces of the body, while the function waits for it. */
    bodyIdleMs: number;
    /** From the first byte of a request to the last byte of its body. */
    requestMs: number;
}

export const DEFAULT_HOST_TIMEOUTS: HostTimeouts = { headersMs: 10_000, bodyIdleMs: 10_000, requestMs: 30_000 };

export interface LocalHostOptions {
    routes: readonly Route[];
    services: Services;
    port?: number;
    /** The address to listen on; loopback (127.0.0.1) unless asked otherwise. */
    hostname?: string;
    /** PEM key and certificate: serve HTTPS instead of HTTP. */
    tls?: { key: string | Buffer; cert: string | Buffer };
    logger?: Logger;
    timeouts?: Partial<HostTimeouts>;
}

export interface LocalHost {
    /** e.g. `http://127.0.0.1:7071`: the address it listens on, as a client reaches it. */
    origin: string;
    port: number;
    /** Every byte read from clients' connections so far, headers included. */
    bytesRead(): number;
    /** Stops accepting connections and resolves once every in-flight request has been answered. */
    close(): Promise<void>;
}

// The package is CommonJS built by a bundler: Node's ESM loader cannot see these two as named exports.
const { HttpRequest, InvocationContext } = functions;

/**
 * After answering a request whose body was not read, the server closes its side and discards what still arrives, for
 * a moment and a few bytes at most: closing at once, with the client's bytes unread, would reset the connection
 * and could take the answer with it.
 */
const LINGER_MS = 2000;
const LINGER_BYTES = 4 * MAX_BODY_BYTES;

interface Entry extends RankedRoute<Route> {
    handler: RouteHandler;
}

/**
 * `host` or `host:port`, where host is a DNS name or IPv4 address, or a bracketed IPv6 address. No nested
 * quantifiers and no overlap between the parts: linear in the header's length. The URL parser has the last word.
 */
const HOST = /^(?:[a-z0-9_.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/i;

/** The Host header, when it has the shape of `host[:port]`; the URL parser has the last word (validHost). */
function hostShaped(value: string | undefined): value is string {
    if (value === undefined || value.length > 261) {
        return false;
    }
    const match = HOST.exec(value);
    return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

/** The Host header, when it names a host a URL can be built on; never anything else. */
export function validHost(value: string | undefined): string | undefined {
    return hostShaped(value) && URL.canParse(`http://${value}/`) ? value : undefined;
}

/**
 * The path and query of the request target, whatever its form: generated links take their origin from the Host
 * header (or PUBLIC_ORIGIN), never from the target. `//evil.example/x` is a path; `http://evil.example/x` gives `/x`.
 */
function pathAndQuery(target: string): string | undefined {
    if (target.startsWith('/')) {
        return target;
    }
    if (/^https?:\/\//i.test(target) && URL.canParse(target)) {
        const url = new URL(target);
        return `${url.pathname}${url.search}`;
    }
    return undefined;
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

function graphErrorText(error: GraphError): { id: string; text: string } {
    const id = randomUUID();
    return { id, text: JSON.stringify(errorBody(error, { requestId: id, clientRequestId: id }, new Date())) };
}

function graphErrorHeaders(error: GraphError, id: string): Record<string, string> {
    return {
        ...error.headers,
        'Content-Type': ODATA_JSON,
        'request-id': id,
        'client-request-id': id,
        'OData-Version': '4.0',
        'X-Content-Type-Options': 'nosniff',
    };
}

/** An error the host itself answers (nothing the functions could see: bad Host, a timeout, malformed HTTP). */
function writeGraphError(response: ServerResponse, error: GraphError, close: boolean): void {
    const { id, text } = graphErrorText(error);
    response.writeHead(error.status, {
        ...graphErrorHeaders(error, id),
        'Content-Length': String(Buffer.byteLength(text)),
        ...(close ? { Connection: 'close' } : {}),
    });
    response.end(text);
}

/** The same, on a connection where no response object exists: the request never got past the parser. */
function writeRawGraphError(socket: Socket, error: GraphError): void {
    const { id, text } = graphErrorText(error);
    const headers = { ...graphErrorHeaders(error, id), 'Content-Length': String(Buffer.byteLength(text)) };
    const head = [
        `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        'Connection: close',
    ].join('\r\n');
    socket.end(`${head}\r\n\r\n${text}`);
    closeSoon(socket);
}

/** Our side is ended: close the connection when the client ends its side, or after LINGER_MS at the latest. */
function closeSoon(socket: Socket): () => void {
    const close = () => {
        clearTimeout(timer);
        socket.destroy();
    };
    const timer = setTimeout(close, LINGER_MS);
    timer.unref();
    socket.once('end', close);
    socket.once('close', () => clearTimeout(timer));
    if (socket.readableEnded) {
        close();
    }
    return close;
}

/** One parse of the request's URL: undefined where it cannot be one. */
function parsedUrl(href: string): URL | undefined {
    try {
        return new URL(href);
    } catch {
        return undefined;
    }
}

const requestTimeout = () =>
    new GraphError('RequestTimeout', 'The request was not received in time; send it again, without pausing.');

/**
 * The request body as a web stream that reads the socket only while the function asks for more (highWaterMark 0),
 * through `data` events; a pause longer than `idleMs` fails it with a 408.
 */
function bodyStream(request: IncomingMessage, idleMs: number, onFirstPull: () => void): ReadableStream<Uint8Array> {
    let started = false;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const stopIdle = () => clearTimeout(idle);
    return new ReadableStream<Uint8Array>(
        {
            pull(controller) {
                const fail = (error: unknown) => {
                    if (!settled) {
                        settled = true;
                        stopIdle();
                        request.pause();
                        controller.error(error);
                    }
                };
                if (!started) {
                    started = true;
                    onFirstPull();
                    request.on('data', (chunk: Buffer) => {
                        stopIdle();
                        if (!settled) {
                            controller.enqueue(chunk);
                            if ((controller.desiredSize ?? 0) < 0) {
                                request.pause();
                            }
                        }
                    });
                    request.on('end', () => {
                        if (!settled) {
                            settled = true;
                            stopIdle();
                            controller.close();
                        }
                    });
                    request.on('error', fail);
                    const gone = () => fail(new Error('the client closed the connection before the end of the body'));
                    request.on('close', () => {
                        if (!request.complete) {
                            gone();
                        }
                    });
                    if (request.destroyed && !request.complete) {
                        gone(); // before the function asked for the body: no event is left to tell
                    }
                }
                if (!settled) {
                    stopIdle();
                    idle = setTimeout(() => fail(requestTimeout()), idleMs);
                    request.resume();
                }
            },
            cancel() {
                settled = true;
                stopIdle();
                request.pause();
            },
        },
        { highWaterMark: 0 },
    );
}

/** See LINGER_MS. Node has already ended the connection's writing side; keep reading a little, then close. */
function linger(request: IncomingMessage, socket: Socket): void {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the reference node's destroySoon registered
    socket.removeListener('finish', socket.destroy);
    const close = closeSoon(socket);
    let budget = LINGER_BYTES;
    request.on('data', (chunk: Buffer) => {
        budget -= chunk.byteLength;
        if (budget < 0) {
            close();
        }
    });
    request.resume();
}

function writeResponse(request: IncomingMessage, response: ServerResponse, init: HttpResponseInit): void {
    if (response.headersSent || response.destroyed) {
        return; // answered already (a timeout), or the client has gone
    }
    // The handlers give a plain record; its names keep their case on the wire, as the Functions host keeps them.
    const headers = (init.headers ?? {}) as Record<string, string>;
    // Answered before the body was read: the rest of it is never read, so the connection cannot serve another.
    const close: Record<string, string> = request.complete ? {} : { Connection: 'close' };
    if (typeof init.body === 'string') {
        // The head in one call, with the length: node then writes it with the body, without building a header map.
        response.writeHead(init.status ?? 200, {
            ...headers,
            'Content-Length': String(Buffer.byteLength(init.body)),
            ...close,
        });
        response.end(init.body);
        return;
    }
    response.statusCode = init.status ?? 200;
    for (const [name, value] of Object.entries({ ...headers, ...close })) {
        response.setHeader(name, value);
    }
    // Bytes: a configuration's stream properties.
    response.end(init.body instanceof Uint8Array ? init.body : undefined);
}

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'HPE_INVALID_EOF_STATE']);

/** Node's parser errors as Graph errors: the client gets the same shape for every refusal. */
function parserError(error: NodeJS.ErrnoException): GraphError {
    switch (error.code) {
        case 'HPE_HEADER_OVERFLOW':
            return new GraphError('RequestHeaderFieldsTooLarge', 'The request headers are too large.');
        case 'ERR_HTTP_REQUEST_TIMEOUT':
            return requestTimeout();
        default:
            return badRequest(`The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}).`);
    }
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
    const logger = options.logger ?? options.services.logger;
    const timeouts = { ...DEFAULT_HOST_TIMEOUTS, ...options.timeouts };
    const entries: Entry[] = rankRoutes(options.routes).map((ranked) => ({
        ...ranked,
        handler: createHttpHandler(ranked.route, () => options.services),
    }));
    const scheme = options.tls ? 'https' : 'http';
    let inFlight = 0;
    let drained: (() => void) | undefined;
    /** The request each connection is serving, for the answers node's own checks trigger (timeouts). */
    const serving = new WeakMap<Socket, { request: IncomingMessage; response: ServerResponse }>();
    /** Requests whose client waits for `100 Continue` before sending the body. */
    const expectsContinue = new WeakSet<IncomingMessage>();

    const serve = async (request: IncomingMessage, response: ServerResponse) => {
        const target = pathAndQuery(request.url ?? '');
        const hostHeader = request.headers.host;
        const url =
            target !== undefined && hostShaped(hostHeader)
                ? parsedUrl(`${scheme}://${hostHeader}${target}`)
                : undefined;
        if (url === undefined) {
            // Parsed once above; only a refusal looks again, to say which part was wrong.
            const error = badRequest(
                target === undefined
                    ? 'The request target must be a path (origin form) or an http(s) URL (absolute form).'
                    : validHost(hostHeader) === undefined
                      ? 'The Host header is missing or not a valid host[:port].'
                      : 'The request target is not a valid path.',
            );
            writeGraphError(response, error, !request.complete);
            return;
        }
        const segments = pathSegments(url.pathname);
        const matched = segments ? firstMatch(entries, segments) : undefined;
        if (!matched) {
            // Outside the route prefix the Functions host has nothing either; answer in Graph's shape all the same.
            const error = new GraphError(
                'ResourceNotFound',
                `Nothing is served at '${url.pathname}'; the API is under /beta.`,
            );
            writeGraphError(response, error, !request.complete);
            return;
        }
        const { entry, params } = matched;
        const method = request.method ?? 'GET';
        let nativeRequest: Request;
        try {
            nativeRequest = new Request(url, {
                method,
                headers: flatHeaders(request),
                ...(method === 'GET' || method === 'HEAD'
                    ? {}
                    : {
                          body: bodyStream(request, timeouts.bodyIdleMs, () => {
                              // `Expect: 100-continue`: the client sends the body only once it is wanted.
                              if (expectsContinue.has(request) && !response.headersSent) {
                                  response.writeContinue();
                              }
                          }),
                          duplex: 'half',
                      }),
            });
        } catch {
            // Methods fetch refuses (TRACE, TRACK): no function could be handed such a request.
            writeGraphError(response, badRequest(`The HTTP method '${method}' is not supported.`), true);
            return;
        }
        // The streaming form the Functions host itself uses (createStreamRequest): the body is read only on demand.
        const httpRequest = new HttpRequest({
            nativeRequest,
            // Informative only: the functions read their parameters from the URL (lib/http/routing), or from `routed`.
            params,
        } as HttpRequestInit);
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
        // The URL and the route's parameters go along: the pipeline neither parses nor matches them again.
        writeResponse(request, response, await entry.handler(httpRequest, context, { url, params }));
    };

    const listener = (request: IncomingMessage, response: ServerResponse) => {
        inFlight += 1;
        const socket = request.socket;
        serving.set(socket, { request, response });
        response.on('finish', () => {
            if (!request.complete) {
                linger(request, socket);
            }
        });
        response.on('close', () => {
            if (serving.get(socket)?.response === response) {
                serving.delete(socket); // not a pipelined successor's entry
            }
            if (!response.writableFinished) {
                // The client's doing, and routine: one line, no stack.
                logger.info(
                    `local host: the client closed the connection before ${request.method} ${(request.url ?? '').slice(0, 200)} was answered`,
                );
            }
        });
        serve(request, response)
            .catch((error: unknown) => {
                logger.error(`local host: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
                if (!response.headersSent && !response.destroyed) {
                    response.statusCode = 500;
                    response.setHeader('Connection', 'close');
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

    const serverOptions: http.ServerOptions = {
        // A missing Host is answered by the host in Graph's shape, not by node with a bare 400.
        requireHostHeader: false,
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        // How often node looks for requests past those limits: well under the shortest of them.
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
    };
    const server = options.tls
        ? https.createServer({ ...serverOptions, ...options.tls }, listener)
        : http.createServer(serverOptions, listener);

    let closedBytes = 0;
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => {
            closedBytes += socket.bytesRead;
            sockets.delete(socket);
        });
    });
    // Node would answer `Expect: 100-continue` at once; the pipeline answers it only if it reads the body.
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
        expectsContinue.add(request);
        listener(request, response);
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
        const current = serving.get(socket);
        // The client went away, mid-request (HPE_INVALID_EOF_STATE: it ended its side before the body was complete).
        if (CLIENT_GONE.has(error.code ?? '') || !socket.writable) {
            if (!current) {
                // With a request in flight, its response's close says it (one line per abort).
                logger.info(`local host: a client closed the connection abruptly (${error.code ?? error.message})`);
            }
            socket.destroy();
            return;
        }
        if (current) {
            // A request in flight ran past its time (node's requestTimeout): answer it, if nothing was sent yet.
            // Node closes the connection once it is sent (Connection: close), lingering as for any unread body.
            if (!current.response.headersSent) {
                writeGraphError(current.response, parserError(error), true);
            }
            return;
        }
        writeRawGraphError(socket, parserError(error));
    });

    server.listen(options.port ?? 0, options.hostname ?? '127.0.0.1');
    await once(server, 'listening');
    const address = server.address() as AddressInfo;
    const port = address.port;
    // A name asked for (`localhost`, for a certificate issued to it) stays; an address is shown as bound.
    const named = options.hostname !== undefined && isIP(options.hostname) === 0;
    const shown = named ? options.hostname : address.family === 'IPv6' ? `[${address.address}]` : address.address;

    return {
        origin: `${scheme}://${shown}:${port}`,
        port,
        bytesRead: () => closedBytes + [...sockets].reduce((sum, socket) => sum + socket.bytesRead, 0),
        close: async () => {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            if (inFlight > 0) {
                await new Promise<void>((resolve) => (drained = resolve));
            }
            server.closeAllConnections();
            for (const socket of sockets) {
                socket.destroy(); // lingering ones
            }
            await closed;
        },
    };
}
