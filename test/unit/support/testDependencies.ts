import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseConnectors } from '../../../lib/config/loadConnectors';
import type { Dependencies } from '../../../lib/dependencies';
import { OutboundClient } from '../../../lib/delivery/outboundClient';
import type { LifecycleEvent } from '../../../lib/events/lifecycleEvent';
import { FilePayloadStore } from '../../../lib/payloadStore/FilePayloadStore';
import { QuarantineStore } from '../../../lib/quarantine/quarantineStore';
import { openTrackingStore, type TrackingStore } from '../../../lib/tracking/trackingStore';

export const testSecret = 'test-secret-not-for-production';

export const testNow = new Date('2024-05-01T10:00:00.000Z');

/** Returns an `orders` connector like the sample file's, delivering to `targetUrl`. */
export function ordersConnector(targetUrl = 'http://127.0.0.1:9000/orders'): Record<string, any> {
  return {
    id: 'orders',
    inbound: { auth: { type: 'hmac-sha256', header: 'X-Signature', secretRef: 'ORDERS_HMAC_SECRET' }, maxBodyBytes: 1024 },
    dedupKey: { header: 'webhook-id' },
    entity: { type: 'order', key: 'orderId', version: 'updatedAt' },
    transform: { type: 'jsonata', expression: "{ 'id': orderId, 'state': status }" },
    destinations: [
      {
        id: 'erp',
        url: targetUrl,
        timeoutInMilliseconds: 1000,
        allowedPrivateRanges: ['127.0.0.0/8'],
        retry: { maxAttempts: 3, firstIntervalInMilliseconds: 100, backoffCoefficient: 2 },
      },
    ],
  };
}

export interface TestDependencies extends Dependencies {
  /** The SQLite store itself, so that tests can set up rows through its database. */
  trackingStore: TrackingStore;
  dataDir: string;
  /** The lifecycle events published, in order. */
  publishedEvents: LifecycleEvent[];
  /** Closes the destination connections and the tracking store, and deletes the data folder. */
  dispose(): void;
}

/** Builds dependencies over a temporary data folder with a real SQLite tracking store and file payload store. */
export function createTestDependencies(connectors: unknown[] = [ordersConnector()]): TestDependencies {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-unit-'));
  const trackingStore = openTrackingStore(dataDir);
  const publishedEvents: LifecycleEvent[] = [];
  const outbound = new OutboundClient();
  return {
    dataDir,
    publishedEvents,
    eventPublisher: {
      publish: async (event) => {
        publishedEvents.push(event);
      },
    },
    settings: { connectorsFile: 'connectors.json', dataDir, dedupWindowInDays: 7 },
    connectors: parseConnectors(JSON.stringify({ connectors }), 'connectors.json'),
    payloadStore: new FilePayloadStore(path.join(dataDir, 'payloads')),
    trackingStore,
    quarantineStore: new QuarantineStore(trackingStore.db, trackingStore),
    clock: () => new Date(testNow),
    outbound,
    lookupAddresses: async (hostname) => {
      throw new Error(`unit tests resolve no host names, but ${hostname} was looked up`);
    },
    readSecret: (secretRef) => (secretRef === 'ORDERS_HMAC_SECRET' ? testSecret : undefined),
    logger: pino({ level: 'silent' }),
    dispose: () => {
      void outbound.close();
      trackingStore.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
