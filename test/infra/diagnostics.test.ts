import { beforeAll, describe, expect, test } from 'vitest';
import { declareTestInfrastructure } from './declareTestInfrastructure';
import { resourceNamed, resourcesOfType, type RecordedResource } from './pulumiMocks';

/** Resource types that support diagnostic settings. Each resource of these types must have one. */
const typesWithDiagnosticSettings = [
  'azure-native:storage:StorageAccount',
  'azure-native:storage:BlobServiceProperties',
  'azure-native:web:AppServicePlan',
  'azure-native:web:WebApp',
  'azure-native:keyvault:Vault',
  'azure-native:sql:Database',
  'azure-native:eventgrid:Topic',
  'azure-native:datafactory:Factory',
  'azure-native:cdn:Profile',
  'azure-native:operationalinsights:Workspace',
  'azure-native:network:VirtualNetwork',
];

/** Every other type that the program declares, with the reason it has no diagnostic setting. */
const typesWithoutDiagnosticSettings: Record<string, string> = {
  'random:index/randomString:RandomString': 'not an Azure resource',
  'azure-native:resources:ResourceGroup': 'changes are in the subscription activity log',
  'azure-native:applicationinsights:Component': 'workspace-based, so its telemetry is already in the workspace',
  'azure-native:operationalinsights:Table': 'part of the workspace',
  'azure-native:monitor:DataCollectionEndpoint': 'has no log categories',
  'azure-native:monitor:DataCollectionRule': 'ingestion errors are left out, see docs/deploy.md',
  'azure-native:monitor:DiagnosticSetting': 'changes are in the activity log',
  'azure-native:monitor:ActionGroup': 'changes are in the activity log',
  'azure-native:monitor:ScheduledQueryRule': 'firings are in the activity log',
  'azure-native:monitor:MetricAlert': 'firings are in the activity log',
  'azure-native:storage:BlobContainer': 'logged by the blob service',
  'azure-native:storage:ManagementPolicy': 'logged by the blob service',
  'azure-native:web:WebAppFtpAllowed': 'setting of the site',
  'azure-native:web:WebAppScmAllowed': 'setting of the site',
  'azure-native:sql:Server': 'Azure SQL takes diagnostic settings per database',
  'azure-native:network:PrivateEndpoint': 'has no log categories',
  'azure-native:network:PrivateDnsZoneGroup': 'setting of the private endpoint',
  'azure-native:privatedns:PrivateZone': 'has no log categories',
  'azure-native:privatedns:VirtualNetworkLink': 'setting of the private DNS zone',
  'azure-native:eventgrid:EventSubscription': 'delivery failures are logged by the topic',
  'azure-native:datafactory:LinkedService': 'runs are logged by the factory',
  'azure-native:datafactory:Dataset': 'runs are logged by the factory',
  'azure-native:datafactory:Pipeline': 'runs are logged by the factory',
  'azure-native:frontdoor:Policy': 'WAF logs are a category of the Front Door profile',
  'azure-native:cdn:AFDEndpoint': 'logged by the Front Door profile',
  'azure-native:cdn:AFDOriginGroup': 'logged by the Front Door profile',
  'azure-native:cdn:AFDOrigin': 'logged by the Front Door profile',
  'azure-native:cdn:Route': 'logged by the Front Door profile',
  'azure-native:cdn:SecurityPolicy': 'logged by the Front Door profile',
  'azure-native:authorization:RoleAssignment': 'changes are in the activity log',
};

/** Types whose diagnostic setting has metrics only, because the type has no log categories. */
const metricsOnlyTypes = ['azure-native:storage:StorageAccount', 'azure-native:web:AppServicePlan'];

let recorded: RecordedResource[];
let workspaceId: string;

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
  workspaceId = resourceNamed(recorded, 'logs').id;
});

const diagnosticSettings = () => resourcesOfType(recorded, 'azure-native:monitor:DiagnosticSetting');
const settingsFor = (resourceUri: string) => diagnosticSettings().filter((setting) => setting.inputs.resourceUri === resourceUri);

describe('diagnostic settings', () => {
  test('every declared type is classified', () => {
    const known = new Set([...typesWithDiagnosticSettings, ...Object.keys(typesWithoutDiagnosticSettings)]);
    const unclassified = [...new Set(recorded.map((resource) => resource.type))].filter((type) => !known.has(type));
    expect(unclassified).toEqual([]);
  });

  test.each(typesWithDiagnosticSettings)('program declares %s', (type) => {
    expect(resourcesOfType(recorded, type).length).toBeGreaterThan(0);
  });

  test.each(typesWithDiagnosticSettings)('each %s has one', (type) => {
    const withoutSetting = resourcesOfType(recorded, type).filter((resource) => settingsFor(resource.id).length !== 1).map((resource) => resource.name);
    expect(withoutSetting).toEqual([]);
  });

  test('all send to the workspace', () => {
    const elsewhere = diagnosticSettings().filter((setting) => setting.inputs.workspaceId !== workspaceId).map((setting) => setting.name);
    expect(elsewhere).toEqual([]);
  });

  test('all send all metrics', () => {
    const withoutMetrics = diagnosticSettings()
      .filter((setting) => !setting.inputs.metrics.some((metric: any) => metric.category === 'AllMetrics' && metric.enabled))
      .map((setting) => setting.name);
    expect(withoutMetrics).toEqual([]);
  });

  test.each(typesWithDiagnosticSettings.filter((type) => !metricsOnlyTypes.includes(type)))('%s sends all logs', (type) => {
    const withoutLogs = resourcesOfType(recorded, type)
      .flatMap((resource) => settingsFor(resource.id))
      .filter((setting) => !setting.inputs.logs.some((log: any) => log.categoryGroup === 'allLogs' && log.enabled))
      .map((setting) => setting.name);
    expect(withoutLogs).toEqual([]);
  });

  test.each(['queueServices', 'tableServices'])('runtime %s have one', (service) => {
    const serviceId = `${resourceNamed(recorded, 'runtime-storage').id}/${service}/default`;
    expect(settingsFor(serviceId)).toHaveLength(1);
  });
});
