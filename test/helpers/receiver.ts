/**
 * A webhook receiver on a loopback port, as a subscriber runs one: it answers Graph's validation handshake (echoing
 * `validationToken` as text/plain, unless a test makes it misbehave) and records every notification POSTed to it,
 * with when it arrived. It can fail a share of its calls, from a seeded sequence, as a flaky receiver would.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { seededRandom } from './shuffle.js';

export interface ReceivedPost {
    at: number;
    path: string;
    /** The parsed body of a notification POST. */
    body: { value: Record<string, unknown>[] };
    /** What the receiver answered. */
    status: number;
}

export interface HandshakeAnswer {
    status?: number;
    contentType?: string;
    body?: string;
    /** Milliseconds before answering. */
    delayMs?: number;
    headers?: Record<string, string>;
}

export interface ReceiverOptions {
    /** How the handshake is answered, given the token; by default the token, 200, text/plain. */
    handshake?: (token: string) => HandshakeAnswer;
    /** Share of notification POSTs answered 500 (0 to 1). */
    failRate?: number;
    /** Notification POSTs are recorded and left unanswered until `release()`: a receiver that hangs. */
    hold?: boolean;
    seed?: number;
}

export interface Receiver {
    /** `http://127.0.0.1:port` */
    origin: string;
    url(path?: string): string;
    /** Notification POSTs, in arrival order (handshakes not included). */
    posts: ReceivedPost[];
    handshakes: { at: number; path: string; token: string }[];
    /** Every notification item of the POSTs answered 2xx (the ones the service counts as delivered), in order. */
    delivered(): Record<string, unknown>[];
    setFailRate(rate: number): void;
    /** POSTs recorded and not yet answered (with `hold`). */
    held(): number;
    /** Answers every held POST 202. */
    release(): void;
    close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
    const posts: ReceivedPost[] = [];
    const handshakes: Receiver['handshakes'] = [];
    let failRate = options.failRate ?? 0;
    const holding: ServerResponse[] = [];
    const next = seededRandom(options.seed ?? 42);
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
        void (async () => {
            const url = new URL(request.url ?? '/', 'http://127.0.0.1');
            const text = await readBody(request);
            const token = url.searchParams.get('validationToken');
            if (token !== null) {
                handshakes.push({ at: Date.now(), path: url.pathname, token });
                const answer = options.handshake?.(token) ?? {};
                if (answer.delayMs) {
                    await new Promise((r) => setTimeout(r, answer.delayMs));
                }
                response.writeHead(answer.status ?? 200, {
                    'Content-Type': answer.contentType ?? 'text/plain',
                    ...answer.headers,
                });
                response.end(answer.body ?? token);
                return;
            }
            const status = next() < failRate ? 500 : 202;
            posts.push({ at: Date.now(), path: url.pathname, body: JSON.parse(text) as ReceivedPost['body'], status });
            if (options.hold) {
                holding.push(response);
                return;
            }
            response.writeHead(status).end();
        })().catch(() => response.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        origin,
        url: (path = '/notifications') => `${origin}${path}`,
        posts,
        handshakes,
        delivered: () => posts.filter((p) => p.status < 300).flatMap((p) => p.body.value),
        setFailRate: (rate) => {
            failRate = rate;
        },
        held: () => holding.filter((r) => !r.writableEnded && !r.destroyed).length,
        release: () => {
            for (const response of holding.splice(0)) {
                if (!response.writableEnded && !response.destroyed) {
                    response.writeHead(202).end();
                }
            }
        },
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
