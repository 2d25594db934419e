import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from 'durable-functions';
import type {
  AttemptPermission,
  DeliverPayloadInput,
  DeliverPayloadOutput,
  DeliverToDestinationInput,
  DestinationDelivery,
  NotifyQueueTurnInput,
  QueueItem,
  QueuePosition,
  QueueRelease,
  RecordDeliveryInput,
  ReportAttemptInput,
  RequestAttemptInput,
} from '../lib/contracts';
import {
  deliverPayloadActivityName,
  deliverToDestinationOrchestrationName,
  deliveryQueueEntityName,
  destinationCircuitEntityName,
  enqueueOperationName,
  notifyQueueTurnActivityName,
  queueTurnEventName,
  recordDeliveryActivityName,
  releaseOperationName,
  reportAttemptOperationName,
  requestAttemptOperationName,
} from '../lib/functionNames';
import { createCircuitEntityKey, createDeliveryInstanceId } from '../lib/ids';
import { computeDeadlineInMilliseconds, decideRetry } from '../lib/retry/retrySchedule';
import { describeTaskFailure } from '../lib/taskFailure';

/** First and maximum interval at which a delivery waiting in its queue checks its position again, in case the `queueTurn` event is lost. */
const firstQueueCheckIntervalInMilliseconds = 500;
const maxQueueCheckIntervalInMilliseconds = 5_000;

type Generated<T> = Generator<Task, T, unknown>;

/**
 * Delivers one message to one destination and returns the final outcome, `delivered` or
 * `deadLettered`. A `fifoPerEntity` destination first waits for its turn in the delivery queue
 * of the entity key and releases the queue at the final outcome, delivered or dead-lettered.
 * Each attempt first requests permission from the destination's circuit breaker. While the
 * breaker is open or the destination is disabled, the delivery waits on durable timers without
 * spending attempts. Waits between attempts follow lib/retry/retrySchedule.ts. The total deadline
 * counts from the first request to the breaker. Every state change is written to the delivery
 * row through `recordDelivery`, except a delivered attempt, which `deliverPayload` writes itself.
 */
const deliverToDestination: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<DeliverToDestinationInput>();
  const queue = input.queue;
  const queueItem: QueueItem = { messageId: input.messageId, instanceId: context.df.instanceId, version: queue?.version };
  if (queue !== undefined) {
    yield* waitForQueueTurn(context, input, queue.queueKey, queueItem);
  }

  let result: DeliveryResult;
  try {
    result = yield* deliverWithRetries(context, input);
  } catch (error) {
    // deliverPayload throws only for an unknown destination or a missing payload, which no retry fixes.
    result = { delivery: deadLetter(input, 0, undefined, `internal error: ${describeTaskFailure(error)}`), isRecorded: false };
  }
  const delivery = result.delivery;
  if (!result.isRecorded) {
    yield* recordDelivery(context, input, { outcome: delivery.outcome, reason: delivery.reason, attempts: delivery.attempts, statusCode: delivery.statusCode });
  }

  if (queue !== undefined) {
    yield* releaseQueueTurn(context, queue.queueKey, queueItem);
  }
  context.df.setCustomStatus({ stage: delivery.outcome, attempts: delivery.attempts });
  return delivery;
};

/** The final outcome of a delivery, and whether `deliverPayload` already wrote it to the delivery row. */
interface DeliveryResult {
  delivery: DestinationDelivery;
  isRecorded: boolean;
}

