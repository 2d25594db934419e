import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { PermanentError, RetryableError } from '../../lib/errors';
import { createFixedTokenCredential } from '../../lib/transform/dataFactory/createTransformRunner';
import { DataFactoryTransformRunner, type DataFactoryLocation } from '../../lib/transform/dataFactory/DataFactoryTransformRunner';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { dataFactoryApiVersion, describeRun, startFakeDataFactory, type FakeDataFactory } from './support/fakeDataFactory';

/**
 * Runs the Data Factory adapter, with the real DataFactoryManagementClient, against a loopback
 * HTTPS server that responds like Azure Resource Manager. The server's certificate comes from a
 * test CA that only the client under test trusts.
 */

const testToken = 'fixed-test-token';
const factoryPath = '/subscriptions/sub-1/resourceGroups/rg-connector/providers/Microsoft.DataFactory/factories/adf-connector';
const parameters = { inputBlobName: 'raw/orders/orders-1', outputBlobName: 'transformed/orders/orders-1', messageId: 'orders-1' };

let certificates: TestCertificates;
let fake: FakeDataFactory;
let location: DataFactoryLocation;

/** Returns a runner that trusts the test CA unless `trustTestCa` is false. */
function createRunner(trustTestCa = true): DataFactoryTransformRunner {
  const caCertificates = trustTestCa ? certificates.caCertificate : undefined;
  return new DataFactoryTransformRunner(location, { credential: createFixedTokenCredential(testToken), caCertificates });
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('The call succeeded, but a failure was expected.');
}

beforeAll(async () => {
  certificates = createTestCertificates();
  fake = await startFakeDataFactory({ certificate: certificates.serverCertificate, key: certificates.serverKey });
  location = { subscriptionId: 'sub-1', resourceGroup: 'rg-connector', factoryName: 'adf-connector', endpoint: fake.endpoint };
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.requests.splice(0);
  fake.handlers.createRun = undefined;
  fake.handlers.readRun = undefined;
});

describe('startRun', () => {
  test('returns the run id', async () => {
    const runId = await createRunner().startRun('transform-orders', parameters);

    expect(fake.runs.get(runId)?.pipelineName).toBe('transform-orders');
  });

  test('sends the documented request', async () => {
    await createRunner().startRun('transform-orders', parameters);

    const [request] = fake.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`${factoryPath}/pipelines/transform-orders/createRun`);
    expect(request.apiVersion).toBe(dataFactoryApiVersion);
    expect(request.body).toEqual(parameters);
  });

  test('sends the credential token', async () => {
    await createRunner().startRun('transform-orders', parameters);

    expect(fake.requests[0].authorization).toBe(`Bearer ${testToken}`);
  });

  test('429 is retryable with Retry-After', async () => {
    fake.handlers.createRun = () => ({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests', message: 'Rate limit exceeded.' } } });

    const error = await errorOf(createRunner().startRun('transform-orders', parameters));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain('status 429');
    expect(error.message).toContain('Retry-After: 7');
    expect(fake.requests).toHaveLength(1);
  });

  test('503 is retryable', async () => {
    fake.handlers.createRun = () => ({ status: 503, body: { error: { code: 'ServiceUnavailable', message: 'Try again later.' } } });

    const error = await errorOf(createRunner().startRun('transform-orders', parameters));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain('status 503');
  });

  test('404 is permanent with the service message', async () => {
    fake.handlers.createRun = (pipelineName) => ({ status: 404, body: { error: { code: 'PipelineNotFound', message: `Pipeline ${pipelineName} was not found.` } } });

    const error = await errorOf(createRunner().startRun('missing-pipeline', parameters));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('Pipeline missing-pipeline was not found.');
    expect(error.message).toContain('Check the pipeline name');
  });

  test('403 is permanent and names the role', async () => {
    fake.handlers.createRun = () => ({ status: 403, body: { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization.' } } });

    const error = await errorOf(createRunner().startRun('transform-orders', parameters));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('Data Factory Contributor');
  });

  test('untrusted certificate is permanent', async () => {
    const error = await errorOf(createRunner(false).startRun('transform-orders', parameters));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('certificate');
  });

  test('closed port is retryable', async () => {
    const closed = await startFakeDataFactory({ certificate: certificates.serverCertificate, key: certificates.serverKey });
    await closed.close();
    const runner = new DataFactoryTransformRunner({ ...location, endpoint: closed.endpoint }, { credential: createFixedTokenCredential(testToken), caCertificates: certificates.caCertificate });

    const error = await errorOf(runner.startRun('transform-orders', parameters));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain('network error');
  });

  test('errors never contain the token', async () => {
    fake.handlers.createRun = () => ({ status: 400, body: { error: { code: 'BadRequest', message: 'Invalid parameters.' } } });

    const error = await errorOf(createRunner().startRun('transform-orders', parameters));

    expect(`${error.message}\n${error.stack ?? ''}`).not.toContain(testToken);
  });
});

describe('readRun', () => {
  test('returns status and message', async () => {
    const runner = createRunner();
    const runId = await runner.startRun('transform-orders', parameters);
    fake.handlers.readRun = (run) => ({ status: 200, body: describeRun(run, 'Failed', 'Operation on target CopyOrders failed: the column is missing.') });

    const run = await runner.readRun(runId);

    expect(run).toEqual({ runId, status: 'Failed', message: 'Operation on target CopyOrders failed: the column is missing.' });
  });

  test('reads the documented path', async () => {
    const runner = createRunner();
    const runId = await runner.startRun('transform-orders', parameters);

    await runner.readRun(runId);

    expect(fake.requests[1].method).toBe('GET');
    expect(fake.requests[1].path).toBe(`${factoryPath}/pipelineruns/${runId}`);
    expect(fake.requests[1].apiVersion).toBe(dataFactoryApiVersion);
  });

  test('in-progress run has empty message', async () => {
    const runner = createRunner();
    const runId = await runner.startRun('transform-orders', parameters);

    const run = await runner.readRun(runId);

    expect(run.status).toBe('InProgress');
    expect(run.message).toBe('');
  });

  test('unknown run is permanent', async () => {
    const error = await errorOf(createRunner().readRun('11111111-2222-4333-8444-555555555555'));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('status 404');
  });

  test('unknown status is permanent', async () => {
    const runner = createRunner();
    const runId = await runner.startRun('transform-orders', parameters);
    fake.handlers.readRun = (run) => ({ status: 200, body: describeRun(run, 'Paused', '') });

    const error = await errorOf(runner.readRun(runId));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('"Paused"');
  });

  test('500 is retryable', async () => {
    const runner = createRunner();
    const runId = await runner.startRun('transform-orders', parameters);
    fake.handlers.readRun = () => ({ status: 500, body: { error: { code: 'InternalServerError', message: 'Something went wrong.' } } });

    const error = await errorOf(runner.readRun(runId));

    expect(error).toBeInstanceOf(RetryableError);
  });
});
