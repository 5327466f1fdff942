/**
 * The embedded Cosmos DB: an in-process, in-memory server that speaks the Cosmos REST protocol, so the real
 * `@azure/cosmos` SDK runs unchanged on a machine with no account and no emulator. Its data lives as long as the
 * process; stopping and resuming the listener keeps it, which is how tests make storage unreachable for a while.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import { createHttpServer, createHttpsServer } from '@vercel/cosmosdb-server';

/** The server accepts any key; the SDK still signs requests, so it needs a base64 string. */
const ANY_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface EmbeddedCosmos {
    endpoint: string;
    key: string;
    /**
     * For HTTPS: trusts the server's built-in (self-signed, expired) certificate, for this endpoint only. Undefined
     * for plain HTTP, where the SDK must use its own agent.
     */
    agent: https.Agent | undefined;
    port: number;
    /** Stops listening and drops open connections; the data stays. */
    stop(): Promise<void>;
    /** Listens again on the same port. */
    resume(): Promise<void>;
    close(): Promise<void>;
}

export interface EmbeddedCosmosOptions {
    port?: number;
    /**
     * `http` serves another process on this machine, which cannot be told to trust the built-in certificate
     * without turning its checks off: the app accepts plain HTTP for a loopback endpoint only.
     */
    protocol?: 'https' | 'http';
}

export async function startEmbeddedCosmos(options: EmbeddedCosmosOptions = {}): Promise<EmbeddedCosmos> {
    const { port = 0, protocol = 'https' } = options;
    // keepAlive: the server otherwise closes every connection, which makes each request about 4x slower.
    const server =
        protocol === 'https' ? createHttpsServer({ keepAlive: true }) : createHttpServer({ keepAlive: true });
    let listening = false;
    const listen = async (on: number) => {
        server.listen(on, '127.0.0.1');
        await once(server, 'listening');
        listening = true;
    };
    const stop = async () => {
        if (!listening) {
            return;
        }
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
    };
    await listen(port);
    const bound = (server.address() as AddressInfo).port;
    const agent = protocol === 'https' ? new https.Agent({ rejectUnauthorized: false, keepAlive: true }) : undefined;
    return {
        endpoint: `${protocol}://127.0.0.1:${bound}/`,
        key: ANY_KEY,
        agent,
        port: bound,
        stop,
        resume: async () => {
            if (listening) {
                return;
            }
            // The server makes a new, empty account on every 'listening' event: drop that listener to keep the data.
            server.removeAllListeners('listening');
            await listen(bound);
        },
        close: async () => {
            await stop();
            agent?.destroy();
        },
    };
}
