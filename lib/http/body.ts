/**
 * Reading a JSON request body the way Graph does: media type first (415), then declared size (413), and only then
 * the body itself, never more than the limit (413 as soon as it is passed), then syntax (400). The limit is each
 * route's own, known before a byte is read: 64 KiB unless the operation says otherwise (a configuration's create
 * carries its payloads inline; a payload PUT is the payload itself).
 */
import type { HttpRequest } from '@azure/functions';

import { badRequest, GraphError } from '../graph/errors.js';

/** The limit of every JSON body, unless its route sets another. */
export const MAX_BODY_BYTES = 64 * 1024;

/** One decoder for every request: a non-streaming decode keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** `application/json`, with parameters (`charset=utf-8`, `odata.metadata=minimal`) allowed. */
export function isJsonMediaType(contentType: string | null): boolean {
    return contentType !== null && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

function tooLarge(limit: number): GraphError {
    return new GraphError('RequestEntityTooLarge', `The request body is larger than ${limit} bytes.`);
}

/**
 * How the pipeline times a body (lib/http/pipeline): the body has its own time, `timeoutMs` from when it is first
 * asked for (a slow body is the client's 408, not the server's 503), and the store's budget waits while it arrives.
 */
export interface BodyTiming {
    timeoutMs?: number;
    /** The body is being read: the store's budget waits. */
    reading(): void;
    /** The body is in: the store's budget starts. */
    read(): void;
}

/**
 * What is discarded of a body refused part-way (too large, too slow) before it is let go: enough for a client that
 * sent a little too much to find its connection clean and kept alive, little enough that a 50 MB upload costs the
 * server no more than this.
 */
const DRAIN_BYTES = 4 * MAX_BODY_BYTES;
/** Long enough for the answer to have been written: letting go of the body then closes the connection under it. */
const DRAIN_MS = 2000;

/**
 * Lets go of a body refused part-way without destroying the request now: cancelling a stream the Functions worker's
 * HTTP proxy made from its request destroys that request, and its connection could take the answer with it. The
 * rest is read and discarded in the background up to DRAIN_BYTES, and the stream cancelled after DRAIN_MS if it
 * has not ended: by then the answer is out.
 */
function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): void {
    let ended = false;
    const letGo = setTimeout(() => {
        if (!ended) {
            void reader.cancel().catch(() => undefined);
        }
    }, DRAIN_MS);
    letGo.unref();
    void (async () => {
        let drained = 0;
        try {
            while (drained <= DRAIN_BYTES) {
                const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
                if (done) {
                    break;
                }
                drained += value?.byteLength ?? 0;
            }
            ended = drained <= DRAIN_BYTES;
        } catch {
            ended = true; // the stream failed: nothing is left to let go of
        }
        if (ended) {
            clearTimeout(letGo);
        }
    })();
}

const bodyTimeout = () =>
    new GraphError('RequestTimeout', 'The request body was not received in time; send it again, without pausing.');

/** A promise rejected with a 408 after `ms`, and how to stop its timer. */
function expiry(ms: number): { expired: Promise<never>; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(bodyTimeout()), ms);
    });
    expired.catch(() => undefined); // raced on each read; never left unhandled
    return { expired, stop: () => clearTimeout(timer) };
}

/** Refused by this reader while the stream was still good (too large, too slow): the rest is left to discardRest. */
class Refused extends Error {
    constructor(readonly graphError: GraphError) {
        super(graphError.message);
    }
}

/**
 * Reads the body through the stream, stopping as soon as it passes the limit: a 50 MB upload costs the server
 * 64 KiB and what discardRest lets through, not 50 MB. A stream that fails is the client's doing (it went away, or
 * went quiet: the host's idle timeout fails the stream with a GraphError); a body not in within its time is a 408.
 */
async function readLimited(request: HttpRequest, limit: number, timing?: BodyTiming): Promise<Uint8Array> {
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > limit) {
        throw tooLarge(limit);
    }
    const stream = request.body;
    if (stream === null) {
        return new Uint8Array(0);
    }
    timing?.reading();
    // The lock is never released: the body is read once, here, and releasing it costs an Error with its stack
    // (WHATWG Streams reject the reader's `closed` promise with a TypeError), on every request.
    const reader = stream.getReader();
    const clock = timing?.timeoutMs === undefined ? undefined : expiry(timing.timeoutMs);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const timedOut = clock?.expired.catch((error: unknown) => Promise.reject(new Refused(error as GraphError)));
    timedOut?.catch(() => undefined); // raced on each read; never left unhandled
    try {
        for (;;) {
            const next = reader.read() as Promise<{ done: boolean; value?: Uint8Array }>;
            const { done, value } = await (timedOut ? Promise.race([next, timedOut]) : next);
            if (done || value === undefined) {
                break;
            }
            size += value.byteLength;
            if (size > limit) {
                throw new Refused(tooLarge(limit));
            }
            chunks.push(value);
        }
    } catch (error) {
        if (error instanceof Refused) {
            discardRest(reader);
            throw error.graphError;
        }
        if (error instanceof GraphError) {
            throw error; // the host failed the stream (its idle timeout)
        }
        throw badRequest('The request body ended before it was complete.');
    } finally {
        clock?.stop();
    }
    timing?.read();
    if (chunks.length === 1) {
        return chunks[0] as Uint8Array;
    }
    return Buffer.concat(chunks, size);
}

/** A body of any media type, as bytes (a stream property's content), within `limit`. */
export async function readBytes(request: HttpRequest, limit: number, timing?: BodyTiming): Promise<Uint8Array> {
    return await readLimited(request, limit, timing);
}

/** `limit`: the route's own (64 KiB unless it says otherwise; `$batch` carries several requests). */
export async function readJsonBody(
    request: HttpRequest,
    limit = MAX_BODY_BYTES,
    timing?: BodyTiming,
): Promise<unknown> {
    const contentType = request.headers.get('content-type');
    if (!isJsonMediaType(contentType)) {
        throw new GraphError(
            'UnsupportedMediaType',
            contentType === null
                ? "Write requests must carry the header 'Content-Type: application/json'."
                : `The media type '${contentType}' is not supported; use 'application/json'.`,
        );
    }
    const bytes = await readLimited(request, limit, timing);
    let json: string;
    try {
        json = UTF8.decode(bytes);
    } catch {
        throw badRequest('The request body is not valid UTF-8.');
    }
    if (json.trim() === '') {
        throw badRequest('The request body is empty; a JSON object is expected.');
    }
    try {
        return JSON.parse(json) as unknown;
    } catch {
        throw badRequest('The request body is not valid JSON.');
    }
}
