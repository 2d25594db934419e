import { describe, expect, test } from 'vitest';
import { authenticate, connectorWith, rejectionOf, secretSettings } from './authTestSupport';

function basic(username: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` };
}

describe('basic', () => {
  const connector = connectorWith({ type: 'basic', username: 'partner-a', secretRef: ['CURRENT', 'NEXT'] });

  test('valid credentials are accepted', () => {
    expect(authenticate(connector, { headers: basic('partner-a', secretSettings.CURRENT) }).status).toBe('accepted');
  });

  test('scheme name is case-insensitive', () => {
    const headers = { Authorization: basic('partner-a', secretSettings.CURRENT).Authorization.replace('Basic', 'basic') };

    expect(authenticate(connector, { headers }).status).toBe('accepted');
  });

  test('password with a colon is accepted', () => {
    const withColon = connectorWith({ type: 'basic', username: 'partner-a', secretRef: 'COLON' });

    const outcome = authenticate(withColon, { headers: basic('partner-a', 'pass:word'), settings: { COLON: 'pass:word' } });

    expect(outcome.status).toBe('accepted');
  });

  test('missing Authorization is named', () => {
    const rejection = rejectionOf(authenticate(connector));

    expect(rejection.status).toBe(401);
    expect(rejection.reason).toBe('missing-header');
    expect(rejection.detail).toContain('Header Authorization is missing.');
  });

  test('bearer token is malformed', () => {
    expect(rejectionOf(authenticate(connector, { headers: { Authorization: 'Bearer abc' } })).reason).toBe('malformed-header');
  });

  test('wrong password is rejected', () => {
    const rejection = rejectionOf(authenticate(connector, { headers: basic('partner-a', 'wrong') }));

    expect(rejection.reason).toBe('invalid-credentials');
    expect(JSON.stringify(rejection)).not.toContain(secretSettings.CURRENT);
  });

  test('wrong username is rejected', () => {
    expect(rejectionOf(authenticate(connector, { headers: basic('partner-b', secretSettings.CURRENT) })).reason).toBe('invalid-credentials');
  });

  test('second password of a rotation is accepted', () => {
    expect(authenticate(connector, { headers: basic('partner-a', secretSettings.NEXT) }).status).toBe('accepted');
  });

  test('username with a colon is rejected by the schema', () => {
    expect(() => connectorWith({ type: 'basic', username: 'a:b', secretRef: 'CURRENT' })).toThrow('/connectors/0/inbound/auth/username');
  });
});
