import tls from 'node:tls';
import { DataFactoryManagementClient } from '@azure/arm-datafactory';
import type { TokenCredential } from '@azure/identity';
import { PermanentError, RetryableError } from '../../errors';
import { pipelineRunStatuses, type PipelineRun, type PipelineRunParameters, type PipelineRunStatus, type TransformRunner } from './TransformRunner';

/** The data factory that runs the pipelines, and the Azure Resource Manager endpoint that manages it. */
export interface DataFactoryLocation {
  subscriptionId: string;
  resourceGroup: string;
  factoryName: string;
  /** Azure Resource Manager endpoint, such as `https://management.azure.com`. */
  endpoint: string;
}

export interface DataFactoryClientOptions {
  credential: TokenCredential;
  /** PEM CA certificates trusted besides Node's bundled roots, for an endpoint with a private CA. */
  caCertificates?: string;
}

/**
 * The TransformRunner adapter for Azure Data Factory, over `DataFactoryManagementClient`. It makes
 * one request per call, with the client's own retries turned off, because the orchestration
 * waits with durable timers and sends the request again itself.
 */
export class DataFactoryTransformRunner implements TransformRunner {
  private readonly client: DataFactoryManagementClient;

  constructor(
    private readonly location: DataFactoryLocation,
    options: DataFactoryClientOptions,
  ) {
    this.client = new DataFactoryManagementClient(options.credential, location.subscriptionId, {
      endpoint: location.endpoint,
      $host: location.endpoint,
      retryOptions: { maxRetries: 0 },
      ...(options.caCertificates === undefined ? {} : { tlsOptions: { ca: [...tls.rootCertificates, options.caCertificates] } }),
    });
  }

  async startRun(pipelineName: string, parameters: PipelineRunParameters): Promise<string> {
    const { resourceGroup, factoryName } = this.location;
    try {
      const response = await this.client.pipelines.createRun(resourceGroup, factoryName, pipelineName, { parameters: { ...parameters } });
      if (typeof response.runId !== 'string' || response.runId === '') {
        throw new PermanentError(`Data Factory ${factoryName} started pipeline ${pipelineName} but returned no run id. Check the endpoint ${this.location.endpoint}.`);
      }
      return response.runId;
    } catch (error) {
      throw classifyDataFactoryError(error, `Starting pipeline ${pipelineName} of Data Factory ${factoryName}`);
    }
  }

  async readRun(runId: string): Promise<PipelineRun> {
    const { resourceGroup, factoryName } = this.location;
    let run: Awaited<ReturnType<DataFactoryManagementClient['pipelineRuns']['get']>>;
    try {
      run = await this.client.pipelineRuns.get(resourceGroup, factoryName, runId);
    } catch (error) {
      throw classifyDataFactoryError(error, `Reading pipeline run ${runId} of Data Factory ${factoryName}`);
    }

    const status = run.status as PipelineRunStatus | undefined;
    if (status === undefined || !pipelineRunStatuses.includes(status)) {
      throw new PermanentError(
        `Pipeline run ${runId} of Data Factory ${factoryName} has status "${String(run.status)}", which is not one of ${pipelineRunStatuses.join(', ')}. ` +
          `Check that ${this.location.endpoint} is an Azure Resource Manager endpoint.`,
      );
    }
    return { runId, status, message: run.message ?? '' };
  }
}

/** The fields of a RestError from @azure/core-rest-pipeline that the classification reads. */
interface RestErrorLike {
  name: string;
  message: string;
  statusCode?: number;
  code?: string;
  response?: { headers: { get(name: string): string | undefined } };
}

/**
 * Converts a failed Data Factory request into a RetryableError (408, 429, 5xx, network errors,
 * unavailable tokens) or a PermanentError (other 4xx, certificate errors, no credential). The
 * message starts with `action` and quotes the service's error code and message, never a token.
 */
export function classifyDataFactoryError(error: unknown, action: string): Error {
  if (error instanceof PermanentError || error instanceof RetryableError) {
    return error;
  }
  const failure = error as RestErrorLike;
  if (failure.name === 'CredentialUnavailableError') {
    return new PermanentError(
      `${action} failed because no Azure credential is available: ${failure.message} ` +
        'Give the function app a managed identity, or set the environment variables of a service principal.',
    );
  }
  if (failure.name !== 'RestError') {
    return new RetryableError(`${action} failed: ${failure.message ?? String(error)}`);
  }

  const statusCode = failure.statusCode;
  if (statusCode === undefined) {
    // Node reports an untrusted server certificate as a failure to send, which a retry repeats.
    if (/certificate/i.test(failure.message)) {
      return new PermanentError(`${action} failed because the server certificate is not trusted: ${failure.message}. Check the Data Factory endpoint.`);
    }
    return new RetryableError(`${action} failed with a network error: ${failure.message}`);
  }

  const detail = `${action} failed with status ${statusCode}${failure.code === undefined ? '' : ` (${failure.code})`}: ${failure.message}`;
  if (statusCode === 429) {
    const retryAfter = failure.response?.headers.get('retry-after');
    return new RetryableError(`${detail}. Data Factory throttled the request${retryAfter === undefined ? '' : ` (Retry-After: ${retryAfter})`}.`);
  }
  if (statusCode === 408 || statusCode >= 500) {
    return new RetryableError(detail);
  }
  if (statusCode === 401 || statusCode === 403) {
    return new PermanentError(`${detail}. Grant the function app's identity the Data Factory Contributor role on the factory.`);
  }
  if (statusCode === 404) {
    return new PermanentError(`${detail}. Check the pipeline name in the connectors file and the settings that name the factory.`);
  }
  return new PermanentError(detail);
}
