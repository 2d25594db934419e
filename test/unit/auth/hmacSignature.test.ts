import crypto from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { signHmac } from '../../../lib/auth/verifyHmacSignature';
import { authenticate, body, connectorWith, nowInSeconds, rejectionOf, secretSettings } from './authTestSupport';

const currentKey = Buffer.from(secretSettings.CURRENT);
const nextKey = Buffer.from(secretSettings.NEXT);

describe('hmac-sha256 shorthand', () => {
  const connector = connectorWith({ type: 'hmac-sha256', secretRef: ['CURRENT', 'NEXT'] });
  const sha256Hex = { algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' } as const;

  function signatureHeaders(key: Buffer = currentKey, signedBody: Buffer = body): Record<string, string> {
    return { 'X-Signature': signHmac(key, signedBody, sha256Hex) };
  }

  test('valid signature is accepted', () => {
    expect(authenticate(connector, { headers: signatureHeaders() }).status).toBe('accepted');
  });

  test('matches openssl dgst output', () => {
    const expectedHex = crypto.createHmac('sha256', 'current-secret-value').update(body).digest('hex');

    expect(authenticate(connector, { headers: { 'X-Signature': `sha256=${expectedHex}` } }).status).toBe('accepted');
  });

  test('missing header is named', () => {
    const rejection = rejectionOf(authenticate(connector));

    expect(rejection.status).toBe(401);
    expect(rejection.reason).toBe('missing-header');
    expect(rejection.detail).toBe('Header X-Signature is missing. Send "X-Signature: sha256=<hex HMAC-SHA256 of the raw body>".');
  });

  test('tampered body is rejected', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('1001', '1002'));

    const rejection = rejectionOf(authenticate(connector, { headers: signatureHeaders(), body: tampered }));

    expect(rejection.reason).toBe('invalid-signature');
    expect(rejection.detail).toContain('does not match the request body');
  });

  test('compressed body signed before compression is explained', () => {
    const compressed = Buffer.from('compressed bytes stand-in');
    const headers = { ...signatureHeaders(currentKey, body), 'Content-Encoding': 'gzip' };

    const rejection = rejectionOf(authenticate(connector, { headers, body: compressed }));

    expect(rejection.detail).toContain('The body arrived with Content-Encoding gzip, so sign the compressed bytes');
  });

  test('uncompressed body gets no compression hint', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('1001', '1002'));

    const rejection = rejectionOf(authenticate(connector, { headers: signatureHeaders(), body: tampered }));

    expect(rejection.detail).not.toContain('Content-Encoding');
  });

  test('tampered signature is rejected', () => {
    const signature = signatureHeaders()['X-Signature'];
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;

    expect(rejectionOf(authenticate(connector, { headers: { 'X-Signature': flipped } })).reason).toBe('invalid-signature');
  });

  test('wrong secret is rejected', () => {
    const rejection = rejectionOf(authenticate(connector, { headers: signatureHeaders(Buffer.from('wrong-secret')) }));

    expect(rejection.reason).toBe('invalid-signature');
    expect(JSON.stringify(rejection)).not.toContain(signatureHeaders()['X-Signature']);
  });

  test('second secret of a rotation is accepted', () => {
    expect(authenticate(connector, { headers: signatureHeaders(nextKey) }).status).toBe('accepted');
  });

  test('missing prefix is malformed', () => {
    const withoutPrefix = signatureHeaders()['X-Signature'].replace('sha256=', '');

    const rejection = rejectionOf(authenticate(connector, { headers: { 'X-Signature': withoutPrefix } }));

    expect(rejection.reason).toBe('malformed-header');
  });

  test('secret set for one of two names is enough', () => {
    const outcome = authenticate(connector, { headers: signatureHeaders(nextKey), settings: { NEXT: secretSettings.NEXT } });

    expect(outcome.status).toBe('accepted');
  });

  test('no secret set is misconfigured', () => {
    expect(authenticate(connector, { headers: signatureHeaders(), settings: {} }).status).toBe('misconfigured');
  });
});

