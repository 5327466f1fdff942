import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { GraphError } from '../../../lib/graph/errors.js';
import {
    decodeSkipToken,
    encodeSkipToken,
    nextConfigurationsQuery,
    nextPageQuery,
    parseCollectionOptions,
    parseConfigurationEntityOptions,
    parseConfigurationOptions,
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

describe('the configurations collection options', () => {
    const options = (query: string) => parseConfigurationOptions(new URLSearchParams(query), key);

    it('accepts $orderby on priority only, asc or desc, and pages by a signed offset bound to the direction', () => {
        expect(options('')).toEqual({ top: 100, offset: 0, count: false, descending: false });
        expect(options('$orderby=priority').descending).toBe(false);
        expect(options('$orderby=PRIORITY%20asc').descending).toBe(false);
        expect(options('orderby=priority  desc').descending).toBe(true);
        for (const bad of ['displayName', 'priority,id', 'priority sideways', 'x'.repeat(100)]) {
            expect(() => options(`$orderby=${encodeURIComponent(bad)}`)).toThrow(GraphError);
        }
        const next = new URLSearchParams(nextConfigurationsQuery(options('$top=5&$orderby=priority desc'), key, 5));
        expect(next.get('$orderby')).toBe('priority desc');
        expect(options(next.toString())).toMatchObject({ top: 5, offset: 5, descending: true });
        // The same token, read for the other direction or under another key, is refused.
        const token = next.get('$skiptoken') ?? '';
        expect(() => options(`$skiptoken=${encodeURIComponent(token)}`)).toThrow(GraphError);
        expect(() => parseConfigurationOptions(new URLSearchParams(next.toString()), randomBytes(32))).toThrow(
            GraphError,
        );
    });

    it('selects the configuration properties, and refuses the assignment ones', () => {
        expect(options('$select=priority,displayName').select).toEqual(['priority', 'displayName']);
        expect(() => options('$select=target')).toThrow(/microsoft.graph.officeClientConfiguration/);
        expect(parseConfigurationEntityOptions(new URLSearchParams('$select=policyPayload'))).toEqual({
            select: ['policyPayload'],
        });
        // $orderby stays refused on one entity, and on the assignments.
        expect(() => parseConfigurationEntityOptions(new URLSearchParams('$orderby=priority'))).toThrow(GraphError);
        expect(() => parse('$orderby=priority')).toThrow(GraphError);
    });
});
