import pino from 'pino';

/** Creates the connector's logger: one JSON object a line, in the same shape as the local host's lines. */
export function createConnectorLogger(): pino.Logger {
  return pino({
    base: { app: 'api-data-connector', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
