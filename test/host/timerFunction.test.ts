import { describe, expect, it } from 'vitest';
import type { RegisteredFunction } from '../../local/functionsCore/registry';
import { readTimerFunction, toTimerTriggerData } from '../../local/timer/timerFunction';

function timerFunction(trigger: Record<string, unknown>): RegisteredFunction {
  return {
    name: 'sweepRetention',
    bindings: {},
    handler: () => undefined,
    triggerBindingName: 'timerTrigger123',
    trigger: { type: 'timerTrigger', direction: 'in', ...trigger },
  };
}

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('The action did not throw.');
}

describe('readTimerFunction', () => {
  it('reads schedule and runOnStartup', () => {
    const timer = readTimerFunction(timerFunction({ schedule: '0 */5 * * * *', runOnStartup: true }), {});

    expect(timer.schedule.expression).toBe('0 */5 * * * *');
    expect(timer.runOnStartup).toBe(true);
  });

  it('runOnStartup defaults to false', () => {
    expect(readTimerFunction(timerFunction({ schedule: '0 0 * * * *' }), {}).runOnStartup).toBe(false);
  });

  it('schedule reads an app setting reference', () => {
    const timer = readTimerFunction(timerFunction({ schedule: '%SWEEP_SCHEDULE%' }), { SWEEP_SCHEDULE: '0 0 3 * * *' });

    expect(timer.schedule.expression).toBe('0 0 3 * * *');
  });

  it('missing app setting names the setting', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: '%SWEEP_SCHEDULE%' }), {}));

    expect(error.message).toContain('function "sweepRetention"');
    expect(error.message).toContain('SWEEP_SCHEDULE, which is not set');
  });

  it('invalid schedule names function, value and format', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: '0 */5 * * *' }), {}));

    expect(error.message).toContain('Function "sweepRetention" has the timer schedule "0 */5 * * *"');
    expect(error.message).toContain('it has 5 fields instead of 6');
    expect(error.message).toContain('{second} {minute} {hour} {day} {month} {day-of-week}');
  });

  it('invalid schedule from a setting names the setting', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: '%SWEEP_SCHEDULE%' }), { SWEEP_SCHEDULE: '61 * * * * *' }));

    expect(error.message).toContain('"61 * * * * *" (from the app setting %SWEEP_SCHEDULE%)');
  });

  it('schedule that never occurs is rejected', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: '0 0 0 31 2 *' }), {}));

    expect(error.message).toContain('which never occurs');
  });

  it('non-string schedule is rejected', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: 5 }), {}));

    expect(error.message).toContain('has the timer schedule 5, but a schedule must be a string');
  });

  it('non-boolean runOnStartup is rejected', () => {
    const error = errorOf(() => readTimerFunction(timerFunction({ schedule: '0 0 * * * *', runOnStartup: 'yes' }), {}));

    expect(error.message).toContain('runOnStartup must be true or false');
  });
});

describe('toTimerTriggerData', () => {
  it('sends PascalCase keys as the Functions host does', () => {
    const data = toTimerTriggerData({
      last: new Date('2026-12-04T12:00:00Z'),
      next: new Date('2026-12-04T12:05:00Z'),
      lastUpdated: new Date('2026-12-04T12:00:00.010Z'),
    });

    expect(JSON.parse(data.json as string)).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: '2026-12-04T12:00:00.000Z', Next: '2026-12-04T12:05:00.000Z', LastUpdated: '2026-12-04T12:00:00.010Z' },
      IsPastDue: false,
    });
  });

  it('missing last run is year 1', () => {
    const data = toTimerTriggerData({ last: undefined, next: new Date('2026-12-04T12:05:00Z'), lastUpdated: new Date('2026-12-04T12:00:00Z') });

    expect((JSON.parse(data.json as string) as { ScheduleStatus: { Last: string } }).ScheduleStatus.Last).toBe('0001-01-01T00:00:00.000Z');
  });
});
