import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { readDestinationTlsOptions } from '../../../lib/delivery/clientCertificate';
import { deliverOnce } from '../../../lib/delivery/deliverOnce';
import { createDeliveryContext, deliveryRequest, destinationOf, respondWith, startScriptedTarget, type ScriptedTarget, type TestDeliveryContext } from './support/deliveryHarness';
import { createTestCertificates, type TestCertificates } from './support/testCertificates';

describe('mutual TLS', () => {
  let certificates: TestCertificates;
  let target: ScriptedTarget;
  let context: TestDeliveryContext;

  beforeAll(async () => {
    certificates = createTestCertificates();
    target = await startScriptedTarget(respondWith(200), {
      key: certificates.serverKey,
      cert: certificates.serverCertificate,
      ca: certificates.caCertificate,
      requestCert: true,
      rejectUnauthorized: true,
    });
  });

  afterAll(async () => {
    await target.close();
  });

  beforeEach(() => {
    target.requests.length = 0;
    context = createDeliveryContext({
      ERP_CA: certificates.caCertificate,
      ERP_CERTIFICATE: certificates.clientCertificate,
      ERP_KEY: certificates.clientKey,
      ERP_KEY_ENCRYPTED: certificates.clientKeyEncrypted,
      ERP_KEY_PASSPHRASE: certificates.clientKeyPassphrase,
      ERP_PFX: certificates.clientPfxBase64,
      ERP_PFX_PASSPHRASE: certificates.pfxPassphrase,
    });
  });

  afterEach(async () => {
    await context.close();
  });

  function httpsDestination(overrides: Record<string, unknown>) {
    return destinationOf({ url: `${target.url}/orders`, caCertificateRef: 'ERP_CA', ...overrides });
  }

  test('target sees the PEM client certificate', async () => {
    const destination = httpsDestination({ clientCertificate: { certificateRef: 'ERP_CERTIFICATE', keyRef: 'ERP_KEY' } });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0].clientCertificateSubject).toBe(certificates.clientSubject);
  });

  test('encrypted PEM key is opened with its passphrase', async () => {
    const destination = httpsDestination({
      clientCertificate: { certificateRef: 'ERP_CERTIFICATE', keyRef: 'ERP_KEY_ENCRYPTED', keyPassphraseRef: 'ERP_KEY_PASSPHRASE' },
    });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(target.requests[0].clientCertificateSubject).toBe(certificates.clientSubject);
  });

  test('target sees the PFX client certificate', async () => {
    const destination = httpsDestination({ clientCertificate: { pfxRef: 'ERP_PFX', passphraseRef: 'ERP_PFX_PASSPHRASE' } });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('delivered');
    expect(target.requests[0].clientCertificateSubject).toBe(certificates.clientSubject);
  });

  test('agent is kept until the certificate changes', async () => {
    const destination = httpsDestination({ clientCertificate: { certificateRef: 'ERP_CERTIFICATE', keyRef: 'ERP_KEY' } });
    const tlsOptions = readDestinationTlsOptions(destination, context.readSecret);
    const agentOptions = { connectTimeoutInMilliseconds: 1000, tls: tlsOptions.options, fingerprint: tlsOptions.fingerprint };
    const first = context.outbound.agents.agentFor('orders/erp', agentOptions);

    const again = context.outbound.agents.agentFor('orders/erp', agentOptions);
    context.secrets.ERP_CERTIFICATE = certificates.serverCertificate;
    const changed = readDestinationTlsOptions(destination, context.readSecret);
    const replaced = context.outbound.agents.agentFor('orders/erp', { ...agentOptions, tls: changed.options, fingerprint: changed.fingerprint });

    expect(again.agent).toBe(first.agent);
    expect(replaced.agent).not.toBe(first.agent);
    expect(first.agent.closed).toBe(true);
  });

  test('without a client certificate the handshake fails as retryable', async () => {
    const destination = httpsDestination({});

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toMatch(/^request failed: /);
    expect(target.requests).toHaveLength(0);
  });

  test('server certificate of an unknown CA fails as retryable', async () => {
    const destination = destinationOf({ url: `${target.url}/orders`, clientCertificate: { certificateRef: 'ERP_CERTIFICATE', keyRef: 'ERP_KEY' } });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toContain('certificate');
    expect(target.requests).toHaveLength(0);
  });

  test('PFX that is not base64 is retryable and names the setting', async () => {
    context.secrets.ERP_PFX = 'not base64 %%%';
    const destination = httpsDestination({ clientCertificate: { pfxRef: 'ERP_PFX' } });

    const result = await deliverOnce(deliveryRequest(destination), context);

    expect(result.outcome).toBe('retryable');
    expect(result.error).toBe(
      'setting ERP_PFX, named by clientCertificate.pfxRef of destination erp, is not base64. Set it to the PFX (PKCS #12) file encoded as base64',
    );
  });
});

describe('caCertificateRef', () => {
  test('invalid setting name is rejected at load', () => {
    expect(() => destinationOf({ caCertificateRef: 'not a setting name' })).toThrow('/connectors/0/destinations/0/caCertificateRef');
  });
});
