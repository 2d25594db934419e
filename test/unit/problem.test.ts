import { describe, expect, test } from 'vitest';
import { problemResponse, problemTypes } from '../../lib/http/problem';

describe('problemResponse', () => {
  test('builds an RFC 9457 body', () => {
    const response = problemResponse({
      type: problemTypes.unknownConnector,
      title: 'Unknown connector',
      status: 404,
      detail: 'Connector "shipments" does not exist. Check the URL.',
      extensions: { connectorId: 'shipments' },
    });

    expect(response.status).toBe(404);
    expect(JSON.parse(response.body as string)).toEqual({
      connectorId: 'shipments',
      type: 'urn:api-data-connector:problem:unknown-connector',
      title: 'Unknown connector',
      status: 404,
      detail: 'Connector "shipments" does not exist. Check the URL.',
    });
  });

  test('sets the problem content type', () => {
    const response = problemResponse({ type: problemTypes.invalidJson, title: 'Invalid JSON', status: 400, detail: 'x' });

    expect((response.headers as Record<string, string>)['Content-Type']).toBe('application/problem+json');
  });

  test('keeps extra headers', () => {
    const response = problemResponse(
      { type: problemTypes.temporarilyUnavailable, title: 'Try later', status: 503, detail: 'x' },
      { 'Retry-After': '5' },
    );

    expect((response.headers as Record<string, string>)['Retry-After']).toBe('5');
  });

  test('extensions cannot replace standard members', () => {
    const response = problemResponse({
      type: problemTypes.invalidJson,
      title: 'Invalid JSON',
      status: 400,
      detail: 'x',
      extensions: { status: 200 },
    });

    expect(JSON.parse(response.body as string).status).toBe(400);
  });
});
