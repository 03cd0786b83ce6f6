import { BlockList, isIP } from 'node:net';

/** Loopback peers are always trusted: the REST adapter and a local proxy reach the gateway that way. */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export type ClientIpResolver = (peerAddress: string | undefined, forwardedFor: string | readonly string[] | undefined) => string | undefined;

/**
 * Parses `TRUSTED_PROXIES` entries (IP addresses or CIDR ranges); throws a TypeError naming each bad entry so the
 * config can report them all.
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  const bad: string[] = [];
  for (const entry of [...LOOPBACK, ...entries]) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (family === 0 || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      bad.push(entry);
      continue;
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  if (bad.length > 0) throw new TypeError(`not an IP address or CIDR range: ${bad.join(', ')}`);
  return list;
}

/**
 * The client's address: the socket peer, unless the peer is a trusted proxy, in which case X-Forwarded-For is
 * read from the right, skipping further trusted proxies, and the first untrusted hop is the client. With one proxy
 * in front (the REST adapter) that is X-Forwarded-For's first hop; walking from the right means a client cannot
 * choose its own address by sending a forged header through a proxy that appends to it.
 */
export function createClientIpResolver(trustedProxies: BlockList): ClientIpResolver {
  const trusted = (address: string) => trustedProxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return (peerAddress, forwardedFor) => {
    let client = normalizeAddress(peerAddress);
    if (client === undefined || !trusted(client)) return client;
    const hops = forwardedHops(forwardedFor);
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = normalizeAddress(hops[index]);
      // A malformed entry ends the walk: whatever lies left of it cannot be attributed to a trusted proxy.
      if (hop === undefined) break;
      client = hop;
      if (!trusted(hop)) break;
    }
    return client;
  };
}

function forwardedHops(header: string | readonly string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = typeof header === 'string' ? header : header.join(',');
  return joined.split(',').map((hop) => hop.trim()).filter((hop) => hop.length > 0);
}

/** A bare IP address, with IPv4-mapped IPv6 unwrapped and an optional port (`1.2.3.4:80`, `[::1]:80`) dropped. */
export function normalizeAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let address = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(address);
  if (mapped) address = mapped[1]!;
  return isIP(address) === 0 ? undefined : address.toLowerCase();
}
