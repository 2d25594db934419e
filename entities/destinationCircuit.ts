import * as df from 'durable-functions';
import type { EntityContext } from 'durable-functions';
import type { DestinationCircuitState, EnableDestinationInput, ReportAttemptInput, RequestAttemptInput } from '../lib/contracts';
import { PermanentError } from '../lib/errors';
import {
  destinationCircuitEntityName,
  enableDestinationOperationName,
  reportAttemptOperationName,
  requestAttemptOperationName,
} from '../lib/functionNames';
import { applyAttemptReport, applyEnable, decideAttemptRequest, initialCircuitState } from '../lib/retry/circuitBreaker';

const operationNames = [requestAttemptOperationName, reportAttemptOperationName, enableDestinationOperationName];

/**
 * Handles the operations of the circuit breaker of one destination, keyed
 * `<connectorId>|<destinationId>`. `requestAttempt` returns whether an attempt may start,
 * `reportAttempt` counts its result and `enable` clears a 410 Gone. The decisions are in
 * lib/retry/circuitBreaker.ts; times come from the callers' replay-safe clocks.
 */
function destinationCircuit(context: EntityContext<DestinationCircuitState>): void {
  const operationName = context.df.operationName ?? '';
  const state = context.df.getState(() => initialCircuitState) ?? initialCircuitState;
  const input = context.df.getInput<unknown>();
  if (typeof input !== 'object' || input === null || typeof (input as { at?: unknown }).at !== 'string') {
    throw new PermanentError(
      `Operation "${operationName}" of entity ${destinationCircuitEntityName} ${context.df.entityKey} needs an input object with an ISO 8601 "at" time.`,
    );
  }

  switch (operationName) {
    case requestAttemptOperationName: {
      const decision = decideAttemptRequest(state, input as RequestAttemptInput);
      context.df.setState(decision.state);
      context.df.return(decision.permission);
      return;
    }
    case reportAttemptOperationName:
      context.df.setState(applyAttemptReport(state, input as ReportAttemptInput));
      return;
    case enableDestinationOperationName:
      context.df.setState(applyEnable(input as EnableDestinationInput));
      return;
    default:
      throw new PermanentError(
        `Entity ${destinationCircuitEntityName} has no operation "${operationName}". Its operations are ${operationNames.join(', ')}.`,
      );
  }
}

df.app.entity(destinationCircuitEntityName, destinationCircuit);