/** Makes attempts until one succeeds, a permanent failure, or the attempts or the deadline run out. */
function* deliverWithRetries(context: OrchestrationContext, input: DeliverToDestinationInput): Generated<DeliveryResult> {
  const { retry } = input;
  const deadline = computeDeadlineInMilliseconds(retry, nowOf(context));
  let attemptNumber = 0;
  let lastOutput: DeliverPayloadOutput | undefined;

  for (;;) {
    const blocked = yield* waitForCircuit(context, input, deadline, attemptNumber);
    if (blocked !== undefined) {
      return { delivery: deadLetter(input, attemptNumber, lastOutput, blocked), isRecorded: false };
    }

    attemptNumber++;
    context.df.setCustomStatus({ stage: 'delivering', attemptNumber });
    const output = yield* attemptOnce(context, input, attemptNumber);
    lastOutput = output;
    if (output.outcome === 'delivered') {
      const delivery: DestinationDelivery = { destinationId: input.destinationId, outcome: 'delivered', attempts: attemptNumber, statusCode: output.statusCode };
      return { delivery, isRecorded: output.deliveryRecorded === true };
    }
    if (output.outcome === 'permanent') {
      const delivery = deadLetter(input, attemptNumber, output, 'permanent failure');
      if (output.disablesDestination === true) {
        delivery.reason = `${delivery.reason}. The destination is disabled until an operator enables it`;
      }
      return { delivery, isRecorded: false };
    }

    const decision = decideRetry(
      retry,
      context.df.instanceId,
      { attemptNumber, endedAtInMilliseconds: nowOf(context), retryAfterInMilliseconds: output.retryAfterInMilliseconds },
      deadline,
    );
    if (decision.kind === 'stop') {
      const reason = decision.reason === 'deadline' ? 'deadline' : `maxAttempts (${retry.maxAttempts})`;
      return { delivery: deadLetter(input, attemptNumber, output, reason), isRecorded: false };
    }

    const nextAttemptAt = new Date(decision.nextAttemptAtInMilliseconds);
    context.df.setCustomStatus({ stage: 'waitingToRetry', attemptNumber, nextAttemptAt: nextAttemptAt.toISOString() });
    yield* recordDelivery(context, input, {
      outcome: 'pending',
      reason: `attempt ${attemptNumber} failed: ${output.error ?? 'unknown failure'}; next attempt at ${nextAttemptAt.toISOString()}`,
      attempts: attemptNumber,
      statusCode: output.statusCode,
    });
    yield context.df.createTimer(nextAttemptAt);
  }
}

/**
 * Requests permission from the circuit breaker until it lets an attempt through, waiting durably
 * in between. Returns undefined when an attempt may start, or the dead letter reason ("circuit open" or
 * "destination disabled") when the deadline passed first.
 */
function* waitForCircuit(context: OrchestrationContext, input: DeliverToDestinationInput, deadline: number, attempts: number): Generated<string | undefined> {
  const circuit = new df.EntityId(destinationCircuitEntityName, createCircuitEntityKey(input.connectorId, input.destinationId));
  let recordedReason: string | undefined;

  for (;;) {
    const request: RequestAttemptInput = { instanceId: context.df.instanceId, at: context.df.currentUtcDateTime.toISOString(), settings: input.circuit };
    const permission = (yield context.df.callEntity(circuit, requestAttemptOperationName, request)) as AttemptPermission;
    if (permission.allowed) {
      return undefined;
    }

    const blockedReason = permission.reason === 'destinationDisabled' ? 'destination disabled' : 'circuit open';
    if (nowOf(context) >= deadline) {
      return blockedReason;
    }

    // NOTE: each check adds an entity call and a timer to the history, so a destination disabled for
    // a long deadline with a short cool-down gives this instance a long history to replay.
    const retryAt = Math.min(Date.parse(permission.retryAt), deadline);
    const retryAtText = new Date(retryAt).toISOString();
    const reason = permission.reason === 'destinationDisabled' ? blockedReason : `circuit open until ${permission.retryAt}`;
    context.df.setCustomStatus({ stage: 'waitingForCircuit', reason, nextCheckAt: retryAtText });
    if (reason !== recordedReason) {
      yield* recordDelivery(context, input, { outcome: 'pending', reason, attempts });
      recordedReason = reason;
    }
    yield context.df.createTimer(new Date(retryAt));
  }
}

/**
 * Makes one attempt with the `deliverPayload` activity and reports its result to the circuit
 * breaker. The report is a signal, because the orchestration needs no response. An output
 * without `deliveryRecorded` comes from a history recorded when the report was a `callEntity`,
 * so the replay calls the entity as that history expects.
 *
 * The signal reaches the entity before the next `requestAttempt` call of this instance, because
 * the entity handles the requests of one sender in the order they were sent. The local engine
 * queues them in insertion order (local/durable/entityRunner.ts). The Durable Functions extension
 * on Azure labels each sender's entity messages and delivers them in send order, within its
 * reorder window (`entityMessageReorderWindowInMinutes` in host.json).
 */
