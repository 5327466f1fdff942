import { describe, expect, it } from 'vitest';

import { parsePrefer, prefersRepresentation } from '../../../lib/http/prefer.js';

describe('the Prefer header (RFC 7240)', () => {
    it('honours return=representation as a token or a quoted string, in any case, among other preferences', () => {
        for (const header of [
            'return=representation',
            'return="representation"',
            'RETURN = Representation',
            'respond-async, return=representation; foo=bar',
            'odata.maxpagesize=5,return=representation',
            'wait=10, return="representation"',
        ]) {
            expect(prefersRepresentation(header), header).toBe(true);
        }
    });

    it('does not read a longer value, a parameter or another preference as return=representation', () => {
        for (const header of [
            null,
            '',
            'return=minimal',
            'return=representation-x',
            'return=representationx',
            ';return=representation',
            'foo;return=representation',
            'x-return=representation',
            'foo="a,return=representation"',
            'return=minimal, return=representation',
        ]) {
            expect(prefersRepresentation(header), String(header)).toBe(false);
        }
    });

    it('reads names and values, keeping quoted commas and escapes inside the value', () => {
        expect([...parsePrefer('a, b=1, c="x,\\"y", d=2;p=q')]).toEqual([
            ['a', ''],
            ['b', '1'],
            ['c', 'x,"y'],
            ['d', '2'],
        ]);
    });

    it('reads a long header in one pass', () => {
        const header = `${'return=representation;'.repeat(5_000)}${',"'.repeat(5_000)}`;
        expect(prefersRepresentation(header)).toBe(true);
    });
});
