import { beforeAll, describe, expect, test } from 'vitest';
import { declareTestInfrastructure } from './declareTestInfrastructure';
import { resourceNamed, resourcesOfType, type RecordedResource } from './pulumiMocks';

let recorded: RecordedResource[];

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
});

const idOf = (logicalName: string) => resourceNamed(recorded, logicalName).id;

describe('key vault', () => {
  const properties = () => resourceNamed(recorded, 'key-vault').inputs.properties;

  test('uses RBAC authorization', () => {
    expect(properties().enableRbacAuthorization).toBe(true);
  });

  test('has soft delete', () => {
    expect(properties().enableSoftDelete).toBe(true);
  });

  test('has purge protection', () => {
    expect(properties().enablePurgeProtection).toBe(true);
  });

  test('keeps deleted secrets 90 days', () => {
    expect(properties().softDeleteRetentionInDays).toBe(90);
  });

  test('has no access policies', () => {
    expect(properties().accessPolicies ?? []).toEqual([]);
  });
});

describe('monitoring', () => {
  test('Application Insights is workspace-based', () => {
    expect(resourceNamed(recorded, 'app-insights').inputs.workspaceResourceId).toBe(idOf('logs'));
  });

  test('audit table is ConnectorAudit_CL', () => {
    expect(resourceNamed(recorded, 'audit-table').inputs.tableName).toBe('ConnectorAudit_CL');
  });

  test('audit rule uses the endpoint', () => {
    expect(resourceNamed(recorded, 'audit-rule').inputs.dataCollectionEndpointId).toBe(idOf('audit-endpoint'));
  });

  test('audit rule sends to workspace', () => {
    const destinations = resourceNamed(recorded, 'audit-rule').inputs.destinations.logAnalytics;
    expect(destinations.map((destination: any) => destination.workspaceResourceId)).toEqual([idOf('logs')]);
  });

  test('audit rule writes the audit table', () => {
    const [dataFlow] = resourceNamed(recorded, 'audit-rule').inputs.dataFlows;
    expect(dataFlow.outputStream).toBe('Custom-ConnectorAudit_CL');
  });

  test('audit rule declares the stream', () => {
    expect(Object.keys(resourceNamed(recorded, 'audit-rule').inputs.streamDeclarations)).toEqual(['Custom-ConnectorAudit_CL']);
  });
});

describe('alerts', () => {
  test('action group e-mails the configured address', () => {
    const receivers = resourceNamed(recorded, 'alert-email').inputs.emailReceivers;
    expect(receivers.map((receiver: any) => receiver.emailAddress)).toEqual(['ops@example.com']);
  });

  test.each(['dead-letter-alert', 'failed-orchestration-alert', 'ingest-server-error-alert'])('%s queries the workspace', (logicalName) => {
    expect(resourceNamed(recorded, logicalName).inputs.scopes).toEqual([idOf('logs')]);
  });

  test.each(['dead-letter-alert', 'failed-orchestration-alert', 'ingest-server-error-alert'])('%s notifies the action group', (logicalName) => {
    expect(resourceNamed(recorded, logicalName).inputs.actions.actionGroups).toEqual([idOf('alert-email')]);
  });

  test('ingest alert measures 5xx rate', () => {
    const [criterion] = resourceNamed(recorded, 'ingest-server-error-alert').inputs.criteria.allOf;
    expect(criterion.metricMeasureColumn).toBe('serverErrorRateInPercent');
  });

  test('WAF alert watches the profile', () => {
    expect(resourceNamed(recorded, 'waf-block-alert').inputs.scopes).toEqual([idOf('front-door')]);
  });

  test('WAF alert counts blocked requests', () => {
    const [criterion] = resourceNamed(recorded, 'waf-block-alert').inputs.criteria.allOf;
    expect(criterion.dimensions).toEqual([{ name: 'Action', operator: 'Include', values: ['Block'] }]);
  });

  test('WAF alert notifies the action group', () => {
    expect(resourceNamed(recorded, 'waf-block-alert').inputs.actions.map((action: any) => action.actionGroupId)).toEqual([idOf('alert-email')]);
  });
});

