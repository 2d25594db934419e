/** Matches a media type without parameters, such as `application/x-ndjson` (RFC 9110 tokens). */
export const mediaTypePattern = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

/** Returns the lowercase `type/subtype` of a Content-Type header value, without parameters. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/** Returns true for `application/json` and `application/<subtype>+json`, with or without parameters. */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
}

/**
 * Payload handling chosen by content type. A `json` payload is parsed, validated and
 * transformed. An `opaque` payload is stored and delivered as the bytes received.
 */
export type PayloadKind = 'json' | 'opaque';

/**
 * Returns the kind of a payload with `contentType`, or undefined when the connector does not
 * accept that type. JSON types are always accepted. Other media types are accepted, as opaque
 * bytes, when `acceptedContentTypes` lists them; parameters such as charset are ignored.
 */
export function payloadKindOf(contentType: string, acceptedContentTypes: readonly string[]): PayloadKind | undefined {
  if (isJsonContentType(contentType)) {
    return 'json';
  }
  const mediaType = mediaTypeOf(contentType);
  if (mediaType !== '' && acceptedContentTypes.some((accepted) => accepted.toLowerCase() === mediaType)) {
    return 'opaque';
  }
  return undefined;
}
