/**
 * The front end Azure puts before the app's instances, in miniature: one address on 127.0.0.1 that hands each request
 * to the next instance in turn, so that tests, `npm run load` and the bench can run the app scaled out, each instance
 * a process with its own Cosmos DB client. It adds nothing of its own to what passes through: bodies stream both ways,
 * headers (Host above all, which the app builds its links on) reach the other side as they were sent. A target that
 * fails before answering costs its request a 502, never a second try elsewhere: a POST may have been half done.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

import { graphDate } from '../lib/graph/errors.js';

export interface RoundRobinFrontOptions {
    /** Origins (`http://127.0.0.1:port`) in rotation from the start. */
    targets?: readonly string[];
    /** 0 (the default) picks a free port. */
    port?: number;
}

export interface RoundRobinFront {
    /** `http://127.0.0.1:port`: what clients call, and the origin of the app's links. */
    origin: string;
    port: number;
    /** Puts an origin into the rotation; the next request may go to it. */
    add(target: string): void;
    /**
     * Takes an origin out of the rotation: no new request goes to it; those in flight finish, then its connections
     * close. False when it was not in the rotation.
     */
    remove(target: string): boolean;
    /** The origins in rotation, in turn order. */
    targets(): string[];
    /** Requests handed to each origin since the front started, removed origins included. */
    counts(): Record<string, number>;
    /** Stops listening, destroys every client and upstream connection, and resolves once the server has closed. */
    close(): Promise<void>;
}

interface Target {
    origin: string;
    url: URL;
    /** One per target: its connections are kept alive between requests, as a front end's are. */
    agent: http.Agent;
    inFlight: number;
    retired: boolean;
}

/** Headers as large as the app's own host accepts and more: the app, not the front, answers 431 in Graph's shape. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * An idle upstream connection is dropped this long after its last answer unless the app announces a shorter time
 * (`Keep-Alive: timeout=5`, which node's agent honours only when it has a timeout of its own, less a second): the
 * front never reuses a connection the app is about to close, and never keeps one forever.
 */
const UPSTREAM_IDLE_MS = 30_000;

/**
 * After answering a request whose body it did not read (a 502, or the app's early answer passed on), the front reads
 * and discards the rest for this long at most, then closes: closing at once with bytes unread would reset the
 * connection and could take the answer with it.
 */
const LINGER_MS = 2000;

function parseTarget(target: string): URL {
    const url = new URL(target);
    if (url.protocol !== 'http:' || url.pathname !== '/' || url.search !== '') {
        throw new Error(`a target is an http origin (http://host:port), not ${target}`);
    }
    return url;
}

/** Node marks a bodiless request complete only after its `request` event: its headers say whether a body comes. */
function bodyUnread(request: IncomingMessage): boolean {
    const length = request.headers['content-length'];
    const declared = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    return declared && !request.complete;
}

/** Graph's error shape, for what only the front can tell: no instance answered. */
function writeError(
    request: IncomingMessage,
    response: ServerResponse,
    status: 502 | 503,
    message: string,
    extra: Record<string, string> = {},
): void {
    const requestId = randomUUID();
    const clientHeader = request.headers['client-request-id'];
    const clientRequestId = typeof clientHeader === 'string' && clientHeader !== '' ? clientHeader : requestId;
    const text = JSON.stringify({
        error: {
            code: status === 502 ? 'BadGateway' : 'ServiceUnavailable',
            message,
            innerError: { date: graphDate(new Date()), 'request-id': requestId, 'client-request-id': clientRequestId },
        },
    });
    response.writeHead(status, {
        ...extra,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(text)),
        'request-id': requestId,
        'client-request-id': clientRequestId,
        // The body may still be on its way: this connection cannot carry another request.
        ...(bodyUnread(request) ? { Connection: 'close' } : {}),
    });
    response.end(text);
}

