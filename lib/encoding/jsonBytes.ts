/** U+FEFF, which some editors and Windows tools write at the start of a UTF-8 file. */
export const byteOrderMark = '\uFEFF';

/**
 * Decodes UTF-8 bytes into text for parsing and removes one leading byte order mark, which
 * JSON.parse rejects (RFC 8259 allows a parser to ignore it). Throws a TypeError for invalid
 * UTF-8. The stored payload keeps its mark: only the parsed copy loses it.
 */
export function decodeUtf8ForParsing(bytes: Uint8Array): string {
  // ignoreBOM keeps the mark in the output, so that removing exactly one is done here, visibly.
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  return text.startsWith(byteOrderMark) ? text.slice(byteOrderMark.length) : text;
}

/** Parses UTF-8 JSON bytes that may start with one byte order mark. Throws a TypeError or SyntaxError. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  return JSON.parse(decodeUtf8ForParsing(bytes)) as unknown;
}
