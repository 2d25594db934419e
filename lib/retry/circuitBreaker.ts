import type {
  AttemptPermission,
  DestinationCircuitState,
  EnableDestinationInput,
  ReportAttemptInput,
  RequestAttemptInput,
} from '../contracts';

/**
 * Decisions of a destination's circuit breaker, as pure functions of the state and the request,
 * so that the `destinationCircuit` entity stays a thin wrapper and tests need no host.
 *
 * Closed lets every attempt through. `failureThreshold` consecutive failed attempts open it. Once
 * `coolDownInMilliseconds` has passed, the first request becomes the probe and the breaker is
 * half-open: other requests wait until the probe reports or its lease ends, checking again every
 * second (or every cool-down, when that is shorter). A successful attempt closes the breaker and a failed one reopens it. Only
 * retryable failures count, because a permanent response such as 400 shows that the destination
 * responds. A 410 Gone disables the destination, which lets no attempt through until an operator
 * enables it.
 */

/** Interval at which deliveries waiting for a half-open breaker's probe check again. */
export const halfOpenCheckIntervalInMilliseconds = 1000;

export const initialCircuitState: DestinationCircuitState = { state: 'closed', consecutiveFailures: 0 };

function addMilliseconds(isoTime: string, milliseconds: number): string {
  return new Date(Date.parse(isoTime) + milliseconds).toISOString();
}

/** Decides whether the asking delivery may start an attempt at `request.at`, and returns the state to keep. */
export function decideAttemptRequest(
  state: DestinationCircuitState,
  request: RequestAttemptInput,
): { permission: AttemptPermission; state: DestinationCircuitState } {
  const now = Date.parse(request.at);

  if (state.disabled !== undefined) {
    const retryAt = addMilliseconds(request.at, request.settings.coolDownInMilliseconds);
    return { permission: { allowed: false, reason: 'destinationDisabled', retryAt }, state };
  }

  if (state.state === 'closed') {
    return { permission: { allowed: true, probe: false }, state };
  }

  if (state.state === 'open' && state.openUntil !== undefined && now < Date.parse(state.openUntil)) {
    return { permission: { allowed: false, reason: 'circuitOpen', retryAt: state.openUntil }, state };
  }

  const probe = state.probe;
  const probeIsLive = state.state === 'halfOpen' && probe !== undefined && now < Date.parse(probe.leaseExpiresAt);
  if (probeIsLive && probe.instanceId !== request.instanceId) {
    // The probe usually reports within seconds, long before its lease ends, so the others check
    // again soon: after a second, or after the cool-down when that is shorter.
    const checkInMilliseconds = Math.min(halfOpenCheckIntervalInMilliseconds, request.settings.coolDownInMilliseconds);
    const retryAt = new Date(Math.min(Date.parse(probe.leaseExpiresAt), now + checkInMilliseconds)).toISOString();
    return { permission: { allowed: false, reason: 'circuitOpen', retryAt }, state };
  }

  // This request becomes the probe with a fresh lease. Either the cool-down is over, or the
  // probe's lease ended, or the probe itself requests again after a restart of its orchestration.
  const leaseExpiresAt = addMilliseconds(request.at, request.settings.probeLeaseInMilliseconds);
  return {
    permission: { allowed: true, probe: true },
    state: { ...state, state: 'halfOpen', openUntil: undefined, probe: { instanceId: request.instanceId, leaseExpiresAt } },
  };
}

/** Applies the result of one attempt to the breaker and returns the new state. */
export function applyAttemptReport(state: DestinationCircuitState, report: ReportAttemptInput): DestinationCircuitState {
  if (report.disablesDestination === true) {
    return {
      ...state,
      consecutiveFailures: state.consecutiveFailures + 1,
      disabled: { at: report.at, messageId: report.messageId, statusCode: report.statusCode },
    };
  }

  if (!report.failed) {
    return { ...state, state: 'closed', consecutiveFailures: 0, openUntil: undefined, probe: undefined };
  }

  const consecutiveFailures = state.consecutiveFailures + 1;
  const reopens = state.state === 'halfOpen';
  const opens = state.state === 'closed' && consecutiveFailures >= report.settings.failureThreshold;
  if (reopens || opens) {
    const openUntil = addMilliseconds(report.at, report.settings.coolDownInMilliseconds);
    return { ...state, state: 'open', consecutiveFailures, openUntil, probe: undefined };
  }
  return { ...state, consecutiveFailures };
}

/** Clears the disabled flag and closes the breaker, so that the next request gets an attempt. */
export function applyEnable(enable: EnableDestinationInput): DestinationCircuitState {
  return { state: 'closed', consecutiveFailures: 0, lastEnabled: enable };
}
