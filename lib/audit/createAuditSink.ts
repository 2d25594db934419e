import type { LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import type pino from 'pino';
import { createAzureCredential, type AzureCredential } from '../secrets/azureCredential';
import type { Environment } from '../settings';
import type { AuditSink } from './auditSink';
import { readAuditSinkSettings, type AuditSinkSettings } from './auditSinkSettings';
import { LogsIngestionAuditSink } from './logsIngestionAuditSink';

export interface AuditSinkOptions {
  environment?: Environment;
  /** Returns the credential for the Logs Ingestion API. Tests pass their own, and the default is `createAzureCredential`. */
  createCredential?: (settings: AuditSinkSettings) => AzureCredential;
  /** Added to the client's options, such as `tlsOptions` in tests. */
  clientOptions?: LogsIngestionClientOptions;
}

/**
 * Returns the Log Analytics audit sink when its three settings are set, and undefined otherwise,
 * when the audit stays in the tracking store only. Throws a ConfigurationError for invalid settings.
 */
export function createAuditSink(logger: pino.Logger, options: AuditSinkOptions = {}): AuditSink | undefined {
  const settings = readAuditSinkSettings(options.environment ?? process.env);
  if (settings === undefined) {
    return undefined;
  }

  logger.info({ endpointHost: new URL(settings.endpoint).host, streamName: settings.streamName }, 'audit entries also go to Log Analytics');
  return new LogsIngestionAuditSink({
    settings,
    credential: options.createCredential?.(settings) ?? createAzureCredential(settings.managedIdentityClientId),
    logger,
    clientOptions: options.clientOptions,
  });
}
