/**
 * The store that resolves the secrets a connectors file names by `secretRef`: partner secrets,
 * destination credentials, signing keys, client certificates, CA certificates and the Event Grid
 * topic key. `read` is synchronous so that authentication and delivery code stays synchronous,
 * and it returns what the last `refresh` loaded. Handlers await `ready()` before they read.
 */
export interface SecretStore {
  /** Returns the value of the secret that `secretRef` names, or undefined when it is not set. */
  read(secretRef: string): string | undefined;
  /**
   * Loads every secret the store serves. Rejects when the source cannot be read in time, and then
   * keeps the values of the last refresh that succeeded.
   */
  refresh(): Promise<void>;
  /**
   * Refreshes when the loaded values are older than the store's time to live, and returns at once
   * otherwise. Never rejects: a failed refresh is logged, and `read` goes on returning the last
   * values, or undefined when no refresh has succeeded yet.
   */
  ready(): Promise<void>;
  /**
   * Describes where an operator sets the secret that `secretRef` names, for warnings about a
   * missing secret, such as `Key Vault secret ORDERS-HMAC-SECRET in https://contoso.vault.azure.net/`.
   */
  describeSource(secretRef: string): string;
}
