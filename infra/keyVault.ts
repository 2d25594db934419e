import * as pulumi from '@pulumi/pulumi';
import * as keyvault from '@pulumi/azure-native/keyvault';
import { toKeyVaultSecretName } from '../lib/secrets/keyVaultSecretName';
import { sendDiagnosticsToWorkspace } from './diagnostics';

export interface KeyVaultInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  vaultName: pulumi.Input<string>;
  tenantId: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

/** Days that a deleted vault or secret is kept before it can be purged (7 to 90). */
export const keyVaultSoftDeleteRetentionInDays = 90;

/**
 * Declares the Key Vault for partner secrets. Access is by Azure RBAC only (no access
 * policies), and soft delete with purge protection keeps a deleted secret recoverable for 90
 * days, during which neither it nor the vault name can be purged.
 */
export function createKeyVault(inputs: KeyVaultInputs): keyvault.Vault {
  const vault = new keyvault.Vault('key-vault', {
    vaultName: inputs.vaultName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    properties: {
      tenantId: inputs.tenantId,
      sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays,
      enablePurgeProtection: true,
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      publicNetworkAccess: 'Enabled',
      // The vault stays reachable from the internet, but only for Entra identities with a role
      // on it, so that operators can create secrets without a path into the virtual network.
      networkAcls: { defaultAction: keyvault.NetworkRuleAction.Allow, bypass: keyvault.NetworkRuleBypassOptions.AzureServices },
    },
  });
  sendDiagnosticsToWorkspace('key-vault', vault.id, inputs.workspaceId, 'logsAndMetrics');
  return vault;
}

/**
 * Returns the app setting value that makes the Functions platform resolve `secretRef` from the
 * vault, so the app reads the secret under the setting name the connector's `secretRef` gives.
 * The URI has no version, so the app picks up a new secret version within a day, or at restart.
 */
export function keyVaultReferenceOf(vaultUri: pulumi.Input<string>, secretRef: string): pulumi.Output<string> {
  const secretName = toKeyVaultSecretName(secretRef);
  return pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${pulumi.output(vaultUri).apply(withoutTrailingSlash)}/secrets/${secretName})`;
}

function withoutTrailingSlash(uri: string): string {
  return uri.endsWith('/') ? uri.slice(0, -1) : uri;
}
