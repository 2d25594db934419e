import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../../lib/errors';
import { connectorWith } from './authTestSupport';

function messageOf(auth: unknown, inbound: Record<string, unknown> = {}): string {
  try {
    connectorWith(auth, inbound);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('inbound auth configuration', () => {
  test('standard-webhooks defaults the tolerance to 300 seconds', () => {
    expect(connectorWith({ type: 'standard-webhooks', secretRef: 'S' }).inbound.auth).toEqual({ type: 'standard-webhooks', secretRef: 'S', toleranceInSeconds: 300 });
  });

  test('standard-webhooks defaults the dedup key to webhook-id', () => {
    expect(connectorWith({ type: 'standard-webhooks', secretRef: 'S' }).dedupKey).toEqual({ header: 'webhook-id' });
  });

  test('other schemes keep no dedup key', () => {
    expect(connectorWith({ type: 'api-key', secretRef: 'S' }).dedupKey).toBeUndefined();
  });

  test('secretRef accepts two names', () => {
    expect(connectorWith({ type: 'hmac-sha256', secretRef: ['OLD', 'NEW'] }).inbound.auth).toMatchObject({ secretRef: ['OLD', 'NEW'] });
  });

  test('three secret names are rejected with a fix', () => {
    const message = messageOf({ type: 'hmac-sha256', secretRef: ['A', 'B', 'C'] });

    expect(message).toContain('/connectors/0/inbound/auth/secretRef: must be a setting name or a list of one or two different setting names');
    expect(message).toContain('["CURRENT_SETTING", "NEXT_SETTING"]');
  });

  test('the same secret name twice is rejected', () => {
    expect(messageOf({ type: 'hmac-sha256', secretRef: ['A', 'A'] })).toContain('/connectors/0/inbound/auth/secretRef: must be a setting name or a list');
  });

  test('unknown type lists the known types', () => {
    const message = messageOf({ type: 'oauth2', secretRef: 'S' });

    expect(message).toContain('/connectors/0/inbound/auth/type: the auth type is missing or unknown');
    expect(message).toContain('"standard-webhooks"');
    expect(message).not.toContain('must match');
  });

  test('none inside a list is rejected', () => {
    const message = messageOf([{ type: 'none' }]);

    expect(message).toContain('/connectors/0/inbound/auth/0/type: the auth type in this list is missing or unknown');
    expect(message).toContain('"none" is allowed only on its own');
  });

  test('empty list is rejected', () => {
    expect(messageOf([])).toContain('/connectors/0/inbound/auth: must have at least 1 item. Fix: use a list of at least 1 item');
  });

  test('hmac without header names the fix', () => {
    expect(messageOf({ type: 'hmac', secretRef: 'S' })).toContain('/connectors/0/inbound/auth/header: required property "header" is missing. Fix: add "header"');
  });

  test('tolerance without timestampHeader is rejected', () => {
    const message = messageOf({ type: 'hmac', header: 'X-Sig', secretRef: 'S', toleranceInSeconds: 60 });

    expect(message).toContain('/connectors/0/inbound/auth/toleranceInSeconds: applies only to a signed timestamp');
    expect(message).toContain('add "timestampHeader"');
  });

  test('invalid algorithm is rejected', () => {
    expect(messageOf({ type: 'hmac', header: 'X-Sig', algorithm: 'md5', secretRef: 'S' })).toContain('/connectors/0/inbound/auth/algorithm: must be one of ["sha256","sha512"]');
  });

  test('invalid allowlist range names its path', () => {
    const message = messageOf({ type: 'hmac-sha256', secretRef: 'S', ipAllowlist: ['203.0.113.0/33'] });

    expect(message).toContain('/connectors/0/inbound/auth/ipAllowlist/0: must be a valid cidr');
  });

  test('invalid trusted proxy names its path', () => {
    expect(messageOf({ type: 'none' }, { trustedProxies: ['10.0.0.0'] })).toContain('/connectors/0/inbound/trustedProxies/0: must be a valid cidr');
  });

  test('secret value in place of secretRef is rejected', () => {
    expect(messageOf({ type: 'api-key', secret: 'plain-text' })).toContain('/connectors/0/inbound/auth/secret: "secret" is not a known property');
  });

  test('basic without username names the fix', () => {
    expect(messageOf({ type: 'basic', secretRef: 'S' })).toContain('/connectors/0/inbound/auth/username: required property "username" is missing');
  });
});
