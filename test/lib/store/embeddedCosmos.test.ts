/**
 * The embedded Cosmos DB server's connections: it must not close an idle keep-alive connection after a few seconds'
 * pause, or a request the SDK writes to it as it closes fails (ECONNRESET, a 503 to the app's client).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';

import { describe, expect, it, vi } from 'vitest';

import { startEmbeddedCosmos } from '../../../lib/store/embeddedCosmos.js';
import { startTestCosmos } from '../../helpers/cosmos.js';

describe('the embedded Cosmos DB server', () => {
    it("keeps an idle keep-alive connection open past node's default (5 s, and a second's grace)", async () => {
        const cosmos = await startEmbeddedCosmos({ protocol: 'http' });
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
            const get = async (): Promise<Socket> => {
                const request = http.get(cosmos.endpoint, { agent });
                const [response] = (await once(request, 'response')) as [http.IncomingMessage];
                response.resume();
                await once(response, 'end');
                return request.socket as Socket;
            };
            const first = await get();
            let closed = false;
            first.on('close', () => (closed = true));
            await new Promise((resolve) => setTimeout(resolve, 7000));
            expect(closed).toBe(false);
            expect(await get()).toBe(first); // the same connection serves the next request
        } finally {
            agent.destroy();
            await cosmos.close();
        }
    }, 20_000);
});

describe('the embedded Cosmos DB server, as Cosmos DB documents it', () => {
    it('removes an item past its ttl, and only such items; answers a partition query from that partition', async () => {
        const cosmos = await startTestCosmos();
        try {
            const { container } = cosmos;
            await container.items.create({ id: 'brief', configurationId: 'p', ttl: 1 });
            await container.items.create({ id: 'kept', configurationId: 'p' });
            await container.items.create({ id: 'other', configurationId: 'q', ttl: 3600 });
            const ids = async (partition: string) =>
                (
                    await container.items
                        .query<{ id: string }>('SELECT c.id FROM c', { partitionKey: partition })
                        .fetchAll()
                ).resources.map((d) => d.id);
            expect(await ids('p')).toEqual(['brief', 'kept']);
            expect(await ids('q')).toEqual(['other']);
            // Cosmos DB's `_ts` has seconds: the item goes within a second or two of its ttl.
            await vi.waitFor(async () => expect(await ids('p')).toEqual(['kept']), { timeout: 5000, interval: 200 });
            expect(await ids('q')).toEqual(['other']);
        } finally {
            await cosmos.close();
        }
    });
});
