import { beforeAll, describe, expect, test } from 'vitest';
import { functionAppSettingsOf } from '../../infra/appSettings';
import { inboundAccessRulesOf } from '../../infra/functionApp';
import { declareTestInfrastructure, isSecretWrapper, withoutSecretWrappers } from './declareTestInfrastructure';
import { mockFrontDoorId, resourceNamed, type RecordedResource } from './pulumiMocks';

let recorded: RecordedResource[];

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
});

const app = () => resourceNamed(recorded, 'function-app');
const siteConfig = () => withoutSecretWrappers(app().inputs.siteConfig);
const appSettings = (): Record<string, string> =>
  Object.fromEntries((siteConfig().appSettings as { name: string; value: string }[]).map((setting) => [setting.name, setting.value]));

describe('function app', () => {
  test('plan is Flex Consumption', () => {
    expect(resourceNamed(recorded, 'function-plan').inputs.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
  });

  test('plan is Linux', () => {
    expect(resourceNamed(recorded, 'function-plan').inputs.reserved).toBe(true);
  });

  test('runs on Linux', () => {
    expect(app().inputs.kind).toBe('functionapp,linux');
  });

  test('runs Node 22', () => {
    expect(app().inputs.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
  });

  test('has system-assigned identity', () => {
    expect(app().inputs.identity).toEqual({ type: 'SystemAssigned' });
  });

  test('accepts HTTPS only', () => {
    expect(app().inputs.httpsOnly).toBe(true);
  });

  test('has FTP off', () => {
    expect(siteConfig().ftpsState).toBe('Disabled');
  });

  test('has FTP basic credentials off', () => {
    expect(resourceNamed(recorded, 'function-app-ftp-credentials').inputs.allow).toBe(false);
  });

  test('has SCM basic credentials off', () => {
    expect(resourceNamed(recorded, 'function-app-scm-credentials').inputs.allow).toBe(false);
  });

  test('requires TLS 1.2', () => {
    expect(siteConfig().minTlsVersion).toBe('1.2');
  });

  test('deploys package with its identity', () => {
    expect(app().inputs.functionAppConfig.deployment.storage.authentication).toEqual({ type: 'SystemAssignedIdentity' });
  });

  test('deploys package from runtime account', () => {
    expect(app().inputs.functionAppConfig.deployment.storage.value).toBe('https://connfnx7k2qp.blob.core.windows.net/deployments');
  });
});

describe('function app inbound access', () => {
  test('denies by default', () => {
    expect(siteConfig().ipSecurityRestrictionsDefaultAction).toBe('Deny');
  });

  test('allows Front Door and Event Grid', () => {
    expect(siteConfig().ipSecurityRestrictions.map((rule: any) => rule.ipAddress)).toEqual(['AzureFrontDoor.Backend', 'AzureEventGrid']);
  });

  test('rules allow service tags', () => {
    const rules = siteConfig().ipSecurityRestrictions.map((rule: any) => `${rule.action} ${rule.tag}`);
    expect(rules).toEqual(['Allow ServiceTag', 'Allow ServiceTag']);
  });

  test('requires this Front Door id', () => {
    const [frontDoorRule] = siteConfig().ipSecurityRestrictions;
    expect(frontDoorRule.headers).toEqual({ 'x-azure-fdid': [mockFrontDoorId] });
  });
});

describe('function app network', () => {
  test('integrates with delegated subnet', () => {
    expect(app().inputs.virtualNetworkSubnetId).toMatch(/\/virtualNetworks\/vnet\/subnets\/function-app$/);
  });

  test('subnet is delegated to Flex Consumption', () => {
    const subnet = resourceNamed(recorded, 'vnet').inputs.subnets.find((candidate: any) => candidate.name === 'function-app');
    expect(subnet.delegations.map((delegation: any) => delegation.serviceName)).toEqual(['Microsoft.App/environments']);
  });

  test('vnet has private endpoint subnet', () => {
    const names = resourceNamed(recorded, 'vnet').inputs.subnets.map((subnet: any) => subnet.name);
    expect(names).toContain('private-endpoints');
  });
});

describe('function app settings', () => {
  test('are secret in the state', () => {
    expect(isSecretWrapper(app().inputs.siteConfig)).toBe(true);
  });

  test('reach runtime storage by identity', () => {
    expect(appSettings().AzureWebJobsStorage__accountName).toBe('connfnx7k2qp');
  });

  test('contain no AzureWebJobsStorage connection string', () => {
    expect(appSettings().AzureWebJobsStorage).toBeUndefined();
  });

  test('contain no account key', () => {
    const valuesWithKeys = Object.values(appSettings()).filter((value) => /AccountKey=|SharedAccessSignature=|sig=/i.test(value));
    expect(valuesWithKeys).toEqual([]);
  });

  test('leave runtime to Flex configuration', () => {
    expect(appSettings().FUNCTIONS_WORKER_RUNTIME).toBeUndefined();
  });

  test('select the blob payload store', () => {
    expect(appSettings().PAYLOAD_STORE).toBe('azure-blob');
  });

  test('name the payload blob endpoint', () => {
    expect(appSettings().PAYLOAD_STORAGE__blobServiceUri).toBe('https://connpayx7k2qp.blob.core.windows.net/');
  });

  test('refer to Key Vault for secretRef', () => {
    expect(appSettings().ORDERS_HMAC_SECRET).toBe('@Microsoft.KeyVault(SecretUri=https://conn-kv-x7k2qp.vault.azure.net/secrets/ORDERS-HMAC-SECRET)');
  });

  test('name the Event Grid topic endpoint', () => {
    expect(appSettings().EVENT_GRID_TOPIC_ENDPOINT).toBe('https://conn-events-x7k2qp.westeurope-1.eventgrid.azure.net/api/events');
  });

  test('name the audit stream', () => {
    expect(appSettings().AUDIT_STREAM_NAME).toBe('Custom-ConnectorAudit_CL');
  });
});

describe('inboundAccessRulesOf', () => {
  test('without Event Grid allows Front Door only', () => {
    expect(inboundAccessRulesOf('profile-id', false).map((rule) => rule.ipAddress)).toEqual(['AzureFrontDoor.Backend']);
  });
});

describe('functionAppSettingsOf', () => {
  test('rejects secretRef naming a setting', () => {
    const inputs = {
      runtimeStorageAccountName: 'runtime',
      applicationInsightsConnectionString: 'connection',
      payloadBlobEndpoint: 'https://payload.blob.core.windows.net/',
      eventGridTopicEndpoint: 'https://topic.westeurope-1.eventgrid.azure.net/api/events',
      sqlServerHostName: 'sql.database.windows.net',
      sqlDatabaseName: 'tracking',
      auditIngestionEndpoint: 'https://audit.ingest.monitor.azure.com',
      auditDataCollectionRuleImmutableId: 'dcr-1',
      auditStreamName: 'Custom-ConnectorAudit_CL',
      keyVaultUri: 'https://vault.vault.azure.net/',
      subscriptionId: 'subscription',
      resourceGroupName: 'group',
      dataFactoryName: 'factory',
      dataFactoryPipelineName: 'transform-payload',
      secretRefs: ['PAYLOAD_STORE'],
    };
    expect(() => functionAppSettingsOf(inputs)).toThrow(
      'Config secretRefs contains "PAYLOAD_STORE", which is also an app setting that this program sets. Rename the secretRef in the connectors file and in config secretRefs.',
    );
  });
});
