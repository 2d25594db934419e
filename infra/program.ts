import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import type * as cdn from '@pulumi/azure-native/cdn';
import type * as keyvault from '@pulumi/azure-native/keyvault';
import * as resources from '@pulumi/azure-native/resources';
import { createAlerts, type Alerts } from './alerts';
import { functionAppSettingsOf } from './appSettings';
import type { InfraConfig } from './config';
import { createDataFactory, transformPipelineName, type DataFactory } from './dataFactory';
import { createEventGridTopic, createEventGridTriggerSubscription, type EventGridTopic } from './eventGrid';
import { createFrontDoorProfile, createFrontDoorRouting, ingestPathPattern, type FrontDoorRouting } from './frontDoor';
import { createFunctionApp, type FunctionApp } from './functionApp';
import { createKeyVault } from './keyVault';
import { auditStreamName, createMonitoring, type Monitoring } from './monitoring';
import { createResourceNames, type ResourceNames } from './naming';
import { createNetwork, type Network } from './network';
import { createRoleAssignments } from './roles';
import { createTrackingSql, type TrackingSql } from './sql';
import { createPayloadStorage, createRuntimeStorage, deploymentContainerName, payloadContainerNames, type PayloadStorage, type RuntimeStorage } from './storage';

export interface ConnectorInfrastructure {
  names: ResourceNames;
  resourceGroup: resources.ResourceGroup;
  monitoring: Monitoring;
  network: Network;
  payloadStorage: PayloadStorage;
  runtimeStorage: RuntimeStorage;
  keyVault: keyvault.Vault;
  eventGrid: EventGridTopic;
  dataFactory: DataFactory;
  sql: TrackingSql;
  functionApp: FunctionApp;
  frontDoorProfile: cdn.Profile;
  frontDoor: FrontDoorRouting;
  alerts: Alerts;
  /** `https://<endpoint host>/api/connectors/{connectorId}/messages`. */
  ingestUrlPattern: pulumi.Output<string>;
}

