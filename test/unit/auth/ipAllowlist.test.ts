import { describe, expect, test } from 'vitest';
import { signHmac } from '../../../lib/auth/verifyHmacSignature';
import { authenticate, body, connectorWith, rejectionOf, secretSettings } from './authTestSupport';

const signature = { 'X-Signature': signHmac(Buffer.from(secretSettings.CURRENT), body, { algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' }) };

describe('ip-allowlist', () => {
  const allowlistOnly = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24', '2001:db8::/32'] });

  test('IPv4 address inside is accepted', () => {
    expect(authenticate(allowlistOnly, { socketAddress: '203.0.113.10' }).status).toBe('accepted');
  });

  test('IPv6 address inside is accepted', () => {
    expect(authenticate(allowlistOnly, { socketAddress: '2001:db8:aa::1' }).status).toBe('accepted');
  });

  test('address outside gets 403 naming it', () => {
    const rejection = rejectionOf(authenticate(allowlistOnly, { socketAddress: '198.51.100.20' }));

    expect(rejection.status).toBe(403);
    expect(rejection.reason).toBe('address-not-allowed');
    expect(rejection.clientAddress).toBe('198.51.100.20');
    expect(rejection.detail).toContain('Client address 198.51.100.20 is not in the IP allowlist of connector "partner"');
  });

  test('unknown address gets 403', () => {
    const outcome = authenticate(allowlistOnly, { socketAddress: 'unknown' });

    expect(rejectionOf(outcome).reason).toBe('address-unknown');
  });

  test('untrusted X-Forwarded-For cannot enter the allowlist', () => {
    const outcome = authenticate(allowlistOnly, { socketAddress: '198.51.100.20', headers: { 'X-Forwarded-For': '203.0.113.10' } });

    expect(rejectionOf(outcome).clientAddress).toBe('198.51.100.20');
  });

  test('trusted proxy forwards an allowed address', () => {
    const behindProxy = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24'] }, { trustedProxies: ['10.0.0.0/8'] });

    const outcome = authenticate(behindProxy, { socketAddress: '10.0.0.4', headers: { 'X-Forwarded-For': '203.0.113.10' } });

    expect(outcome.status).toBe('accepted');
  });

  test('trusted proxy forwards a blocked address', () => {
    const behindProxy = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24'] }, { trustedProxies: ['10.0.0.0/8'] });

    const outcome = authenticate(behindProxy, { socketAddress: '10.0.0.4', headers: { 'X-Forwarded-For': '198.51.100.20' } });

    expect(rejectionOf(outcome).clientAddress).toBe('198.51.100.20');
  });

  test('top-level trustedProxies apply to the connector', () => {
    const withGlobal = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24'] }, {}, { trustedProxies: ['10.0.0.0/8'] });

    const outcome = authenticate(withGlobal, { socketAddress: '10.0.0.4', headers: { 'X-Azure-ClientIP': '203.0.113.10' } });

    expect(outcome.status).toBe('accepted');
  });

  test('connector trustedProxies replace the top-level list', () => {
    const overridden = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24'] }, { trustedProxies: [] }, { trustedProxies: ['10.0.0.0/8'] });

    const outcome = authenticate(overridden, { socketAddress: '10.0.0.4', headers: { 'X-Forwarded-For': '203.0.113.10' } });

    expect(rejectionOf(outcome).clientAddress).toBe('10.0.0.4');
  });
});

describe('allowlist combined with a signature', () => {
  const shorthand = connectorWith({ type: 'hmac-sha256', secretRef: 'CURRENT', ipAllowlist: ['203.0.113.0/24'] });
  const list = connectorWith([
    { type: 'ip-allowlist', ranges: ['203.0.113.0/24'] },
    { type: 'hmac-sha256', secretRef: 'CURRENT' },
  ]);

  for (const [form, connector] of [
    ['ipAllowlist property', shorthand],
    ['list of schemes', list],
  ] as const) {
    test(`${form}: allowed address with signature is accepted`, () => {
      expect(authenticate(connector, { socketAddress: '203.0.113.10', headers: signature }).status).toBe('accepted');
    });

    test(`${form}: allowed address without signature gets 401`, () => {
      expect(rejectionOf(authenticate(connector, { socketAddress: '203.0.113.10' })).status).toBe(401);
    });

    test(`${form}: other address with signature gets 403`, () => {
      expect(rejectionOf(authenticate(connector, { socketAddress: '198.51.100.20', headers: signature })).status).toBe(403);
    });

    test(`${form}: other address is checked before the signature`, () => {
      expect(rejectionOf(authenticate(connector, { socketAddress: '198.51.100.20' })).status).toBe(403);
    });
  }

  test('list requires every credential scheme', () => {
    const both = connectorWith([
      { type: 'api-key', secretRef: 'NEXT' },
      { type: 'hmac-sha256', secretRef: 'CURRENT' },
    ]);

    expect(rejectionOf(authenticate(both, { headers: signature })).detail).toContain('Header X-Api-Key is missing.');
    expect(authenticate(both, { headers: { ...signature, 'X-Api-Key': secretSettings.NEXT } }).status).toBe('accepted');
  });
});
