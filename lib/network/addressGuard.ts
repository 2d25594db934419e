import dns from 'node:dns/promises';
import net from 'node:net';
import { parseCidr, toBlockList, type CidrRange } from './cidr';

/**
 * Ranges that are not on the public internet. For IPv4 these are "this network" (with the
 * unspecified address 0.0.0.0), private (RFC 1918), carrier-grade NAT, loopback, link-local (with
 * cloud metadata addresses such as 169.254.169.254), benchmarking, multicast and reserved. For
 * IPv6 they are unspecified, loopback, IPv4-compatible, NAT64, unique local (ULA), link-local and
 * multicast. IPv4-mapped IPv6 addresses are checked as their IPv4 address.
 */
const nonPublicRangeTexts = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/96',
  '64:ff9b::/96',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

const nonPublicRanges = toBlockList(nonPublicRangeTexts.map((text) => parseCidr(text) as CidrRange));

export type LookupAddresses = (hostname: string) => Promise<string[]>;

export type AddressCheck = { allowed: true; addresses: string[] } | { allowed: false; reason: string };

/** Resolves every IPv4 and IPv6 address of `hostname` with the system resolver. */
export async function lookupAllAddresses(hostname: string): Promise<string[]> {
  const results = await dns.lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => result.address);
}

/** Returns true when `address` is an IP address outside the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const checked = unmapIpv4(address);
  return nonPublicRanges.check(checked, familyOf(checked));
}

/**
 * Returns the IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, also written
 * `::ffff:7f00:1` or in full), and any other address unchanged.
 */
export function unmapIpv4(address: string): string {
  if (!net.isIPv6(address)) {
    return address;
  }
  const compressed = new URL(`http://[${address}]/`).hostname.slice(1, -1).toLowerCase();
  const match = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (match === null) {
    return address;
  }
  const high = parseInt(match[1], 16);
  const low = parseInt(match[2], 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * Checks that every address of `url`'s host is public or inside one of
 * `allowedPrivateRanges` (CIDR strings), so that a destination cannot reach internal
 * services unless the connectors file allows it. Literal IP hosts are checked without DNS.
 * The caller connects to the returned addresses only, and resolves the host no second time,
 * so that a DNS answer that changes after the check (DNS rebinding) is not used.
 */
export async function checkDestinationAddress(
  url: string,
  allowedPrivateRanges: readonly string[],
  lookup: LookupAddresses = lookupAllAddresses,
): Promise<AddressCheck> {
  const hostname = hostnameOf(url);
  let addresses: string[];
  if (net.isIP(hostname) !== 0) {
    addresses = [hostname];
  } else {
    addresses = await lookup(hostname);
  }

  if (addresses.length === 0) {
    return { allowed: false, reason: `host ${hostname} has no addresses` };
  }

  const blockedAddress = findBlockedAddress(addresses, allowedPrivateRanges);
  if (blockedAddress !== undefined) {
    return {
      allowed: false,
      reason:
        `address ${blockedAddress} of host ${hostname} is not public and is outside allowedPrivateRanges ` +
        `[${allowedPrivateRanges.join(', ')}]. Add its range to allowedPrivateRanges if this destination is intended`,
    };
  }
  return { allowed: true, addresses };
}

/**
 * Returns the first of `addresses` that is not public and outside `allowedPrivateRanges`
 * (CIDR strings), or undefined when every address may be reached.
 */
export function findBlockedAddress(addresses: readonly string[], allowedPrivateRanges: readonly string[]): string | undefined {
  const allowed = toBlockList(allowedPrivateRanges.map(parseRangeOrThrow));
  return addresses.find((address) => {
    const checked = unmapIpv4(address);
    return isNonPublicAddress(checked) && !allowed.check(checked, familyOf(checked));
  });
}

/** Returns the host of `url` without the brackets that the URL syntax puts around IPv6 addresses. */
export function hostnameOf(url: string): string {
  const hostname = new URL(url).hostname;
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    return hostname.slice(1, -1);
  }
  return hostname;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return net.isIPv6(address) ? 'ipv6' : 'ipv4';
}

function parseRangeOrThrow(text: string): CidrRange {
  const range = parseCidr(text);
  if (range === undefined) {
    throw new Error(`allowedPrivateRanges entry "${text}" is not valid CIDR notation, such as 127.0.0.0/8.`);
  }
  return range;
}