describe('sql', () => {
  const server = () => resourceNamed(recorded, 'sql-server').inputs;

  test('public network access is off', () => {
    expect(server().publicNetworkAccess).toBe('Disabled');
  });

  test('requires TLS 1.2', () => {
    expect(server().minimalTlsVersion).toBe('1.2');
  });

  test('has the Entra admin', () => {
    const { login, sid, administratorType } = server().administrators;
    expect({ login, sid, administratorType }).toEqual({
      login: 'connector-sql-admins',
      sid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      administratorType: 'ActiveDirectory',
    });
  });

  test('accepts Entra sign-in only', () => {
    expect(server().administrators.azureADOnlyAuthentication).toBe(true);
  });

  test('has no SQL admin password', () => {
    expect(server().administratorLoginPassword).toBeUndefined();
  });

  test('database is on the server', () => {
    expect(resourceNamed(recorded, 'tracking-database').inputs.serverName).toBe('conn-sql-x7k2qp');
  });

  test('private endpoint targets the server', () => {
    const [connection] = resourceNamed(recorded, 'sql-private-endpoint').inputs.privateLinkServiceConnections;
    expect({ target: connection.privateLinkServiceId, groupIds: connection.groupIds }).toEqual({ target: idOf('sql-server'), groupIds: ['sqlServer'] });
  });

  test('private endpoint is in its subnet', () => {
    expect(resourceNamed(recorded, 'sql-private-endpoint').inputs.subnet.id).toBe(`${idOf('vnet')}/subnets/private-endpoints`);
  });

  test('private DNS zone is linked to the vnet', () => {
    expect(resourceNamed(recorded, 'sql-private-dns-link').inputs.virtualNetwork.id).toBe(idOf('vnet'));
  });

  test('private endpoint registers in the zone', () => {
    const [zoneConfig] = resourceNamed(recorded, 'sql-private-dns-group').inputs.privateDnsZoneConfigs;
    expect(zoneConfig.privateDnsZoneId).toBe(idOf('sql-private-dns'));
  });

  test('private DNS zone is the SQL zone', () => {
    expect(resourceNamed(recorded, 'sql-private-dns').inputs.privateZoneName).toBe('privatelink.database.windows.net');
  });
});

describe('event grid', () => {
  const topic = () => resourceNamed(recorded, 'event-grid-topic').inputs;
  const subscription = () => resourceNamed(recorded, 'event-grid-trigger-subscription').inputs;

  test('topic accepts CloudEvents 1.0', () => {
    expect(topic().inputSchema).toBe('CloudEventSchemaV1_0');
  });

  test('topic has local auth off', () => {
    expect(topic().disableLocalAuth).toBe(true);
  });

  test('subscription delivers CloudEvents 1.0', () => {
    expect(subscription().eventDeliverySchema).toBe('CloudEventSchemaV1_0');
  });

  test('subscription targets the trigger function', () => {
    expect(subscription().destination).toMatchObject({ endpointType: 'AzureFunction', resourceId: `${idOf('function-app')}/functions/onLifecycleEvent` });
  });

  test('subscription dead-letters to payload account', () => {
    expect(subscription().deadLetterWithResourceIdentity.deadLetterDestination).toEqual({
      endpointType: 'StorageBlob',
      resourceId: idOf('payload-storage'),
      blobContainerName: 'dead-letters',
    });
  });

  test('subscription dead-letters with topic identity', () => {
    expect(subscription().deadLetterWithResourceIdentity.identity).toEqual({ type: 'SystemAssigned' });
  });

  test('subscription scope is the topic', () => {
    expect(subscription().scope).toBe(idOf('event-grid-topic'));
  });
});

describe('data factory', () => {
  test('has system-assigned identity', () => {
    expect(resourceNamed(recorded, 'data-factory').inputs.identity).toEqual({ type: 'SystemAssigned' });
  });

  test('linked service uses managed identity', () => {
    expect(resourceNamed(recorded, 'payload-linked-service').inputs.properties.authenticationType).toBe('Msi');
  });

  test('linked service holds no key', () => {
    const { accountKey, connectionString, sasUri, sasToken } = resourceNamed(recorded, 'payload-linked-service').inputs.properties;
    expect([accountKey, connectionString, sasUri, sasToken]).toEqual([undefined, undefined, undefined, undefined]);
  });

  test('linked service points at payload account', () => {
    expect(resourceNamed(recorded, 'payload-linked-service').inputs.properties.serviceEndpoint).toBe('https://connpayx7k2qp.blob.core.windows.net/');
  });

  test('pipeline takes blob name parameters', () => {
    expect(Object.keys(resourceNamed(recorded, 'transform-pipeline').inputs.parameters)).toEqual(['inputBlobName', 'outputBlobName']);
  });

  test('pipeline copies raw to transformed', () => {
    const [activity] = resourceNamed(recorded, 'transform-pipeline').inputs.activities;
    const containerOf = (datasetName: string) =>
      resourcesOfType(recorded, 'azure-native:datafactory:Dataset').find((dataset) => dataset.inputs.datasetName === datasetName)?.inputs.properties.location.container;
    expect([containerOf(activity.inputs[0].referenceName), containerOf(activity.outputs[0].referenceName)]).toEqual(['raw', 'transformed']);
  });
});
