/**
 * `npm run receiver`: a webhook receiver on this machine, for trying change notifications against `npm start`. It
 * answers the validation handshake (the token back, 200, text/plain) and prints each notification POSTed to it, one
 * JSON line each, answering 202 as Graph expects. Plain http on 127.0.0.1, which a local run accepts.
 *
 *   npm run receiver -- --port 7300
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { watchParent } from './parentProcess.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '7300' } } });
const port = Number(values.port);

const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
        const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
        const token = url.searchParams.get('validationToken');
        if (token !== null) {
            console.info(`validation handshake on ${url.pathname}: answered`);
            response.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);
            return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        try {
            for (const item of (JSON.parse(text) as { value?: unknown[] }).value ?? []) {
                console.info(JSON.stringify(item));
            }
        } catch {
            console.warn(`not JSON: ${text.slice(0, 200)}`);
        }
        response.writeHead(202).end();
    });
});

server.listen(port, '127.0.0.1', () => {
    console.info(`receiver listening on http://127.0.0.1:${port}/ (PID ${process.pid}); stop it with Ctrl+C`);
});
const stop = (why: string) => {
    console.info(`${why}: stopping.`);
    server.closeAllConnections();
    server.close(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
watchParent(stop);
