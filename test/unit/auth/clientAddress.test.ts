import { describe, expect, test } from 'vitest';
import { isAddressInRanges } from '../../../lib/auth/addressRanges';
import { parseClientAddress, resolveClientAddress } from '../../../lib/auth/clientAddress';

function headersOf(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe('isAddressInRanges', () => {
  const ranges = ['203.0.113.0/24', '2001:db8:1::/48', '127.0.0.0/8'];

  test('IPv4 inside a range', () => {
    expect(isAddressInRanges('203.0.113.77', ranges)).toBe(true);
  });

  test('IPv4 at the range edges', () => {
    expect(isAddressInRanges('203.0.113.0', ranges)).toBe(true);
    expect(isAddressInRanges('203.0.113.255', ranges)).toBe(true);
    expect(isAddressInRanges('203.0.112.255', ranges)).toBe(false);
    expect(isAddressInRanges('203.0.114.0', ranges)).toBe(false);
  });

  test('IPv6 inside a range', () => {
    expect(isAddressInRanges('2001:db8:1:ffff::5', ranges)).toBe(true);
  });

  test('IPv6 outside a range', () => {
    expect(isAddressInRanges('2001:db8:2::5', ranges)).toBe(false);
  });

  test('IPv6 loopback is not IPv4 loopback', () => {
    expect(isAddressInRanges('::1', ranges)).toBe(false);
  });

  test('single address ranges', () => {
    expect(isAddressInRanges('198.51.100.7', ['198.51.100.7/32'])).toBe(true);
    expect(isAddressInRanges('198.51.100.8', ['198.51.100.7/32'])).toBe(false);
    expect(isAddressInRanges('::1', ['::1/128'])).toBe(true);
  });

  test('empty list contains nothing', () => {
    expect(isAddressInRanges('127.0.0.1', [])).toBe(false);
  });
});

describe('parseClientAddress', () => {
  test('plain IPv4 and IPv6', () => {
    expect(parseClientAddress('198.51.100.7')).toBe('198.51.100.7');
    expect(parseClientAddress('2001:db8::7')).toBe('2001:db8::7');
  });

  test('port is removed', () => {
    expect(parseClientAddress('198.51.100.7:51234')).toBe('198.51.100.7');
    expect(parseClientAddress('[2001:db8::7]:443')).toBe('2001:db8::7');
  });

  test('IPv4-mapped IPv6 becomes IPv4', () => {
    expect(parseClientAddress('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });

  test('zone is removed', () => {
    expect(parseClientAddress('fe80::1%eth0')).toBe('fe80::1');
  });

  test('names and garbage are not addresses', () => {
    expect(parseClientAddress('unknown')).toBeUndefined();
    expect(parseClientAddress('example.com')).toBeUndefined();
    expect(parseClientAddress('')).toBeUndefined();
    expect(parseClientAddress(null)).toBeUndefined();
  });
});

describe('resolveClientAddress', () => {
  const trustedProxies = ['10.0.0.0/8', 'fd00::/8'];

  test('socket address without trusted proxies', () => {
    const client = resolveClientAddress(headersOf({ 'x-client-ip': '198.51.100.7', 'x-forwarded-for': '203.0.113.5' }), []);

    expect(client).toEqual({ address: '198.51.100.7', source: 'socket' });
  });

  test('untrusted socket ignores X-Forwarded-For', () => {
    const client = resolveClientAddress(headersOf({ 'x-client-ip': '198.51.100.7', 'x-forwarded-for': '203.0.113.5' }), trustedProxies);

    expect(client.address).toBe('198.51.100.7');
  });

  test('untrusted socket ignores X-Azure-ClientIP', () => {
    const client = resolveClientAddress(headersOf({ 'x-client-ip': '198.51.100.7', 'x-azure-clientip': '203.0.113.5' }), trustedProxies);

    expect(client.address).toBe('198.51.100.7');
  });

  test('trusted proxy gives the forwarded address', () => {
    const client = resolveClientAddress(headersOf({ 'x-client-ip': '10.1.2.3', 'x-forwarded-for': '203.0.113.5' }), trustedProxies);

    expect(client).toEqual({ address: '203.0.113.5', source: 'x-forwarded-for' });
  });

  test('rightmost untrusted entry wins over a spoofed first entry', () => {
    const headers = headersOf({ 'x-client-ip': '10.1.2.3', 'x-forwarded-for': '203.0.113.5, 198.51.100.9, 10.9.9.9' });

    expect(resolveClientAddress(headers, trustedProxies).address).toBe('198.51.100.9');
  });

  test('chain of trusted proxies over IPv6', () => {
    const headers = headersOf({ 'x-client-ip': 'fd00::1', 'x-forwarded-for': '2001:db8::42, fd00::2' });

    expect(resolveClientAddress(headers, trustedProxies).address).toBe('2001:db8::42');
  });

  test('forwarded entry with port is read', () => {
    const headers = headersOf({ 'x-client-ip': '10.1.2.3', 'x-forwarded-for': '203.0.113.5:50123' });

    expect(resolveClientAddress(headers, trustedProxies).address).toBe('203.0.113.5');
  });

  test('malformed forwarded entry stops at the last trusted hop', () => {
    const headers = headersOf({ 'x-client-ip': '10.1.2.3', 'x-forwarded-for': '203.0.113.5, not-an-address' });

    expect(resolveClientAddress(headers, trustedProxies).address).toBe('10.1.2.3');
  });

  test('X-Azure-ClientIP is used without X-Forwarded-For', () => {
    const client = resolveClientAddress(headersOf({ 'x-client-ip': '10.1.2.3', 'x-azure-clientip': '203.0.113.5' }), trustedProxies);

    expect(client).toEqual({ address: '203.0.113.5', source: 'x-azure-clientip' });
  });

  test('trusted proxy without forwarding headers is the client', () => {
    expect(resolveClientAddress(headersOf({ 'x-client-ip': '10.1.2.3' }), trustedProxies)).toEqual({ address: '10.1.2.3', source: 'socket' });
  });

  test('missing socket address is unknown', () => {
    expect(resolveClientAddress(headersOf({ 'x-forwarded-for': '203.0.113.5' }), trustedProxies).address).toBeUndefined();
  });
});
