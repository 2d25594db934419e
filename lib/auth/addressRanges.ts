import net from 'node:net';
import { parseCidr, toBlockList } from '../network/cidr';

/** BlockLists of validated CIDR lists, built once per list of the loaded connectors file. */
const blockListCache = new WeakMap<readonly string[], net.BlockList>();

/**
 * Returns a BlockList of `ranges`. The connectors schema validates every range, so an entry
 * that does not parse is an internal error.
 */
export function toAddressRanges(ranges: readonly string[]): net.BlockList {
  const cached = blockListCache.get(ranges);
  if (cached !== undefined) {
    return cached;
  }

  const parsed = ranges.map((text) => {
    const range = parseCidr(text);
    if (range === undefined) {
      throw new Error(`Internal error: CIDR range "${text}" passed the connectors schema but does not parse.`);
    }
    return range;
  });
  const blockList = toBlockList(parsed);
  blockListCache.set(ranges, blockList);
  return blockList;
}

/** Returns true when `address`, an IPv4 or IPv6 address without port, is in one of `ranges`. */
export function isAddressInRanges(address: string, ranges: readonly string[]): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
  return toAddressRanges(ranges).check(address, family);
}
