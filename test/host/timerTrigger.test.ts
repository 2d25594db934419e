import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { repoRoot, runHostUntilExit, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { waitForRecords, type FixtureRecord } from '../helpers/recordFile';

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'triggersApp');
const everySecond = '*/1 * * * * *';
/** A schedule whose next occurrence is months away, for tests of runOnStartup and stopping. */
const yearly = '0 0 0 1 1 *';
const createdFolders: string[] = [];
const startedHosts: HostProcess[] = [];

interface TimerHost {
  host: HostProcess;
  recordFile: string;
}

async function startTimerHost(env: Record<string, string | undefined>): Promise<TimerHost> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'host-timer-'));
  createdFolders.push(folder);
  const recordFile = path.join(folder, 'records.jsonl');
  const host = await startHostProcess({ appRoot, dataDir: path.join(folder, 'data'), env: { LOCAL_FUNCTION_KEY: 'timer-test-key', FIXTURE_RECORD_FILE: recordFile, ...env } });
  startedHosts.push(host);
  return { host, recordFile };
}

function timerStarts(records: FixtureRecord[]): FixtureRecord[] {
  return records.filter((record) => record.functionName === 'recordTimer' && record.phase === 'started');
}

/** Polls the host's log every 50 ms until `count` entries match, at most `timeoutInMilliseconds`. */
async function waitForLogEntries(host: HostProcess, matches: (entry: Record<string, unknown>) => boolean, count: number, timeoutInMilliseconds: number): Promise<Record<string, unknown>[]> {
  for (let poll = 0; poll < Math.ceil(timeoutInMilliseconds / 50); poll += 1) {
    const entries = host.logEntries().filter(matches);
    if (entries.length >= count) {
      return entries;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Fewer than ${count} matching log entries appeared within ${timeoutInMilliseconds} ms.\n${host.stdout()}`);
}

function invocationLogOf(host: HostProcess, invocationId: string | undefined): Promise<Record<string, unknown>> {
  return waitForLogEntries(host, (entry) => entry.invocationId === invocationId && typeof entry.outcome === 'string', 1, 2000).then(([entry]) => entry);
}

afterEach(() => {
  startedHosts.splice(0).forEach((host) => host.kill());
});

afterAll(() => {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
});

describe('timer trigger', () => {
  it('every-second schedule runs repeatedly', async () => {
    const { host, recordFile } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: everySecond });

    const records = timerStarts(await waitForRecords(recordFile, (all) => timerStarts(all).length >= 2, 4000));

    const [first, second] = records;
    expect(first.timer?.isPastDue).toBe(false);
    expect(first.timer?.schedule).toEqual({ adjustForDST: true });
    expect(first.timer?.scheduleStatus.last).toBe('0001-01-01T00:00:00.000Z');
    const firstLog = await invocationLogOf(host, first.invocationId);
    const secondLog = await invocationLogOf(host, second.invocationId);
    expect(firstLog).toMatchObject({ functionName: 'recordTimer', triggerType: 'timerTrigger', outcome: 'succeeded', reason: 'schedule' });
    expect(typeof firstLog.durationInMilliseconds).toBe('number');
    expect(firstLog.scheduledTime).toMatch(/\.000Z$/);
    expect(first.timer?.scheduleStatus.next).toBe(secondLog.scheduledTime);
    expect(second.timer?.scheduleStatus.last).toBe(firstLog.scheduledTime);
  });

  it('timer and Event Grid functions get no unsupported warning', async () => {
    const { host } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: yearly });

    expect(host.logEntries().filter((entry) => String(entry.msg).startsWith('function not run'))).toEqual([]);
    expect(host.logEntries().find((entry) => entry.msg === 'timer function scheduled')).toMatchObject({
      functionName: 'recordTimer',
      schedule: yearly,
      runOnStartup: false,
    });
  });

  it('runOnStartup runs once when the host is ready', async () => {
    const { host, recordFile } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: yearly, FIXTURE_TIMER_RUN_ON_STARTUP: 'true' });

    const [run] = timerStarts(await waitForRecords(recordFile, (all) => timerStarts(all).length >= 1, 2000));
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(timerStarts(await waitForRecords(recordFile, () => true, 100))).toHaveLength(1);
    expect(await invocationLogOf(host, run.invocationId)).toMatchObject({ reason: 'runOnStartup', outcome: 'succeeded' });
  });

  it('failing handler is logged and the schedule goes on', async () => {
    const { host } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: everySecond, FIXTURE_TIMER_FAIL: 'true' });

    const failures = await waitForLogEntries(host, (entry) => entry.functionName === 'recordTimer' && entry.msg === 'function invocation failed', 2, 4000);

    expect(failures[0].err).toMatchObject({ message: 'recordTimer fails as FIXTURE_TIMER_FAIL asks' });
    expect(failures[1].invocationId).not.toBe(failures[0].invocationId);
  });

  it('occurrence during a running invocation is skipped', async () => {
    const { host, recordFile } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: everySecond, FIXTURE_TIMER_SLEEP_MS: '1500' });

    const [skipped] = await waitForLogEntries(host, (entry) => entry.msg === 'timer run skipped: the previous run of the function is still running', 1, 4000);

    const startedIds = timerStarts(await waitForRecords(recordFile, () => true, 100)).map((record) => record.invocationId);
    expect(startedIds).toContain(skipped.runningInvocationId);
    expect(skipped).toMatchObject({ functionName: 'recordTimer', reason: 'schedule' });
  });

  it('host stop waits for a running invocation', async () => {
    const { host, recordFile } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: yearly, FIXTURE_TIMER_RUN_ON_STARTUP: 'true', FIXTURE_TIMER_SLEEP_MS: '1000' });
    await waitForRecords(recordFile, (all) => timerStarts(all).length === 1, 2000);

    const exit = await host.stop();

    expect(exit).toEqual({ code: 0, signal: null });
    const records = await waitForRecords(recordFile, () => true, 100);
    expect(records.filter((record) => record.phase === 'finished')).toHaveLength(1);
  });

  it('schedule comes from an app setting', async () => {
    const { host, recordFile } = await startTimerHost({ FIXTURE_TIMER_SCHEDULE: '%RECORD_TIMER_SCHEDULE%', RECORD_TIMER_SCHEDULE: everySecond });

    await waitForRecords(recordFile, (all) => timerStarts(all).length >= 1, 3000);

    expect(host.logEntries().find((entry) => entry.msg === 'timer function scheduled')?.schedule).toBe(everySecond);
  });

  it('invalid schedule stops the start', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'host-timer-'));
    createdFolders.push(folder);

    const result = await runHostUntilExit({ appRoot, dataDir: folder, env: { FIXTURE_TIMER_SCHEDULE: '0 */5 * * *', FIXTURE_RECORD_FILE: path.join(folder, 'records.jsonl') } });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Function "recordTimer" has the timer schedule "0 */5 * * *", which is not a valid NCRONTAB expression: it has 5 fields instead of 6.');
    expect(result.stderr).toContain('{second} {minute} {hour} {day} {month} {day-of-week}');
    expect(result.stdout).not.toContain('Functions host ready');
  });
});
