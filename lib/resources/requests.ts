/**
 * What every resource reads from a request the same way: a validated JSON body, `If-Match`, `Prefer`.
 */
import { badRequest, GraphError } from '../graph/errors.js';
import { type BodyKind, validateBody } from '../graph/validation.js';
import { MAX_BODY_BYTES, readJsonBody } from '../http/body.js';
import type { OperationCall } from '../http/pipeline.js';
import { prefersRepresentation } from '../http/prefer.js';

/**
 * The body, read within `limit` bytes and checked against its kind's schema: a 400 naming every violation.
 * `precheck` sees the body first, for a refusal clearer than the schema's (the abstract type, by name).
 */
export async function validBody<T>(
    call: OperationCall,
    kind: BodyKind,
    limit = MAX_BODY_BYTES,
    precheck?: (body: unknown) => void,
): Promise<T> {
    const body = await readJsonBody(call.request, limit, call.body);
    precheck?.(body);
    const result = validateBody(kind, body);
    if (!result.valid) {
        const [first] = result.details;
        const more = result.details.length > 1 ? ` (and ${result.details.length - 1} more, see details)` : '';
        throw badRequest(
            `Invalid request body: ${first?.message ?? 'it does not match the schema.'}${more}`,
            result.details,
        );
    }
    return body as T;
}

/** RFC 9110 entity-tag: optional W/, then a quoted run of etagc (printable ASCII but the quote, and obs-text). */
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** `If-Match`: one ETag or `*`; the quotes are optional on input, as several clients drop them. */
export function ifMatchOf(call: OperationCall): string | undefined {
    const value = call.request.headers.get('if-match')?.trim();
    if (value === undefined || value === '') {
        return undefined;
    }
    if (value === '*') {
        return '*';
    }
    if (value.includes(',')) {
        throw badRequest('If-Match must carry a single ETag or *.');
    }
    // A weak tag stays weak, so it never equals a stored (strong) ETag: If-Match compares strongly (RFC 9110).
    const tag = value.startsWith('W/') || value.startsWith('"') ? value : `"${value}"`;
    // RFC 9110 entity-tag: it is sent on to Cosmos DB as the write's condition, and must be one there too.
    if (!ENTITY_TAG.test(tag)) {
        throw badRequest('If-Match must carry an entity tag ("…", printable characters) or *.');
    }
    return tag;
}

/**
 * `If-None-Match: *` on a change: the client asks for it only where nothing is there yet, so RFC 9110 (section
 * 13.1.2) makes it a 412 where the target exists. A missing target is a 404 first: preconditions count only where
 * the request would otherwise succeed.
 */
export function ifNoneMatchAny(call: OperationCall): boolean {
    return call.request.headers.get('if-none-match')?.trim() === '*';
}

export const existsAlready = (what: string) =>
    new GraphError('PreconditionFailed', `If-None-Match: * does not hold: the ${what} exists.`);

export function wantsRepresentation(call: OperationCall): boolean {
    return prefersRepresentation(call.request.headers.get('prefer'));
}

/** An Idempotency-Key seen before with another body, on any keyed create. */
export const keyReusedForAnotherBody = () =>
    new GraphError(
        'UnprocessableEntity',
        'The Idempotency-Key was already used for a different request body; use a new key for a new request.',
    );
