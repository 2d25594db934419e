import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../lib/errors';
import { keyVaultSecretNameOf } from '../../lib/secrets/keyVaultSecretName';

describe('keyVaultSecretNameOf', () => {
  test('underscores become dashes', () => {
    expect(keyVaultSecretNameOf('ORDERS_HMAC_SECRET')).toBe('ORDERS-HMAC-SECRET');
  });

  test('letters, digits and dashes stay', () => {
    expect(keyVaultSecretNameOf('partner-2-Key')).toBe('partner-2-Key');
  });

  test('rejects dot with its fix', () => {
    expect(() => keyVaultSecretNameOf('orders.secret')).toThrow(
      'secretRef "orders.secret" cannot name a Key Vault secret, because it may contain only letters, digits, "_" and "-". Rename the secretRef in the connectors file.',
    );
  });

  test('rejects empty secretRef', () => {
    expect(() => keyVaultSecretNameOf('')).toThrow(ConfigurationError);
  });

  test('accepts 127 characters', () => {
    expect(keyVaultSecretNameOf('A'.repeat(127))).toHaveLength(127);
  });

  test('rejects 128 characters', () => {
    expect(() => keyVaultSecretNameOf('A'.repeat(128))).toThrow('has 128 characters, but a Key Vault secret name has at most 127');
  });
});
