/**
 * Idempotency-Key (IETF httpapi draft) for creates. No lock service: the key decides the document id, so Cosmos DB's
 * uniqueness of ids within a partition settles concurrent retries, and a hash of the body tells a retry from a
 * different request that reuses the key.
 */
import { createHash } from 'node:crypto';

import { badRequest } from './errors.js';

export const MAX_KEY_LENGTH = 255;

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

/** A GUID (UUID version 8: application-defined) from the configuration and the key. */
export function keyedAssignmentId(configurationId: string, key: string): string {
    const hex = createHash('sha256').update(`${configurationId}\n${key}`).digest('hex').slice(0, 32).split('');
    hex[12] = '8';
    hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
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
