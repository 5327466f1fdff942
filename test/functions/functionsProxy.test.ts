/**
 * The pipeline behind the Functions worker's own HTTP proxy (test/helpers/functionsProxy): what it does to the
 * request stream reaches the connection. A body refused part-way must leave the connection able to carry the answer
 * (and, when the client sent only a little too much, the next request), and a body that stalls is timed out by the
 * pipeline itself, whichever host is in front.
 */
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { routes } from '../../functions/routes.js';
import { createHttpHandler } from '../../lib/http/pipeline.js';
import { startTestCosmos, type TestCosmos } from '../helpers/cosmos.js';
import { type FunctionsProxy, startFunctionsProxy } from '../helpers/functionsProxy.js';

const ASSIGNMENTS = '/beta/officeConfiguration/clientConfigurations/c/assignments';

let cosmos: TestCosmos;
let proxy: FunctionsProxy;
beforeAll(async () => {
    cosmos = await startTestCosmos();
    const route = routes.find((r) => r.name === 'officeClientConfigurationAssignments');
    if (!route) {
        throw new Error('no assignments route');
    }
    const services = { ...cosmos.services, requestBudgetMs: 400, bodyTimeoutMs: 800 };
    // 50 ms between the handler's answer and its first byte on the wire: the client goes on sending meanwhile.
    proxy = await startFunctionsProxy(
        createHttpHandler(route, () => services),
        50,
    );
});
afterAll(async () => {
    await proxy.close();
    await cosmos.close();
});

/** A raw connection that collects what the server sends and how the connection ends. */
function connection(): { socket: Socket; received: () => string; ending: () => 'end' | 'reset' | 'open' } {
    const socket = connect(proxy.port, '127.0.0.1');
    let received = '';
    let ending: 'end' | 'reset' | 'open' = 'open';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => (ending = 'end'));
    socket.on('error', () => (ending = 'reset'));
    return { socket, received: () => received, ending: () => ending };
}

const chunk = (bytes: Buffer) =>
    Buffer.concat([Buffer.from(`${bytes.byteLength.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);

/** The responses in `text`, status and body, for those complete (chunked or with a length). */
function responses(text: string): { status: number; body: string }[] {
    const found: { status: number; body: string }[] = [];
    let rest = text;
    for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end === -1) {
            return found;
        }
        const head = rest.slice(0, end);
        let tail = rest.slice(end + 4);
        const length = /\r\ncontent-length: (\d+)/i.exec(head);
        let body = '';
        if (length) {
            if (tail.length < Number(length[1])) {
                return found;
            }
            body = tail.slice(0, Number(length[1]));
            tail = tail.slice(Number(length[1]));
        } else {
            for (;;) {
                const line = tail.indexOf('\r\n');
                if (line === -1) {
                    return found;
                }
                const size = parseInt(tail.slice(0, line), 16);
                if (tail.length < line + 2 + size + 2) {
                    return found;
                }
                body += tail.slice(line + 2, line + 2 + size);
                tail = tail.slice(line + 2 + size + 2);
                if (size === 0) {
                    break;
                }
            }
        }
        found.push({ status: Number(head.split(' ')[1]), body });
        rest = tail;
    }
}

const until = async (done: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!done() && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
};

describe('a body refused part-way behind the Functions proxy', () => {
    it('answers a body a little over the limit with the whole 413, and the connection serves the next request', async () => {
        const { socket, received, ending } = connection();
        socket.write(
            `POST ${ASSIGNMENTS} HTTP/1.1\r\nHost: proxy.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        // 96 KiB sent whole, as a client that writes its body before it reads does.
        for (let i = 0; i < 6; i++) {
            socket.write(chunk(Buffer.alloc(16 * 1024, 0x20)));
        }
        socket.write('0\r\n\r\n');
        await until(() => responses(received()).length === 1, 5000);
        socket.write(`GET ${ASSIGNMENTS} HTTP/1.1\r\nHost: proxy.test\r\n\r\n`);
        await until(() => responses(received()).length === 2 || ending() !== 'open', 5000);
        socket.destroy();
        const [refused, next] = responses(received());
        expect(refused?.status).toBe(413);
        expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ error: { code: 'RequestEntityTooLarge' } });
        // The next request on the same connection is answered (404: no such configuration), not reset.
        expect(next?.status).toBe(404);
        expect(ending()).toBe('open');
    });

    it('answers a 50 MB upload with the whole 413, reading a bounded part of it', async () => {
        const { socket, received, ending } = connection();
        socket.write(
            `POST ${ASSIGNMENTS} HTTP/1.1\r\nHost: proxy.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        );
        const piece = chunk(Buffer.alloc(64 * 1024, 0x20));
        let sent = 0;
        while (sent < 50 * 1024 * 1024 && responses(received()).length === 0 && ending() === 'open') {
            if (!socket.write(piece)) {
                await Promise.race([
                    new Promise((resolve) => socket.once('drain', resolve)),
                    new Promise((resolve) => setTimeout(resolve, 100)),
                ]);
            }
            sent += 64 * 1024;
        }
        await until(() => responses(received()).length === 1, 5000);
        socket.destroy();
        const [refused] = responses(received());
        expect(refused?.status).toBe(413);
        expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ error: { code: 'RequestEntityTooLarge' } });
        expect(sent).toBeLessThan(50 * 1024 * 1024);
    });
});

describe('a body that stalls behind the Functions proxy', () => {
    it('is answered 408 by the pipeline at the body timeout, not 503 at the store budget', async () => {
        const { socket, received } = connection();
        socket.write(
            `POST ${ASSIGNMENTS} HTTP/1.1\r\nHost: proxy.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
        );
        await until(() => responses(received()).length === 1, 5000);
        socket.destroy();
        const [answer] = responses(received());
        expect(answer?.status).toBe(408);
        expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ error: { code: 'RequestTimeout' } });
    });
});
