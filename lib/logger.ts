import pino from 'pino';
import type { SecretScrubber } from './redaction/secretScrubber';

/**
 * Creates the connector's logger: one JSON object a line, in the same shape as the local host's
 * lines. Each finished line passes through `secretScrubber`, which replaces every configured
 * secret value, also one inside an error message or a value that a caller sent.
 */
export function createConnectorLogger(secretScrubber?: SecretScrubber, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    base: { app: 'api-data-connector', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: secretScrubber === undefined ? {} : { streamWrite: (line) => secretScrubber.scrub(line) },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
