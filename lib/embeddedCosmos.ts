/**
 * The embedded Cosmos DB: an in-process, in-memory server that speaks the Cosmos REST protocol, so the real
 * `@azure/cosmos` SDK runs unchanged on a machine with no account and no emulator. Its data lives as long as the
 * process; stopping and resuming the listener keeps it, which is how tests make storage unreachable for a while.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import { createHttpsServer } from '@vercel/cosmosdb-server';

/** The server accepts any key; the SDK still signs requests, so it needs a base64 string. */
const ANY_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU9DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface EmbeddedCosmos {
    endpoint: string;
    key: string;
    /** Trusts the server's built-in (self-signed, expired) certificate, for this endpoint only. */
    agent: https.Agent;
    port: number;
    /** Stops listening and drops open connections; the data stays. */
    stop(): Promise<void>;
    /** Listens again on the same port. */
    resume(): Promise<void>;
    close(): Promise<void>;
}

export async function startEmbeddedCosmos(port = 0): Promise<EmbeddedCosmos> {
    // keepAlive: the server otherwise closes every connection, which makes each request about 4x slower.
    const server = createHttpsServer({ keepAlive: true });
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
    const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
    return {
        endpoint: `https://127.0.0.1:${bound}/`,
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
            agent.destroy();
        },
    };
}