/** Declares every Azure resource of the connector in one new resource group. */
export function createConnectorInfrastructure(config: InfraConfig): ConnectorInfrastructure {
  const clientConfig = authorization.getClientConfigOutput();
  const names = createResourceNames(config.namePrefix);

  const resourceGroup = new resources.ResourceGroup('resource-group', {
    resourceGroupName: names.resourceGroup,
    location: config.location,
  });
  const resourceGroupName = resourceGroup.name;
  const location = config.location;

  const monitoring = createMonitoring({
    resourceGroupName,
    location,
    workspaceName: names.logAnalyticsWorkspace,
    logRetentionInDays: config.logRetentionInDays,
  });
  const workspaceId = monitoring.workspace.id;

  const network = createNetwork({ resourceGroupName, location, workspaceId });

  const storageInputs = {
    resourceGroupName,
    location,
    skuName: config.storageSkuName,
    blobSoftDeleteRetentionInDays: config.blobSoftDeleteRetentionInDays,
    workspaceId,
  };
  const payloadStorage = createPayloadStorage(names.payloadStorageAccount, storageInputs, config.payloadRetentionInDays);
  const runtimeStorage = createRuntimeStorage(names.runtimeStorageAccount, storageInputs);
  const payloadBlobEndpoint = payloadStorage.account.primaryEndpoints.blob;

  const keyVault = createKeyVault({ resourceGroupName, location, vaultName: names.keyVault, tenantId: clientConfig.tenantId, workspaceId });
  const eventGrid = createEventGridTopic({ resourceGroupName, location, topicName: names.eventGridTopic, workspaceId });
  const dataFactory = createDataFactory({ resourceGroupName, location, factoryName: names.dataFactory, payloadBlobEndpoint, workspaceId });
  const sql = createTrackingSql({
    resourceGroupName,
    location,
    serverName: names.sqlServer,
    databaseSkuName: config.sqlDatabaseSkuName,
    entraAdmin: config.sqlEntraAdmin,
    tenantId: clientConfig.tenantId,
    vnetId: network.vnet.id,
    privateEndpointSubnetId: network.privateEndpointSubnetId,
    workspaceId,
  });

  const frontDoorProfile = createFrontDoorProfile({ resourceGroupName, workspaceId });

  const appSettings = functionAppSettingsOf({
    runtimeStorageAccountName: runtimeStorage.account.name,
    applicationInsightsConnectionString: pulumi.secret(monitoring.applicationInsights.connectionString),
    payloadBlobEndpoint,
    eventGridTopicEndpoint: eventGrid.topic.endpoint,
    sqlServerHostName: sql.server.fullyQualifiedDomainName,
    sqlDatabaseName: sql.database.name,
    auditIngestionEndpoint: monitoring.dataCollectionEndpoint.logsIngestion.apply((logsIngestion) => logsIngestion?.endpoint ?? ''),
    auditDataCollectionRuleImmutableId: monitoring.auditDataCollectionRule.immutableId,
    auditStreamName,
    keyVaultUri: keyVault.properties.vaultUri,
    subscriptionId: clientConfig.subscriptionId,
    resourceGroupName,
    dataFactoryName: dataFactory.factory.name,
    dataFactoryPipelineName: transformPipelineName,
    secretRefs: config.secretRefs,
  });

  const functionApp = createFunctionApp({
    resourceGroupName,
    location,
    appName: names.functionApp,
    deploymentContainerUrl: pulumi.interpolate`${runtimeStorage.account.primaryEndpoints.blob}${deploymentContainerName}`,
    functionAppSubnetId: network.functionAppSubnetId,
    frontDoorId: frontDoorProfile.frontDoorId,
    appSettings,
    allowEventGridDelivery: config.subscribeEventGridTrigger,
    instanceMemoryInMegabytes: config.functionInstanceMemoryInMegabytes,
    maximumInstanceCount: config.functionMaximumInstanceCount,
    workspaceId,
  });

  const frontDoor = createFrontDoorRouting({
    resourceGroupName,
    profile: frontDoorProfile,
    endpointName: names.frontDoorEndpoint,
    wafPolicyName: names.suffix.apply((suffix) => `${config.namePrefix}waf${suffix}`),
    originHostName: functionApp.app.defaultHostName,
    partnerIpRanges: config.partnerIpRanges,
    rateLimitPerMinute: config.wafRateLimitPerMinute,
  });

  createRoleAssignments({
    subscriptionId: clientConfig.subscriptionId,
    functionAppPrincipalId: functionApp.principalId,
    dataFactoryPrincipalId: dataFactory.principalId,
    eventGridTopicPrincipalId: eventGrid.principalId,
    payloadStorageAccountId: payloadStorage.account.id,
    runtimeStorageAccountId: runtimeStorage.account.id,
    keyVaultId: keyVault.id,
    eventGridTopicId: eventGrid.topic.id,
    dataFactoryId: dataFactory.factory.id,
    auditDataCollectionRuleId: monitoring.auditDataCollectionRule.id,
    deadLetterContainerId: payloadStorage.containers.deadLetters.id,
  });

  if (config.subscribeEventGridTrigger) {
    createEventGridTriggerSubscription({
      topicId: eventGrid.topic.id,
      functionAppId: functionApp.app.id,
      deadLetterStorageAccountId: payloadStorage.account.id,
      deadLetterContainerName: payloadContainerNames.deadLetters,
    });
  }

  const alerts = createAlerts({
    resourceGroupName,
    location,
    alertEmail: config.alertEmail,
    workspaceId,
    frontDoorProfileId: frontDoorProfile.id,
  });

  return {
    names,
    resourceGroup,
    monitoring,
    network,
    payloadStorage,
    runtimeStorage,
    keyVault,
    eventGrid,
    dataFactory,
    sql,
    functionApp,
    frontDoorProfile,
    frontDoor,
    alerts,
    ingestUrlPattern: pulumi.interpolate`https://${frontDoor.endpoint.hostName}${ingestPathPattern}`,
  };
}
