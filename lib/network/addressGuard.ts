import dns from 'node:dns/promises';
import net from 'node:net';
import { parseCidr, toBlockList, type CidrRange } from './cidr';

/**
 * Ranges that are not on the public internet: "this network", private (RFC 1918),
 * carrier-grade NAT, loopback, link-local (which includes cloud metadata addresses),
 * benchmarking, multicast and reserved ranges, and their IPv6 counterparts.
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
  '::/128',
  '::1/128',
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
  return nonPublicRanges.check(address, familyOf(address));
}

/**
 * Checks that every address of `url`'s host is public or inside one of
 * `allowedPrivateRanges` (CIDR strings), so that a destination cannot reach internal
 * services unless the connectors file allows it. Literal IP hosts are checked without DNS.
 *
 * NOTE: `fetch` resolves the host again when it connects, so a DNS answer that changes
 * between this check and the connection (DNS rebinding) is not caught.
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
  return addresses.find((address) => isNonPublicAddress(address) && !allowed.check(address, familyOf(address)));
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
