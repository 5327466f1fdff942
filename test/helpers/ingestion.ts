/**
 * Azure Monitor's ingestion API, as far as the Application Insights exporter uses it: gzip or plain JSON arrays of
 * envelopes over HTTPS (the exporter sends nothing over plain HTTP), with a self-signed certificate for 127.0.0.1.
 * What the SDK really sends is collected in `received`.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

import { generate } from 'selfsigned';

export interface Envelope {
    iKey: string;
    tags: Record<string, string>;
    sampleRate?: number;
    data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

export interface Ingestion {
    /** `https://127.0.0.1:port/`, the connection string's IngestionEndpoint. */
    url: string;
    /** The certificate, PEM: what a client must trust in addition (NODE_EXTRA_CA_CERTS). */
    cert: string;
    received: Envelope[];
    close(): Promise<void>;
}

export async function startIngestion(): Promise<Ingestion> {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
        keySize: 2048,
        notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const received: Envelope[] = [];
    const server = https.createServer({ key: pems.private, cert: pems.cert }, (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            const body = Buffer.concat(chunks);
            const envelopes = JSON.parse(
                (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8'),
            ) as Envelope[];
            received.push(...envelopes);
            response.writeHead(200, { 'Content-Type': 'application/json' });
            response.end(
                JSON.stringify({ itemsReceived: envelopes.length, itemsAccepted: envelopes.length, errors: [] }),
            );
        });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        cert: pems.cert,
        received,
        close: async () => {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}