describe('hmac', () => {
  const base64Sha512 = { type: 'hmac', header: 'X-Hub-Signature', algorithm: 'sha512', encoding: 'base64', secretRef: ['CURRENT', 'NEXT'] };

  test('sha512 base64 without prefix is accepted', () => {
    const connector = connectorWith(base64Sha512);
    const signature = crypto.createHmac('sha512', currentKey).update(body).digest('base64');

    expect(authenticate(connector, { headers: { 'X-Hub-Signature': signature } }).status).toBe('accepted');
  });

  test('sha512 base64 second secret is accepted', () => {
    const connector = connectorWith(base64Sha512);

    expect(authenticate(connector, { headers: { 'X-Hub-Signature': signHmac(nextKey, body, { algorithm: 'sha512', encoding: 'base64', prefix: '' }) } }).status).toBe(
      'accepted',
    );
  });

  test('sha256 signature for a sha512 scheme is malformed', () => {
    const connector = connectorWith(base64Sha512);
    const signature = crypto.createHmac('sha256', currentKey).update(body).digest('base64');

    expect(rejectionOf(authenticate(connector, { headers: { 'X-Hub-Signature': signature } })).reason).toBe('malformed-header');
  });

  test('uppercase hex is accepted', () => {
    const connector = connectorWith({ type: 'hmac', header: 'X-Sig', secretRef: 'CURRENT' });
    const signature = crypto.createHmac('sha256', currentKey).update(body).digest('hex').toUpperCase();

    expect(authenticate(connector, { headers: { 'X-Sig': signature } }).status).toBe('accepted');
  });

  test('schema fills in sha256, hex and no prefix', () => {
    const connector = connectorWith({ type: 'hmac', header: 'X-Sig', secretRef: 'CURRENT' });

    expect(connector.inbound.auth).toEqual({ type: 'hmac', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', prefix: '', secretRef: 'CURRENT' });
  });

  describe('with a signed timestamp', () => {
    const timestamped = connectorWith({
      type: 'hmac',
      header: 'X-Signature',
      prefix: 'v1=',
      timestampHeader: 'X-Timestamp',
      toleranceInSeconds: 60,
      secretRef: ['CURRENT', 'NEXT'],
    });

    function timestampedHeaders(timestamp: number, key: Buffer = currentKey, signedBody: Buffer = body): Record<string, string> {
      const signedText = Buffer.concat([Buffer.from(`${timestamp}.`), signedBody]);
      return { 'X-Timestamp': String(timestamp), 'X-Signature': signHmac(key, signedText, { algorithm: 'sha256', encoding: 'hex', prefix: 'v1=' }) };
    }

    test('valid signature is accepted', () => {
      expect(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds) }).status).toBe('accepted');
    });

    test('missing timestamp header is named', () => {
      const headers = timestampedHeaders(nowInSeconds);
      delete headers['X-Timestamp'];

      const rejection = rejectionOf(authenticate(timestamped, { headers }));

      expect(rejection.reason).toBe('missing-header');
      expect(rejection.detail).toContain('Header X-Timestamp is missing.');
    });

    test('signature over the body alone is rejected', () => {
      const headers = { 'X-Timestamp': String(nowInSeconds), 'X-Signature': signHmac(currentKey, body, { algorithm: 'sha256', encoding: 'hex', prefix: 'v1=' }) };

      const rejection = rejectionOf(authenticate(timestamped, { headers }));

      expect(rejection.reason).toBe('invalid-signature');
      expect(rejection.detail).toContain('header X-Timestamp and the request body');
    });

    test('tampered timestamp is rejected', () => {
      const headers = { ...timestampedHeaders(nowInSeconds), 'X-Timestamp': String(nowInSeconds + 1) };

      expect(rejectionOf(authenticate(timestamped, { headers })).reason).toBe('invalid-signature');
    });

    test('tampered body is rejected', () => {
      const tampered = Buffer.from(body.toString('utf8').replace('1001', '1002'));

      expect(rejectionOf(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds), body: tampered })).reason).toBe('invalid-signature');
    });

    test('second secret of a rotation is accepted', () => {
      expect(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds, nextKey) }).status).toBe('accepted');
    });

    test('60 seconds old passes', () => {
      expect(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds - 60) }).status).toBe('accepted');
    });

    test('61 seconds old fails', () => {
      const rejection = rejectionOf(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds - 61) }));

      expect(rejection.reason).toBe('expired-timestamp');
      expect(rejection.serverTimestamp).toBe(nowInSeconds);
    });

    test('60 seconds ahead passes', () => {
      expect(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds + 60) }).status).toBe('accepted');
    });

    test('61 seconds ahead fails', () => {
      expect(rejectionOf(authenticate(timestamped, { headers: timestampedHeaders(nowInSeconds + 61) })).reason).toBe('future-timestamp');
    });

    test('tolerance defaults to 300 seconds', () => {
      const defaultTolerance = connectorWith({ type: 'hmac', header: 'X-Signature', prefix: 'v1=', timestampHeader: 'X-Timestamp', secretRef: 'CURRENT' });

      expect(authenticate(defaultTolerance, { headers: timestampedHeaders(nowInSeconds - 300) }).status).toBe('accepted');
      expect(rejectionOf(authenticate(defaultTolerance, { headers: timestampedHeaders(nowInSeconds - 301) })).reason).toBe('expired-timestamp');
    });
  });
});
