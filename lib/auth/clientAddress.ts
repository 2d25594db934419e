import net from 'node:net';
import { isAddressInRanges } from './addressRanges';

/**
 * Header with the address of the TCP peer. App Service's front end sets it and replaces any
 * value the client sent, and the local host sets it from the socket in the same way.
 *
 * NOTE: App Service documents this header, but it has not been checked on a deployed function app.
 */
export const socketAddressHeader = 'x-client-ip';

/** Header that Azure Front Door sets to the address of its client. */
export const azureClientAddressHeader = 'x-azure-clientip';

export const forwardedForHeader = 'x-forwarded-for';

/** Maximum number of `X-Forwarded-For` entries read, from the right. */
const maxForwardedForEntries = 20;

/** The part of a request's headers that authentication reads, as in `HttpRequest.headers`. */
export interface RequestHeaders {
  get(name: string): string | null;
}

export type ClientAddressSource = 'socket' | 'x-forwarded-for' | 'x-azure-clientip';

export interface ClientAddress {
  /** Undefined when the request carries no valid socket address. */
  address?: string;
  source: ClientAddressSource;
}

/**
 * Parses an address as proxies write it: IPv4 with an optional port (`203.0.113.7:4711`),
 * IPv6 with an optional zone, or IPv6 in brackets with an optional port. Returns the
 * address without port or zone, with an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`)
 * given as IPv4, or undefined when `text` is not an address.
 */
export function parseClientAddress(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) {
    return undefined;
  }

  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (bracketed !== null) {
    address = bracketed[1];
  } else if (/^[\d.]+:\d{1,5}$/.test(address)) {
    address = address.slice(0, address.indexOf(':'));
  }
  address = address.replace(/%[\w.-]+$/, '');

  const mappedIpv4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mappedIpv4 !== null) {
    address = mappedIpv4[1];
  }
  return net.isIP(address) === 0 ? undefined : address;
}

/**
 * Returns the client address of a request. It is the socket address, unless that address
 * is in `trustedProxies`. Then it is the rightmost `X-Forwarded-For` entry that is not a
 * trusted proxy, because each proxy appends the address it received from and only the
 * entries appended by trusted proxies are reliable. Without `X-Forwarded-For` it is
 * `X-Azure-ClientIP`. An entry that is not an address stops the walk, and the last
 * trusted hop counts as the client, so a malformed header cannot widen the allowlist.
 */
export function resolveClientAddress(headers: RequestHeaders, trustedProxies: readonly string[]): ClientAddress {
  const socketAddress = parseClientAddress(headers.get(socketAddressHeader));
  if (socketAddress === undefined || !isAddressInRanges(socketAddress, trustedProxies)) {
    return { address: socketAddress, source: 'socket' };
  }

  const forwardedFor = headers.get(forwardedForHeader);
  if (forwardedFor !== null && forwardedFor.trim() !== '') {
    const entries = forwardedFor.split(',').reverse().slice(0, maxForwardedForEntries);
    let address = socketAddress;
    for (const entry of entries) {
      const hop = parseClientAddress(entry);
      if (hop === undefined) {
        break;
      }
      address = hop;
      if (!isAddressInRanges(hop, trustedProxies)) {
        break;
      }
    }
    return { address, source: 'x-forwarded-for' };
  }

  const azureClientAddress = parseClientAddress(headers.get(azureClientAddressHeader));
  if (azureClientAddress !== undefined) {
    return { address: azureClientAddress, source: 'x-azure-clientip' };
  }
  return { address: socketAddress, source: 'socket' };
}
