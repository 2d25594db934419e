import { randomUUID } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAuditSink } from '../../lib/audit/createAuditSink';
import { LogsIngestionAuditSink } from '../../lib/audit/logsIngestionAuditSink';
import { readAuditSinkSettings } from '../../lib/audit/auditSinkSettings';
import { ConfigurationError } from '../../lib/errors';
import { createFixedTokenCredential } from '../secrets/support/testCredential';

const endpoint = 'https://connector-dce.westeurope-1.ingest.monitor.azure.com';
const ruleId = 'dcr-00112233445566778899aabbccddeeff';
const streamName = 'Custom-ConnectorAudit_CL';
const allSettings = { AUDIT_LOGS_INGESTION_ENDPOINT: endpoint, AUDIT_DATA_COLLECTION_RULE_ID: ruleId, AUDIT_STREAM_NAME: streamName };

describe('readAuditSinkSettings', () => {
  it('no settings select nothing', () => {
    expect(readAuditSinkSettings({})).toBeUndefined();
  });

  it('reads all three settings', () => {
    expect(readAuditSinkSettings(allSettings)).toEqual({ endpoint, ruleId, streamName });
  });

  it('reads the managed identity client id', () => {
    expect(readAuditSinkSettings({ ...allSettings, AZURE_CLIENT_ID: 'client-1' })?.managedIdentityClientId).toBe('client-1');
  });

  it('one missing setting is named', () => {
    expect(() => readAuditSinkSettings({ ...allSettings, AUDIT_STREAM_NAME: '' })).toThrow(
      'Setting AUDIT_STREAM_NAME is not set, but the Log Analytics audit sink needs all of AUDIT_LOGS_INGESTION_ENDPOINT, AUDIT_DATA_COLLECTION_RULE_ID, AUDIT_STREAM_NAME. ' +
        'Set the missing ones, or remove all three to keep the audit in the tracking store only.',
    );
  });

  it('two missing settings are named', () => {
    expect(() => readAuditSinkSettings({ AUDIT_LOGS_INGESTION_ENDPOINT: endpoint })).toThrow(
      'Settings AUDIT_DATA_COLLECTION_RULE_ID and AUDIT_STREAM_NAME are not set',
    );
  });

  it('rejects an http endpoint', () => {
    expect(() => readAuditSinkSettings({ ...allSettings, AUDIT_LOGS_INGESTION_ENDPOINT: 'http://connector-dce.ingest.monitor.azure.com' })).toThrow(
      'Setting AUDIT_LOGS_INGESTION_ENDPOINT is "http://connector-dce.ingest.monitor.azure.com", but it must be an https URL.',
    );
  });

  it('rejects an endpoint that is no URL', () => {
    expect(() => readAuditSinkSettings({ ...allSettings, AUDIT_LOGS_INGESTION_ENDPOINT: 'connector-dce' })).toThrow(ConfigurationError);
  });
});

describe('createAuditSink', () => {
  const logger = pino({ level: 'silent' });

  it('no settings create no sink', () => {
    expect(createAuditSink(logger, { environment: {} })).toBeUndefined();
  });

  it('settings create the Logs Ingestion sink', async () => {
    const sink = createAuditSink(logger, { environment: allSettings, createCredential: () => createFixedTokenCredential() });

    expect(sink).toBeInstanceOf(LogsIngestionAuditSink);
    await sink?.close();
  });
});

const realSettingNames = ['AUDIT_LOGS_INGESTION_ENDPOINT', 'AUDIT_DATA_COLLECTION_RULE_ID', 'AUDIT_STREAM_NAME', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'];
const realAzureConfigured = realSettingNames.every((name) => (process.env[name]?.trim() ?? '') !== '');

// A service principal's client secret is the one credential that never probes the managed
// identity endpoint, so it is the only one these tests construct.
describe.skipIf(!realAzureConfigured)(`Log Analytics audit sink on Azure (needs ${realSettingNames.join(', ')})`, () => {
  it('upload logs no warning', async () => {
    const logLines: string[] = [];
    const environment = process.env;
    const credential = new ClientSecretCredential(environment.AZURE_TENANT_ID ?? '', environment.AZURE_CLIENT_ID ?? '', environment.AZURE_CLIENT_SECRET ?? '');
    const sink = createAuditSink(pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }), { createCredential: () => credential });

    sink?.add({ messageId: `contract-test-${randomUUID()}`, step: 'received', key: '', time: new Date().toISOString(), detail: '{"sizeInBytes":2}' });
    await sink?.close();

    expect(logLines.filter((line) => line.includes('"level":40'))).toEqual([]);
    expect(logLines.some((line) => line.includes('audit entries uploaded to Log Analytics'))).toBe(true);
  });
});
