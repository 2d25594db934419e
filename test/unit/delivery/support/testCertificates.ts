import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** PEM and PFX material made by the `openssl` command line tool for one test run. */
export interface TestCertificates {
  caCertificate: string;
  serverCertificate: string;
  serverKey: string;
  clientCertificate: string;
  clientKey: string;
  /** The client key encrypted with `clientKeyPassphrase`. */
  clientKeyEncrypted: string;
  clientKeyPassphrase: string;
  /** The client certificate and key as a PKCS #12 archive, base64, protected by `pfxPassphrase`. */
  clientPfxBase64: string;
  pfxPassphrase: string;
  /** Common name of the client certificate. */
  clientSubject: string;
}

/**
 * Creates a test CA, a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and a client
 * certificate signed by it, in a temporary folder that is deleted afterwards. Uses P-256 keys,
 * which are quick to make, and certificates valid for one day.
 */
export function createTestCertificates(): TestCertificates {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-certificates-'));
  const file = (name: string): string => path.join(folder, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const clientSubject = 'connector-client';

  try {
    openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Connector Test CA', '-days', '1');

    fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('req', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');

    openssl('req', ...newKey, '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${clientSubject}`);
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
    openssl('pkey', '-in', 'client.key', '-aes256', '-passout', 'pass:key-passphrase', '-out', 'client-encrypted.key');
    openssl('pkcs12', '-export', '-in', 'client.crt', '-inkey', 'client.key', '-out', 'client.pfx', '-passout', 'pass:pfx-passphrase');

    return {
      caCertificate: fs.readFileSync(file('ca.crt'), 'utf8'),
      serverCertificate: fs.readFileSync(file('server.crt'), 'utf8'),
      serverKey: fs.readFileSync(file('server.key'), 'utf8'),
      clientCertificate: fs.readFileSync(file('client.crt'), 'utf8'),
      clientKey: fs.readFileSync(file('client.key'), 'utf8'),
      clientKeyEncrypted: fs.readFileSync(file('client-encrypted.key'), 'utf8'),
      clientKeyPassphrase: 'key-passphrase',
      clientPfxBase64: fs.readFileSync(file('client.pfx')).toString('base64'),
      pfxPassphrase: 'pfx-passphrase',
      clientSubject,
    };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
