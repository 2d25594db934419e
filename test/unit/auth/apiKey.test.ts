import { describe, expect, test } from 'vitest';
import { authenticate, connectorWith, rejectionOf, secretSettings } from './authTestSupport';

describe('api-key', () => {
  const connector = connectorWith({ type: 'api-key', secretRef: ['CURRENT', 'NEXT'] });

  test('header defaults to X-Api-Key', () => {
    expect(connector.inbound.auth).toMatchObject({ header: 'X-Api-Key' });
  });

  test('valid key is accepted', () => {
    expect(authenticate(connector, { headers: { 'X-Api-Key': secretSettings.CURRENT } }).status).toBe('accepted');
  });

  test('missing header is named', () => {
    const rejection = rejectionOf(authenticate(connector));

    expect(rejection.status).toBe(401);
    expect(rejection.reason).toBe('missing-header');
    expect(rejection.detail).toContain('Header X-Api-Key is missing.');
  });

  test('wrong key is rejected without the key', () => {
    const rejection = rejectionOf(authenticate(connector, { headers: { 'X-Api-Key': 'guessed-key' } }));

    expect(rejection.reason).toBe('invalid-credentials');
    expect(JSON.stringify(rejection)).not.toContain(secretSettings.CURRENT);
  });

  test('prefix of the key is rejected', () => {
    const prefix = secretSettings.CURRENT.slice(0, -1);

    expect(rejectionOf(authenticate(connector, { headers: { 'X-Api-Key': prefix } })).reason).toBe('invalid-credentials');
  });

  test('second key of a rotation is accepted', () => {
    expect(authenticate(connector, { headers: { 'X-Api-Key': secretSettings.NEXT } }).status).toBe('accepted');
  });

  test('configured header is read', () => {
    const custom = connectorWith({ type: 'api-key', header: 'Ocp-Apim-Subscription-Key', secretRef: 'CURRENT' });

    expect(authenticate(custom, { headers: { 'Ocp-Apim-Subscription-Key': secretSettings.CURRENT } }).status).toBe('accepted');
    expect(rejectionOf(authenticate(custom, { headers: { 'X-Api-Key': secretSettings.CURRENT } })).reason).toBe('missing-header');
  });
});
