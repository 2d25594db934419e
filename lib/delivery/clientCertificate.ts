import crypto from 'node:crypto';
import tls from 'node:tls';
import type { DestinationConfig } from '../config/types';
import { AttemptFailure } from './attemptFailure';
import { requireDestinationSecret } from './destinationSecrets';

const base64Pattern = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

/** TLS options of a destination's connections, and a SHA-256 of them that changes when a secret changes. */
export interface DestinationTlsOptions {
  options: tls.ConnectionOptions;
  fingerprint: string;
}

/**
 * Reads the destination's client certificate (PEM certificate and key with an optional
 * passphrase, or a base64 PFX archive with an optional passphrase) and its extra CA certificates
 * from the settings their `...Ref` fields name. Throws a retryable AttemptFailure when a setting
 * is missing or the PFX is not base64. Node checks the certificate material itself when it
 * connects, and a bad certificate then fails the attempt as a TLS error.
 */
export function readDestinationTlsOptions(
  destination: DestinationConfig,
  readSecret: (secretRef: string) => string | undefined,
): DestinationTlsOptions {
  const options: tls.ConnectionOptions = {};
  const certificate = destination.clientCertificate;

  if (certificate !== undefined && 'pfxRef' in certificate) {
    const pfxText = requireDestinationSecret(destination, certificate.pfxRef, 'clientCertificate.pfxRef', readSecret);
    if (!base64Pattern.test(pfxText)) {
      throw new AttemptFailure(
        'retryable',
        `setting ${certificate.pfxRef}, named by clientCertificate.pfxRef of destination ${destination.id}, is not base64. ` +
          'Set it to the PFX (PKCS #12) file encoded as base64',
      );
    }
    options.pfx = Buffer.from(pfxText, 'base64');
    if (certificate.passphraseRef !== undefined) {
      options.passphrase = requireDestinationSecret(destination, certificate.passphraseRef, 'clientCertificate.passphraseRef', readSecret);
    }
  } else if (certificate !== undefined) {
    options.cert = requireDestinationSecret(destination, certificate.certificateRef, 'clientCertificate.certificateRef', readSecret);
    options.key = requireDestinationSecret(destination, certificate.keyRef, 'clientCertificate.keyRef', readSecret);
    if (certificate.keyPassphraseRef !== undefined) {
      options.passphrase = requireDestinationSecret(destination, certificate.keyPassphraseRef, 'clientCertificate.keyPassphraseRef', readSecret);
    }
  }

  let caCertificates: string | undefined;
  if (destination.caCertificateRef !== undefined) {
    caCertificates = requireDestinationSecret(destination, destination.caCertificateRef, 'caCertificateRef', readSecret);
    // Passing `ca` replaces Node's bundled roots, so they are listed as well.
    options.ca = [...tls.rootCertificates, caCertificates];
  }

  return { options, fingerprint: fingerprintOf(options, caCertificates) };
}

function fingerprintOf(options: tls.ConnectionOptions, caCertificates: string | undefined): string {
  const material = {
    cert: options.cert,
    key: options.key,
    passphrase: options.passphrase,
    pfx: Buffer.isBuffer(options.pfx) ? options.pfx.toString('base64') : undefined,
    caCertificates,
  };
  return crypto.createHash('sha256').update(JSON.stringify(material)).digest('hex');
}
