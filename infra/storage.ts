import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage';
import type { RetentionInDays } from './config';
import { sendDiagnosticsToWorkspace } from './diagnostics';

/**
 * Containers of the payload account. The app's payload store keeps every payload in `payloads`,
 * under the blob name prefixes `raw/`, `transformed/` and `quarantine/`. The containers of the
 * same names serve stores that keep one container per kind, and the Data Factory pipeline.
 */
export const payloadContainerNames = {
  payloads: 'payloads',
  raw: 'raw',
  transformed: 'transformed',
  quarantine: 'quarantine',
  /** Event Grid deliveries that failed every retry. */
  deadLetters: 'dead-letters',
} as const;

/** Container of the runtime account that Flex Consumption deploys the app package from. */
export const deploymentContainerName = 'deployments';

export interface StorageInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  skuName: string;
  blobSoftDeleteRetentionInDays: number;
  workspaceId: pulumi.Input<string>;
}

export interface HardenedStorageAccount {
  account: storage.StorageAccount;
  blobService: storage.BlobServiceProperties;
}

export interface PayloadStorage extends HardenedStorageAccount {
  containers: Record<keyof typeof payloadContainerNames, storage.BlobContainer>;
  lifecyclePolicy: storage.ManagementPolicy;
}

export interface RuntimeStorage extends HardenedStorageAccount {
  deploymentContainer: storage.BlobContainer;
}

/**
 * Declares a storage account that accepts only HTTPS with TLS 1.2 or later and only Entra
 * identities (shared key access off), has no public blob access, and keeps deleted blobs and
 * containers for `blobSoftDeleteRetentionInDays`.
 */
export function createHardenedStorageAccount(logicalName: string, accountName: pulumi.Input<string>, inputs: StorageInputs): HardenedStorageAccount {
  const account = new storage.StorageAccount(logicalName, {
    accountName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    kind: storage.Kind.StorageV2,
    sku: { name: inputs.skuName },
    minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
    enableHttpsTrafficOnly: true,
    allowBlobPublicAccess: false,
    allowSharedKeyAccess: false,
    defaultToOAuthAuthentication: true,
    allowCrossTenantReplication: false,
    publicNetworkAccess: storage.PublicNetworkAccess.Enabled,
    encryption: {
      keySource: storage.KeySource.Microsoft_Storage,
      requireInfrastructureEncryption: true,
      services: {
        blob: { enabled: true, keyType: storage.KeyType.Account },
        file: { enabled: true, keyType: storage.KeyType.Account },
        queue: { enabled: true, keyType: storage.KeyType.Account },
        table: { enabled: true, keyType: storage.KeyType.Account },
      },
    },
  });

  const blobService = new storage.BlobServiceProperties(`${logicalName}-blob-service`, {
    accountName: account.name,
    resourceGroupName: inputs.resourceGroupName,
    blobServicesName: 'default',
    deleteRetentionPolicy: { enabled: true, days: inputs.blobSoftDeleteRetentionInDays },
    containerDeleteRetentionPolicy: { enabled: true, days: inputs.blobSoftDeleteRetentionInDays },
  });

  // The account has only metrics. Its logs belong to each service (blob, queue, table, file).
  sendDiagnosticsToWorkspace(logicalName, account.id, inputs.workspaceId, 'metricsOnly');
  sendDiagnosticsToWorkspace(`${logicalName}-blob`, blobService.id, inputs.workspaceId, 'logsAndMetrics');

  return { account, blobService };
}

/**
 * Declares the payload account with its containers, and lifecycle rules that delete a raw,
 * transformed or quarantined payload the configured number of days after it was created, in
 * either layout. Dead letters are kept until an operator deletes them.
 */
export function createPayloadStorage(accountName: pulumi.Input<string>, inputs: StorageInputs, retentionInDays: RetentionInDays): PayloadStorage {
  const { account, blobService } = createHardenedStorageAccount('payload-storage', accountName, inputs);

  const createContainer = (containerName: string) =>
    new storage.BlobContainer(
      `payload-${containerName}`,
      {
        accountName: account.name,
        resourceGroupName: inputs.resourceGroupName,
        containerName,
        publicAccess: storage.PublicAccess.None,
      },
      { dependsOn: [blobService] },
    );
  const containers = {
    payloads: createContainer(payloadContainerNames.payloads),
    raw: createContainer(payloadContainerNames.raw),
    transformed: createContainer(payloadContainerNames.transformed),
    quarantine: createContainer(payloadContainerNames.quarantine),
    deadLetters: createContainer(payloadContainerNames.deadLetters),
  };

  const retentionRule = (containerName: string, days: number) => ({
    name: `delete-${containerName}-after-${days}-days`,
    enabled: true,
    type: storage.RuleType.Lifecycle,
    definition: {
      filters: { blobTypes: ['blockBlob'], prefixMatch: [`${containerName}/`, `${payloadContainerNames.payloads}/${containerName}/`] },
      actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: days } } },
    },
  });
  const lifecyclePolicy = new storage.ManagementPolicy(
    'payload-lifecycle',
    {
      accountName: account.name,
      resourceGroupName: inputs.resourceGroupName,
      managementPolicyName: 'default',
      policy: {
        rules: [
          retentionRule(payloadContainerNames.raw, retentionInDays.raw),
          retentionRule(payloadContainerNames.transformed, retentionInDays.transformed),
          retentionRule(payloadContainerNames.quarantine, retentionInDays.quarantine),
        ],
      },
    },
    { dependsOn: Object.values(containers) },
  );

  return { account, blobService, containers, lifecyclePolicy };
}

/**
 * Declares the account of the Functions runtime: the Durable Functions task hub (queues and
 * tables), the host's blobs and the deployment package. The app reaches it with its identity.
 */
export function createRuntimeStorage(accountName: pulumi.Input<string>, inputs: StorageInputs): RuntimeStorage {
  const { account, blobService } = createHardenedStorageAccount('runtime-storage', accountName, inputs);
  const deploymentContainer = new storage.BlobContainer(
    'runtime-deployments',
    {
      accountName: account.name,
      resourceGroupName: inputs.resourceGroupName,
      containerName: deploymentContainerName,
      publicAccess: storage.PublicAccess.None,
    },
    { dependsOn: [blobService] },
  );
  // The task hub's queues and tables are the runtime's busiest part, so their logs are kept too.
  sendDiagnosticsToWorkspace('runtime-storage-queue', pulumi.interpolate`${account.id}/queueServices/default`, inputs.workspaceId, 'logsAndMetrics');
  sendDiagnosticsToWorkspace('runtime-storage-table', pulumi.interpolate`${account.id}/tableServices/default`, inputs.workspaceId, 'logsAndMetrics');

  return { account, blobService, deploymentContainer };
}
