import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges an outbound request from the platform must never reach unless private networks are
 * explicitly allowed: this host, the operator's private networks, the cloud metadata service
 * (169.254.169.254 is inside link-local) and addresses that are not unicast on the internet.
 */
const V4_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. the metadata service 169.254.169.254
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast 255.255.255.255
];

const V6_BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['::', 96], // unspecified ::, loopback ::1 and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo (tunnels to an IPv4 address chosen by the packet)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

function v4Hex(address: string): [string, string] {
  const [a = 0, b = 0, c = 0, d = 0] = address.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

function buildBlockList(): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of V4_BLOCKED) {
    list.addSubnet(address, prefix, 'ipv4');
    // The same IPv4 ranges written inside IPv6 forms that reach them: IPv4-mapped (also matched
    // by BlockList itself, listed to not depend on it), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
    const [hi, lo] = v4Hex(address);
    list.addSubnet(`::ffff:${hi}:${lo}`, 96 + prefix, 'ipv6');
    list.addSubnet(`64:ff9b::${hi}:${lo}`, 96 + prefix, 'ipv6');
    list.addSubnet(`2002:${hi}:${lo}::`, 16 + prefix, 'ipv6');
  }
  for (const [address, prefix] of V6_BLOCKED) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

const BLOCKED = buildBlockList();

/**
 * Whether an outbound request must not connect to `ip` (loopback, private, CGNAT, link-local and
 * metadata, unique-local, multicast, reserved, and IPv6 forms embedding those). Anything that is
 * not an IP address is blocked too: the check fails closed. An IPv6 zone id (`fe80::1%eth0`) is
 * ignored.
 */
export function isBlockedAddress(ip: string): boolean {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const bare = address.split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family === 6) return BLOCKED.check(bare, 'ipv6');
  return true;
}
