import { describe, expect, test } from 'vitest';
import type { CircuitSettings, DeliveryQueueState, DestinationCircuitState, ReportAttemptInput } from '../../../lib/contracts';
import { enqueueItem, emptyDeliveryQueue, releaseItem } from '../../../lib/ordering/deliveryQueue';
import { applyAttemptReport, applyEnable, decideAttemptRequest, initialCircuitState } from '../../../lib/retry/circuitBreaker';

const settings: CircuitSettings = { failureThreshold: 2, coolDownInMilliseconds: 10_000, probeLeaseInMilliseconds: 40_000 };
const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

function report(succeeded: boolean, seconds: number, extra: Partial<ReportAttemptInput> = {}): ReportAttemptInput {
  return { instanceId: 'm1:erp', messageId: 'm1', at: at(seconds), failed: !succeeded, settings, ...extra };
}

function request(state: DestinationCircuitState, instanceId: string, seconds: number) {
  return decideAttemptRequest(state, { instanceId, at: at(seconds), settings });
}

/** A breaker opened at second 0 by two failures. */
function openCircuit(): DestinationCircuitState {
  return applyAttemptReport(applyAttemptReport(initialCircuitState, report(false, 0)), report(false, 0));
}

describe('circuit breaker', () => {
  test('closed breaker allows attempts', () => {
    expect(request(initialCircuitState, 'm1:erp', 0).permission).toEqual({ allowed: true, probe: false });
  });

  test('one failure below the threshold keeps it closed', () => {
    expect(applyAttemptReport(initialCircuitState, report(false, 0)).state).toBe('closed');
  });

  test('threshold of failures opens it', () => {
    const state = openCircuit();

    expect(state.state).toBe('open');
    expect(state.openUntil).toBe(at(10));
  });

  test('success resets the failure count', () => {
    const state = applyAttemptReport(applyAttemptReport(initialCircuitState, report(false, 0)), report(true, 1));

    expect(state.consecutiveFailures).toBe(0);
  });

  test('open breaker refuses until the cool-down ends', () => {
    expect(request(openCircuit(), 'm2:erp', 5).permission).toEqual({ allowed: false, reason: 'circuitOpen', retryAt: at(10) });
  });

  test('first request after the cool-down is the probe', () => {
    const decision = request(openCircuit(), 'm2:erp', 10);

    expect(decision.permission).toEqual({ allowed: true, probe: true });
    expect(decision.state.state).toBe('halfOpen');
    expect(decision.state.probe).toEqual({ instanceId: 'm2:erp', leaseExpiresAt: at(50) });
  });

  test('second request while probing checks again after a second', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;

    expect(request(probing, 'm3:erp', 11).permission).toEqual({ allowed: false, reason: 'circuitOpen', retryAt: at(12) });
  });

  test('second request near the lease end waits for the lease', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;

    expect(request(probing, 'm3:erp', 49.5).permission).toEqual({ allowed: false, reason: 'circuitOpen', retryAt: at(50) });
  });

  test('probe asking again keeps its turn', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;

    expect(request(probing, 'm2:erp', 12).permission.allowed).toBe(true);
  });

  test('expired probe lease passes the turn on', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;
    const decision = request(probing, 'm3:erp', 51);

    expect(decision.permission.allowed).toBe(true);
    expect(decision.state.probe?.instanceId).toBe('m3:erp');
  });

  test('successful probe closes it', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;

    expect(applyAttemptReport(probing, report(true, 11)).state).toBe('closed');
  });

  test('failed probe reopens it', () => {
    const probing = request(openCircuit(), 'm2:erp', 10).state;
    const state = applyAttemptReport(probing, report(false, 11));

    expect(state.state).toBe('open');
    expect(state.openUntil).toBe(at(21));
  });

  test('410 disables the destination', () => {
    const state = applyAttemptReport(initialCircuitState, report(false, 3, { disablesDestination: true, statusCode: 410 }));

    expect(state.disabled).toEqual({ at: at(3), messageId: 'm1', statusCode: 410 });
    expect(request(state, 'm2:erp', 4).permission).toEqual({ allowed: false, reason: 'destinationDisabled', retryAt: at(14) });
  });

  test('enable clears the disabled flag', () => {
    const disabled = applyAttemptReport(initialCircuitState, report(false, 3, { disablesDestination: true }));
    const state = applyEnable({ operator: 'alice', reason: 'target restored', at: at(5) });

    expect(disabled.disabled).toBeDefined();
    expect(request(state, 'm2:erp', 6).permission.allowed).toBe(true);
    expect(state.lastEnabled?.operator).toBe('alice');
  });
});

describe('delivery queue', () => {
  const item = (messageId: string, version?: number) => ({ messageId, instanceId: `${messageId}:erp`, version });

  function enqueueAll(...items: ReturnType<typeof item>[]): DeliveryQueueState {
    return items.reduce((state, queued) => enqueueItem(state, queued).state, emptyDeliveryQueue);
  }

  test('first item becomes the head', () => {
    expect(enqueueItem(emptyDeliveryQueue, item('m1', 1)).position).toEqual({ isHead: true, position: 0, waitingCount: 0 });
  });

  test('later item waits behind the head', () => {
    const state = enqueueAll(item('m1', 1));

    expect(enqueueItem(state, item('m2', 2)).position).toEqual({ isHead: false, headMessageId: 'm1', position: 1, waitingCount: 1 });
  });

  test('waiting items are in version order', () => {
    const state = enqueueAll(item('m1', 1), item('m4', 4), item('m2', 2), item('m3', 3));

    expect(state.waiting.map((queued) => queued.messageId)).toEqual(['m2', 'm3', 'm4']);
  });

  test('items without a version keep arrival order', () => {
    const state = enqueueAll(item('m1'), item('m3'), item('m2'));

    expect(state.waiting.map((queued) => queued.messageId)).toEqual(['m3', 'm2']);
  });

  test('enqueueing again changes nothing', () => {
    const state = enqueueAll(item('m1', 1), item('m2', 2));

    expect(enqueueItem(state, item('m2', 2)).state).toEqual(state);
  });

  test('release makes the next item the head', () => {
    const released = releaseItem(enqueueAll(item('m1', 1), item('m3', 3), item('m2', 2)), 'm1:erp');

    expect(released.release.nextHead?.messageId).toBe('m2');
    expect(enqueueItem(released.state, item('m2', 2)).position.isHead).toBe(true);
  });

  test('release of the last item empties the queue', () => {
    const released = releaseItem(enqueueAll(item('m1', 1)), 'm1:erp');

    expect(released.release).toEqual({});
    expect(released.state).toEqual({ head: undefined, waiting: [] });
  });

  test('release of a waiting item keeps the head', () => {
    const released = releaseItem(enqueueAll(item('m1', 1), item('m2', 2)), 'm2:erp');

    expect(released.release).toEqual({});
    expect(released.state.head?.messageId).toBe('m1');
    expect(released.state.waiting).toEqual([]);
  });
});
