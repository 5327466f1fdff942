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
 * Reads the body through the stream, stopping as soon as it passes the limit: a 50 MB upload costs the server
 * 64 KiB, not 50 MB (the host then closes the connection rather than read the rest). A stream that fails is
 * the client's doing (it went away, or went quiet: the host's timeouts fail the stream with a GraphError).
 */
async function readLimited(request: HttpRequest, limit: number): Promise<Uint8Array> {
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > limit) {
        throw tooLarge(limit);
    }
    const stream = request.body;
    if (stream === null) {
        return new Uint8Array(0);
    }
    // The lock is never released: the body is read once, here, and releasing it costs an Error with its stack
    // (WHATWG Streams reject the reader's `closed` promise with a TypeError), on every request.
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
        for (;;) {
            const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
            if (done || value === undefined) {
                break;
            }
            size += value.byteLength;
            if (size > limit) {
                void reader.cancel().catch(() => undefined);
                throw tooLarge(limit);
            }
            chunks.push(value);
        }
    } catch (error) {
        if (error instanceof GraphError) {
            throw error;
        }
        throw badRequest('The request body ended before it was complete.');
    }
    if (chunks.length === 1) {
        return chunks[0] as Uint8Array;
    }
    return Buffer.concat(chunks, size);
}

/** A body of any media type, as bytes (a stream property's content), within `limit`. */
export async function readBytes(request: HttpRequest, limit: number): Promise<Uint8Array> {
    return await readLimited(request, limit);
}

/** `limit`: the route's own (64 KiB unless it says otherwise; `$batch` carries several requests). */
export async function readJsonBody(request: HttpRequest, limit = MAX_BODY_BYTES): Promise<unknown> {
    const contentType = request.headers.get('content-type');
    if (!isJsonMediaType(contentType)) {
        throw new GraphError(
            'UnsupportedMediaType',
            contentType === null
                ? "Write requests must carry the header 'Content-Type: application/json'."
                : `The media type '${contentType}' is not supported; use 'application/json'.`,
        );
    }
    const bytes = await readLimited(request, limit);
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
