/**
 * The port to a service that runs heavy transforms outside the connector: it starts a run that
 * reads one payload store blob and writes another, and reports the run's status.
 */

/** Status of a pipeline run, as Azure Data Factory spells it. */
export type PipelineRunStatus = 'Queued' | 'InProgress' | 'Succeeded' | 'Failed' | 'Canceling' | 'Cancelled';

export const pipelineRunStatuses: readonly PipelineRunStatus[] = ['Queued', 'InProgress', 'Succeeded', 'Failed', 'Canceling', 'Cancelled'];

/** Parameters passed to the pipeline. The pipeline must declare each of them. */
export interface PipelineRunParameters {
  /** Payload store name of the raw payload, such as `raw/orders/orders-<hash>`. */
  inputBlobName: string;
  /** Payload store name that the pipeline writes the transformed payload to. */
  outputBlobName: string;
  messageId: string;
}

export interface PipelineRun {
  runId: string;
  status: PipelineRunStatus;
  /** The pipeline's message, such as the error of a failed activity. Empty while the run is in progress. */
  message: string;
}

/**
 * Starts and reads transform runs. Methods throw a RetryableError for a failure that may pass
 * later (throttling, a server error, a network error) and a PermanentError otherwise.
 */
export interface TransformRunner {
  /** Starts a run of `pipelineName` and returns its run id. */
  startRun(pipelineName: string, parameters: PipelineRunParameters): Promise<string>;
  readRun(runId: string): Promise<PipelineRun>;
}