export async function startRoundRobinFront(options: RoundRobinFrontOptions = {}): Promise<RoundRobinFront> {
    const rotation: Target[] = [];
    /** Removed targets with requests still in flight: their agents close when the last one ends (or on close()). */
    const retiring = new Set<Target>();
    const counts = new Map<string, number>();
    const clientSockets = new Set<Socket>();
    let turn = 0;
    let closing = false;

    const retire = (target: Target) => {
        target.retired = true;
        if (target.inFlight === 0) {
            retiring.delete(target);
            // On the next turn: a finished request hands its socket back to the agent just after its `close`.
            setImmediate(() => target.agent.destroy());
        } else {
            retiring.add(target);
        }
    };

    const next = (): Target | undefined => {
        if (rotation.length === 0) {
            return undefined;
        }
        const index = turn % rotation.length;
        turn = (index + 1) % rotation.length;
        return rotation[index];
    };

    const forward = (request: IncomingMessage, response: ServerResponse) => {
        // A request whose answer is finished before its body was read: discard the rest for a moment, then close.
        response.once('finish', () => {
            if (bodyUnread(request)) {
                const socket = request.socket;
                const timer = setTimeout(() => socket.destroy(), LINGER_MS);
                timer.unref();
                socket.once('close', () => clearTimeout(timer));
                request.resume();
            }
        });
        const target = closing ? undefined : next();
        if (!target) {
            writeError(request, response, 503, 'No app instance is in rotation.', { 'Retry-After': '1' });
            return;
        }
        target.inFlight += 1;
        counts.set(target.origin, (counts.get(target.origin) ?? 0) + 1);
        const upstream = http.request({
            host: target.url.hostname,
            port: target.url.port,
            method: request.method,
            path: request.url,
            // As received, names' case and repeats included; node adds no Host to a list, so the client's stays.
            headers: request.rawHeaders,
            agent: target.agent,
            maxHeaderSize: MAX_HEADER_BYTES,
        });
        upstream.once('close', () => {
            target.inFlight -= 1;
            if (target.retired && target.inFlight === 0) {
                retire(target);
            }
        });
        // The client waits for `100 Continue` before sending the body: the app says when it wants it.
        upstream.on('continue', () => {
            if (!response.headersSent && !response.destroyed) {
                response.writeContinue();
            }
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
            request.unpipe(upstream);
            if (response.writableEnded || response.destroyed) {
                return; // answered already (the app's early answer, then its side closed), or the client has gone
            }
            if (response.headersSent) {
                response.destroy(); // mid-answer: the client must see a broken answer, not a short one
                return;
            }
            writeError(
                request,
                response,
                502,
                `The app instance at ${target.origin} failed before answering (${error.code ?? error.message}); ` +
                    'the request was not retried.',
            );
        });
        upstream.on('response', (answer: IncomingMessage) => {
            if (response.destroyed) {
                answer.destroy();
                return;
            }
            response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
            // A failure on either side ends both: a broken upstream breaks the client's answer, and a client gone
            // destroys the upstream answer, and with it the upstream connection.
            pipeline(answer, response, () => undefined);
        });
        // The client went away before its answer was written in full: the app need not go on with it.
        response.once('close', () => {
            if (!response.writableFinished) {
                upstream.destroy();
            }
        });
        request.pipe(upstream);
    };

    const server = http.createServer(
        // The app answers a request without Host in Graph's shape; node would answer it with a bare 400.
        { requireHostHeader: false, maxHeaderSize: MAX_HEADER_BYTES },
        forward,
    );
    // Node would answer `Expect: 100-continue` itself; the app decides (upstream `continue` above).
    server.on('checkContinue', forward);
    server.on('connection', (socket: Socket) => {
        clientSockets.add(socket);
        socket.once('close', () => clientSockets.delete(socket));
    });

    const add = (origin: string) => {
        const url = parseTarget(origin);
        if (rotation.some((target) => target.origin === url.origin)) {
            throw new Error(`${url.origin} is in rotation already`);
        }
        rotation.push({
            origin: url.origin,
            url,
            agent: new http.Agent({ keepAlive: true, timeout: UPSTREAM_IDLE_MS }),
            inFlight: 0,
            retired: false,
        });
    };
    for (const origin of options.targets ?? []) {
        add(origin);
    }

    server.listen(options.port ?? 0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    let closed: Promise<void> | undefined;

    return {
        origin: `http://127.0.0.1:${port}`,
        port,
        add,
        remove: (origin) => {
            const wanted = parseTarget(origin).origin;
            const index = rotation.findIndex((target) => target.origin === wanted);
            const [target] = index < 0 ? [] : rotation.splice(index, 1);
            if (!target) {
                return false;
            }
            // The turn stays with the target that was next, now one place earlier.
            if (index < turn) {
                turn -= 1;
            }
            retire(target);
            return true;
        },
        targets: () => rotation.map((target) => target.origin),
        counts: () => Object.fromEntries(counts),
        close: async () => {
            closing = true;
            closed ??= new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
                for (const socket of clientSockets) {
                    socket.destroy(); // lingering ones, and any node does not count as serving
                }
                for (const target of [...rotation.splice(0), ...retiring]) {
                    target.agent.destroy();
                }
                retiring.clear();
            });
            await closed;
        },
    };
}
