/**
 * Reading a JSON request body the way Graph does: media type first (415), then size (413), then syntax (400).
 */
import type { HttpRequest } from '@azure/functions';

import { badRequest, GraphError } from './errors.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** One decoder for every request: a non-streaming decode keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** `application/json`, with parameters (`charset=utf-8`, `odata.metadata=minimal`) allowed. */
export function isJsonMediaType(contentType: string | null): boolean {
    return contentType !== null && /^application\/json\s*(;|$)/i.test(contentType.trim());
}

function tooLarge(): GraphError {
    return new GraphError('RequestEntityTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
}

export async function readJsonBody(request: HttpRequest): Promise<unknown> {
    const contentType = request.headers.get('content-type');
    if (!isJsonMediaType(contentType)) {
        throw new GraphError(
            'UnsupportedMediaType',
            contentType === null
                ? "Write requests must carry the header 'Content-Type: application/json'."
                : `The media type '${contentType}' is not supported; use 'application/json'.`,
        );
    }
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > MAX_BODY_BYTES) {
        throw tooLarge();
    }
    const bytes = Buffer.from(await request.arrayBuffer());
    if (bytes.byteLength > MAX_BODY_BYTES) {
        throw tooLarge();
    }
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
