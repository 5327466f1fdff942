/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for creates: of an assignment (a key names one request
 * within its configuration) and of a configuration (within the tenant). A key names one request for
 * KEY_LIFETIME_SECONDS after its first use:
 * - a retry with the same key and the same body gets the first response again (201, the same id, Location and
 *   body, `Idempotent-Replayed: true`), whatever happened to what it created since (a PATCH does not show, a DELETE
 *   does not make the retry create it again); the ETag is sent only while that is still as created;
 * - the same key with another body is a 422;
 * - after the lifetime the key is free, and a request with it is a new request.
 * No lock service: the key decides the id of a record, created in the same transactional batch as what the request
 * creates (an assignment's batch, in its configuration's partition; a configuration's tenant batch, in the tenant
 * partition), so Cosmos DB's uniqueness of ids within a partition settles concurrent retries, on any instance. The
 * record holds a hash of the body and the first response, and a `ttl` so that Cosmos DB removes it after the
 * lifetime.
 */
import { createHash } from 'node:crypto';

import { badRequest } from '../graph/errors.js';
import { KEY_RECORD_ID_PREFIX } from './assignmentStore.js';

export const MAX_KEY_LENGTH = 255;

/** How long a key names its first request: a day, as long as clients retry a create in practice. */
export const KEY_LIFETIME_SECONDS = 24 * 60 * 60;

/** The id of a key's record (in a configuration's partition, or the tenant's): no GUID, so no entity id is one. */
export function keyRecordId(key: string): string {
    return `${KEY_RECORD_ID_PREFIX}${createHash('sha256').update(key).digest('hex')}`;
}

/** The header is a Structured Field string (`"abc"`); the bare token many clients send is accepted too. */
export function idempotencyKeyOf(header: string | null): string | undefined {
    if (header === null) {
        return undefined;
    }
    const value = header.trim();
    const key = /^"(.*)"$/.exec(value)?.[1] ?? value;
    if (key.trim() === '' || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
        throw badRequest(`The Idempotency-Key header must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters.`);
    }
    return key;
}

/** JSON with object keys sorted at every level: two bodies that differ only in order or spacing hash alike. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(',')}]`;
    }
    if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
        );
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
    }
    return JSON.stringify(value);
}

export function requestHash(body: unknown): string {
    return createHash('sha256').update(canonical(body)).digest('base64url');
}
