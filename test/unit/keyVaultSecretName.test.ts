import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../lib/errors';
import { toKeyVaultSecretName } from '../../lib/secrets/keyVaultSecretName';

describe('toKeyVaultSecretName', () => {
  test('underscores become dashes', () => {
    expect(toKeyVaultSecretName('ORDERS_HMAC_SECRET')).toBe('ORDERS-HMAC-SECRET');
  });

  test('letters, digits and dashes stay', () => {
    expect(toKeyVaultSecretName('partner-2-Key')).toBe('partner-2-Key');
  });

  test('rejects dot with its fix', () => {
    expect(() => toKeyVaultSecretName('orders.secret')).toThrow(
      'secretRef "orders.secret" cannot be a Key Vault secret name, which may contain only letters, digits and dashes.',
    );
  });

  test('rejects empty secretRef', () => {
    expect(() => toKeyVaultSecretName('')).toThrow(ConfigurationError);
  });

  test('accepts 127 characters', () => {
    expect(toKeyVaultSecretName('A'.repeat(127))).toHaveLength(127);
  });

  test('rejects 128 characters', () => {
    expect(() => toKeyVaultSecretName('A'.repeat(128))).toThrow('has 128 characters, but a Key Vault secret name has at most 127');
  });
});
