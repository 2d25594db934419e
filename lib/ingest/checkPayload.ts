import type { HttpResponseInit } from '@azure/functions';
import type { SchemaError } from '../config/payloadSchema';
import type { Connector } from '../config/types';
import { decodeContentEncoding, parseContentEncoding, supportedContentEncodings, type SupportedContentEncoding } from '../encoding/contentEncoding';
import { parseJsonBytes } from '../encoding/jsonBytes';
import { payloadKindOf, type PayloadKind } from '../encoding/mediaType';
import { errorMessageOf } from '../errors';
import { problemResponse, problemTypes } from '../http/problem';
import { createPayloadScrubber, scrubValues } from '../redaction/redactPayload';

/** Maximum number of schema errors that a response and a quarantine entry list. */
export const maxSchemaErrorsListed = 100;

/** A request body as the connector received it, after authentication. */
export interface ReceivedPayload {
  /** The exact bytes received. */
  bytes: Buffer;
  /** The Content-Type header value. */
  contentType: string;
  /** The Content-Encoding header value, if any. */
  contentEncodingHeader?: string | null;
  dedupKey?: string;
  /** The request headers, from which the destinations' `forwardHeaders` are kept. */
  headers?: RequestHeaders;
}

/** The part of a request's headers that ingest reads. */
export interface RequestHeaders {
  get(name: string): string | null;
}

export type PayloadCheck =
  | { rejection: HttpResponseInit }
  | {
      rejection?: undefined;
      kind: PayloadKind;
      contentEncoding?: SupportedContentEncoding;
      /** Errors against the connector's JSON Schema, at most `maxSchemaErrorsListed`. Empty when valid or not checked. */
      schemaErrors: SchemaError[];
      schemaErrorCount: number;
    };

/**
 * Checks a received payload against its connector's settings, in this order, and returns the
 * response that rejects it or what the checks found. The checks are content type (415), content
 * coding (415), decoded size (413), encoded data (400), JSON syntax (400) and, for JSON payloads,
 * the connector's JSON Schema. A schema violation is returned as errors, not as a rejection,
 * because the caller decides whether to quarantine the payload. Opaque payloads are decoded only
 * to check their coding and decoded size.
 */
export async function checkPayload(connector: Connector, received: ReceivedPayload): Promise<PayloadCheck> {
  const kind = payloadKindOf(received.contentType, connector.inbound.acceptedContentTypes);
  if (kind === undefined) {
    return { rejection: unsupportedContentType(connector, received.contentType) };
  }

  const encoding = parseContentEncoding(received.contentEncodingHeader);
  if (encoding.status === 'unsupported') {
    return { rejection: unsupportedContentEncoding(encoding.headerValue) };
  }

  let decodedBytes = received.bytes;
  if (encoding.status === 'supported') {
    const maxDecodedBytes = connector.inbound.maxDecodedBytes;
    const decoded = await decodeContentEncoding(received.bytes, encoding.encoding, maxDecodedBytes);
    if (decoded.status === 'tooLarge') {
      return { rejection: decodedPayloadTooLarge(encoding.encoding, decoded.decodedBytesBeforeStop, maxDecodedBytes) };
    }
    if (decoded.status === 'invalid') {
      return { rejection: invalidEncodedBody(encoding.encoding, decoded.message) };
    }
    decodedBytes = decoded.bytes;
  }
  const contentEncoding = encoding.status === 'supported' ? encoding.encoding : undefined;

  if (kind === 'opaque') {
    return { kind, contentEncoding, schemaErrors: [], schemaErrorCount: 0 };
  }

  let payload: unknown;
  try {
    payload = parseJsonBytes(decodedBytes);
  } catch (error) {
    return { rejection: invalidJson(error) };
  }

  const schemaErrors = connector.payloadValidator?.(payload) ?? [];
  // The errors go to the 422 response, the quarantine entry and its audit, so redacted values are replaced here.
  const listedErrors = scrubValues(schemaErrors.slice(0, maxSchemaErrorsListed), createPayloadScrubber(payload, connector.redact ?? []));
  return { kind, contentEncoding, schemaErrors: listedErrors, schemaErrorCount: schemaErrors.length };
}

function unsupportedContentType(connector: Connector, contentType: string): HttpResponseInit {
  const accepted = ['application/json', 'application/<subtype>+json', ...connector.inbound.acceptedContentTypes];
  return problemResponse({
    type: problemTypes.unsupportedMediaType,
    title: 'Unsupported media type',
    status: 415,
    detail:
      contentType.trim() === ''
        ? `The Content-Type header is missing. Connector ${connector.id} accepts: ${accepted.join(', ')}.`
        : `Content-Type "${contentType}" is not accepted by connector ${connector.id}. Send one of: ${accepted.join(', ')}.`,
  });
}

function unsupportedContentEncoding(headerValue: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.unsupportedMediaType,
    title: 'Unsupported media type',
    status: 415,
    detail:
      `Content-Encoding "${headerValue}" is not supported. ` +
      `Send the body uncompressed, or compressed with one of ${supportedContentEncodings.join(', ')}.`,
  });
}

function decodedPayloadTooLarge(encoding: SupportedContentEncoding, decodedBytesBeforeStop: number, maxDecodedBytes: number): HttpResponseInit {
  return problemResponse({
    type: problemTypes.payloadTooLarge,
    title: 'Payload too large',
    status: 413,
    detail:
      `The ${encoding} request body decodes to more than ${maxDecodedBytes} bytes, the most this connector accepts ` +
      `(decoding stopped after ${decodedBytesBeforeStop} bytes). Send a smaller payload.`,
  });
}

function invalidEncodedBody(encoding: SupportedContentEncoding, message: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.invalidEncodedBody,
    title: 'Invalid encoded body',
    status: 400,
    detail: `The request body is not valid ${encoding} data: ${message}. Check that Content-Encoding names the compression that was applied.`,
  });
}

function invalidJson(error: unknown): HttpResponseInit {
  return problemResponse({
    type: problemTypes.invalidJson,
    title: 'Invalid JSON',
    status: 400,
    detail: `The request body is not valid UTF-8 JSON: ${errorMessageOf(error)}. Fix the payload and send it again.`,
  });
}
