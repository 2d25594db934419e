import { ConfigurationError } from '../errors';
import { secretStoreSettingNames } from '../secrets/secretStoreSettings';
import { readSetting, type Environment } from '../settings';

/** Settings of the Log Analytics audit sink: a data collection endpoint, rule and stream. */
export const auditSinkSettingNames = {
  endpoint: 'AUDIT_LOGS_INGESTION_ENDPOINT',
  ruleId: 'AUDIT_DATA_COLLECTION_RULE_ID',
  streamName: 'AUDIT_STREAM_NAME',
} as const;

export interface AuditSinkSettings {
  /** Logs ingestion endpoint of a data collection endpoint or rule, such as https://my-dce.westeurope-1.ingest.monitor.azure.com. */
  endpoint: string;
  /** Immutable id of the data collection rule, `dcr-` followed by 32 hex digits. */
  ruleId: string;
  /** Stream declared in the rule, such as `Custom-ConnectorAudit_CL`. */
  streamName: string;
  /** Client id of a user-assigned managed identity, from `AZURE_CLIENT_ID`. */
  managedIdentityClientId?: string;
}

/**
 * Reads the audit sink settings, or returns undefined when none of the three is set. Throws a
 * ConfigurationError when only some are set or the endpoint is not an https URL.
 */
export function readAuditSinkSettings(environment: Environment = process.env): AuditSinkSettings | undefined {
  const endpoint = readSetting(auditSinkSettingNames.endpoint, environment)?.trim();
  const ruleId = readSetting(auditSinkSettingNames.ruleId, environment)?.trim();
  const streamName = readSetting(auditSinkSettingNames.streamName, environment)?.trim();
  if (endpoint === undefined && ruleId === undefined && streamName === undefined) {
    return undefined;
  }
  if (endpoint === undefined || ruleId === undefined || streamName === undefined) {
    const missing = Object.values(auditSinkSettingNames).filter((name) => readSetting(name, environment) === undefined);
    const missingText = missing.length === 1 ? `Setting ${missing[0]} is not set` : `Settings ${missing.join(' and ')} are not set`;
    throw new ConfigurationError(
      `${missingText}, but the Log Analytics audit sink needs all of ` +
        `${Object.values(auditSinkSettingNames).join(', ')}. Set the missing ones, or remove all three to keep the audit in the tracking store only.`,
    );
  }
  checkEndpoint(endpoint);

  const settings: AuditSinkSettings = { endpoint, ruleId, streamName };
  const clientId = readSetting(secretStoreSettingNames.managedIdentityClientId, environment)?.trim();
  if (clientId !== undefined) {
    settings.managedIdentityClientId = clientId;
  }
  return settings;
}

function checkEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw new ConfigurationError(
      `Setting ${auditSinkSettingNames.endpoint} is "${endpoint}", but it must be an https URL. ` +
        'Set it to the logs ingestion endpoint of the data collection endpoint, such as https://my-dce.westeurope-1.ingest.monitor.azure.com.',
    );
  }
}
