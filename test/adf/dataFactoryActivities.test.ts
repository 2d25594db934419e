import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { checkPipelineOutput } from '../../activities/checkPipelineOutput';
import { readPipelineRun } from '../../activities/readPipelineRun';
import { startPipelineRun } from '../../activities/startPipelineRun';
import { transformPayload } from '../../activities/transformPayload';
import { ConfigurationError, PermanentError } from '../../lib/errors';
import { rawBlobNameOf, transformedBlobNameOf } from '../../lib/ids';
import { createFixedTokenCredential } from '../../lib/transform/dataFactory/createTransformRunner';
import { DataFactoryTransformRunner } from '../../lib/transform/dataFactory/DataFactoryTransformRunner';
import type { StartPipelineRunInput } from '../../lib/transform/dataFactory/dataFactoryContracts';
import { createTestCertificates } from '../unit/delivery/support/testCertificates';
import { createTestDependencies, ordersConnector, type TestDependencies } from '../unit/support/testDependencies';
import { startFakeDataFactory, type FakeDataFactory } from './support/fakeDataFactory';

/**
 * The Data Factory activities with a real tracking store and file payload store, and the real
 * adapter against the loopback fake Data Factory.
 */

const messageId = 'orders-0123456789abcdef0123456789abcdef';
const startInput: StartPipelineRunInput = {
  messageId,
  connectorId: 'orders',
  pipelineName: 'transform-orders',
  inputBlobName: rawBlobNameOf('orders', messageId),
  outputBlobName: transformedBlobNameOf('orders', messageId),
};

let fake: FakeDataFactory;
let caCertificate: string;
let dependencies: TestDependencies;

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('The call succeeded, but a failure was expected.');
}

beforeAll(async () => {
  const certificates = createTestCertificates();
  caCertificate = certificates.caCertificate;
  fake = await startFakeDataFactory({ certificate: certificates.serverCertificate, key: certificates.serverKey });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.requests.splice(0);
  dependencies = createTestDependencies([{ ...ordersConnector(), transform: { type: 'adf', pipelineName: 'transform-orders' } }]);
  dependencies.transformRunner = new DataFactoryTransformRunner(
    { subscriptionId: 'sub-1', resourceGroup: 'rg-connector', factoryName: 'adf-connector', endpoint: fake.endpoint },
    { credential: createFixedTokenCredential('activity-test-token'), caCertificates: caCertificate },
  );
});

afterEach(() => {
  dependencies.dispose();
});

describe('startPipelineRun', () => {
  test('audits the run id', async () => {
    const runId = await startPipelineRun(startInput, dependencies);

    const entry = (await dependencies.trackingStore.listAudit(messageId)).find((audited) => audited.step === 'transformStarted');
    expect(entry?.detail.runId).toBe(runId);
  });

  test('second run reuses the run', async () => {
    const firstRunId = await startPipelineRun(startInput, dependencies);

    const secondRunId = await startPipelineRun(startInput, dependencies);

    expect(secondRunId).toBe(firstRunId);
    expect(fake.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  test('missing settings raise a ConfigurationError', async () => {
    dependencies.transformRunner = undefined;

    const error = await errorOf(startPipelineRun(startInput, dependencies));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('Set DATA_FACTORY_SUBSCRIPTION_ID, DATA_FACTORY_RESOURCE_GROUP, DATA_FACTORY_NAME');
  });
});

describe('readPipelineRun', () => {
  test('returns the status', async () => {
    const runId = await startPipelineRun(startInput, dependencies);

    const run = await readPipelineRun({ messageId, connectorId: 'orders', runId }, dependencies);

    expect(run.status).toBe('InProgress');
  });
});

describe('checkPipelineOutput', () => {
  const checkInput = { messageId, connectorId: 'orders', pipelineName: 'transform-orders', runId: 'run-1', outputBlobName: startInput.outputBlobName };

  test('missing output is permanent', async () => {
    const error = await errorOf(checkPipelineOutput(checkInput, dependencies));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`did not write ${startInput.outputBlobName} to the payload store`);
  });

  test('written output passes', async () => {
    await dependencies.payloadStore.put(startInput.outputBlobName, Buffer.from('{"id":"1"}'), { contentType: 'application/json' });

    await expect(checkPipelineOutput(checkInput, dependencies)).resolves.toBeUndefined();
  });
});

describe('transformPayload after Data Factory', () => {
  test('delivers the pipeline output', async () => {
    await dependencies.payloadStore.put(startInput.outputBlobName, Buffer.from('{"id":"1"}'), { contentType: 'application/json' });

    const output = await transformPayload(
      { messageId, connectorId: 'orders', rawBlobName: startInput.inputBlobName, destinationIds: ['erp'], connectorPayloadBlobName: startInput.outputBlobName },
      dependencies,
    );

    expect(output.destinations).toEqual([{ destinationId: 'erp', kind: 'deliver', payloadBlobName: startInput.outputBlobName }]);
  });

  test('no pipeline output is an internal error', async () => {
    const error = await errorOf(transformPayload({ messageId, connectorId: 'orders', rawBlobName: startInput.inputBlobName, destinationIds: ['erp'] }, dependencies));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('no pipeline output was passed');
  });
});
