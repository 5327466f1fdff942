/**
 * The address ranges a notification may never be sent to (lib/notifications/addressRanges.ts): every range of the
 * list refuses its own first address and says why; public addresses pass; an IPv6 address that carries an IPv4 one
 * (IPv4-mapped or -compatible, in any spelling) is judged as that IPv4 address; anything that is not an address is
 * refused. Pure functions: no traffic at all.
 */
import { describe, expect, it } from 'vitest';

import { isLoopbackAddress, REFUSED_RANGES, refusedRangeOf } from '../../../lib/notifications/addressRanges.js';

/** A range listed inside an earlier, wider one is reported as the wider one (the first match wins). */
const COVERED_BY: Record<string, string> = { 'fd00:ec2::254/128': 'fc00::/7' };

describe('REFUSED_RANGES', () => {
    it.each(REFUSED_RANGES.map((r) => [r.range, r] as const))('%s refuses its first address, named', (range, r) => {
        expect(r.name.trim()).not.toBe('');
        expect(r.source.trim()).not.toBe('');
        const [first = ''] = range.split('/');
        const found = refusedRangeOf(first);
        expect(found, first).toBeDefined();
        expect(found?.range).toBe(COVERED_BY[range] ?? range);
        expect(found?.name.trim()).not.toBe('');
    });

    it('lists each range once', () => {
        const ranges = REFUSED_RANGES.map((r) => r.range);
        expect(new Set(ranges).size).toBe(ranges.length);
    });
});

describe('refusedRangeOf', () => {
    it.each(['8.8.8.8', '1.1.1.1', '20.0.0.1', '2606:4700:4700::1111', '[2606:4700:4700::1111]', '::ffff:8.8.8.8'])(
        'lets the public address %s pass',
        (address) => {
            expect(refusedRangeOf(address)).toBeUndefined();
        },
    );

    it.each([
        ['::ffff:10.0.0.1', '10.0.0.0/8'],
        ['::ffff:a00:1', '10.0.0.0/8'],
        ['::FFFF:A00:1', '10.0.0.0/8'],
        ['[::ffff:a00:1]', '10.0.0.0/8'],
        ['::ffff:169.254.169.254', '169.254.0.0/16'],
        ['::ffff:a9fe:a9fe', '169.254.0.0/16'],
        ['::ffff:127.0.0.1', '127.0.0.0/8'],
        ['::ffff:7f00:1', '127.0.0.0/8'],
        ['::ffff:168.63.129.16', '168.63.129.16/32'],
        ['::10.0.0.1', '10.0.0.0/8'],
        ['::a00:1', '10.0.0.0/8'],
    ])('judges %s as the IPv4 address it carries (%s)', (address, range) => {
        expect(refusedRangeOf(address)?.range).toBe(range);
    });

    it.each([
        ['0:0:0:0:0:ffff:10.0.0.1', '10.0.0.0/8'],
        ['0:0:0:0:0:ffff:a00:1', '10.0.0.0/8'],
        ['0::ffff:a9fe:a9fe', '169.254.0.0/16'],
        ['0:0:0:0:0:FFFF:7F00:0001', '127.0.0.0/8'],
    ])('judges the uncompressed IPv4-mapped form %s as its IPv4 address too (%s)', (address, range) => {
        expect(refusedRangeOf(address)?.range).toBe(range);
    });

    it.each([
        ['[::1]', '::1/128'],
        ['::1', '::1/128'],
        ['0:0:0:0:0:0:0:1', '::1/128'],
        ['::', '::/128'],
        ['fe80::1', 'fe80::/10'],
        ['FE80::1', 'fe80::/10'],
        ['fd12:3456::1', 'fc00::/7'],
        ['fd00:ec2::254', 'fc00::/7'],
        ['64:ff9b::a00:1', '64:ff9b::/96'],
        ['2002:a00:1::1', '2002::/16'],
    ])('refuses the IPv6 address %s (%s)', (address, range) => {
        expect(refusedRangeOf(address)?.range).toBe(range);
    });

    it.each([
        ['168.63.129.16', "Azure's platform address (wire server)"],
        ['169.254.169.254', 'link-local (the instance metadata service is 169.254.169.254)'],
        ['10.255.255.255', 'private'],
        ['172.31.0.1', 'private'],
        ['192.168.1.1', 'private'],
        ['100.127.255.255', 'shared (carrier-grade NAT)'],
        ['127.1.2.3', 'loopback'],
        ['255.255.255.255', 'reserved (and broadcast)'],
    ])('refuses %s as %s', (address, name) => {
        expect(refusedRangeOf(address)?.name).toBe(name);
    });

    it.each(['172.32.0.1', '100.128.0.1', '168.63.129.17', '11.0.0.1', '192.169.0.1'])(
        'lets %s, just outside a refused range, pass',
        (address) => {
            expect(refusedRangeOf(address)).toBeUndefined();
        },
    );

    it.each([
        '',
        'not-an-ip',
        'localhost',
        'example.com',
        '999.1.1.1',
        '10.0.0',
        '[10.0.0.1',
        '::ffff:999.0.0.1',
        '[::1',
    ])('refuses %j, which is not an IP address', (garbage) => {
        const found = refusedRangeOf(garbage);
        expect(found).toBeDefined();
        expect(found?.name).toBe('not an IP address');
    });
});

describe('isLoopbackAddress', () => {
    it.each(['127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.1', '::ffff:7f00:1'])(
        '%s is loopback',
        (a) => {
            expect(isLoopbackAddress(a)).toBe(true);
        },
    );

    it.each(['10.0.0.1', '8.8.8.8', '::', 'localhost', '169.254.169.254', 'fe80::1'])('%s is not', (a) => {
        expect(isLoopbackAddress(a)).toBe(false);
    });
});
