/**
 * Entry point of the Pulumi program: reads the stack config, declares the connector's Azure
 * resources and exports what an operator needs to deploy and call the app.
 */
import * as pulumi from '@pulumi/pulumi';
import { readInfraConfig } from './config';
import { createConnectorInfrastructure } from './program';

const config = new pulumi.Config();
const infrastructure = createConnectorInfrastructure(readInfraConfig((key) => config.get(key)));

export const frontDoorEndpointHostName = infrastructure.frontDoor.endpoint.hostName;
export const ingestUrlPattern = infrastructure.ingestUrlPattern;
export const resourceGroupName = infrastructure.resourceGroup.name;
export const functionAppName = infrastructure.functionApp.app.name;
export const payloadStorageAccountName = infrastructure.payloadStorage.account.name;
export const runtimeStorageAccountName = infrastructure.runtimeStorage.account.name;
export const keyVaultName = infrastructure.keyVault.name;
export const keyVaultUri = infrastructure.keyVault.properties.vaultUri;
export const sqlServerName = infrastructure.sql.server.name;
export const sqlServerHostName = infrastructure.sql.server.fullyQualifiedDomainName;
export const sqlDatabaseName = infrastructure.sql.database.name;
export const eventGridTopicName = infrastructure.eventGrid.topic.name;
export const eventGridTopicEndpoint = infrastructure.eventGrid.topic.endpoint;
export const dataFactoryName = infrastructure.dataFactory.factory.name;
export const logAnalyticsWorkspaceName = infrastructure.monitoring.workspace.name;
export const frontDoorProfileName = infrastructure.frontDoorProfile.name;
export const wafPolicyName = infrastructure.frontDoor.wafPolicy.name;
