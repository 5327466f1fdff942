import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { GraphError } from '../../../lib/graph/errors.js';
import {
    decodeSkipToken,
    encodeSkipToken,
    nextPageQuery,
    parseCollectionOptions,
    parseEntityOptions,
} from '../../../lib/graph/queryOptions.js';

const key = randomBytes(32);
const parse = (query: string) => parseCollectionOptions(new URLSearchParams(query), 'cfg', key);

describe('query options', () => {
    it('defaults to 100 items, no count, every property', () => {
        expect(parse('')).toEqual({ top: 100, count: false });
    });

    it('reads options with or without $, in any case, and keeps custom options out of the way', () => {
        expect(parse('top=5&$COUNT=TRUE&Select=target,ID&custom=1')).toEqual({
            top: 5,
            count: true,
            select: ['target', 'id'],
        });
    });

    it('round-trips a skiptoken and refuses one that was altered or moved', () => {
        const token = encodeSkipToken(key, 'cfg', '{"token":"+RID:~abc==#RT:1","range":{"min":"","max":"FF"}}');
        expect(decodeSkipToken(key, 'cfg', token)).toBe('{"token":"+RID:~abc==#RT:1","range":{"min":"","max":"FF"}}');
        expect(() => decodeSkipToken(key, 'other', token)).toThrow(GraphError);
        expect(() => decodeSkipToken(key, 'cfg', `x${token}`)).toThrow(GraphError);
        expect(() => decodeSkipToken(key, 'cfg', token.slice(0, -1))).toThrow(GraphError);
        expect(() => decodeSkipToken(key, 'cfg', `${token}.x`)).toThrow(GraphError);
        expect(() => decodeSkipToken(key, 'cfg', '')).toThrow(GraphError);
        expect(parse(`$skiptoken=${encodeURIComponent(token)}`).continuation).toContain('RID');
    });

    it('refuses a token forged without the key, even one checksummed as tokens once were', () => {
        const continuation = '{"token":"+RID:~forged==#RT:9","range":{"min":"","max":"FF"}}';
        const payload = Buffer.from(continuation).toString('base64url');
        const unkeyed = createHash('sha256').update(`cfg\n${payload}`).digest('base64url').slice(0, 22);
        expect(() => decodeSkipToken(key, 'cfg', `${payload}.${unkeyed}`)).toThrow(GraphError);
        // Another deployment's key signs tokens this one refuses.
        expect(() => decodeSkipToken(key, 'cfg', encodeSkipToken(randomBytes(32), 'cfg', continuation))).toThrow(
            GraphError,
        );
    });

    it('writes the next page query with the client options', () => {
        expect(nextPageQuery({ top: 10, count: true, select: ['id'] }, 'a.b')).toBe(
            '$top=10&$count=true&$select=id&$skiptoken=a.b',
        );
    });

    it('reads $select=* as every property', () => {
        expect(parse('$select=*')).toEqual({ top: 100, count: false });
    });

    it('allows only $select on a single entity', () => {
        expect(parseEntityOptions(new URLSearchParams('$select=id'))).toEqual({ select: ['id'] });
        expect(() => parseEntityOptions(new URLSearchParams('$top=1'))).toThrow(/not supported/);
        expect(() => parseEntityOptions(new URLSearchParams('$format=xml'))).toThrow(/format/);
    });
});
