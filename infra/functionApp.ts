import * as pulumi from '@pulumi/pulumi';
import type * as inputTypes from '@pulumi/azure-native/types/input';
import * as web from '@pulumi/azure-native/web';
import { sendDiagnosticsToWorkspace } from './diagnostics';

/** Node.js major version that the app runs on. */
export const nodeRuntimeVersion = '22';

/** Service tag of the addresses that Front Door reaches origins from. */
export const frontDoorServiceTag = 'AzureFrontDoor.Backend';
/** Header in which Front Door sends its profile's id, so an origin can reject other profiles. */
export const frontDoorIdHeaderName = 'x-azure-fdid';
/** Service tag of the addresses that Event Grid delivers events from. */
export const eventGridServiceTag = 'AzureEventGrid';

export interface FunctionAppInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  appName: pulumi.Input<string>;
  /** Blob container URL of the runtime account that Flex Consumption deploys the package from. */
  deploymentContainerUrl: pulumi.Input<string>;
  functionAppSubnetId: pulumi.Input<string>;
  /** `frontDoorId` of the Front Door profile, the only one allowed to call the app. */
  frontDoorId: pulumi.Input<string>;
  appSettings: Record<string, pulumi.Input<string>>;
  /** Whether Event Grid may call the app directly, for the Event Grid trigger subscription. */
  allowEventGridDelivery: boolean;
  instanceMemoryInMegabytes: number;
  maximumInstanceCount: number;
  workspaceId: pulumi.Input<string>;
}

export interface FunctionApp {
  plan: web.AppServicePlan;
  app: web.WebApp;
  principalId: pulumi.Output<string>;
}

/**
 * Declares the Flex Consumption plan and the Linux Function App on Node 22 with a
 * system-assigned identity. The app accepts only HTTPS from Front Door's backend addresses
 * carrying this program's Front Door id, and from Event Grid when `allowEventGridDelivery` is
 * set. It has FTP and basic publishing credentials off, and sends its outbound traffic through
 * the integration subnet.
 */
export function createFunctionApp(inputs: FunctionAppInputs): FunctionApp {
  const plan = new web.AppServicePlan('function-plan', {
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    kind: 'functionapp',
    reserved: true,
    sku: { name: 'FC1', tier: 'FlexConsumption' },
  });
  sendDiagnosticsToWorkspace('function-plan', plan.id, inputs.workspaceId, 'metricsOnly');

  const app = new web.WebApp('function-app', {
    name: inputs.appName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    kind: 'functionapp,linux',
    serverFarmId: plan.id,
    httpsOnly: true,
    clientCertEnabled: false,
    identity: { type: web.ManagedServiceIdentityType.SystemAssigned },
    virtualNetworkSubnetId: inputs.functionAppSubnetId,
    functionAppConfig: {
      deployment: {
        storage: {
          type: web.FunctionsDeploymentStorageType.BlobContainer,
          value: inputs.deploymentContainerUrl,
          authentication: { type: web.AuthenticationType.SystemAssignedIdentity },
        },
      },
      runtime: { name: web.RuntimeName.Node, version: nodeRuntimeVersion },
      scaleAndConcurrency: {
        instanceMemoryMB: inputs.instanceMemoryInMegabytes,
        maximumInstanceCount: inputs.maximumInstanceCount,
      },
    },
    siteConfig: {
      ftpsState: web.FtpsState.Disabled,
      minTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
      scmMinTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
      http20Enabled: true,
      vnetRouteAllEnabled: true,
      ipSecurityRestrictionsDefaultAction: web.DefaultAction.Deny,
      ipSecurityRestrictions: inboundAccessRulesOf(inputs.frontDoorId, inputs.allowEventGridDelivery),
      // The SCM site, which receives deployments, keeps no address restrictions, so operators
      // can publish from their own network. It accepts only Entra tokens, because basic
      // publishing credentials are off below.
      scmIpSecurityRestrictionsUseMain: false,
      scmIpSecurityRestrictionsDefaultAction: web.DefaultAction.Allow,
      appSettings: Object.entries(inputs.appSettings).map(([name, value]) => ({ name, value })),
    },
  });

  new web.WebAppFtpAllowed('function-app-ftp-credentials', {
    name: app.name,
    resourceGroupName: inputs.resourceGroupName,
    allow: false,
  });
  new web.WebAppScmAllowed('function-app-scm-credentials', {
    name: app.name,
    resourceGroupName: inputs.resourceGroupName,
    allow: false,
  });
  sendDiagnosticsToWorkspace('function-app', app.id, inputs.workspaceId, 'logsAndMetrics');

  const principalId = app.identity.apply((identity) => {
    if (identity?.principalId === undefined) {
      throw new Error('The Function App has no system-assigned identity principal id after creation. Check that identity type SystemAssigned was applied.');
    }
    return identity.principalId;
  });
  return { plan, app, principalId };
}

/**
 * Returns the access restrictions of the app's main site. Event Grid calls the trigger's
 * webhook directly rather than through Front Door, so its service tag gets its own rule. The
 * webhook still requires the Event Grid extension's system key.
 */
export function inboundAccessRulesOf(frontDoorId: pulumi.Input<string>, allowEventGridDelivery: boolean): inputTypes.web.IpSecurityRestrictionArgs[] {
  const rules: inputTypes.web.IpSecurityRestrictionArgs[] = [
    {
      name: 'front-door',
      priority: 100,
      action: 'Allow',
      tag: web.IpFilterTag.ServiceTag,
      ipAddress: frontDoorServiceTag,
      headers: { [frontDoorIdHeaderName]: [frontDoorId] },
    },
  ];
  if (allowEventGridDelivery) {
    rules.push({ name: 'event-grid', priority: 200, action: 'Allow', tag: web.IpFilterTag.ServiceTag, ipAddress: eventGridServiceTag });
  }
  return rules;
}
