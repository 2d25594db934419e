/**
 * Inbound authentication settings of a connector, as written in the connectors file after
 * the schema filled in its defaults. Secrets are named by `secretRef` and never written here.
 */

/**
 * One setting name, or a list of one or two. A request with either secret passes, so a
 * partner can switch to a new secret while the old one is still accepted.
 */
export type SecretRef = string | string[];

/** CIDR ranges, IPv4 or IPv6, that the client address must be in. */
interface AddressRestriction {
  ipAllowlist?: string[];
}

/** Shorthand for `hmac` with header `X-Signature` by default, sha256, hex and prefix `sha256=`. */
export interface HmacSha256AuthConfig extends AddressRestriction {
  type: 'hmac-sha256';
  header: string;
  secretRef: SecretRef;
}

export type HmacAlgorithm = 'sha256' | 'sha512';
export type SignatureEncoding = 'hex' | 'base64';

/**
 * A keyed hash of the raw body in one header. With `timestampHeader`, the signed text is
 * `<timestamp>.<raw body>`, where the timestamp is that header's value in Unix seconds.
 */
export interface HmacAuthConfig extends AddressRestriction {
  type: 'hmac';
  header: string;
  algorithm: HmacAlgorithm;
  encoding: SignatureEncoding;
  /** Text before the encoded signature in the header, such as `sha256=`. Empty when absent. */
  prefix: string;
  timestampHeader?: string;
  /** Maximum difference between the timestamp and the server time, in either direction. */
  toleranceInSeconds?: number;
  secretRef: SecretRef;
}

/** The Standard Webhooks scheme: headers `webhook-id`, `webhook-timestamp` and `webhook-signature`. */
export interface StandardWebhooksAuthConfig extends AddressRestriction {
  type: 'standard-webhooks';
  /** Each setting contains a secret of the form `whsec_<base64 key>`. */
  secretRef: SecretRef;
  /** Maximum difference between `webhook-timestamp` and the server time, in either direction. */
  toleranceInSeconds: number;
}

/** A static key in one header, compared with the secret. */
export interface ApiKeyAuthConfig extends AddressRestriction {
  type: 'api-key';
  header: string;
  secretRef: SecretRef;
}

/** HTTP Basic authentication (RFC 7617). The password is the secret. */
export interface BasicAuthConfig extends AddressRestriction {
  type: 'basic';
  username: string;
  secretRef: SecretRef;
}

/** Accepts requests whose client address is in `ranges`, and checks no credential. */
export interface IpAllowlistAuthConfig {
  type: 'ip-allowlist';
  ranges: string[];
}

export type CredentialSchemeConfig = HmacSha256AuthConfig | HmacAuthConfig | StandardWebhooksAuthConfig | ApiKeyAuthConfig | BasicAuthConfig;

export type AuthSchemeConfig = CredentialSchemeConfig | IpAllowlistAuthConfig;

/**
 * `inbound.auth` of a connector: `none`, one scheme, or a list of schemes that must all
 * accept the request.
 */
export type InboundAuthConfig = { type: 'none' } | AuthSchemeConfig | AuthSchemeConfig[];

export const defaultToleranceInSeconds = 300;

/** Returns the schemes of `auth`, an empty list for `none`. */
export function listAuthSchemes(auth: InboundAuthConfig): AuthSchemeConfig[] {
  if (Array.isArray(auth)) {
    return auth;
  }
  return auth.type === 'none' ? [] : [auth];
}

/** Returns the setting names of a scheme's secrets, in the order written. */
export function secretRefsOf(scheme: CredentialSchemeConfig): string[] {
  return typeof scheme.secretRef === 'string' ? [scheme.secretRef] : scheme.secretRef;
}

/** Returns the credential schemes of `auth`, without the address-only `ip-allowlist` ones. */
export function listCredentialSchemes(auth: InboundAuthConfig): CredentialSchemeConfig[] {
  return listAuthSchemes(auth).filter((scheme): scheme is CredentialSchemeConfig => scheme.type !== 'ip-allowlist');
}

/**
 * Returns every IP allowlist of `auth`: the `ranges` of `ip-allowlist` schemes and the
 * `ipAllowlist` of the other schemes. The client address must be in each of them.
 */
export function listIpAllowlists(auth: InboundAuthConfig): string[][] {
  const allowlists: string[][] = [];
  for (const scheme of listAuthSchemes(auth)) {
    if (scheme.type === 'ip-allowlist') {
      allowlists.push(scheme.ranges);
    } else if (scheme.ipAllowlist !== undefined) {
      allowlists.push(scheme.ipAllowlist);
    }
  }
  return allowlists;
}
