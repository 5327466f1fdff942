/**
 * A stand-in for Application Insights' ingestion endpoint on 127.0.0.1, so that the app runs with telemetry on and
 * really exports. The exporter only sends over HTTPS: the sink serves HTTPS with a self-signed certificate, written
 * to a file for the app's NODE_EXTRA_CA_CERTS. It accepts every POST (the exporter's track calls, gzipped JSON
 * arrays), answers as the service does, and counts what it received; `GET /count` on a second, plain HTTP port
 * answers `{ posts, items, dependencies, dependenciesRepresented }`: the dependency envelopes, and the calls they stand
 * for once each is weighted by its sample rate (Application Insights' `itemCount`).
 *
 *   node dist/bench/telemetrySink.js
 *   prints "listening at http://127.0.0.1:port (ingestion https://127.0.0.1:port/, ca /tmp/…/ca.pem)"
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { generate } from 'selfsigned';

export interface TelemetrySink {
    /** Plain HTTP: `GET /count`. */
    origin: string;
    /** The IngestionEndpoint of the app's connection string. */
    ingestion: string;
    /** The certificate of the ingestion endpoint, for NODE_EXTRA_CA_CERTS. */
    caFile: string;
    counts(): SinkCounts;
    close(): Promise<void>;
}

/** What the sink prints once it serves; bench/creates reads it. */
export const SINK_LISTENING = /ingestion (https:\/\/[^\s,]+), ca ([^)]+)\)/;

export interface SinkCounts {
    posts: number;
    items: number;
    /** RemoteDependency envelopes received. */
    dependencies: number;
    /** Σ 100 ÷ sampleRate over them: the Cosmos DB calls they stand for. */
    dependenciesRepresented: number;
}

interface Envelope {
    name?: string;
    sampleRate?: number;
}

/** Envelopes in a track call: a JSON array, or one JSON object per line. */
function envelopesIn(body: Buffer, encoding: string | undefined): Envelope[] {
    try {
        const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8').trim();
        if (text.startsWith('[')) {
            return JSON.parse(text) as Envelope[];
        }
        return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Envelope);
    } catch {
        return [];
    }
}

export async function startTelemetrySink(): Promise<TelemetrySink> {
    const counts: SinkCounts = { posts: 0, items: 0, dependencies: 0, dependenciesRepresented: 0 };
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
        keySize: 2048,
        notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const work = await mkdtemp(join(tmpdir(), 'bench-sink-'));
    const caFile = join(work, 'ca.pem');
    await writeFile(caFile, pems.cert);
    const handler: http.RequestListener = (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            response.setHeader('Content-Type', 'application/json');
            if (request.method !== 'POST') {
                response.end(JSON.stringify(counts));
                return;
            }
            const envelopes = envelopesIn(Buffer.concat(chunks), request.headers['content-encoding']);
            counts.posts += 1;
            counts.items += envelopes.length;
            for (const envelope of envelopes) {
                if (envelope.name?.endsWith('.RemoteDependency')) {
                    counts.dependencies += 1;
                    counts.dependenciesRepresented += 100 / (envelope.sampleRate ?? 100);
                }
            }
            const received = envelopes.length;
            response.end(JSON.stringify({ itemsReceived: received, itemsAccepted: received, errors: [] }));
        });
    };
    const servers = [http.createServer(handler), https.createServer({ key: pems.private, cert: pems.cert }, handler)];
    const [plain, secure] = await Promise.all(
        servers.map(async (server) => {
            server.listen(0, '127.0.0.1');
            await once(server, 'listening');
            return (server.address() as AddressInfo).port;
        }),
    );
    return {
        origin: `http://127.0.0.1:${plain}`,
        ingestion: `https://127.0.0.1:${secure}/`,
        caFile,
        counts: () => ({ ...counts }),
        close: async () => {
            for (const server of servers) {
                server.closeAllConnections();
                server.close();
            }
            await rm(work, { recursive: true, force: true });
        },
    };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const sink = await startTelemetrySink();
    process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
    console.info(`telemetry sink listening at ${sink.origin} (ingestion ${sink.ingestion}, ca ${sink.caFile})`);
}
