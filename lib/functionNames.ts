/**
 * Names of the registered functions. Call sites use these constants, because function
 * code may import only `lib/`, so an orchestrator cannot import an activity's file.
 */

export const ingestMessageFunctionName = 'ingestMessage';
export const messageStatusFunctionName = 'messageStatus';
export const listChangesFunctionName = 'listChanges';
export const listQuarantineFunctionName = 'listQuarantine';
export const readQuarantinedFunctionName = 'readQuarantined';
export const releaseQuarantinedFunctionName = 'releaseQuarantined';
export const listMessagesFunctionName = 'listMessages';
export const replayMessageFunctionName = 'replayMessage';
export const startBulkReplayFunctionName = 'startBulkReplay';
export const readBulkReplayFunctionName = 'readBulkReplay';
export const cancelBulkReplayFunctionName = 'cancelBulkReplay';
export const healthFunctionName = 'health';
/** The Event Grid trigger of lifecycle events. infra/ subscribes the Event Grid topic to this name. */
export const lifecycleEventFunctionName = 'onLifecycleEvent';

export const processMessageOrchestrationName = 'processMessage';
export const deliverToDestinationOrchestrationName = 'deliverToDestination';
export const bulkReplayOrchestrationName = 'bulkReplay';
export const runDataFactoryTransformOrchestrationName = 'runDataFactoryTransform';

export const recordMessageActivityName = 'recordMessage';
export const writeAuditActivityName = 'writeAudit';
export const readEntityVersionActivityName = 'readEntityVersion';
export const transformPayloadActivityName = 'transformPayload';
export const deliverPayloadActivityName = 'deliverPayload';
export const mirrorEntityStateActivityName = 'mirrorEntityState';
export const takeReplayPageActivityName = 'takeReplayPage';
export const startReplaysActivityName = 'startReplays';
export const finishBulkReplayActivityName = 'finishBulkReplay';
export const startPipelineRunActivityName = 'startPipelineRun';
export const readPipelineRunActivityName = 'readPipelineRun';
export const checkPipelineOutputActivityName = 'checkPipelineOutput';

export const trackedEntityName = 'trackedEntity';
export const offerVersionOperationName = 'offerVersion';
export const recordDeliveryActivityName = 'recordDelivery';
export const recordMessageOutcomeActivityName = 'recordMessageOutcome';
export const notifyQueueTurnActivityName = 'notifyQueueTurn';

export const destinationCircuitEntityName = 'destinationCircuit';
export const requestAttemptOperationName = 'requestAttempt';
export const reportAttemptOperationName = 'reportAttempt';
export const enableDestinationOperationName = 'enable';

export const deliveryQueueEntityName = 'deliveryQueue';
export const enqueueOperationName = 'enqueue';
export const releaseOperationName = 'release';
/** External event that a released queue head raises to the next head. */
export const queueTurnEventName = 'queueTurn';

export const enableDestinationFunctionName = 'enableDestination';
export const listDestinationsFunctionName = 'listDestinations';
