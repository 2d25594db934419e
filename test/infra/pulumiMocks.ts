/**
 * Pulumi mocks for the infrastructure tests. They run the program in-process with no Pulumi CLI,
 * no plugins and no network: every resource is recorded with its inputs, and gets an Azure
 * resource id and the computed outputs that the program reads (host names, principal ids).
 *
 * Mocks are global to the process, so a test file that uses them must load no app code.
 */
import * as pulumi from '@pulumi/pulumi';

export const mockSubscriptionId = '00000000-0000-0000-0000-000000000001';
export const mockTenantId = '00000000-0000-0000-0000-0000000000aa';
export const mockNameSuffix = 'x7k2qp';
export const mockFrontDoorId = '11111111-2222-3333-4444-555555555555';

export interface RecordedResource {
  /** Pulumi type token, such as `azure-native:storage:StorageAccount`. */
  type: string;
  /** Logical name given in the program. */
  name: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

/** Azure resource type and the input that contains the Azure name, per Pulumi type token. */
const armTypes: Record<string, { armType: string; nameInput: string }> = {
  'azure-native:storage:StorageAccount': { armType: 'Microsoft.Storage/storageAccounts', nameInput: 'accountName' },
  'azure-native:web:AppServicePlan': { armType: 'Microsoft.Web/serverfarms', nameInput: 'name' },
  'azure-native:web:WebApp': { armType: 'Microsoft.Web/sites', nameInput: 'name' },
  'azure-native:keyvault:Vault': { armType: 'Microsoft.KeyVault/vaults', nameInput: 'vaultName' },
  'azure-native:sql:Server': { armType: 'Microsoft.Sql/servers', nameInput: 'serverName' },
  'azure-native:eventgrid:Topic': { armType: 'Microsoft.EventGrid/topics', nameInput: 'topicName' },
  'azure-native:datafactory:Factory': { armType: 'Microsoft.DataFactory/factories', nameInput: 'factoryName' },
  'azure-native:cdn:Profile': { armType: 'Microsoft.Cdn/profiles', nameInput: 'profileName' },
  'azure-native:frontdoor:Policy': { armType: 'Microsoft.Network/frontDoorWebApplicationFirewallPolicies', nameInput: 'policyName' },
  'azure-native:operationalinsights:Workspace': { armType: 'Microsoft.OperationalInsights/workspaces', nameInput: 'workspaceName' },
  'azure-native:applicationinsights:Component': { armType: 'Microsoft.Insights/components', nameInput: 'resourceName' },
  'azure-native:network:VirtualNetwork': { armType: 'Microsoft.Network/virtualNetworks', nameInput: 'virtualNetworkName' },
  'azure-native:network:PrivateEndpoint': { armType: 'Microsoft.Network/privateEndpoints', nameInput: 'privateEndpointName' },
  'azure-native:privatedns:PrivateZone': { armType: 'Microsoft.Network/privateDnsZones', nameInput: 'privateZoneName' },
  'azure-native:monitor:DataCollectionEndpoint': { armType: 'Microsoft.Insights/dataCollectionEndpoints', nameInput: 'dataCollectionEndpointName' },
  'azure-native:monitor:DataCollectionRule': { armType: 'Microsoft.Insights/dataCollectionRules', nameInput: 'dataCollectionRuleName' },
  'azure-native:monitor:ActionGroup': { armType: 'Microsoft.Insights/actionGroups', nameInput: 'actionGroupName' },
};

function resourceGroupIdOf(resourceGroupName: string): string {
  return `/subscriptions/${mockSubscriptionId}/resourceGroups/${resourceGroupName}`;
}

/** Returns an id shaped like the Azure resource id of the recorded resource. */
function mockIdOf(args: pulumi.runtime.MockResourceArgs): string {
  const inputs = args.inputs;
  if (args.type === 'azure-native:resources:ResourceGroup') {
    return resourceGroupIdOf(inputs.resourceGroupName ?? args.name);
  }
  const group = resourceGroupIdOf(inputs.resourceGroupName ?? 'unknown-group');
  const armType = armTypes[args.type];
  if (armType !== undefined) {
    return `${group}/providers/${armType.armType}/${inputs[armType.nameInput] ?? args.name}`;
  }
  switch (args.type) {
    case 'azure-native:storage:BlobServiceProperties':
      return `${group}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/blobServices/default`;
    case 'azure-native:storage:BlobContainer':
      return `${group}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/blobServices/default/containers/${inputs.containerName}`;
    case 'azure-native:sql:Database':
      return `${group}/providers/Microsoft.Sql/servers/${inputs.serverName}/databases/${inputs.databaseName}`;
    case 'azure-native:cdn:AFDEndpoint':
      return `${group}/providers/Microsoft.Cdn/profiles/${inputs.profileName}/afdEndpoints/${inputs.endpointName}`;
    case 'azure-native:authorization:RoleAssignment':
      return `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${args.name}`;
    case 'azure-native:monitor:DiagnosticSetting':
      return `${inputs.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${inputs.name}`;
    default:
      return `${group}/providers/Mock.Provider/${args.type}/${args.name}`;
  }
}

/** Returns the outputs that Azure computes and the program reads. */
function computedStateOf(args: pulumi.runtime.MockResourceArgs, id: string): Record<string, unknown> {
  const inputs = args.inputs;
  const azureName = id.split('/').at(-1);
  const computed: Record<string, unknown> = { name: azureName };
  switch (args.type) {
    case 'random:index/randomString:RandomString':
      return { result: mockNameSuffix };
    case 'azure-native:storage:StorageAccount':
      computed.primaryEndpoints = { blob: `https://${inputs.accountName}.blob.core.windows.net/` };
      break;
    case 'azure-native:web:WebApp':
      computed.defaultHostName = `${inputs.name}.azurewebsites.net`;
      computed.identity = { type: 'SystemAssigned', principalId: `principal-of-${args.name}` };
      break;
    case 'azure-native:datafactory:Factory':
      computed.identity = { type: 'SystemAssigned', principalId: `principal-of-${args.name}` };
      break;
    case 'azure-native:eventgrid:Topic':
      computed.identity = { type: 'SystemAssigned', principalId: `principal-of-${args.name}` };
      computed.endpoint = `https://${inputs.topicName}.${inputs.location}-1.eventgrid.azure.net/api/events`;
      break;
    case 'azure-native:cdn:Profile':
      computed.frontDoorId = mockFrontDoorId;
      break;
    case 'azure-native:cdn:AFDEndpoint':
      computed.hostName = `${inputs.endpointName}-abcdef.z01.azurefd.net`;
      break;
    case 'azure-native:keyvault:Vault':
      computed.properties = { ...inputs.properties, vaultUri: `https://${inputs.vaultName}.vault.azure.net/` };
      break;
    case 'azure-native:applicationinsights:Component':
      computed.connectionString = 'InstrumentationKey=00000000-0000-0000-0000-00000000cafe;IngestionEndpoint=https://example.invalid/';
      break;
    case 'azure-native:monitor:DataCollectionEndpoint':
      computed.logsIngestion = { endpoint: 'https://audit-endpoint.westeurope-1.ingest.monitor.azure.com' };
      break;
    case 'azure-native:monitor:DataCollectionRule':
      computed.immutableId = 'dcr-00000000000000000000000000000001';
      break;
    case 'azure-native:sql:Server':
      computed.fullyQualifiedDomainName = `${inputs.serverName}.database.windows.net`;
      break;
  }
  return computed;
}

/**
 * Sets the Pulumi mocks for this process and returns the list that every declared resource is
 * appended to.
 */
export function installPulumiMocks(): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = mockIdOf(args);
        const state = { ...args.inputs, ...computedStateOf(args, id) };
        recorded.push({ type: args.type, name: args.name, id, inputs: args.inputs, state });
        return { id, state };
      },
      call(args) {
        if (args.token === 'azure-native:authorization:getClientConfig') {
          return { subscriptionId: mockSubscriptionId, tenantId: mockTenantId, clientId: 'mock-client', objectId: 'mock-object' };
        }
        throw new Error(`The infrastructure tests do not mock the invoke ${args.token}. Add it to installPulumiMocks.`);
      },
    },
    'api-data-connector-infra',
    'test',
    false,
  );
  return recorded;
}

