import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseConnectors } from '../../lib/config/loadConnectors';
import type { DataFactoryTransformConfig } from '../../lib/config/types';
import { loadConfiguration, setDependencies } from '../../lib/dependencies';
import { ConfigurationError } from '../../lib/errors';
import { dataFactorySettingNames } from '../../lib/transform/dataFactory/dataFactorySettings';
import { ordersConnector } from '../unit/support/testDependencies';

/**
 * The `adf` transform in the connectors file, and the start-up check of the Data Factory
 * settings through `loadConfiguration`, the path that the app takes when it loads.
 */

const adfTransform = { type: 'adf', pipelineName: 'transform-orders' };

function adfConnector(transform: Record<string, unknown> = adfTransform): Record<string, any> {
  return { ...ordersConnector(), transform };
}

function messageOf(connectors: unknown[]): string {
  try {
    parseConnectors(JSON.stringify({ connectors }), 'connectors.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('A ConfigurationError was expected, but the file was accepted.');
}

describe('adf transform in the connectors file', () => {
  test('defaults are filled in', () => {
    const connectors = parseConnectors(JSON.stringify({ connectors: [adfConnector()] }), 'connectors.json');

    const transform = connectors.byId.get('orders')?.transform as DataFactoryTransformConfig;
    expect(transform.timeoutInMinutes).toBe(60);
    expect(transform.pollIntervalInSeconds).toBe(15);
  });

  test('no JSONata transform is compiled', () => {
    const connectors = parseConnectors(JSON.stringify({ connectors: [adfConnector()] }), 'connectors.json');

    expect(connectors.byId.get('orders')?.expressions.transform).toBeUndefined();
  });

  test('destination level is rejected', () => {
    const connector = ordersConnector();
    connector.destinations[0].transform = adfTransform;

    const message = messageOf([connector]);

    expect(message).toContain('/connectors/0/destinations/0/transform/type: a Data Factory transform ("type": "adf") runs only at connector level');
    expect(message).toContain('move it to /connectors/0/transform');
  });

  test('missing pipelineName is rejected', () => {
    const message = messageOf([adfConnector({ type: 'adf' })]);

    expect(message).toContain('/connectors/0/transform/pipelineName: required property "pipelineName" is missing');
  });

  test('invalid pipelineName is rejected', () => {
    const message = messageOf([adfConnector({ type: 'adf', pipelineName: 'orders/v2' })]);

    expect(message).toContain('/connectors/0/transform/pipelineName: does not match the pattern');
  });

  test('poll interval under 1 s is rejected', () => {
    const message = messageOf([adfConnector({ ...adfTransform, pollIntervalInSeconds: 0.5 })]);

    expect(message).toContain('/connectors/0/transform/pollIntervalInSeconds: must be >= 1');
  });

  test('zero timeout is rejected', () => {
    const message = messageOf([adfConnector({ ...adfTransform, timeoutInMinutes: 0 })]);

    expect(message).toContain('/connectors/0/transform/timeoutInMinutes: must be > 0');
  });

  test('expression with adf is rejected', () => {
    const message = messageOf([adfConnector({ ...adfTransform, expression: '$' })]);

    expect(message).toContain('/connectors/0/transform/expression: "expression" is not a known property');
  });
});

describe('Data Factory settings at start-up', () => {
  const settingNames = Object.values(dataFactorySettingNames);
  const changedNames = ['CONNECTORS_FILE', ...settingNames];
  let savedEnvironment: Record<string, string | undefined>;
  let folder: string;

  function writeConnectorsFile(connectors: unknown[]): void {
    const file = path.join(folder, 'connectors.json');
    fs.writeFileSync(file, JSON.stringify({ connectors }));
    process.env.CONNECTORS_FILE = file;
  }

  function setDataFactorySettings(): void {
    process.env[dataFactorySettingNames.subscriptionId] = 'sub-1';
    process.env[dataFactorySettingNames.resourceGroup] = 'rg-connector';
    process.env[dataFactorySettingNames.factoryName] = 'adf-connector';
  }

  function startUpError(): Error {
    try {
      loadConfiguration();
    } catch (error) {
      return error as Error;
    }
    throw new Error('loadConfiguration succeeded, but a ConfigurationError was expected.');
  }

  beforeEach(() => {
    savedEnvironment = Object.fromEntries(changedNames.map((name) => [name, process.env[name]]));
    changedNames.forEach((name) => delete process.env[name]);
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'adf-configuration-'));
    setDependencies(undefined);
  });

  afterEach(() => {
    for (const [name, value] of Object.entries(savedEnvironment)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    setDependencies(undefined);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  test('missing settings stop start-up', () => {
    writeConnectorsFile([adfConnector()]);

    const error = startUpError();

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('Connector orders has a Data Factory transform');
    expect(error.message).toContain('Data Factory settings are missing: DATA_FACTORY_SUBSCRIPTION_ID, DATA_FACTORY_RESOURCE_GROUP, DATA_FACTORY_NAME');
  });

  test('only the missing settings are listed', () => {
    writeConnectorsFile([adfConnector()]);
    setDataFactorySettings();
    delete process.env[dataFactorySettingNames.factoryName];

    const error = startUpError();

    expect(error.message).toContain('Data Factory settings are missing: DATA_FACTORY_NAME.');
  });

  test('settings present pass', () => {
    writeConnectorsFile([adfConnector()]);
    setDataFactorySettings();

    const { connectors } = loadConfiguration();

    expect(connectors.byId.get('orders')?.transform?.type).toBe('adf');
  });

  test('jsonata connectors need no settings', () => {
    writeConnectorsFile([ordersConnector()]);

    const { connectors } = loadConfiguration();

    expect(connectors.list).toHaveLength(1);
  });

  test('http endpoint is rejected', () => {
    writeConnectorsFile([adfConnector()]);
    setDataFactorySettings();
    process.env[dataFactorySettingNames.endpoint] = 'http://127.0.0.1:8443';

    const error = startUpError();

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('Setting DATA_FACTORY_ENDPOINT is "http://127.0.0.1:8443", but it must be an https URL');
  });
});
