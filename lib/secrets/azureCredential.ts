import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { SecretClient } from '@azure/keyvault-secrets';

/** A credential from which Azure SDK clients request tokens, such as DefaultAzureCredential. */
export type AzureCredential = ConstructorParameters<typeof SecretClient>[1];

/**
 * Returns the user-assigned managed identity `managedIdentityClientId` (the `AZURE_CLIENT_ID`
 * setting) when it is given, and otherwise DefaultAzureCredential, which also covers a developer
 * signed in with the Azure CLI. Neither requests a token before a client first needs one.
 */
export function createAzureCredential(managedIdentityClientId: string | undefined): AzureCredential {
  if (managedIdentityClientId !== undefined) {
    return new ManagedIdentityCredential({ clientId: managedIdentityClientId });
  }
  return new DefaultAzureCredential();
}
