import { ClientSecretCredential } from '@azure/identity';
import { describe, expect, test } from 'vitest';
import { PermanentError } from '../../lib/errors';
import { DataFactoryTransformRunner } from '../../lib/transform/dataFactory/DataFactoryTransformRunner';
import { dataFactorySettingNames, defaultDataFactoryEndpoint } from '../../lib/transform/dataFactory/dataFactorySettings';
import { pipelineRunStatuses } from '../../lib/transform/dataFactory/TransformRunner';

/**
 * Runs the Data Factory adapter against a real factory when its settings and a service
 * principal are given, and is reported as skipped otherwise. The pipeline must declare the
 * string parameters inputBlobName, outputBlobName and messageId. It authenticates with a client
 * secret, because DefaultAzureCredential would probe the instance metadata address.
 */

const requiredNames = [
  dataFactorySettingNames.subscriptionId,
  dataFactorySettingNames.resourceGroup,
  dataFactorySettingNames.factoryName,
  'DATA_FACTORY_CONTRACT_PIPELINE',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
];

function setting(name: string): string {
  return process.env[name]?.trim() ?? '';
}

const missingNames = requiredNames.filter((name) => setting(name) === '');
const suiteName = 'Data Factory runner on a real factory';

if (missingNames.length > 0) {
  describe.skip(`${suiteName} (skipped: set ${missingNames.join(', ')} to run)`, () => {
    test('contract', () => undefined);
  });
} else {
  describe(suiteName, () => {
    const runner = new DataFactoryTransformRunner(
      {
        subscriptionId: setting(dataFactorySettingNames.subscriptionId),
        resourceGroup: setting(dataFactorySettingNames.resourceGroup),
        factoryName: setting(dataFactorySettingNames.factoryName),
        endpoint: setting(dataFactorySettingNames.endpoint) || defaultDataFactoryEndpoint,
      },
      { credential: new ClientSecretCredential(setting('AZURE_TENANT_ID'), setting('AZURE_CLIENT_ID'), setting('AZURE_CLIENT_SECRET')) },
    );
    const messageId = `contract-${Date.now()}`;
    const parameters = { inputBlobName: `raw/contract/${messageId}`, outputBlobName: `transformed/contract/${messageId}`, messageId };

    test('started run can be read', async () => {
      const runId = await runner.startRun(setting('DATA_FACTORY_CONTRACT_PIPELINE'), parameters);

      const run = await runner.readRun(runId);

      expect(run.runId).toBe(runId);
      expect(pipelineRunStatuses).toContain(run.status);
    }, 60_000);

    test('unknown pipeline is permanent', async () => {
      await expect(runner.startRun('connector-contract-no-such-pipeline', parameters)).rejects.toBeInstanceOf(PermanentError);
    }, 60_000);

    test('unknown run is permanent', async () => {
      await expect(runner.readRun('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(PermanentError);
    }, 60_000);
  });
}
