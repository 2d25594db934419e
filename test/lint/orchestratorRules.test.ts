import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/hostProcess';

/**
 * Runs the project's ESLint configuration (eslint.config.mjs) on snippets placed under
 * orchestrators/, and on the real orchestrators, which must stay free of findings.
 */

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

/** Lints `code` as if it were the file orchestrators/snippet.ts and returns its findings. */
async function lintOrchestrator(code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, 'orchestrators', 'snippet.ts') });
  return result.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

interface ForbiddenCase {
  name: string;
  code: string;
  ruleId: string;
  /** A part of the rule's message, usually the replacement it names. */
  message: string;
}

const forbiddenCases: ForbiddenCase[] = [
  { name: 'Date.now()', code: 'export const at = Date.now();', ruleId: 'no-restricted-properties', message: 'Use context.df.currentUtcDateTime.getTime().' },
  { name: 'new Date()', code: 'export const at = new Date();', ruleId: 'no-restricted-syntax', message: 'Use context.df.currentUtcDateTime, or new Date(value) computed from it.' },
  { name: 'Date()', code: 'export const at = Date();', ruleId: 'no-restricted-syntax', message: 'Date() returns the wall clock time' },
  { name: 'Math.random()', code: 'export const pick = Math.random();', ruleId: 'no-restricted-properties', message: 'Use context.df.newGuid()' },
  { name: 'setTimeout', code: 'setTimeout(() => undefined, 10);', ruleId: 'no-restricted-globals', message: 'Use yield context.df.createTimer(fireAt)' },
  { name: 'setInterval', code: 'setInterval(() => undefined, 10);', ruleId: 'no-restricted-globals', message: 'setInterval runs its callback outside the orchestration history' },
  { name: 'setImmediate', code: 'setImmediate(() => undefined);', ruleId: 'no-restricted-globals', message: 'setImmediate runs its callback outside the orchestration history' },
  { name: 'process.env', code: 'export const url = process.env.TARGET_URL;', ruleId: 'no-restricted-globals', message: 'Pass settings in the orchestration input' },
  { name: 'process.pid', code: 'export const pid = process.pid;', ruleId: 'no-restricted-globals', message: 'process (process.env, process.hrtime' },
  { name: 'fetch', code: "export const response = fetch('http://127.0.0.1:9000');", ruleId: 'no-restricted-globals', message: 'fetch does I/O' },
  { name: 'require', code: "export const jsonata = require('jsonata');", ruleId: 'no-restricted-globals', message: 'Use a static import' },
  { name: 'global crypto', code: 'export const id = crypto.randomUUID();', ruleId: 'no-restricted-globals', message: 'crypto.randomUUID and crypto.getRandomValues return other values' },
  { name: 'performance', code: 'export const at = performance.now();', ruleId: 'no-restricted-globals', message: 'performance reads a clock' },
  { name: 'globalThis', code: 'globalThis.setTimeout(() => undefined, 10);', ruleId: 'no-restricted-globals', message: 'globalThis gives access to process' },
  { name: 'dynamic import', code: "export const loaded = import('durable-functions');", ruleId: 'no-restricted-syntax', message: 'import() loads code while the orchestrator runs' },
  { name: 'node: built-in', code: "import fs from 'node:fs';\nexport const exists = fs.existsSync;", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'bare fs', code: "import fs from 'fs';\nexport const exists = fs.existsSync;", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'fs/promises', code: "import { readFile } from 'fs/promises';\nexport { readFile };", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'bare http', code: "import http from 'http';\nexport const get = http.get;", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'bare crypto', code: "import { randomUUID } from 'crypto';\nexport { randomUUID };", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'import = require', code: "import fs = require('fs');\nexport const exists = fs.existsSync;", ruleId: 'no-restricted-imports', message: 'Node built-in modules' },
  { name: 'other package', code: "import pino from 'pino';\nexport const log = pino();", ruleId: 'no-restricted-imports', message: 'Orchestrators may import only durable-functions' },
  { name: 'durable-functions internals', code: "import { Utils } from 'durable-functions/lib/src/util/Utils';\nexport { Utils };", ruleId: 'no-restricted-imports', message: 'Orchestrators may import only durable-functions' },
  { name: 'sibling file', code: "import { retryDelayInMilliseconds } from './deliverToDestination';\nexport { retryDelayInMilliseconds };", ruleId: 'no-restricted-imports', message: 'Orchestrators may import only durable-functions' },
  { name: 'impure lib module', code: "import { getDependencies } from '../lib/dependencies';\nexport { getDependencies };", ruleId: 'no-restricted-imports', message: 'values only from the deterministic lib/ modules' },
  { name: 'createMessageId', code: "import { createMessageId } from '../lib/ids';\nexport { createMessageId };", ruleId: 'no-restricted-imports', message: 'Pass the message id in the orchestration input.' },
  { name: '@azure/functions value', code: "import { app } from '@azure/functions';\nexport { app };", ruleId: 'no-restricted-imports', message: 'Import only types from @azure/functions' },
];

describe('orchestrator lint rules', () => {
  test.each(forbiddenCases)('$name is reported', async ({ code, ruleId, message }) => {
    const findings = await lintOrchestrator(code);

    expect(findings).toHaveLength(1);
    expect(findings[0].ruleId).toBe(ruleId);
    expect(findings[0].message).toContain(message);
  });

  test('allowed imports and time from context pass', async () => {
    const code = [
      "import * as df from 'durable-functions';",
      "import type { OrchestrationContext } from 'durable-functions';",
      "import type { InvocationContext } from '@azure/functions';",
      "import type { Settings } from '../lib/settings';",
      "import type { RetryPolicy } from '../lib/config/types';",
      "import type { DeliverPayloadInput } from '../lib/contracts';",
      "import { deliverPayloadActivityName } from '../lib/functionNames';",
      "import { createDeliveryInstanceId } from '../lib/ids';",
      "import { describeTaskFailure } from '../lib/taskFailure';",
      '',
      'export function* orchestrator(context: OrchestrationContext, invocation?: InvocationContext, settings?: Settings, retry?: RetryPolicy) {',
      '  const fireAt = new Date(context.df.currentUtcDateTime.getTime() + 1_000);',
      '  yield context.df.createTimer(fireAt);',
      '  const input: Partial<DeliverPayloadInput> = { idempotencyKey: createDeliveryInstanceId(context.df.newGuid(), "erp") };',
      '  yield context.df.callActivity(deliverPayloadActivityName, input);',
      '  return [df.OrchestrationRuntimeStatus.Completed, describeTaskFailure(undefined), invocation, settings, retry];',
      '}',
    ].join('\n');

    expect(await lintOrchestrator(code)).toEqual([]);
  });

  test('real orchestrators have no findings', async () => {
    const results = await eslint.lintFiles(['orchestrators']);
    const findings = results.flatMap((result) => result.messages.map((message) => `${path.relative(repoRoot, result.filePath)}: ${message.message}`));

    expect(results.map((result) => path.basename(result.filePath)).sort()).toEqual(['bulkReplay.ts', 'deliverToDestination.ts', 'processMessage.ts', 'runDataFactoryTransform.ts']);
    expect(findings).toEqual([]);
  });
});
