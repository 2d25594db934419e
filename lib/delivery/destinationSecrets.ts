import { decodeStandardWebhooksSecret } from '../auth/schemeSecrets';
import type { DestinationConfig } from '../config/types';
import { AttemptFailure } from './attemptFailure';

/** A setting that a destination names, with the field of the destination that names it. */
export interface DestinationSecretRef {
  secretRef: string;
  field: string;
}

/**
 * Lists every setting that a destination reads with `readSecret`: the auth secret, the signing
 * secret, the client certificate parts and the CA certificate.
 */
export function listDestinationSecretRefs(destination: DestinationConfig): DestinationSecretRef[] {
  const refs: DestinationSecretRef[] = [];
  if (destination.auth !== undefined) {
    refs.push({ secretRef: destination.auth.secretRef, field: 'auth.secretRef' });
  }
  if (destination.signing !== undefined) {
    refs.push({ secretRef: destination.signing.secretRef, field: 'signing.secretRef' });
  }
  const certificate = destination.clientCertificate;
  if (certificate !== undefined && 'pfxRef' in certificate) {
    refs.push({ secretRef: certificate.pfxRef, field: 'clientCertificate.pfxRef' });
    if (certificate.passphraseRef !== undefined) {
      refs.push({ secretRef: certificate.passphraseRef, field: 'clientCertificate.passphraseRef' });
    }
  } else if (certificate !== undefined) {
    refs.push({ secretRef: certificate.certificateRef, field: 'clientCertificate.certificateRef' });
    refs.push({ secretRef: certificate.keyRef, field: 'clientCertificate.keyRef' });
    if (certificate.keyPassphraseRef !== undefined) {
      refs.push({ secretRef: certificate.keyPassphraseRef, field: 'clientCertificate.keyPassphraseRef' });
    }
  }
  if (destination.caCertificateRef !== undefined) {
    refs.push({ secretRef: destination.caCertificateRef, field: 'caCertificateRef' });
  }
  return refs;
}

/**
 * Returns the value of the setting that `field` of the destination names. Throws a retryable
 * AttemptFailure when it is not set, so that the attempts go on while an operator sets it.
 */
export function requireDestinationSecret(
  destination: DestinationConfig,
  secretRef: string,
  field: string,
  readSecret: (secretRef: string) => string | undefined,
): string {
  const value = readSecret(secretRef);
  if (value === undefined) {
    throw new AttemptFailure(
      'retryable',
      `setting ${secretRef}, named by ${field} of destination ${destination.id}, is not set. ` +
        'Set it in local.settings.json Values or the environment',
    );
  }
  return value;
}

/** Returns the HMAC key of the destination's Standard Webhooks signing secret, or undefined without signing. */
export function readSigningKey(destination: DestinationConfig, readSecret: (secretRef: string) => string | undefined): Buffer | undefined {
  if (destination.signing === undefined) {
    return undefined;
  }
  const secretRef = destination.signing.secretRef;
  const key = decodeStandardWebhooksSecret(requireDestinationSecret(destination, secretRef, 'signing.secretRef', readSecret));
  if (key === undefined) {
    throw new AttemptFailure(
      'retryable',
      `setting ${secretRef}, named by signing.secretRef of destination ${destination.id}, is not a Standard Webhooks secret. ` +
        'Set it to "whsec_" followed by the base64 key',
    );
  }
  return key;
}
