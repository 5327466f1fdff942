/**
 * The simulator's own connection to the embedded server behind it. Requests pass through as the SDK sent them,
 * and their answers are read whole, because the simulator rewrites them (charges, session tokens, stale versions)
 * before the client sees a byte. It also learns each container's `_rid`: Azure names it as the owner of every
 * document answer, and the SDK keeps a session token only for an owner id of that shape.
 */
import http, { type IncomingMessage } from 'node:http';

import { type Answer, asObject, parseJson } from './protocol.js';

export class BackendClient {
    readonly #target: URL;
    readonly #agent = new http.Agent({ keepAlive: true });
    /** Container `_rid`s by link (`dbs/{db}/colls/{coll}`). */
    readonly #collectionRids = new Map<string, string>();

    constructor(endpoint: string) {
        this.#target = new URL(endpoint);
    }

    forward(request: IncomingMessage, body: Buffer, path = request.url ?? '/'): Promise<Answer> {
        return new Promise((resolve, reject) => {
            const headers = request.headers;
            delete headers['transfer-encoding'];
            headers['content-length'] = String(body.length);
            const upstream = http.request(
                {
                    host: this.#target.hostname,
                    port: this.#target.port,
                    method: request.method,
                    path,
                    headers,
                    agent: this.#agent,
                },
                (answer) => {
                    const chunks: Buffer[] = [];
                    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
                    answer.on('error', reject);
                    answer.on('end', () => {
                        const answerHeaders = answer.headers as Record<string, string | string[]>;
                        delete answerHeaders['content-length'];
                        delete answerHeaders['transfer-encoding'];
                        resolve({
                            status: answer.statusCode ?? 502,
                            headers: answerHeaders,
                            body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks),
                        });
                    });
                },
            );
            upstream.on('error', reject);
            upstream.end(body);
        });
    }

    /** A container's `_rid` when it is already known, without asking the backend. */
    knownCollectionRid(link: string): string | undefined {
        return this.#collectionRids.get(link);
    }

    /** A container's `_rid` seen in an answer as it went by. */
    rememberCollectionRid(link: string, rid: string): void {
        this.#collectionRids.set(link, rid);
    }

    /** The collection's `_rid`: the SDK keeps a session token only for an owner id of 8 bytes, the collection's. */
    async collectionRid(db: string, coll: string): Promise<string | undefined> {
        const link = `dbs/${db}/colls/${coll}`;
        const known = this.#collectionRids.get(link);
        if (known !== undefined) {
            return known;
        }
        const answer = await new Promise<Answer | undefined>((resolve) => {
            const upstream = http.request(
                {
                    host: this.#target.hostname,
                    port: this.#target.port,
                    method: 'GET',
                    path: `/${link.split('/').map(encodeURIComponent).join('/')}`,
                    agent: this.#agent,
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on('data', (chunk: Buffer) => chunks.push(chunk));
                    response.on('end', () =>
                        resolve({ status: response.statusCode ?? 0, headers: {}, body: Buffer.concat(chunks) }),
                    );
                },
            );
            upstream.on('error', () => resolve(undefined));
            upstream.end();
        });
        const rid = answer?.status === 200 ? asObject(parseJson(answer.body))?._rid : undefined;
        if (typeof rid === 'string') {
            this.#collectionRids.set(link, rid);
            return rid;
        }
        return undefined;
    }

    /** Closes the pooled connections to the backend. */
    destroy(): void {
        this.#agent.destroy();
    }
}
