import { describe, expect, test } from 'vitest';
import { decodeStandardWebhooksSecret } from '../../../lib/auth/schemeSecrets';
import { signStandardWebhook } from '../../../lib/auth/verifyStandardWebhook';
import { authenticate, body, connectorWith, nowInSeconds, rejectionOf, secretSettings } from './authTestSupport';

const connector = connectorWith({ type: 'standard-webhooks', secretRef: ['WEBHOOK_CURRENT', 'WEBHOOK_NEXT'] });
const currentKey = decodeStandardWebhooksSecret(secretSettings.WEBHOOK_CURRENT)!;
const nextKey = decodeStandardWebhooksSecret(secretSettings.WEBHOOK_NEXT)!;

function webhookHeaders(options: { id?: string; timestamp?: number; key?: Buffer; signedBody?: Buffer } = {}): Record<string, string> {
  const id = options.id ?? 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const timestamp = options.timestamp ?? nowInSeconds;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(options.key ?? currentKey, id, timestamp, options.signedBody ?? body),
  };
}

describe('standard-webhooks', () => {
  test('valid signature is accepted', () => {
    expect(authenticate(connector, { headers: webhookHeaders() }).status).toBe('accepted');
  });

  test('signature of the specification example verifies', () => {
    // Known-answer test: the secret, message and signature that Standard Webhooks implementations test against.
    const example = connectorWith({ type: 'standard-webhooks', secretRef: 'EXAMPLE' });
    const outcome = authenticate(example, {
      settings: { EXAMPLE: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      now: 1614265330,
      body: Buffer.from('{"test": 2432232314}'),
      headers: {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
    });

    expect(outcome.status).toBe('accepted');
  });

  test('missing headers are named', () => {
    const headers = webhookHeaders();
    delete headers['webhook-id'];
    delete headers['webhook-signature'];

    const rejection = rejectionOf(authenticate(connector, { headers }));

    expect(rejection.status).toBe(401);
    expect(rejection.reason).toBe('missing-header');
    expect(rejection.detail).toContain('Headers webhook-id, webhook-signature are missing.');
  });

  test('missing timestamp header is named', () => {
    const headers = webhookHeaders();
    delete headers['webhook-timestamp'];

    expect(rejectionOf(authenticate(connector, { headers })).detail).toContain('Header webhook-timestamp is missing.');
  });

  test('tampered body is rejected', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('shipped', 'returned'));

    const rejection = rejectionOf(authenticate(connector, { headers: webhookHeaders(), body: tampered }));

    expect(rejection.status).toBe(401);
    expect(rejection.reason).toBe('invalid-signature');
    expect(rejection.header).toBe('webhook-signature');
  });

  test('tampered webhook-id is rejected', () => {
    const headers = { ...webhookHeaders(), 'webhook-id': 'msg_other' };

    expect(rejectionOf(authenticate(connector, { headers })).reason).toBe('invalid-signature');
  });

  test('tampered timestamp is rejected', () => {
    const headers = { ...webhookHeaders(), 'webhook-timestamp': String(nowInSeconds - 1) };

    expect(rejectionOf(authenticate(connector, { headers })).reason).toBe('invalid-signature');
  });

  test('wrong secret is rejected without the expected signature', () => {
    const headers = webhookHeaders({ key: Buffer.from('some-other-key-of-24-bytes') });
    const expected = webhookHeaders()['webhook-signature'];

    const rejection = rejectionOf(authenticate(connector, { headers }));

    expect(rejection.reason).toBe('invalid-signature');
    expect(JSON.stringify(rejection)).not.toContain(expected.slice(3));
    expect(JSON.stringify(rejection)).not.toContain(secretSettings.WEBHOOK_CURRENT);
  });

  test('second secret of a rotation is accepted', () => {
    expect(authenticate(connector, { headers: webhookHeaders({ key: nextKey }) }).status).toBe('accepted');
  });

  test('one valid signature among several is accepted', () => {
    const headers = webhookHeaders();
    const stale = webhookHeaders({ key: Buffer.from('retired-key-of-some-bytes') })['webhook-signature'];
    headers['webhook-signature'] = `${stale} v1a,c2lnbmF0dXJl ${headers['webhook-signature']}`;

    expect(authenticate(connector, { headers }).status).toBe('accepted');
  });

  test('signature without v1 entry is malformed', () => {
    const headers = { ...webhookHeaders(), 'webhook-signature': 'v2,abc' };

    const rejection = rejectionOf(authenticate(connector, { headers }));

    expect(rejection.reason).toBe('malformed-header');
    expect(rejection.detail).toContain('contains no "v1,<base64>" signature');
  });

  describe('timestamp tolerance of 300 seconds', () => {
    test('300 seconds old passes', () => {
      expect(authenticate(connector, { headers: webhookHeaders({ timestamp: nowInSeconds - 300 }) }).status).toBe('accepted');
    });

    test('301 seconds old fails with server time', () => {
      const rejection = rejectionOf(authenticate(connector, { headers: webhookHeaders({ timestamp: nowInSeconds - 301 }) }));

      expect(rejection.status).toBe(401);
      expect(rejection.reason).toBe('expired-timestamp');
      expect(rejection.serverTimestamp).toBe(nowInSeconds);
      expect(rejection.toleranceInSeconds).toBe(300);
      expect(rejection.detail).toContain('301 seconds before the server time 1714557600 (2024-05-01T10:00:00.000Z)');
    });

    test('300 seconds ahead passes', () => {
      expect(authenticate(connector, { headers: webhookHeaders({ timestamp: nowInSeconds + 300 }) }).status).toBe('accepted');
    });

    test('301 seconds ahead fails with server time', () => {
      const rejection = rejectionOf(authenticate(connector, { headers: webhookHeaders({ timestamp: nowInSeconds + 301 }) }));

      expect(rejection.reason).toBe('future-timestamp');
      expect(rejection.serverTimestamp).toBe(nowInSeconds);
      expect(rejection.detail).toContain('301 seconds after the server time 1714557600');
    });

    test('non-numeric timestamp fails', () => {
      const headers = { ...webhookHeaders(), 'webhook-timestamp': '2024-05-01T10:00:00Z' };

      const rejection = rejectionOf(authenticate(connector, { headers }));

      expect(rejection.reason).toBe('invalid-timestamp');
      expect(rejection.detail).toContain('must be the Unix time in whole seconds');
    });
  });

  test('configured tolerance applies', () => {
    const strict = connectorWith({ type: 'standard-webhooks', secretRef: 'WEBHOOK_CURRENT', toleranceInSeconds: 10 });

    expect(authenticate(strict, { headers: webhookHeaders({ timestamp: nowInSeconds - 10 }) }).status).toBe('accepted');
    expect(rejectionOf(authenticate(strict, { headers: webhookHeaders({ timestamp: nowInSeconds - 11 }) })).reason).toBe('expired-timestamp');
  });

  test('secret without whsec_ prefix is decoded', () => {
    const key = Buffer.from('raw-base64-key-bytes');

    expect(decodeStandardWebhooksSecret(key.toString('base64'))?.equals(key)).toBe(true);
  });

  test('secret that is not base64 is misconfigured', () => {
    const single = connectorWith({ type: 'standard-webhooks', secretRef: 'BROKEN' });

    const outcome = authenticate(single, { headers: webhookHeaders(), settings: { BROKEN: 'whsec_not base64!' } });

    expect(outcome.status).toBe('misconfigured');
  });
});
