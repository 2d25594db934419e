import type { PipelineRun } from './TransformRunner';

/**
 * Inputs and outputs of the Data Factory transform orchestration and its activities. They
 * travel through the orchestration history, so they carry payload store names, never payloads.
 */

/** The connector's `adf` transform, read from the connectors file when processing starts. */
export interface DataFactoryTransformPlan {
  pipelineName: string;
  timeoutInMinutes: number;
  pollIntervalInSeconds: number;
}

export interface RunDataFactoryTransformInput extends DataFactoryTransformPlan {
  messageId: string;
  connectorId: string;
  inputBlobName: string;
  outputBlobName: string;
}

/** A run that wrote its output blob, or the reason why the message must be dead-lettered. */
export type RunDataFactoryTransformOutput =
  | { outcome: 'succeeded'; runId: string; outputBlobName: string }
  | { outcome: 'failed'; reason: string; runId?: string };

export interface StartPipelineRunInput {
  messageId: string;
  connectorId: string;
  pipelineName: string;
  inputBlobName: string;
  outputBlobName: string;
}

export interface ReadPipelineRunInput {
  messageId: string;
  connectorId: string;
  runId: string;
}

export type ReadPipelineRunOutput = PipelineRun;

export interface CheckPipelineOutputInput {
  messageId: string;
  connectorId: string;
  pipelineName: string;
  runId: string;
  outputBlobName: string;
}
