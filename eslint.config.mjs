/**
 * ESLint rules that keep orchestrators deterministic. Durable Functions replays an
 * orchestrator from its history many times, so on every replay it must schedule the same
 * tasks in the same order. Anything that reads the clock, randomness, the environment or the
 * outside world must go into an activity, or come from `context.df` (currentUtcDateTime,
 * newGuid). Run with `npm run lint`.
 */
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Modules under lib/ that orchestrators may import values from: pure functions and constants. */
const deterministicLibModules = ['contracts', 'functionNames', 'ids', 'taskFailure', 'retry/retrySchedule'];

const builtinModuleNames = [...new Set(builtinModules.map((name) => name.split('/')[0]))];
const builtinModulePattern = `^(?:node:.*|(?:${builtinModuleNames.join('|')})(?:/.*)?)$`;
const libModulePattern = '^(?:\\.\\./)+lib/';

const moveToActivity = 'Move this work into an activity and call it with context.df.callActivity.';

export default [
  {
    ignores: ['dist/**', 'node_modules/**'],
  },
  {
    files: ['orchestrators/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      sourceType: 'module',
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.type='Identifier'][callee.name='Date'][arguments.length=0]",
          message:
            'new Date() reads the wall clock, which differs on every replay. Use context.df.currentUtcDateTime, or new Date(value) computed from it.',
        },
        {
          selector: "CallExpression[callee.type='Identifier'][callee.name='Date']",
          message: 'Date() returns the wall clock time, which differs on every replay. Use context.df.currentUtcDateTime.',
        },
        {
          selector: 'ImportExpression',
          message: `import() loads code while the orchestrator runs. Orchestrators may only import durable-functions and deterministic lib/ modules, statically. ${moveToActivity}`,
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Date.now() reads the wall clock, which differs on every replay. Use context.df.currentUtcDateTime.getTime().',
        },
        {
          object: 'Math',
          property: 'random',
          message: 'Math.random() returns another value on every replay. Use context.df.newGuid(), or pick the random value in an activity.',
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate'].map((name) => ({
          name,
          message: `${name} runs its callback outside the orchestration history, so a replay does not repeat it and a restart loses it. Use yield context.df.createTimer(fireAt) with fireAt computed from context.df.currentUtcDateTime.`,
        })),
        {
          name: 'process',
          message:
            'process (process.env, process.hrtime, process.pid and the rest) differs between replays and machines. Pass settings in the orchestration input, or read them in an activity.',
        },
        {
          name: 'fetch',
          message: `fetch does I/O, which would run again on every replay. ${moveToActivity}`,
        },
        {
          name: 'require',
          message: 'require loads code while the orchestrator runs. Use a static import of durable-functions or a deterministic lib/ module.',
        },
        {
          name: 'crypto',
          message: 'crypto.randomUUID and crypto.getRandomValues return other values on every replay. Use context.df.newGuid() for an id, or compute hashes in an activity.',
        },
        {
          name: 'performance',
          message: 'performance reads a clock, which differs on every replay. Use context.df.currentUtcDateTime.',
        },
        {
          name: 'globalThis',
          message: 'globalThis gives access to process, timers and fetch, which differ between replays. Use context.df for time and ids, and activities for I/O.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@azure/functions',
              allowTypeImports: true,
              message: 'Import only types from @azure/functions in an orchestrator. Register the orchestrator with df.app.orchestration from durable-functions.',
            },
            {
              name: '../lib/ids',
              importNames: ['createMessageId'],
              message: 'createMessageId returns a random id when there is no dedup key, so it differs on every replay. Pass the message id in the orchestration input.',
            },
          ],
          patterns: [
            {
              regex: builtinModulePattern,
              message: `Node built-in modules do I/O or read the state of the machine, which differs between replays. ${moveToActivity}`,
            },
            {
              regex: `${libModulePattern}(?!(?:${deterministicLibModules.join('|')})$)`,
              allowTypeImports: true,
              message: `Orchestrators may import values only from the deterministic lib/ modules ${deterministicLibModules.join(', ')}, and types from any lib/ module. ${moveToActivity}`,
            },
            {
              regex: `^(?!(?:durable-functions|@azure/functions)$)(?!${libModulePattern.slice(1)})(?!${builtinModulePattern.slice(1, -1)}$)`,
              message: `Orchestrators may import only durable-functions, types from @azure/functions and deterministic lib/ modules (${deterministicLibModules.join(', ')}). ${moveToActivity}`,
            },
          ],
        },
      ],
    },
  },
];
