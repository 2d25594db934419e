import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { readRecords, type FixtureRecord } from '../helpers/recordFile';

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'triggersApp');
const hostKey = 'event-grid-test-key';
const maxRequestBodyBytes = 65_536;
const localTopicId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.EventGrid/topics/local';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

describe('Event Grid topic', () => {
  let host: HostProcess;
  let folder: string;
  let recordFile: string;
  let topicUrl: string;

  /** Returns the records of the event with `eventId`, sorted by function name. */
  function recordsOfEvent(eventId: string): FixtureRecord[] {
    return readRecords(recordFile)
      .filter((record) => record.event?.id === eventId)
      .sort((first, second) => first.functionName.localeCompare(second.functionName));
  }

  function eventGridEvent(id: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
    return { id, subject: 'orders/1001', eventType: 'Connector.MessageDelivered', eventTime: '2026-12-04T12:00:00Z', data: { orderId: '1001' }, dataVersion: '1.0', ...fields };
  }

  function post(body: string, contentType: string, headers: Record<string, string> = { 'aeg-sas-key': hostKey }): Promise<Response> {
    return fetch(`${topicUrl}?api-version=2018-01-01`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });
  }

  /** Polls the host's log every 50 ms, at most 40 times, for an entry that `matches`. */
  async function waitForLogEntry(matches: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (let poll = 0; poll < 40; poll += 1) {
      const entry = host.logEntries().find(matches);
      if (entry) {
        return entry;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('The expected log entry did not appear within 2 seconds.');
  }

  async function problemOf(response: Response): Promise<Problem> {
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    return (await response.json()) as Problem;
  }

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'host-event-grid-'));
    recordFile = path.join(folder, 'records.jsonl');
    host = await startHostProcess({
      appRoot,
      dataDir: path.join(folder, 'data'),
      env: { LOCAL_FUNCTION_KEY: hostKey, FIXTURE_RECORD_FILE: recordFile, HOST_MAX_REQUEST_BODY_BYTES: String(maxRequestBodyBytes), FIXTURE_TIMER_SCHEDULE: undefined },
    });
    topicUrl = `${host.baseUrl}/runtime/webhooks/eventgrid/topic`;
  });

  afterAll(() => {
    host?.kill();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  describe('delivery', () => {
    it('publisher client delivers Event Grid events to every function', async () => {
      const client = new EventGridPublisherClient(topicUrl, 'EventGrid', new AzureKeyCredential(hostKey), { allowInsecureConnection: true });

      await client.send([
        { id: 'eg-client-1', eventType: 'Connector.MessageDelivered', subject: 'orders/1001', dataVersion: '1.0', data: { orderId: '1001' }, eventTime: new Date('2026-12-04T12:00:00Z') },
        { id: 'eg-client-2', eventType: 'Connector.MessageFailed', subject: 'orders/1002', dataVersion: '1.0', data: { orderId: '1002' } },
      ]);

      const first = recordsOfEvent('eg-client-1');
      expect(first.map((record) => record.functionName)).toEqual(['recordEventA', 'recordEventB']);
      expect(first[0].event).toEqual({
        id: 'eg-client-1',
        eventType: 'Connector.MessageDelivered',
        subject: 'orders/1001',
        eventTime: '2026-12-04T12:00:00.000Z',
        data: { orderId: '1001' },
        dataVersion: '1.0',
        topic: localTopicId,
        metadataVersion: '1',
      });
      expect(recordsOfEvent('eg-client-2').map((record) => record.functionName)).toEqual(['recordEventA', 'recordEventB']);
    });

    it('publisher client delivers CloudEvents to every function', async () => {
      const client = new EventGridPublisherClient(topicUrl, 'CloudEvent', new AzureKeyCredential(hostKey), { allowInsecureConnection: true });

      await client.send([
        { id: 'ce-client-1', type: 'Connector.MessageDelivered', source: '/connectors/orders', subject: 'orders/1001', data: { orderId: '1001' }, time: new Date('2026-12-04T12:00:00Z') },
      ]);

      const records = recordsOfEvent('ce-client-1');
      expect(records.map((record) => record.functionName)).toEqual(['recordEventA', 'recordEventB']);
      expect(records[0].event).toEqual({
        specversion: '1.0',
        id: 'ce-client-1',
        type: 'Connector.MessageDelivered',
        source: '/connectors/orders',
        subject: 'orders/1001',
        time: '2026-12-04T12:00:00.000Z',
        datacontenttype: 'application/json',
        data: { orderId: '1001' },
      });
    });

    it('single CloudEvent in structured mode', async () => {
      const event = { specversion: '1.0', id: 'ce-single-1', type: 'Connector.MessageDelivered', source: '/connectors/orders', data: { orderId: '7' } };

      const response = await post(JSON.stringify(event), 'application/cloudevents+json; charset=utf-8');

      expect(response.status).toBe(200);
      expect(recordsOfEvent('ce-single-1').map((record) => record.event)).toEqual([event, event]);
    });

    it('CloudEvent with binary data keeps data_base64', async () => {
      const event = { specversion: '1.0', id: 'ce-binary-1', type: 'Example.Binary', source: '/tests', datacontenttype: 'application/octet-stream', data_base64: 'AQID' };

      const response = await post(JSON.stringify([event]), 'application/cloudevents-batch+json');

      expect(response.status).toBe(200);
      expect(recordsOfEvent('ce-binary-1')[0].event).toEqual(event);
    });

    it('trigger metadata carries the event data', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-metadata-1', { data: { amount: 5 } })]), 'application/json');

      expect(response.status).toBe(200);
      expect(recordsOfEvent('eg-metadata-1')[0].triggerMetadata).toEqual({ data: { amount: 5 } });
    });

    it("publisher's topic is kept", async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-topic-1', { topic: '/custom/topic' })]), 'application/json');

      expect(response.status).toBe(200);
      expect(recordsOfEvent('eg-topic-1')[0].event?.topic).toBe('/custom/topic');
    });

    it('empty batch is accepted', async () => {
      expect((await post('[]', 'application/json')).status).toBe(200);
    });

    it('failed delivery returns 500 naming the function', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-fail-1', { eventType: 'Fixture.Fail' })]), 'application/json');

      expect(response.status).toBe(500);
      const problem = await problemOf(response);
      expect(problem.title).toBe('Event delivery failed');
      expect(problem.detail).toContain('function "rejectFailingEvent" for event "eg-fail-1"');
      expect(recordsOfEvent('eg-fail-1').map((record) => record.functionName)).toEqual(['recordEventA', 'recordEventB']);
      const failure = await waitForLogEntry((entry) => entry.functionName === 'rejectFailingEvent' && entry.eventId === 'eg-fail-1');
      expect(failure.msg).toBe('function invocation failed');
      expect(failure.err).toMatchObject({ message: 'rejectFailingEvent rejects event eg-fail-1' });
    });
  });

  describe('authentication', () => {
    it('publisher client with wrong key gets 401', async () => {
      const client = new EventGridPublisherClient(topicUrl, 'EventGrid', new AzureKeyCredential('wrong-key'), { allowInsecureConnection: true });

      const error = await client.send([eventGridEvent('eg-wrong-key-1') as never]).then(
        () => undefined,
        (caught: unknown) => caught as { statusCode?: number },
      );

      expect(error?.statusCode).toBe(401);
      expect(recordsOfEvent('eg-wrong-key-1')).toEqual([]);
    });

    it('missing key gets 401 problem', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-no-key-1')]), 'application/json', {});

      expect(response.status).toBe(401);
      expect((await problemOf(response)).detail).toContain('aeg-sas-key');
      expect(recordsOfEvent('eg-no-key-1')).toEqual([]);
    });

    it('function key header is not accepted', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-functions-key-1')]), 'application/json', { 'x-functions-key': hostKey });

      expect(response.status).toBe(401);
    });
  });

  describe('input validation', () => {
    it('body that is not JSON gets 400', async () => {
      const response = await post('[{"id": ', 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('The body is not valid JSON');
    });

    it('missing field names the field and index', async () => {
      const { eventTime: _eventTime, ...withoutTime } = eventGridEvent('eg-invalid-2');
      const response = await post(JSON.stringify([eventGridEvent('eg-invalid-1'), withoutTime]), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('The event at index 1 has no "eventTime" field.');
      expect(recordsOfEvent('eg-invalid-1')).toEqual([]);
    });

    it.each([
      ['data', 'The event at index 0 has no "data" field.'],
      ['dataVersion', 'The event at index 0 has no "dataVersion" field.'],
      ['id', 'The event at index 0 has no "id" field.'],
      ['subject', 'The event at index 0 has no "subject" field.'],
      ['eventType', 'The event at index 0 has no "eventType" field.'],
    ])('Event Grid event without %s gets 400', async (field, detail) => {
      const event = eventGridEvent('eg-missing-field');
      delete event[field];

      const response = await post(JSON.stringify([event]), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain(detail);
    });

    it('invalid eventTime gets 400', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-time-1', { eventTime: 'yesterday' })]), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('"eventTime" "yesterday", but it must be an ISO 8601 date-time');
    });

    it('single object in the Event Grid schema gets 400', async () => {
      const response = await post(JSON.stringify(eventGridEvent('eg-object-1')), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('the Event Grid schema needs a JSON array of events');
    });

    it('CloudEvent sent as application/json gets a hint', async () => {
      const event = { specversion: '1.0', id: 'ce-as-json-1', type: 'Example', source: '/tests' };

      const response = await post(JSON.stringify([event]), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('looks like a CloudEvent');
    });

    it('CloudEvent without source names the field and index', async () => {
      const events = [
        { specversion: '1.0', id: 'ce-invalid-1', type: 'Example', source: '/tests' },
        { specversion: '1.0', id: 'ce-invalid-2', type: 'Example' },
      ];

      const response = await post(JSON.stringify(events), 'application/cloudevents-batch+json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('The event at index 1 has no "source" field.');
    });

    it('CloudEvent with another specversion gets 400', async () => {
      const response = await post(JSON.stringify({ specversion: '0.3', id: 'ce-old-1', type: 'Example', source: '/tests' }), 'application/cloudevents+json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('accepts CloudEvents 1.0 only');
    });

    it('CloudEvent with data and data_base64 gets 400', async () => {
      const event = { specversion: '1.0', id: 'ce-both-1', type: 'Example', source: '/tests', data: {}, data_base64: 'AQID' };

      const response = await post(JSON.stringify(event), 'application/cloudevents+json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('both "data" and "data_base64"');
    });

    it('CloudEvent attribute with uppercase letters gets 400', async () => {
      const event = { specversion: '1.0', id: 'ce-attribute-1', type: 'Example', source: '/tests', traceParent: 'x' };

      const response = await post(JSON.stringify(event), 'application/cloudevents+json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('the attribute "traceParent"');
    });

    it('other content type gets 415', async () => {
      const response = await post(JSON.stringify([eventGridEvent('eg-text-1')]), 'text/plain');

      expect(response.status).toBe(415);
      expect((await problemOf(response)).detail).toContain('"text/plain"');
      expect(recordsOfEvent('eg-text-1')).toEqual([]);
    });

    it('body over the host limit gets 413', async () => {
      const event = eventGridEvent('eg-large-1', { data: { padding: 'x'.repeat(maxRequestBodyBytes) } });

      const response = await post(JSON.stringify([event]), 'application/json');

      expect(response.status).toBe(413);
      expect((await problemOf(response)).detail).toContain(`host limit of ${maxRequestBodyBytes} bytes`);
      expect(recordsOfEvent('eg-large-1')).toEqual([]);
    });

    it('GET gets 405', async () => {
      const response = await fetch(topicUrl, { headers: { 'aeg-sas-key': hostKey } });

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    });
  });

  describe('subscription validation', () => {
    it('validation event returns the validation code', async () => {
      const event = eventGridEvent('eg-validation-1', {
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        subject: '',
        data: { validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6', validationUrl: 'https://example.invalid/validate' },
      });

      const response = await post(JSON.stringify([event]), 'application/json', { 'aeg-sas-key': hostKey, 'aeg-event-type': 'SubscriptionValidation' });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
      expect(recordsOfEvent('eg-validation-1')).toEqual([]);
    });

    it('validation event without a code gets 400', async () => {
      const event = eventGridEvent('eg-validation-2', { eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', data: {} });

      const response = await post(JSON.stringify([event]), 'application/json');

      expect(response.status).toBe(400);
      expect((await problemOf(response)).detail).toContain('without a "data.validationCode" string');
    });

    it('CloudEvents handshake returns the origin and rate', async () => {
      const response = await fetch(topicUrl, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net', 'WebHook-Request-Rate': '120' } });

      expect(response.status).toBe(200);
      expect(response.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
      expect(response.headers.get('webhook-allowed-rate')).toBe('*');
      expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    });

    it('CloudEvents handshake without a rate request', async () => {
      const response = await fetch(topicUrl, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });

      expect(response.status).toBe(200);
      expect(response.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
      expect(response.headers.get('webhook-allowed-rate')).toBeNull();
    });
  });
});

describe('Event Grid topic during a stop', () => {
  it('function running at SIGTERM still publishes', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'host-event-grid-stop-'));
    const recordFile = path.join(folder, 'records.jsonl');
    const host = await startHostProcess({
      appRoot,
      dataDir: path.join(folder, 'data'),
      env: { LOCAL_FUNCTION_KEY: hostKey, FIXTURE_RECORD_FILE: recordFile, FIXTURE_TIMER_SCHEDULE: undefined },
    });
    try {
      const pending = fetch(`${host.baseUrl}/api/publish-after-wait?ms=700&eventId=eg-during-stop`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = host.stop();

      const response = await pending;
      const exit = await exited;

      expect(await response.json()).toEqual({ topicStatus: 200 });
      expect(readRecords(recordFile).filter((record) => record.event?.id === 'eg-during-stop')).toHaveLength(2);
      expect(exit.code).toBe(0);
    } finally {
      host.kill();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
