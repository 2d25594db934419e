import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const runner = path.join(__dirname, '..', 'fixtures', 'runEngine.js');
const appRoot = path.join(__dirname, '..', 'fixtures', 'durableApp');

function runEngine(args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [runner, appRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

async function waitForLine(lines: string[], predicate: (line: string) => boolean, timeoutInMilliseconds: number): Promise<string> {
  const deadline = Date.now() + timeoutInMilliseconds;
  while (Date.now() < deadline) {
    const found = lines.find(predicate);
    if (found) {
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no matching line within ${timeoutInMilliseconds} ms; output:\n${lines.join('\n')}`);
}

test('engine resumes fan-out after kill -9', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-recovery-'));
  const first = runEngine([dataDir, 'start', 'fanOutFanIn', 'crash-1', JSON.stringify({ count: 40, activity: 'sleepThenDouble' })]);
  await waitForLine(first.lines, (line) => line.includes('"activity finished"'), 10_000);
  first.child.kill('SIGKILL');
  await first.exited;
  const completedBeforeKill = first.lines.filter((line) => line.includes('"activity finished"')).length;
  expect(completedBeforeKill).toBeLessThan(40);

  const second = runEngine([dataDir, 'wait', 'crash-1']);
  const finished = await waitForLine(second.lines, (line) => line.includes('"finished"'), 30_000);
  await second.exited;
  const status = JSON.parse(finished).status;
  expect(status.runtimeStatus).toBe('Completed');
  expect(status.output).toBe(39 * 40);
});
