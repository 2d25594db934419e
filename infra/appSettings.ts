import * as pulumi from '@pulumi/pulumi';
import { InfraConfigError, configKeys } from './config';
import { keyVaultReferenceOf } from './keyVault';
import { payloadContainerNames } from './storage';

/**
 * Names of the Function App's app settings. Every connection is identity-based, because the
 * Functions host signs in with the app's managed identity for a `<connection>__accountName` or
 * `<connection>__blobServiceUri` setting. No setting contains a key.
 */
export const appSettingNames = {
  runtimeStorageAccountName: 'AzureWebJobsStorage__accountName',
  applicationInsightsConnectionString: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
  payloadStore: 'PAYLOAD_STORE',
  payloadBlobServiceUri: 'PAYLOAD_STORAGE__blobServiceUri',
  payloadContainer: 'PAYLOAD_CONTAINER',
  eventGridTopicEndpoint: 'EVENT_GRID_TOPIC_ENDPOINT',
  trackingSqlServer: 'TRACKING_SQL_SERVER',
  trackingSqlDatabase: 'TRACKING_SQL_DATABASE',
  auditIngestionEndpoint: 'AUDIT_LOGS_INGESTION_ENDPOINT',
  auditDataCollectionRuleId: 'AUDIT_DATA_COLLECTION_RULE_ID',
  auditStreamName: 'AUDIT_STREAM_NAME',
  keyVaultUri: 'KEY_VAULT_URL',
  dataFactorySubscriptionId: 'DATA_FACTORY_SUBSCRIPTION_ID',
  dataFactoryResourceGroup: 'DATA_FACTORY_RESOURCE_GROUP',
  dataFactoryName: 'DATA_FACTORY_NAME',
  dataFactoryPipelineName: 'DATA_FACTORY_PIPELINE_NAME',
} as const;

export interface AppSettingInputs {
  runtimeStorageAccountName: pulumi.Input<string>;
  applicationInsightsConnectionString: pulumi.Input<string>;
  payloadBlobEndpoint: pulumi.Input<string>;
  eventGridTopicEndpoint: pulumi.Input<string>;
  sqlServerHostName: pulumi.Input<string>;
  sqlDatabaseName: pulumi.Input<string>;
  auditIngestionEndpoint: pulumi.Input<string>;
  auditDataCollectionRuleImmutableId: pulumi.Input<string>;
  auditStreamName: string;
  keyVaultUri: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  resourceGroupName: pulumi.Input<string>;
  dataFactoryName: pulumi.Input<string>;
  dataFactoryPipelineName: string;
  /** Connector `secretRef` names, each made an app setting that refers to its Key Vault secret. */
  secretRefs: string[];
}

/**
 * Returns the app settings by name.
 * NOTE: the app's Event Grid publisher still reads a topic key. The topic has local
 * authentication off, so that adapter must sign in with the managed identity, using these settings.
 */
export function functionAppSettingsOf(inputs: AppSettingInputs): Record<string, pulumi.Input<string>> {
  const settings: Record<string, pulumi.Input<string>> = {
    [appSettingNames.runtimeStorageAccountName]: inputs.runtimeStorageAccountName,
    [appSettingNames.applicationInsightsConnectionString]: inputs.applicationInsightsConnectionString,
    [appSettingNames.payloadStore]: 'azure-blob',
    [appSettingNames.payloadBlobServiceUri]: inputs.payloadBlobEndpoint,
    [appSettingNames.payloadContainer]: payloadContainerNames.payloads,
    [appSettingNames.eventGridTopicEndpoint]: inputs.eventGridTopicEndpoint,
    [appSettingNames.trackingSqlServer]: inputs.sqlServerHostName,
    [appSettingNames.trackingSqlDatabase]: inputs.sqlDatabaseName,
    [appSettingNames.auditIngestionEndpoint]: inputs.auditIngestionEndpoint,
    [appSettingNames.auditDataCollectionRuleId]: inputs.auditDataCollectionRuleImmutableId,
    [appSettingNames.auditStreamName]: inputs.auditStreamName,
    [appSettingNames.keyVaultUri]: inputs.keyVaultUri,
    [appSettingNames.dataFactorySubscriptionId]: inputs.subscriptionId,
    [appSettingNames.dataFactoryResourceGroup]: inputs.resourceGroupName,
    [appSettingNames.dataFactoryName]: inputs.dataFactoryName,
    [appSettingNames.dataFactoryPipelineName]: inputs.dataFactoryPipelineName,
  };
  for (const secretRef of inputs.secretRefs) {
    if (secretRef in settings) {
      throw new InfraConfigError(
        `Config ${configKeys.secretRefs} contains ${JSON.stringify(secretRef)}, which is also an app setting that this program sets. ` +
          `Rename the secretRef in the connectors file and in config ${configKeys.secretRefs}.`,
      );
    }
    settings[secretRef] = keyVaultReferenceOf(inputs.keyVaultUri, secretRef);
  }
  return settings;
}
