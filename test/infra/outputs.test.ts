import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, test } from 'vitest';
import { installPulumiMocks, resourcesOfType, valueOf, waitForRegistrations, type RecordedResource } from './pulumiMocks';
import { testConfigValues } from './testConfig';

let recorded: RecordedResource[];
let stackOutputs: Record<string, unknown>;

beforeAll(async () => {
  recorded = installPulumiMocks();
  const stackConfig = Object.entries(testConfigValues)
    .filter(([key]) => key !== 'subscribeEventGridTrigger')
    .map(([key, value]) => [`api-data-connector-infra:${key}`, value]);
  pulumi.runtime.setAllConfig(Object.fromEntries(stackConfig));

  const program = (await import('../../infra/index')) as Record<string, unknown>;
  await waitForRegistrations(recorded);
  const entries = await Promise.all(Object.entries(program).map(async ([name, output]) => [name, await valueOf(output as pulumi.Output<unknown>)] as const));
  stackOutputs = Object.fromEntries(entries);
});

describe('stack outputs', () => {
  test('front door host name', () => {
    expect(stackOutputs.frontDoorEndpointHostName).toBe('conn-x7k2qp-abcdef.z01.azurefd.net');
  });

  test('ingest URL pattern', () => {
    expect(stackOutputs.ingestUrlPattern).toBe('https://conn-x7k2qp-abcdef.z01.azurefd.net/api/connectors/{connectorId}/messages');
  });

  test.each([
    ['functionAppName', 'conn-func-x7k2qp'],
    ['keyVaultName', 'conn-kv-x7k2qp'],
    ['payloadStorageAccountName', 'connpayx7k2qp'],
    ['runtimeStorageAccountName', 'connfnx7k2qp'],
    ['sqlServerName', 'conn-sql-x7k2qp'],
    ['sqlDatabaseName', 'tracking'],
    ['resourceGroupName', 'conn-rg-x7k2qp'],
    ['dataFactoryName', 'conn-adf-x7k2qp'],
    ['eventGridTopicName', 'conn-events-x7k2qp'],
  ])('%s', (outputName, expected) => {
    expect(stackOutputs[outputName]).toBe(expected);
  });

  test('contain no instrumentation key', () => {
    expect(JSON.stringify(stackOutputs)).not.toContain('InstrumentationKey');
  });
});

describe('program without subscription flag', () => {
  test('declares no Event Grid subscription', () => {
    expect(resourcesOfType(recorded, 'azure-native:eventgrid:EventSubscription')).toEqual([]);
  });

  test('still declares the topic', () => {
    expect(resourcesOfType(recorded, 'azure-native:eventgrid:Topic')).toHaveLength(1);
  });
});
