/**
 * A Cosmos DB stand-in that misbehaves on demand: an HTTP proxy in front of the embedded server that can throttle
 * (429 with `x-ms-retry-after-ms`, as Cosmos DB does), hang, or delay the document writes it sees, and passes
 * everything else through. The app's own SDK client talks to it, so its retry policy and timeouts run for real.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import type { CosmosSettings } from '../../lib/platform/config.js';
import { type OpenedContainer, openEmbeddedContainer } from '../../lib/store/cosmosClient.js';
import { type EmbeddedCosmos, startEmbeddedCosmos } from '../../lib/store/embeddedCosmos.js';
import { testSettings } from './cosmos.js';

/**
 * Which requests a fault hits: document writes (creates, replaces, patches, and the transactional batches every
 * write of the set is), transactional batches only, or queries.
 */
export type FaultTarget = 'writes' | 'batches' | 'queries';

export type Fault = ({ on?: FaultTarget } & FaultKind) | { kind: 'none' };

type FaultKind =
    | { kind: 'none' }
    | { kind: 'throttle'; retryAfterMs: number }
    | { kind: 'hang' }
    /** An answer with this status and message, as Cosmos DB gives for a missing role (403), 449, 410… */
    | { kind: 'status'; status: number; message: string }
    | { kind: 'delay'; ms: number };

export interface FaultyCosmos {
    cosmos: EmbeddedCosmos;
    /** The container through the proxy, with the app's connection code and the given settings. */
    opened: OpenedContainer;
    /** What the next document writes meet. */
    fault: Fault;
    /** Document writes that met a fault. */
    faulted: number;
    close(): Promise<void>;
}

const isTrue = (request: IncomingMessage, header: string) => String(request.headers[header]).toLowerCase() === 'true';

function hits(request: IncomingMessage, target: FaultTarget): boolean {
    if (!/\/docs(\/|$)/.test(request.url ?? '')) {
        return false;
    }
    const batch = isTrue(request, 'x-ms-cosmos-is-batch-request');
    const query = isTrue(request, 'x-ms-documentdb-isquery');
    switch (target) {
        case 'batches':
            return batch;
        case 'queries':
            return query;
        case 'writes':
            return batch || (!query && ['POST', 'PUT', 'PATCH'].includes(request.method ?? ''));
    }
}

export async function startFaultyCosmos(settings: Partial<CosmosSettings> = {}): Promise<FaultyCosmos> {
    const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
    const target = new URL(cosmos.endpoint);
    const sockets = new Set<Socket>();
    const state: { fault: Fault; faulted: number } = { fault: { kind: 'none' }, faulted: 0 };

    const forward = (request: IncomingMessage, response: ServerResponse) => {
        const upstream = http.request(
            {
                host: target.hostname,
                port: target.port,
                method: request.method,
                path: request.url,
                headers: request.headers,
            },
            (answer) => {
                response.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(response);
            },
        );
        upstream.on('error', () => response.destroy());
        request.pipe(upstream);
    };

    const server = http.createServer((request, response) => {
        const fault = state.fault;
        if (fault.kind === 'none' || !hits(request, fault.on ?? 'writes')) {
            forward(request, response);
            return;
        }
        state.faulted += 1;
        switch (fault.kind) {
            case 'throttle':
                request.resume();
                response.writeHead(429, {
                    'content-type': 'application/json',
                    'x-ms-retry-after-ms': String(fault.retryAfterMs),
                    'x-ms-substatus': '3200',
                    'x-ms-request-charge': '0',
                });
                response.end(JSON.stringify({ code: 'TooManyRequests', message: 'Request rate is large.' }));
                return;
            case 'status':
                request.resume();
                response.writeHead(fault.status, { 'content-type': 'application/json', 'x-ms-request-charge': '0' });
                response.end(JSON.stringify({ code: String(fault.status), message: fault.message }));
                return;
            case 'hang':
                request.resume(); // read the request, never answer
                return;
            case 'delay':
                setTimeout(() => forward(request, response), fault.ms);
                return;
        }
    });
    server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const opened = await openEmbeddedContainer({ ...testSettings, ...settings }, { ...cosmos, endpoint });

    return {
        cosmos,
        opened,
        get fault() {
            return state.fault;
        },
        set fault(value: Fault) {
            state.fault = value;
        },
        get faulted() {
            return state.faulted;
        },
        close: async () => {
            await opened.dispose();
            sockets.forEach((s) => s.destroy());
            await new Promise((resolve) => server.close(resolve));
            await cosmos.close();
        },
    };
}
