import net from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

/** An address range in CIDR notation, such as `127.0.0.0/8` or `fc00::/7`. */
export interface CidrRange {
  address: string;
  prefixLength: number;
  family: IpFamily;
}

/**
 * Parses CIDR notation. Returns undefined when `text` is not an IPv4 or IPv6 address
 * followed by `/` and a prefix length within the family's bit count (32 or 128).
 */
export function parseCidr(text: string): CidrRange | undefined {
  const parts = text.split('/');
  if (parts.length !== 2) {
    return undefined;
  }

  const [address, prefixText] = parts;
  const version = net.isIP(address);
  if (version === 0 || !/^\d{1,3}$/.test(prefixText)) {
    return undefined;
  }

  const family: IpFamily = version === 4 ? 'ipv4' : 'ipv6';
  const prefixLength = Number(prefixText);
  const maxPrefixLength = family === 'ipv4' ? 32 : 128;
  if (prefixLength > maxPrefixLength) {
    return undefined;
  }
  return { address, prefixLength, family };
}

/**
 * Builds a BlockList of `ranges`. Node's BlockList also matches IPv4-mapped IPv6
 * addresses (`::ffff:127.0.0.1`) against IPv4 ranges.
 */
export function toBlockList(ranges: readonly CidrRange[]): net.BlockList {
  const blockList = new net.BlockList();
  for (const range of ranges) {
    blockList.addSubnet(range.address, range.prefixLength, range.family);
  }
  return blockList;
}
