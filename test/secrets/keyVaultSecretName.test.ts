import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lib/errors';
import { toKeyVaultSecretName } from '../../lib/secrets/keyVaultSecretName';

describe('toKeyVaultSecretName', () => {
  it('turns underscores into dashes', () => {
    expect(toKeyVaultSecretName('ORDERS_HMAC_SECRET')).toBe('ORDERS-HMAC-SECRET');
  });

  it('keeps letters, digits and dashes', () => {
    expect(toKeyVaultSecretName('partner-2-Key')).toBe('partner-2-Key');
  });

  it('rejects a dot', () => {
    expect(() => toKeyVaultSecretName('ORDERS.SECRET')).toThrow(ConfigurationError);
  });

  it('dot error names value and fix', () => {
    expect(() => toKeyVaultSecretName('ORDERS.SECRET')).toThrow(
      'secretRef "ORDERS.SECRET" cannot be a Key Vault secret name, which may contain only letters, digits and dashes. ' +
        'Rename the secretRef to letters, digits and underscores, such as ORDERS_HMAC_SECRET.',
    );
  });

  it('rejects a non-ASCII letter', () => {
    expect(() => toKeyVaultSecretName('GRÜSSE_KEY')).toThrow(ConfigurationError);
  });

  it('rejects an empty secretRef', () => {
    expect(() => toKeyVaultSecretName('')).toThrow('secretRef "" cannot be a Key Vault secret name');
  });

  it('rejects a name over 127 characters', () => {
    expect(() => toKeyVaultSecretName('A'.repeat(128))).toThrow('has 128 characters, but a Key Vault secret name has at most 127');
  });

  it('accepts 127 characters', () => {
    expect(toKeyVaultSecretName('A'.repeat(127))).toHaveLength(127);
  });
});
