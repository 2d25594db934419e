import * as pulumi from '@pulumi/pulumi';
import * as network from '@pulumi/azure-native/network';
import * as privatedns from '@pulumi/azure-native/privatedns';
import * as sql from '@pulumi/azure-native/sql';
import { sendDiagnosticsToWorkspace } from './diagnostics';

export const trackingDatabaseName = 'tracking';
/** Private DNS zone that resolves Azure SQL server names to private endpoint addresses. */
export const sqlPrivateDnsZoneName = 'privatelink.database.windows.net';

export interface SqlInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  serverName: pulumi.Input<string>;
  databaseSkuName: string;
  entraAdmin: { login: string; objectId: string };
  tenantId: pulumi.Input<string>;
  vnetId: pulumi.Input<string>;
  privateEndpointSubnetId: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

export interface TrackingSql {
  server: sql.Server;
  database: sql.Database;
  privateEndpoint: network.PrivateEndpoint;
  privateDnsZone: privatedns.PrivateZone;
}

/**
 * Declares the Azure SQL server and the tracking database. Only Entra identities can sign in
 * (SQL authentication is off), only over TLS 1.2 or later, and only through the private
 * endpoint in the virtual network, because public network access is off.
 */
export function createTrackingSql(inputs: SqlInputs): TrackingSql {
  const server = new sql.Server('sql-server', {
    serverName: inputs.serverName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    version: '12.0',
    minimalTlsVersion: sql.MinimalTlsVersion.MinimalTlsVersion_1_2,
    publicNetworkAccess: sql.ServerPublicNetworkAccessFlag.Disabled,
    restrictOutboundNetworkAccess: sql.ServerNetworkAccessFlag.Enabled,
    administrators: {
      administratorType: sql.AdministratorType.ActiveDirectory,
      azureADOnlyAuthentication: true,
      login: inputs.entraAdmin.login,
      sid: inputs.entraAdmin.objectId,
      tenantId: inputs.tenantId,
    },
  });

  const database = new sql.Database('tracking-database', {
    databaseName: trackingDatabaseName,
    serverName: server.name,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    sku: { name: inputs.databaseSkuName },
  });
  sendDiagnosticsToWorkspace('tracking-database', database.id, inputs.workspaceId, 'logsAndMetrics');

  const privateEndpoint = new network.PrivateEndpoint('sql-private-endpoint', {
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    subnet: { id: inputs.privateEndpointSubnetId },
    privateLinkServiceConnections: [{ name: 'sql-server', privateLinkServiceId: server.id, groupIds: ['sqlServer'] }],
  });

  const privateDnsZone = new privatedns.PrivateZone('sql-private-dns', {
    privateZoneName: sqlPrivateDnsZoneName,
    resourceGroupName: inputs.resourceGroupName,
    location: 'global',
  });
  new privatedns.VirtualNetworkLink('sql-private-dns-link', {
    privateZoneName: privateDnsZone.name,
    resourceGroupName: inputs.resourceGroupName,
    location: 'global',
    registrationEnabled: false,
    virtualNetwork: { id: inputs.vnetId },
  });
  new network.PrivateDnsZoneGroup('sql-private-dns-group', {
    privateEndpointName: privateEndpoint.name,
    resourceGroupName: inputs.resourceGroupName,
    privateDnsZoneGroupName: 'default',
    privateDnsZoneConfigs: [{ name: 'sql', privateDnsZoneId: privateDnsZone.id }],
  });

  return { server, database, privateEndpoint, privateDnsZone };
}