function* attemptOnce(context: OrchestrationContext, input: DeliverToDestinationInput, attemptNumber: number): Generated<DeliverPayloadOutput> {
  const attemptInput: DeliverPayloadInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: input.destinationId,
    payloadBlobName: input.payloadBlobName,
    attemptNumber,
    maxAttempts: input.retry.maxAttempts,
    idempotencyKey: input.idempotencyKey ?? createDeliveryInstanceId(input.messageId, input.destinationId),
    traceparent: input.traceparent,
  };
  const output = (yield context.df.callActivity(deliverPayloadActivityName, attemptInput)) as DeliverPayloadOutput;

  const circuit = new df.EntityId(destinationCircuitEntityName, createCircuitEntityKey(input.connectorId, input.destinationId));
  const report: ReportAttemptInput = {
    instanceId: context.df.instanceId,
    messageId: input.messageId,
    at: context.df.currentUtcDateTime.toISOString(),
    failed: output.outcome === 'retryable',
    statusCode: output.statusCode,
    disablesDestination: output.disablesDestination,
    settings: input.circuit,
  };
  if (output.deliveryRecorded === undefined) {
    yield context.df.callEntity(circuit, reportAttemptOperationName, report);
  } else {
    context.df.signalEntity(circuit, reportAttemptOperationName, report);
  }
  return output;
}

/**
 * Enqueues the delivery in its queue and waits until it is the head. It waits for the
 * `queueTurn` event that the released head raises, and checks the queue again on a timer that
 * backs off from 500 ms to 5 s, in case the event was raised before this instance existed.
 */
function* waitForQueueTurn(context: OrchestrationContext, input: DeliverToDestinationInput, queueKey: string, item: QueueItem): Generated<void> {
  const queue = new df.EntityId(deliveryQueueEntityName, queueKey);
  let checkIntervalInMilliseconds = firstQueueCheckIntervalInMilliseconds;
  let recordedHead: string | undefined;
  // One event task serves every check: a second waiter on the same event name would leave the
  // event to the first, abandoned one.
  let turn: Task | undefined;

  for (;;) {
    const position = (yield context.df.callEntity(queue, enqueueOperationName, item)) as QueuePosition;
    if (position.isHead) {
      context.df.setCustomStatus({ stage: 'delivering', queueKey, waitingBehindThis: position.waitingCount });
      return;
    }

    const reason = `waiting behind message ${position.headMessageId}`;
    context.df.setCustomStatus({ stage: 'waitingInQueue', queueKey, waitingBehind: position.headMessageId, position: position.position });
    if (position.headMessageId !== recordedHead) {
      yield* recordDelivery(context, input, { outcome: 'pending', reason, attempts: 0 });
      recordedHead = position.headMessageId;
    }

    const checkAt = new Date(nowOf(context) + checkIntervalInMilliseconds);
    const timer: TimerTask = context.df.createTimer(checkAt);
    turn ??= context.df.waitForExternalEvent(queueTurnEventName);
    const first = yield context.df.Task.any([turn, timer]);
    if (first === turn) {
      timer.cancel();
      turn = undefined;
    }
    checkIntervalInMilliseconds = Math.min(maxQueueCheckIntervalInMilliseconds, checkIntervalInMilliseconds * 2);
  }
}

/** Releases the head of the queue and raises `queueTurn` to the delivery that becomes the head. */
function* releaseQueueTurn(context: OrchestrationContext, queueKey: string, item: QueueItem): Generated<void> {
  const queue = new df.EntityId(deliveryQueueEntityName, queueKey);
  const release = (yield context.df.callEntity(queue, releaseOperationName, item)) as QueueRelease;
  if (release.nextHead !== undefined) {
    const notify: NotifyQueueTurnInput = { instanceId: release.nextHead.instanceId, messageId: release.nextHead.messageId, queueKey };
    yield context.df.callActivity(notifyQueueTurnActivityName, notify);
  }
}

function deadLetter(input: DeliverToDestinationInput, attempts: number, lastOutput: DeliverPayloadOutput | undefined, reason: string): DestinationDelivery {
  const lastFailure = lastOutput?.error === undefined ? '' : `. Last failure: ${lastOutput.error}`;
  return {
    destinationId: input.destinationId,
    outcome: 'deadLettered',
    attempts,
    statusCode: lastOutput?.statusCode,
    reason: `${reason} after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}${lastFailure}`,
  };
}

function* recordDelivery(
  context: OrchestrationContext,
  input: DeliverToDestinationInput,
  fields: Pick<RecordDeliveryInput, 'outcome' | 'reason' | 'attempts' | 'statusCode'>,
): Generated<void> {
  const record: RecordDeliveryInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: input.destinationId,
    payloadBlobName: input.payloadBlobName,
    ...fields,
  };
  yield context.df.callActivity(recordDeliveryActivityName, record);
}

function nowOf(context: OrchestrationContext): number {
  return context.df.currentUtcDateTime.getTime();
}

df.app.orchestration(deliverToDestinationOrchestrationName, deliverToDestination);
