import { describe, expect, it } from 'vitest';
import { readCpuMilliseconds, readResidentMemoryBytes } from '../../bench/connectorHost';

function spinFor(milliseconds: number): number {
  const until = Date.now() + milliseconds;
  let spins = 0;
  while (Date.now() < until) {
    spins++;
  }
  return spins;
}

describe('host process readings from /proc', () => {
  it('CPU time grows while computing', () => {
    const before = readCpuMilliseconds(process.pid);
    const spins = spinFor(300);
    const used = readCpuMilliseconds(process.pid) - before;

    expect(spins).toBeGreaterThan(0);
    // Ticks are 10 ms, and other threads of this process add their own time.
    expect(used).toBeGreaterThanOrEqual(250);
    expect(used).toBeLessThan(5_000);
  });

  it('resident memory in bytes', () => {
    const bytes = readResidentMemoryBytes(process.pid);

    expect(bytes).toBeGreaterThan(process.memoryUsage().heapUsed / 2);
  });

  it('missing process named in the error', () => {
    expect(() => readCpuMilliseconds(2 ** 22 + 1)).toThrow(/4194305/);
  });
});
