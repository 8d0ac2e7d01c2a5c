import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook must not reach unless private networks are allowed: this host, the networks around
 * it and the cloud's metadata service. BlockList matches IPv4-mapped IPv6 forms (::ffff:127.0.0.1) too.
 */
const forbidden: [string, string, number, 'ipv4' | 'ipv6'][] = [
  ['this network', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['carrier-grade NAT', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local (cloud metadata)', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['protocol-assignment', '192.0.0.0', 24, 'ipv4'],
  ['benchmarking', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved (broadcast)', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unique-local', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  // A NAT64 gateway turns 64:ff9b::a.b.c.d into a.b.c.d, whatever network that is in.
  ['NAT64', '64:ff9b::', 96, 'ipv6'],
];
const lists = forbidden.map(([name, network, prefix, type]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { name, list };
});

/** Why `address` (an IP) is no place for a webhook, or undefined if it is a public address. */
export function forbiddenAddress(address: string): string | undefined {
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const hit = lists.find(({ list }) => list.check(address, type));
  return hit && `${address} is a ${hit.name} address`;
}

/** Thrown when a webhook's destination is a forbidden address; the message says which and why. */
export class ForbiddenDestinationError extends Error {
  override name = 'ForbiddenDestinationError';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request that refuses names resolving to a forbidden address. The check is on
 * the addresses the socket then connects to, so a name that resolves differently on a second look (DNS
 * rebinding) gains nothing. IP literals are never looked up: check them with forbiddenAddress first.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const refusal = addresses.map((a) => forbiddenAddress(a.address)).find(Boolean);
    if (refusal) return callback(new ForbiddenDestinationError(`${hostname} resolves to ${refusal}`), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}
