import type { HttpResponseInit } from '@azure/functions';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { checkInboundAuthentication } from '../../../lib/auth/checkInboundAuthentication';
import { signStandardWebhook } from '../../../lib/auth/verifyStandardWebhook';
import { decodeStandardWebhooksSecret } from '../../../lib/auth/schemeSecrets';
import type { Connector } from '../../../lib/config/types';
import { body, connectorWith, nowInSeconds, secretSettings } from './authTestSupport';

interface CheckResult {
  response: HttpResponseInit | undefined;
  logLines: Array<Record<string, unknown>>;
}

/** Runs the check with a logger that records its lines, as JSON objects. */
function check(connector: Connector, headers: Record<string, string>, settings: Record<string, string> = secretSettings): CheckResult {
  const logLines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const requestHeaders = new Headers(headers);
  requestHeaders.set('x-client-ip', headers['x-client-ip'] ?? '127.0.0.1');
  const response = checkInboundAuthentication({ headers: requestHeaders }, body, connector, {
    readSecret: (secretRef) => settings[secretRef],
    clock: () => new Date(nowInSeconds * 1000),
    logger,
  });
  return { response, logLines };
}

function problemOf(response: HttpResponseInit | undefined): Record<string, unknown> {
  return JSON.parse(String(response?.body)) as Record<string, unknown>;
}

function headerOf(response: HttpResponseInit | undefined, name: string): string | undefined {
  return (response?.headers as Record<string, string> | undefined)?.[name];
}

describe('checkInboundAuthentication', () => {
  const webhook = connectorWith({ type: 'standard-webhooks', secretRef: 'WEBHOOK_CURRENT' });
  const key = decodeStandardWebhooksSecret(secretSettings.WEBHOOK_CURRENT)!;

  test('valid request passes', () => {
    const signature = signStandardWebhook(key, 'msg_1', nowInSeconds, body);

    const { response } = check(webhook, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(nowInSeconds), 'webhook-signature': signature });

    expect(response).toBeUndefined();
  });

  test('expired timestamp gets 401 problem with server time', () => {
    const old = nowInSeconds - 301;
    const signature = signStandardWebhook(key, 'msg_1', old, body);

    const { response } = check(webhook, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(old), 'webhook-signature': signature });
    const problem = problemOf(response);

    expect(response?.status).toBe(401);
    expect(headerOf(response, 'Content-Type')).toBe('application/problem+json');
    expect(problem.type).toBe('urn:api-data-connector:problem:unauthorized');
    expect(problem.title).toBe('Invalid timestamp');
    expect(problem.reason).toBe('expired-timestamp');
    expect(problem.header).toBe('webhook-timestamp');
    expect(problem.serverTimestamp).toBe(nowInSeconds);
    expect(problem.toleranceInSeconds).toBe(300);
    expect(problem.connectorId).toBe('partner');
  });

  test('401 carries a challenge', () => {
    const { response } = check(webhook, {});

    expect(headerOf(response, 'WWW-Authenticate')).toBe('StandardWebhooks header="webhook-signature"');
  });

  test('basic 401 carries the Basic challenge', () => {
    const basic = connectorWith({ type: 'basic', username: 'partner-a', secretRef: 'CURRENT' });

    const { response } = check(basic, {});

    expect(headerOf(response, 'WWW-Authenticate')).toBe('Basic realm="partner", charset="UTF-8"');
  });

  test('rejection is logged with reason and no secret', () => {
    const basic = connectorWith({ type: 'basic', username: 'partner-a', secretRef: 'CURRENT' });
    const attempt = `Basic ${Buffer.from('partner-a:wrong-password').toString('base64')}`;

    const { logLines } = check(basic, { Authorization: attempt });

    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatchObject({ msg: 'inbound request failed authentication', connectorId: 'partner', status: 401, reason: 'invalid-credentials', clientAddress: '127.0.0.1' });
    expect(JSON.stringify(logLines)).not.toContain(secretSettings.CURRENT);
    expect(JSON.stringify(logLines)).not.toContain(attempt);
  });

  test('address outside the allowlist gets 403 problem', () => {
    const allowlist = connectorWith({ type: 'ip-allowlist', ranges: ['203.0.113.0/24'] });

    const { response } = check(allowlist, { 'x-client-ip': '198.51.100.20' });
    const problem = problemOf(response);

    expect(response?.status).toBe(403);
    expect(problem.type).toBe('urn:api-data-connector:problem:forbidden');
    expect(problem.title).toBe('Address not allowed');
    expect(problem.clientAddress).toBe('198.51.100.20');
    expect(headerOf(response, 'WWW-Authenticate')).toBeUndefined();
  });

  test('missing secret gets 500 without the setting name', () => {
    const { response, logLines } = check(webhook, { 'webhook-id': 'msg_1' }, {});

    expect(response?.status).toBe(500);
    expect(String(response?.body)).not.toContain('WEBHOOK_CURRENT');
    expect(logLines[0]).toMatchObject({ level: 50, missingSecretRefs: ['WEBHOOK_CURRENT'] });
  });
});
