/**
 * Where a notification may not be sent in Azure: every address range that is not the public internet, kept as data
 * with its source, as the platform publishes it. A subscriber names its `notificationUrl`, so without this list a
 * caller with read permission could make the service POST into its own network (the Cosmos DB account's private
 * endpoint, the instance metadata service, the platform's wire server).
 */
import { BlockList, isIP, SocketAddress } from 'node:net';

export interface AddressRange {
    /** CIDR: `10.0.0.0/8`, `fc00::/7`. */
    range: string;
    /** Why it is refused, as said in the refusal. */
    name: string;
    source: string;
}

const RFC6890 = 'https://www.iana.org/assignments/iana-ipv4-special-registry';
const RFC6890_V6 = 'https://www.iana.org/assignments/iana-ipv6-special-registry';

export const REFUSED_RANGES: readonly AddressRange[] = [
    { range: '0.0.0.0/8', name: '"this network"', source: RFC6890 },
    { range: '10.0.0.0/8', name: 'private', source: 'RFC 1918' },
    { range: '100.64.0.0/10', name: 'shared (carrier-grade NAT)', source: 'RFC 6598' },
    { range: '127.0.0.0/8', name: 'loopback', source: RFC6890 },
    {
        range: '169.254.0.0/16',
        name: 'link-local (the instance metadata service is 169.254.169.254)',
        source: 'RFC 3927; https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service',
    },
    { range: '172.16.0.0/12', name: 'private', source: 'RFC 1918' },
    { range: '192.0.0.0/24', name: 'IETF protocol assignments', source: RFC6890 },
    { range: '192.0.2.0/24', name: 'documentation', source: 'RFC 5737' },
    { range: '192.168.0.0/16', name: 'private', source: 'RFC 1918' },
    { range: '198.18.0.0/15', name: 'benchmarking', source: 'RFC 2544' },
    { range: '198.51.100.0/24', name: 'documentation', source: 'RFC 5737' },
    { range: '203.0.113.0/24', name: 'documentation', source: 'RFC 5737' },
    { range: '224.0.0.0/4', name: 'multicast', source: 'RFC 5771' },
    { range: '240.0.0.0/4', name: 'reserved (and broadcast)', source: 'RFC 1112; RFC 919' },
    {
        range: '168.63.129.16/32',
        name: "Azure's platform address (wire server)",
        source: 'https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16',
    },
    { range: '::/128', name: 'unspecified', source: RFC6890_V6 },
    { range: '::1/128', name: 'loopback', source: RFC6890_V6 },
    { range: '::ffff:0:0:0/96', name: 'IPv4-translated (reaches IPv4 inside)', source: 'RFC 2765' },
    { range: '64:ff9b::/96', name: 'NAT64 (reaches IPv4 inside)', source: 'RFC 6052' },
    { range: '64:ff9b:1::/48', name: 'local-use NAT64', source: 'RFC 8215' },
    { range: '100::/64', name: 'discard-only', source: 'RFC 6666' },
    { range: '2001::/32', name: 'Teredo (reaches IPv4 inside through a relay)', source: 'RFC 4380' },
    { range: '2001:db8::/32', name: 'documentation', source: 'RFC 3849' },
    { range: '2002::/16', name: '6to4 (reaches IPv4 inside)', source: 'RFC 3056' },
    { range: 'fc00::/7', name: 'unique local (private)', source: 'RFC 4193' },
    { range: 'fe80::/10', name: 'link-local', source: 'RFC 4291' },
    { range: 'fec0::/10', name: 'site-local', source: 'RFC 3879' },
    { range: 'ff00::/8', name: 'multicast', source: 'RFC 4291' },
    {
        range: 'fd00:ec2::254/128',
        name: 'a cloud metadata service (IPv6)',
        source: 'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html',
    },
];

const lists = REFUSED_RANGES.map((r) => {
    const [network = '', prefix = ''] = r.range.split('/');
    const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    const list = new BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { list, family, range: r };
});

/**
 * The IPv4 address an IPv6 one carries as IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2), or IPv4-compatible
 * (`::a.b.c.d`, deprecated): either reaches that IPv4 host, so it is judged as it.
 */
function embeddedIpv4(address: string): string | undefined {
    const lower = address.toLowerCase();
    const dotted = /^::(?:ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
    if (dotted?.[1]) {
        return dotted[1];
    }
    const hex = /^::(?:ffff:)?([\da-f]{1,4}):([\da-f]{1,4})$/.exec(lower);
    if (hex?.[1] && hex[2]) {
        const high = parseInt(hex[1], 16);
        const low = parseInt(hex[2], 16);
        return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
    }
    return undefined;
}

/** The refused range an address is in, or undefined for a public address. Not an IP address: refused too. */
export function refusedRangeOf(address: string): AddressRange | undefined {
    const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
    const version = isIP(bare);
    if (version === 0) {
        return { range: bare, name: 'not an IP address', source: 'RFC 791; RFC 4291' };
    }
    // Canonical first (`0:0:0:0:0:ffff:a00:1` → `::ffff:10.0.0.1`): a resolver may spell an address either way.
    const v4 = version === 6 ? embeddedIpv4(new SocketAddress({ address: bare, family: 'ipv6' }).address) : bare;
    const [candidate, family] = v4 !== undefined ? [v4, 'ipv4'] : [bare, 'ipv6'];
    return lists.find((l) => l.family === family && l.list.check(candidate, family as 'ipv4' | 'ipv6'))?.range;
}

/** 127.0.0.0/8 and ::1 (IPv4-mapped too): the local host's own loopback receivers. */
export function isLoopbackAddress(address: string): boolean {
    const range = refusedRangeOf(address);
    return range?.range === '127.0.0.0/8' || range?.range === '::1/128';
}
