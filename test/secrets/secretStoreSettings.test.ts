import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lib/errors';
import { createSecretStore } from '../../lib/secrets/createSecretStore';
import { KeyVaultSecretStore } from '../../lib/secrets/keyVaultSecretStore';
import { readKeyVaultSettings } from '../../lib/secrets/secretStoreSettings';
import { createFixedTokenCredential } from './support/testCredential';

const vaultUrl = 'https://contoso.vault.azure.net/';

describe('readKeyVaultSettings', () => {
  it('no KEY_VAULT_URL selects nothing', () => {
    expect(readKeyVaultSettings({})).toBeUndefined();
  });

  it('blank KEY_VAULT_URL selects nothing', () => {
    expect(readKeyVaultSettings({ KEY_VAULT_URL: '  ' })).toBeUndefined();
  });

  it('applies the defaults', () => {
    expect(readKeyVaultSettings({ KEY_VAULT_URL: vaultUrl })).toEqual({ vaultUrl, cacheTtlInSeconds: 300, timeoutInMilliseconds: 10_000 });
  });

  it('reads ttl, timeout and client id', () => {
    const settings = readKeyVaultSettings({
      KEY_VAULT_URL: vaultUrl,
      SECRET_CACHE_TTL_IN_SECONDS: '60',
      SECRET_STORE_TIMEOUT_IN_MILLISECONDS: '2500',
      AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });

    expect(settings).toEqual({ vaultUrl, cacheTtlInSeconds: 60, timeoutInMilliseconds: 2500, managedIdentityClientId: '11111111-2222-3333-4444-555555555555' });
  });

  it('rejects an http vault URL', () => {
    expect(() => readKeyVaultSettings({ KEY_VAULT_URL: 'http://contoso.vault.azure.net/' })).toThrow(
      'Setting KEY_VAULT_URL is "http://contoso.vault.azure.net/", but it must be the https URL of a vault.',
    );
  });

  it('rejects a vault name without URL', () => {
    expect(() => readKeyVaultSettings({ KEY_VAULT_URL: 'contoso' })).toThrow(ConfigurationError);
  });

  it('rejects a zero ttl', () => {
    expect(() => readKeyVaultSettings({ KEY_VAULT_URL: vaultUrl, SECRET_CACHE_TTL_IN_SECONDS: '0' })).toThrow(
      'Setting SECRET_CACHE_TTL_IN_SECONDS is "0", but it must be a positive number of seconds. Set it to a number such as 300, or remove it to use the default.',
    );
  });

  it('rejects a non-numeric timeout', () => {
    expect(() => readKeyVaultSettings({ KEY_VAULT_URL: vaultUrl, SECRET_STORE_TIMEOUT_IN_MILLISECONDS: '10s' })).toThrow(
      'Setting SECRET_STORE_TIMEOUT_IN_MILLISECONDS is "10s", but it must be a positive number of milliseconds. Set it to a number such as 10000, or remove it to use the default.',
    );
  });
});

describe('createSecretStore', () => {
  const logger = pino({ level: 'silent' });

  it('without KEY_VAULT_URL reads settings', () => {
    const store = createSecretStore({ secretRefs: ['ORDERS_HMAC_SECRET'], logger, environment: { ORDERS_HMAC_SECRET: 'from-settings' } });

    expect(store.read('ORDERS_HMAC_SECRET')).toBe('from-settings');
  });

  it('local store names the setting', () => {
    const store = createSecretStore({ secretRefs: [], logger, environment: {} });

    expect(store.describeSource('ORDERS_HMAC_SECRET')).toBe('setting ORDERS_HMAC_SECRET in local.settings.json Values or the environment');
  });

  it('with KEY_VAULT_URL uses Key Vault', () => {
    const store = createSecretStore({ secretRefs: ['ORDERS_HMAC_SECRET'], logger, environment: { KEY_VAULT_URL: vaultUrl }, createCredential: () => createFixedTokenCredential() });

    expect(store).toBeInstanceOf(KeyVaultSecretStore);
  });

  it('Key Vault store ignores the setting', () => {
    const store = createSecretStore({
      secretRefs: ['ORDERS_HMAC_SECRET'],
      logger,
      environment: { KEY_VAULT_URL: vaultUrl, ORDERS_HMAC_SECRET: 'from-settings' },
      createCredential: () => createFixedTokenCredential(),
    });

    expect(store.read('ORDERS_HMAC_SECRET')).toBeUndefined();
  });

  it('Key Vault rejects an invalid secretRef', () => {
    const create = (): unknown => createSecretStore({ secretRefs: ['ORDERS.SECRET'], logger, environment: { KEY_VAULT_URL: vaultUrl }, createCredential: () => createFixedTokenCredential() });

    expect(create).toThrow('secretRef "ORDERS.SECRET" cannot be a Key Vault secret name');
  });
});
