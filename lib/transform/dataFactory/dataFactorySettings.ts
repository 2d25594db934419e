import type { Connectors } from '../../config/types';
import { ConfigurationError } from '../../errors';

/**
 * Settings of the Data Factory that runs `adf` transforms. The last two exist for tests against
 * a loopback server and are never needed in Azure.
 */
export const dataFactorySettingNames = {
  subscriptionId: 'DATA_FACTORY_SUBSCRIPTION_ID',
  resourceGroup: 'DATA_FACTORY_RESOURCE_GROUP',
  factoryName: 'DATA_FACTORY_NAME',
  endpoint: 'DATA_FACTORY_ENDPOINT',
  /** Path of a PEM file of CA certificates trusted besides Node's bundled roots. */
  caCertificateFile: 'DATA_FACTORY_CA_CERTIFICATE_FILE',
  /** A fixed bearer token sent instead of one from DefaultAzureCredential. */
  testToken: 'DATA_FACTORY_TEST_TOKEN',
} as const;

export const requiredDataFactorySettingNames = [
  dataFactorySettingNames.subscriptionId,
  dataFactorySettingNames.resourceGroup,
  dataFactorySettingNames.factoryName,
] as const;

export const defaultDataFactoryEndpoint = 'https://management.azure.com';

export interface DataFactorySettings {
  subscriptionId: string;
  resourceGroup: string;
  factoryName: string;
  /** Azure Resource Manager endpoint, https only. */
  endpoint: string;
  caCertificateFile?: string;
  testToken?: string;
}

/** Returns the value of a setting, or undefined when it is missing or empty. */
export type ReadSetting = (name: string) => string | undefined;

/** Returns the names of the required Data Factory settings that are missing. */
export function listMissingDataFactorySettings(readSetting: ReadSetting): string[] {
  return requiredDataFactorySettingNames.filter((name) => readSetting(name) === undefined);
}

/**
 * Reads the Data Factory settings. Returns undefined when a required one is missing, and throws
 * a ConfigurationError when `DATA_FACTORY_ENDPOINT` is not an https URL.
 */
export function readDataFactorySettings(readSetting: ReadSetting): DataFactorySettings | undefined {
  const subscriptionId = readSetting(dataFactorySettingNames.subscriptionId);
  const resourceGroup = readSetting(dataFactorySettingNames.resourceGroup);
  const factoryName = readSetting(dataFactorySettingNames.factoryName);
  if (subscriptionId === undefined || resourceGroup === undefined || factoryName === undefined) {
    return undefined;
  }

  const settings: DataFactorySettings = { subscriptionId, resourceGroup, factoryName, endpoint: readEndpoint(readSetting) };
  const caCertificateFile = readSetting(dataFactorySettingNames.caCertificateFile);
  if (caCertificateFile !== undefined) {
    settings.caCertificateFile = caCertificateFile;
  }
  const testToken = readSetting(dataFactorySettingNames.testToken);
  if (testToken !== undefined) {
    settings.testToken = testToken;
  }
  return settings;
}

/**
 * Throws a ConfigurationError when a connector has an `adf` transform and a required Data
 * Factory setting is missing. The message names the connectors and the missing settings.
 */
export function checkDataFactorySettings(connectors: Connectors, readSetting: ReadSetting): void {
  const connectorIds = connectors.list.filter((connector) => connector.transform?.type === 'adf').map((connector) => connector.id);
  if (connectorIds.length === 0) {
    return;
  }

  const missing = listMissingDataFactorySettings(readSetting);
  if (missing.length > 0) {
    const subject = connectorIds.length === 1 ? `Connector ${connectorIds[0]} has` : `Connectors ${connectorIds.join(', ')} have`;
    throw new ConfigurationError(
      `${subject} a Data Factory transform ("type": "adf"), but Data Factory settings are missing: ${missing.join(', ')}. ` +
        `Set ${requiredDataFactorySettingNames.join(', ')} to the factory that runs the pipeline, or give the connector a "jsonata" transform.`,
    );
  }
  readEndpoint(readSetting);
}

function readEndpoint(readSetting: ReadSetting): string {
  const text = readSetting(dataFactorySettingNames.endpoint);
  if (text === undefined) {
    return defaultDataFactoryEndpoint;
  }

  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw new ConfigurationError(
      `Setting ${dataFactorySettingNames.endpoint} is "${text}", but it must be an https URL of Azure Resource Manager. ` +
        `Set it to an https URL such as ${defaultDataFactoryEndpoint}, or remove it to use that default.`,
    );
  }
  return text.replace(/\/+$/, '');
}
