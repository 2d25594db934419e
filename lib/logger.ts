import { isMainThread, threadId } from 'node:worker_threads';

import pino from 'pino';
import type { SecretScrubber } from './redaction/secretScrubber';

/**
 * Creates the connector's logger: one JSON object a line, in the same shape as the local host's
 * lines. Each finished line passes through `secretScrubber`, which replaces every configured
 * secret value, also one inside an error message or a value that a caller sent.
 */
export function createConnectorLogger(secretScrubber?: SecretScrubber, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    // A worker thread shares the process id with the other threads, so its lines name the thread.
    base: isMainThread ? { app: 'api-data-connector', pid: process.pid } : { app: 'api-data-connector', pid: process.pid, threadId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: secretScrubber === undefined ? {} : { streamWrite: (line) => secretScrubber.scrub(line) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
