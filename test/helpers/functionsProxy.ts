/**
 * The HTTP proxy the Functions Node.js worker runs in streaming mode (`app.setup({ enableHttpStream: true })`), as
 * @azure/functions 4.x builds it: a node:http server whose IncomingMessage becomes the body of a fetch Request
 * (createStreamRequest), and whose response is written from the handler's HttpResponse (sendProxyResponse). What a
 * handler does to the request stream here, it does to the connection the host forwards.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import functions, { type HttpRequestInit, type HttpResponseInit } from '@azure/functions';

import type { RouteHandler } from '../../lib/http/pipeline.js';

const { HttpRequest, HttpResponse, InvocationContext } = functions;

export interface FunctionsProxy {
    port: number;
    close(): Promise<void>;
}

/**
 * `answerDelayMs`: the time between the handler's return and the first byte of its answer, which the worker spends
 * finishing the invocation (its hooks, a busy event loop); meanwhile the client may go on sending.
 */
export async function startFunctionsProxy(handler: RouteHandler, answerDelayMs = 0): Promise<FunctionsProxy> {
    const server = http.createServer((req, res) => {
        void (async () => {
            const method = req.method ?? 'GET';
            const headers = new Headers();
            for (const [name, value] of Object.entries(req.headers)) {
                if (value !== undefined) {
                    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
                }
            }
            const nativeRequest = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
                method,
                headers,
                // As createStreamRequest does: the IncomingMessage itself, an async iterable, is the body.
                ...(method === 'GET' || method === 'HEAD' ? {} : { body: req, duplex: 'half' }),
            });
            const context = new InvocationContext({ invocationId: randomUUID(), functionName: 'proxy' });
            const init: HttpResponseInit = await handler(
                new HttpRequest({ nativeRequest } as HttpRequestInit),
                context,
            );
            await new Promise((resolve) => setTimeout(resolve, answerDelayMs));
            const response = new HttpResponse(init);
            for (const [name, value] of response.headers.entries()) {
                res.setHeader(name, value);
            }
            res.statusCode = response.status;
            if (response.body) {
                for await (const chunk of response.body.values()) {
                    res.write(chunk);
                }
            }
            res.end();
        })().catch(() => res.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
        port: (server.address() as AddressInfo).port,
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
