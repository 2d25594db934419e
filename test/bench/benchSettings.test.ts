import { describe, expect, it } from 'vitest';

import { readBenchSettings } from '../../bench/benchSettings';

describe('bench settings', () => {
  it('defaults without settings', () => {
    const settings = readBenchSettings({});

    expect(settings.durationInSeconds).toBe(20);
    expect(settings.soakInSeconds).toBe(600);
    expect(settings.runPeer).toBe(true);
    expect(settings.functionWorkerCount).toBe(1);
  });

  it('function workers 0 is read', () => {
    expect(readBenchSettings({ BENCH_FUNCTION_WORKERS: '0' }).functionWorkerCount).toBe(0);
  });

  it.each(['11', '-1', 'one'])('invalid function worker count %s is rejected', (value) => {
    expect(() => readBenchSettings({ BENCH_FUNCTION_WORKERS: value })).toThrow(`BENCH_FUNCTION_WORKERS must be an integer from 0 to 10, got "${value}".`);
  });

  it('reads the settings given', () => {
    const settings = readBenchSettings({ BENCH_DURATION_SECONDS: '5', BENCH_SOAK_SECONDS: '30', BENCH_PEER: '0' });

    expect(settings.durationInSeconds).toBe(5);
    expect(settings.soakInSeconds).toBe(30);
    expect(settings.runPeer).toBe(false);
  });

  it.each(['abc', '1.5', '0', '-3'])('invalid duration %s is rejected', (value) => {
    expect(() => readBenchSettings({ BENCH_DURATION_SECONDS: value })).toThrow(`BENCH_DURATION_SECONDS must be a positive integer, got "${value}".`);
  });

  it.each(['false', 'no', '2'])('invalid peer switch %s is rejected', (value) => {
    expect(() => readBenchSettings({ BENCH_PEER: value })).toThrow(`BENCH_PEER must be 0 or 1, got "${value}".`);
  });
});