/** Returns the value of an output, as the program would see it after deployment. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/**
 * Waits until no resource has been recorded for a few checks in a row, so the program's
 * asynchronous registrations have finished. Gives up after 200 checks of 10 ms.
 */
export async function waitForRegistrations(recorded: RecordedResource[]): Promise<void> {
  const maxChecks = 200;
  const stableChecksNeeded = 5;
  let stableChecks = 0;
  let lastCount = -1;
  for (let check = 0; check < maxChecks && stableChecks < stableChecksNeeded; check++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    stableChecks = recorded.length === lastCount ? stableChecks + 1 : 0;
    lastCount = recorded.length;
  }
  if (stableChecks < stableChecksNeeded) {
    throw new Error(`Resource registrations did not settle within ${maxChecks} checks; ${recorded.length} resources were recorded so far.`);
  }
}

/** Returns the recorded resources of one Pulumi type token. */
export function resourcesOfType(recorded: RecordedResource[], type: string): RecordedResource[] {
  return recorded.filter((resource) => resource.type === type);
}

/** Returns the one recorded resource with the logical name, or throws naming what exists. */
export function resourceNamed(recorded: RecordedResource[], name: string): RecordedResource {
  const found = recorded.filter((resource) => resource.name === name);
  if (found.length !== 1) {
    throw new Error(`Expected one resource named ${name}, found ${found.length}. Recorded: ${recorded.map((resource) => resource.name).join(', ')}`);
  }
  return found[0];
}
