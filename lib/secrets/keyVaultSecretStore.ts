import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type pino from 'pino';
import { errorMessageOf, RetryableError } from '../errors';
import type { AzureCredential } from './azureCredential';
import { toKeyVaultSecretName } from './keyVaultSecretName';
import { secretStoreSettingNames, type KeyVaultSettings } from './secretStoreSettings';
import type { SecretStore } from './secretStore';

/** The credential from which `SecretClient` requests tokens, such as DefaultAzureCredential. */
export type KeyVaultCredential = AzureCredential;

/**
 * Maximum wait in seconds before a failed refresh is tried again, so that a vault outage costs one
 * bounded wait per interval rather than one per request. A shorter time to live wins.
 */
const maxFailedRefreshRetryInSeconds = 30;

/** Retries of one secret read inside a refresh. The refresh timeout bounds them as well. */
const keyVaultRetryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 };

export interface KeyVaultSecretStoreOptions {
  settings: KeyVaultSettings;
  credential: KeyVaultCredential;
  /** Every `secretRef` that the store loads on each refresh. */
  secretRefs: string[];
  logger: pino.Logger;
  /** Called after each refresh that succeeded, such as to give the new values to the secret scrubber. */
  onRefresh?: () => void;
  /** Returns the current time in milliseconds since the epoch. */
  now?: () => number;
  /** Added to the client's options, such as `tlsOptions` in tests. */
  clientOptions?: SecretClientOptions;
}

/**
 * A secret store over Azure Key Vault. Each `secretRef` maps to the Key Vault secret name that
 * `toKeyVaultSecretName` returns. A refresh reads every secret within the timeout setting, and
 * a secret that the vault does not have reads as undefined.
 */
export class KeyVaultSecretStore implements SecretStore {
  readonly #client: SecretClient;
  readonly #settings: KeyVaultSettings;
  readonly #secretNames: Map<string, string>;
  readonly #logger: pino.Logger;
  readonly #onRefresh: () => void;
  readonly #now: () => number;
  #values = new Map<string, string>();
  #loaded = false;
  #nextRefreshAtInMilliseconds = 0;
  #refreshing: Promise<void> | undefined;

  /** Throws a ConfigurationError when a `secretRef` cannot be a Key Vault secret name. */
  constructor(options: KeyVaultSecretStoreOptions) {
    this.#settings = options.settings;
    this.#secretNames = new Map(options.secretRefs.map((secretRef) => [secretRef, toKeyVaultSecretName(secretRef)]));
    this.#logger = options.logger;
    this.#onRefresh = options.onRefresh ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    this.#client = new SecretClient(options.settings.vaultUrl, options.credential, { retryOptions: keyVaultRetryOptions, ...options.clientOptions });
  }

  read(secretRef: string): string | undefined {
    return this.#values.get(secretRef);
  }

  describeSource(secretRef: string): string {
    const name = this.#secretNames.get(secretRef) ?? toKeyVaultSecretName(secretRef);
    return `Key Vault secret ${name} in ${this.#settings.vaultUrl}`;
  }

  async ready(): Promise<void> {
    if (this.#now() < this.#nextRefreshAtInMilliseconds) {
      return;
    }
    try {
      await this.refresh();
    } catch {
      // refresh has logged the failure, and the last values stay in use.
    }
  }

  /** Runs one refresh at a time: a caller that arrives during a refresh waits for that one. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const startedAt = this.#now();
    try {
      const values = await this.#readAllWithTimeout();
      this.#values = values;
      this.#nextRefreshAtInMilliseconds = startedAt + this.#settings.cacheTtlInSeconds * 1000;
      this.#logRefresh(values);
      this.#loaded = true;
      this.#onRefresh();
    } catch (error) {
      const retryInSeconds = Math.min(this.#settings.cacheTtlInSeconds, maxFailedRefreshRetryInSeconds);
      this.#nextRefreshAtInMilliseconds = this.#now() + retryInSeconds * 1000;
      this.#logger.warn(
        { vaultUrl: this.#settings.vaultUrl, error: errorMessageOf(error), keptSecrets: this.#values.size, retryInSeconds },
        'Key Vault secret refresh failed, so the last values loaded stay in use',
      );
      throw error;
    }
  }

  /** Logs the first load at info level and later ones at debug level. Values are never logged. */
  #logRefresh(values: Map<string, string>): void {
    const fields = { vaultUrl: this.#settings.vaultUrl, foundSecrets: values.size, missingSecrets: this.#secretNames.size - values.size };
    if (this.#loaded) {
      this.#logger.debug(fields, 'Key Vault secrets refreshed');
    } else {
      this.#logger.info({ ...fields, ttlInSeconds: this.#settings.cacheTtlInSeconds }, 'Key Vault secrets loaded');
    }
  }

  /**
   * Reads every secret, and rejects with a RetryableError when that takes longer than the
   * timeout setting. The race also ends a credential that never returns a token, which the
   * abort signal alone cannot stop.
   */
  async #readAllWithTimeout(): Promise<Map<string, string>> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = this.#timeoutError();
        controller.abort(error);
        reject(error);
      }, this.#settings.timeoutInMilliseconds);
    });

    try {
      return await Promise.race([this.#readAll(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
      // Ends the reads still running after one of them failed.
      controller.abort();
    }
  }

  async #readAll(abortSignal: AbortSignal): Promise<Map<string, string>> {
    const entries = await Promise.all(
      [...this.#secretNames].map(async ([secretRef, name]) => [secretRef, await this.#readSecret(name, abortSignal)] as const),
    );
    const values = new Map<string, string>();
    for (const [secretRef, value] of entries) {
      if (value !== undefined && value !== '') {
        values.set(secretRef, value);
      }
    }
    return values;
  }

  /** Returns the latest version of a secret, or undefined when the vault has no secret of that name. */
  async #readSecret(name: string, abortSignal: AbortSignal): Promise<string | undefined> {
    try {
      const secret = await this.#client.getSecret(name, { abortSignal });
      return secret.value;
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) {
        return undefined;
      }
      throw new RetryableError(`Key Vault ${this.#settings.vaultUrl} failed to return secret ${name}: ${errorMessageOf(error)}`, { cause: error });
    }
  }

  #timeoutError(): RetryableError {
    return new RetryableError(
      `Reading secrets from Key Vault ${this.#settings.vaultUrl} timed out after ${this.#settings.timeoutInMilliseconds} ms ` +
        `(setting ${secretStoreSettingNames.timeoutInMilliseconds}). Check that the app's identity can get a token ` +
        `(${secretStoreSettingNames.managedIdentityClientId} selects a user-assigned managed identity), that it may read secrets ` +
        `of the vault, and that ${secretStoreSettingNames.keyVaultUrl} is the vault's URI.`,
    );
  }
}
