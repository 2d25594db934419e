import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { deadLetterAlertMessage, handleLifecycleEvent } from '../../../lib/events/handleLifecycleEvent';

/** The onLifecycleEvent trigger's handling of CloudEvents, read back from a real pino logger. */

function createMemoryLogger(): { logger: pino.Logger; entries: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function cloudEvent(type: string, data: Record<string, unknown>): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'a1b2c3',
    type,
    source: '/connectors/orders',
    subject: 'messages/orders-1',
    time: '2026-12-04T12:00:00.000Z',
    datacontenttype: 'application/json',
    data: { messageId: 'orders-1', connectorId: 'orders', ...data },
  };
}

describe('lifecycle event trigger', () => {
  test('dead letter logs an error alert', () => {
    const { logger, entries } = createMemoryLogger();

    handleLifecycleEvent(cloudEvent('message.deadlettered', { destinationId: 'erp', reason: 'maxAttempts (3) after 3 attempts', attempts: 3 }), logger);
    const [entry] = entries();

    expect(entry.level).toBe(50);
    expect(entry.msg).toBe(deadLetterAlertMessage);
    expect(entry.messageId).toBe('orders-1');
    expect(entry.connectorId).toBe('orders');
    expect(entry.destinationId).toBe('erp');
    expect(entry.reason).toBe('maxAttempts (3) after 3 attempts');
  });

  test('delivered logs at debug', () => {
    const { logger, entries } = createMemoryLogger();

    handleLifecycleEvent(cloudEvent('message.delivered', {}), logger);

    expect(entries()[0].level).toBe(20);
    expect(entries()[0].eventType).toBe('message.delivered');
  });

  test('unknown type is logged and ignored', () => {
    const { logger, entries } = createMemoryLogger();

    expect(() => handleLifecycleEvent(cloudEvent('message.teleported', {}), logger)).not.toThrow();
    expect(entries()[0].level).toBe(40);
    expect(entries()[0].msg).toBe('lifecycle event ignored: unknown type');
  });

  test.each([null, 'text', [1, 2], { id: 'no-type' }])('input %j is ignored', (input) => {
    const { logger, entries } = createMemoryLogger();

    expect(() => handleLifecycleEvent(input, logger)).not.toThrow();
    expect(entries()[0].msg).toBe('lifecycle event ignored: the input is not a CloudEvent with a type');
  });
});
