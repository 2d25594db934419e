import * as pulumi from '@pulumi/pulumi';
import * as network from '@pulumi/azure-native/network';
import { sendDiagnosticsToWorkspace } from './diagnostics';

export const vnetAddressSpace = '10.40.0.0/16';
export const subnetNames = {
  functionApp: 'function-app',
  privateEndpoints: 'private-endpoints',
} as const;

/** Service that Flex Consumption requires its integration subnet to be delegated to. */
export const flexConsumptionSubnetDelegation = 'Microsoft.App/environments';

export interface NetworkInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  workspaceId: pulumi.Input<string>;
}

export interface Network {
  vnet: network.VirtualNetwork;
  functionAppSubnetId: pulumi.Output<string>;
  privateEndpointSubnetId: pulumi.Output<string>;
}

/**
 * Declares the virtual network: one subnet delegated to Flex Consumption for the Function
 * App's outbound traffic, and one for private endpoints. The subnets are declared inside the
 * network, because separate subnet resources and an inline list would overwrite each other.
 */
export function createNetwork(inputs: NetworkInputs): Network {
  const vnet = new network.VirtualNetwork('vnet', {
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    addressSpace: { addressPrefixes: [vnetAddressSpace] },
    subnets: [
      {
        name: subnetNames.functionApp,
        addressPrefix: '10.40.1.0/24',
        delegations: [{ name: 'flex-consumption', serviceName: flexConsumptionSubnetDelegation }],
        privateEndpointNetworkPolicies: network.VirtualNetworkPrivateEndpointNetworkPolicies.Enabled,
      },
      {
        name: subnetNames.privateEndpoints,
        addressPrefix: '10.40.2.0/24',
        privateEndpointNetworkPolicies: network.VirtualNetworkPrivateEndpointNetworkPolicies.Enabled,
      },
    ],
  });
  sendDiagnosticsToWorkspace('vnet', vnet.id, inputs.workspaceId, 'logsAndMetrics');

  return {
    vnet,
    functionAppSubnetId: pulumi.interpolate`${vnet.id}/subnets/${subnetNames.functionApp}`,
    privateEndpointSubnetId: pulumi.interpolate`${vnet.id}/subnets/${subnetNames.privateEndpoints}`,
  };
}
