import { describe, expect, test } from 'vitest';
import {
  createDeliveryInstanceId,
  createMessageId,
  createTrackedEntityKey,
  hashDedupKey,
  isMessageId,
  rawBlobNameOf,
  transformedBlobNameOf,
} from '../../lib/ids';

describe('ids', () => {
  test('same dedup key gives same message id', () => {
    expect(createMessageId('orders', 'evt-1')).toBe(createMessageId('orders', 'evt-1'));
  });

  test('message id is connector id and hash prefix', () => {
    expect(createMessageId('orders', 'evt-1')).toBe(`orders-${hashDedupKey('evt-1').slice(0, 32)}`);
  });

  test('other connector gives other message id', () => {
    expect(createMessageId('orders', 'evt-1')).not.toBe(createMessageId('invoices', 'evt-1'));
  });

  test('no dedup key gives a new id each time', () => {
    expect(createMessageId('orders', undefined)).not.toBe(createMessageId('orders', undefined));
  });

  test('both kinds of message id are valid', () => {
    expect(isMessageId(createMessageId('orders', 'evt-1'))).toBe(true);
    expect(isMessageId(createMessageId('orders', undefined))).toBe(true);
  });

  test('message ids need no URL escaping', () => {
    const messageId = createMessageId('orders', 'a/b?c#d');

    expect(encodeURIComponent(messageId)).toBe(messageId);
  });

  test('isMessageId rejects other strings', () => {
    expect(isMessageId('orders-xyz')).toBe(false);
    expect(isMessageId('../orders-0123456789abcdef0123456789abcdef')).toBe(false);
    expect(isMessageId('Orders-0123456789abcdef0123456789abcdef')).toBe(false);
  });

  test('derived names', () => {
    expect(createDeliveryInstanceId('orders-ab', 'erp')).toBe('orders-ab:erp');
    expect(rawBlobNameOf('orders', 'orders-ab')).toBe('raw/orders/orders-ab');
    expect(transformedBlobNameOf('orders', 'orders-ab')).toBe('transformed/orders/orders-ab');
    expect(createTrackedEntityKey('orders', 'order', '123')).toBe('orders|order|123');
  });
});
