/**
 * Delta tokens and options (lib/graph/deltaQuery.ts): signed for one collection, refused when forged or moved, and
 * expired with the change log's retention.
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
    checkRetention,
    DEFAULT_DELTA_PAGE_SIZE,
    encodeChangesToken,
    encodeDeltaToken,
    encodeInitialToken,
    parseDeltaOptions,
} from '../../../lib/graph/deltaQuery.js';
import { GraphError } from '../../../lib/graph/errors.js';

const key = randomBytes(32);
const none = new Map<string, string>();
const parse = (query: string, prefer = none, scope = '/c') =>
    parseDeltaOptions(new URLSearchParams(query), prefer, key, scope, ['id', 'displayName'], 'microsoft.graph.x');
const status = (action: () => unknown) => {
    try {
        action();
    } catch (error) {
        return error instanceof GraphError ? `${error.status} ${error.code}` : String(error);
    }
    return 'no error';
};

describe('delta tokens', () => {
    it('carry a number and when it was read, for the collection they were signed for', () => {
        const delta = encodeDeltaToken(key, '/c', { sequence: 42, issued: 1000, retention: 86_400 });
        expect(parse(`$deltatoken=${encodeURIComponent(delta)}`).position).toEqual({
            kind: 'changes',
            sequence: 42,
            issued: 1000,
            retention: 86_400,
        });
        const initial = encodeInitialToken(key, '/c', { sequence: 3, issued: 5, retention: 60 }, 'abc_-');
        expect(parse(`$skiptoken=${initial}`).position).toEqual({
            kind: 'initial',
            sequence: 3,
            issued: 5,
            retention: 60,
            position: 'abc_-',
        });
        expect(
            parse(`$skiptoken=${encodeChangesToken(key, '/c', { sequence: 9, issued: 7, retention: 60 })}`).position,
        ).toEqual({ kind: 'changes', sequence: 9, issued: 7, retention: 60 });
        expect(parse('$deltatoken=latest').position).toEqual({ kind: 'latest' });
    });

    it('refuse a token forged, truncated, of another collection, or of the other kind (400)', () => {
        const delta = encodeDeltaToken(key, '/c', { sequence: 42, issued: 1000, retention: 60 });
        expect(status(() => parse(`$deltatoken=${delta.slice(0, -2)}`))).toBe('400 BadRequest');
        expect(status(() => parse(`$deltatoken=${delta}`, none, '/other'))).toBe('400 BadRequest');
        expect(status(() => parse(`$skiptoken=${delta}`))).toBe('400 BadRequest');
        expect(
            status(() =>
                parse(
                    `$deltatoken=${encodeDeltaToken(randomBytes(32), '/c', { sequence: 1, issued: 1, retention: 60 })}`,
                ),
            ),
        ).toBe('400 BadRequest');
        expect(status(() => parse(`$deltatoken=${delta}&$skiptoken=${delta}`))).toBe('400 BadRequest');
        expect(status(() => parse('$top=5'))).toBe('400 BadRequest');
        expect(status(() => parse(`$deltatoken=${'.'.repeat(100_000)}`))).toBe('400 BadRequest');
    });

    it('expire with the retention, now or when issued, whichever is shorter: 410, telling the client to start over', () => {
        const position = { kind: 'changes' as const, sequence: 1, issued: 0, retention: 86_400 };
        expect(status(() => checkRetention(position, 86_400_000, 86_400))).toBe('no error');
        expect(status(() => checkRetention(position, 86_400_001, 86_400))).toBe('410 SyncStateNotFound');
        // The setting raised since: the records written after the token keep the ttl they were written with.
        expect(status(() => checkRetention(position, 86_400_001, 30 * 86_400))).toBe('410 SyncStateNotFound');
        // Lowered: the records written before go sooner too.
        expect(status(() => checkRetention(position, 3_600_001, 3600))).toBe('410 SyncStateNotFound');
        expect(status(() => checkRetention({ kind: 'latest' }, 1e15, 1))).toBe('no error');
    });

    it('take the page size from Prefer: odata.maxpagesize, ignoring a value that cannot be honoured', () => {
        expect(parse('', new Map([['odata.maxpagesize', '5']])).pageSize).toBe(5);
        expect(parse('', new Map([['odata.maxpagesize', '0']])).pageSize).toBe(DEFAULT_DELTA_PAGE_SIZE);
        expect(parse('', new Map([['odata.maxpagesize', 'x']])).pageSize).toBe(DEFAULT_DELTA_PAGE_SIZE);
        expect(parse('', new Map([['odata.maxpagesize', '5000']])).pageSize).toBe(999);
        expect(parse('$select=DISPLAYNAME').select).toEqual(['displayName']);
        expect(status(() => parse('$select=nope'))).toBe('400 BadRequest');
    });
});
