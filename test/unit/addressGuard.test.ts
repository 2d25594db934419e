import { describe, expect, test } from 'vitest';
import { checkDestinationAddress, findBlockedAddress, hostnameOf, isNonPublicAddress, unmapIpv4 } from '../../lib/network/addressGuard';
import { parseCidr } from '../../lib/network/cidr';

describe('parseCidr', () => {
  test('accepts IPv4 and IPv6 ranges', () => {
    expect(parseCidr('127.0.0.0/8')).toEqual({ address: '127.0.0.0', prefixLength: 8, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefixLength: 8, family: 'ipv6' });
  });

  test('rejects invalid notation', () => {
    for (const text of ['127.0.0.0', '127.0.0.0/33', '::/129', '300.0.0.0/8', 'localhost/8', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/ 8']) {
      expect(parseCidr(text), text).toBeUndefined();
    }
  });
});

describe('isNonPublicAddress', () => {
  test('flags loopback, private, link-local and metadata addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
  });

  test('passes public addresses', () => {
    for (const address of ['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
  });
});

describe('IPv4-mapped and unspecified addresses', () => {
  test('mapped private address is checked as IPv4', () => {
    for (const address of ['::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:7f00:1', '::FFFF:192.168.0.1']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
  });

  test('mapped public address passes', () => {
    expect(isNonPublicAddress('::ffff:8.8.8.8')).toBe(false);
  });

  test('unmapIpv4 returns the embedded IPv4 address', () => {
    expect(unmapIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
  });

  test('unmapIpv4 keeps other addresses', () => {
    expect(unmapIpv4('fd00::1')).toBe('fd00::1');
  });

  test('unspecified addresses are not public', () => {
    for (const address of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
  });

  test('IPv4-compatible, CGNAT, ULA and IPv6 link-local are not public', () => {
    for (const address of ['::127.0.0.1', '100.127.255.254', 'fc00::1', 'fdff:ffff::1', 'fe80::a:b']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
  });

  test('mapped address inside an allowed IPv4 range is allowed', () => {
    expect(findBlockedAddress(['::ffff:127.0.0.1'], ['127.0.0.1/32'])).toBeUndefined();
  });

  test('mapped metadata address is blocked despite a loopback range', () => {
    expect(findBlockedAddress(['::ffff:169.254.169.254'], ['127.0.0.0/8'])).toBe('::ffff:169.254.169.254');
  });
});

describe('findBlockedAddress', () => {
  test('allows a private address inside an allowed range', () => {
    expect(findBlockedAddress(['127.0.0.1'], ['127.0.0.0/8'])).toBeUndefined();
  });

  test('blocks a private address outside the allowed ranges', () => {
    expect(findBlockedAddress(['10.0.0.5'], ['127.0.0.0/8'])).toBe('10.0.0.5');
  });

  test('blocks an IPv4-mapped loopback address', () => {
    expect(findBlockedAddress(['::ffff:127.0.0.1'], [])).toBe('::ffff:127.0.0.1');
  });
});

describe('checkDestinationAddress', () => {
  const noLookup = async (): Promise<string[]> => {
    throw new Error('lookup must not be called for a literal address');
  };

  test('literal loopback is blocked without an allowed range', async () => {
    const check = await checkDestinationAddress('http://127.0.0.1:9000/orders', [], noLookup);

    expect(check).toMatchObject({ allowed: false, reason: expect.stringContaining('address 127.0.0.1 of host 127.0.0.1 is not public') });
  });

  test('literal loopback is allowed with its range', async () => {
    const check = await checkDestinationAddress('http://127.0.0.1:9000/orders', ['127.0.0.0/8'], noLookup);

    expect(check.allowed).toBe(true);
  });

  test('metadata address is blocked', async () => {
    const check = await checkDestinationAddress('http://169.254.169.254/latest/meta-data', ['127.0.0.0/8'], noLookup);

    expect(check.allowed).toBe(false);
  });

  test('IPv4 shorthand is normalised before checking', async () => {
    const check = await checkDestinationAddress('http://0x7f.1/orders', [], noLookup);

    expect(check.allowed).toBe(false);
  });

  test('bracketed IPv6 loopback is blocked', async () => {
    const check = await checkDestinationAddress('http://[::1]:9000/orders', [], noLookup);

    expect(check.allowed).toBe(false);
  });

  test('host name is blocked when any address is private', async () => {
    const lookup = async (): Promise<string[]> => ['93.184.215.14', '10.0.0.7'];

    const check = await checkDestinationAddress('https://erp.example.com/orders', [], lookup);

    expect(check).toMatchObject({ allowed: false, reason: expect.stringContaining('address 10.0.0.7 of host erp.example.com') });
  });

  test('host name with public addresses is allowed', async () => {
    const lookup = async (): Promise<string[]> => ['93.184.215.14'];

    const check = await checkDestinationAddress('https://erp.example.com/orders', [], lookup);

    expect(check).toEqual({ allowed: true, addresses: ['93.184.215.14'] });
  });

  test('host name without addresses is blocked', async () => {
    const check = await checkDestinationAddress('https://erp.example.com/orders', [], async () => []);

    expect(check.allowed).toBe(false);
  });

  test('hostnameOf strips IPv6 brackets', () => {
    expect(hostnameOf('http://[fd00::1]:80/x')).toBe('fd00::1');
  });
});
