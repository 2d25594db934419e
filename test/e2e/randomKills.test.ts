import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createDeliveryInstanceId, createMessageId } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import {
  createTempFolder,
  dedupKeyHeader,
  functionKey,
  jsonBytes,
  readStatus,
  removeTempFolders,
  sign,
  signatureHeader,
  startConnectorHost,
  writeConnectorsFile,
  type MessageStatus,
} from './support';

/**
 * Kills the host with SIGKILL at random moments while messages flow, and restarts it on the
 * same data folder each time. At the end, every accepted message must have been delivered with
 * its own body and Idempotency-Key, and no instance may be left running or failed.
 *
 * The test sends the messages in batches, one batch per host run, and kills the host at a
 * random delay after it is ready. A kill can land during recovery, during ingest or during
 * delivery. Like a partner, the test sends a message again with the same webhook-id when its
 * send failed because of a kill. It also sends again after a 503, once the Retry-After has
 * passed. The host responds with 503 while the claim of a request that a kill interrupted
 * still blocks the message.
 *
 * Every random choice comes from seeded generators, and the test prints the seed. Setting
 * RANDOM_KILLS_SEED repeats the batch sizes, kill delays and target delays, but not the exact
 * interleaving, which depends on timing.
 */

const connectorId = 'orders';
const destinationId = 'erp';
const messageCount = 500;
const killCount = 22;

const minKillDelayInMilliseconds = 100;
const maxKillDelayInMilliseconds = 1_200;
const maxTargetDelayInMilliseconds = 20;
const sendConcurrency = 8;
const sendTimeoutInMilliseconds = 15_000;
const maxRetryAfterInMilliseconds = 5_000;
const failedSendRetryDelayInMilliseconds = 1_000;

/**
 * Time after the last restart for the remaining sends to be accepted. The ingest trigger takes
 * over the claim of an interrupted request 30 s after that claim and responds with 503 until
 * then, so this is 30 s plus a margin.
 */
const finalSendTimeoutInMilliseconds = 50_000;
const settleTimeoutInMilliseconds = 30_000;
const settlePollIntervalInMilliseconds = 200;
const testTimeoutInMilliseconds = 150_000;

/** Returns a generator of uniform numbers in [0, 1) that gives the same sequence for the same 32-bit seed (xorshift32). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function randomInteger(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Splits `total` into `parts` batch sizes of at least one, at random. */
function randomBatchSizes(random: () => number, total: number, parts: number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < parts - 1) {
    cuts.add(randomInteger(random, 1, total - 1));
  }
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), total];
  return bounds.slice(1).map((bound, index) => bound - bounds[index]);
}

interface DeliveredRequest {
  idempotencyKey: string;
  body: Buffer;
}

interface QuickTarget {
  url: string;
  requests: DeliveredRequest[];
  close(): Promise<void>;
}

/** Starts a loopback target that records each request and responds with 200 after a random delay of 0 to 20 ms. */
async function startQuickTarget(random: () => number): Promise<QuickTarget> {
  const requests: DeliveredRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ idempotencyKey: String(request.headers['idempotency-key'] ?? ''), body: Buffer.concat(chunks) });
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"status":200}');
      }, randomInteger(random, 0, maxTargetDelayInMilliseconds));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface OutboundMessage {
  dedupKey: string;
  body: Buffer;
  /** Set when the host responded with 202 or 200. */
  messageId?: string;
  sendAttempts: number;
  /** Earliest time of the next send: after a failed send or the Retry-After of a 503. */
  notBefore: number;
}

interface SendCounts {
  /** Sends that failed after the test had started to kill the host. */
  failed: number;
  /** Errors of sends that failed while the host was meant to be running. */
  unexpectedErrors: string[];
  retryAfter: number;
  /** Messages accepted with 200, because an earlier send that a kill interrupted had been accepted. */
  acceptedAsDuplicate: number;
}

type SendResult = { kind: 'accepted'; status: number; messageId: string } | { kind: 'retryAfter'; delayInMilliseconds: number } | { kind: 'failed'; error: string };

/** Sends one message as a partner does. Any status other than 202, 200 or 503 fails the test. */
async function sendOnce(baseUrl: string, message: OutboundMessage): Promise<SendResult> {
  message.sendAttempts++;
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/api/connectors/${connectorId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [signatureHeader]: sign(message.body), [dedupKeyHeader]: message.dedupKey },
      body: message.body,
      signal: AbortSignal.timeout(sendTimeoutInMilliseconds),
    });
  } catch (error) {
    return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
  }

  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
  if (response.status === 202 || response.status === 200) {
    return { kind: 'accepted', status: response.status, messageId: (JSON.parse(text) as { messageId: string }).messageId };
  }
  if (response.status === 503) {
    const retryAfterInSeconds = Number(response.headers.get('retry-after') ?? '1');
    return { kind: 'retryAfter', delayInMilliseconds: Math.min(retryAfterInSeconds * 1_000, maxRetryAfterInMilliseconds) };
  }
  throw new Error(`Ingest of message ${message.dedupKey} responded with ${response.status}: ${text}`);
}

/**
 * Sends the messages that are due and not yet accepted. Retries all go out at once, as separate
 * partner requests, because the host may keep a retry waiting for 5 s and it must not delay
 * other messages. New messages go out with at most `sendConcurrency` in flight until
 * `shouldStop` returns true. A send that fails before `shouldStop` returns true is unexpected.
 */
async function sendDueMessages(baseUrl: string, messages: OutboundMessage[], shouldStop: () => boolean): Promise<SendCounts> {
  const now = Date.now();
  const due = messages.filter((message) => message.messageId === undefined && message.notBefore <= now);
  const retries = due.filter((message) => message.sendAttempts > 0);
  const newMessages = due.filter((message) => message.sendAttempts === 0);
  const counts: SendCounts = { failed: 0, unexpectedErrors: [], retryAfter: 0, acceptedAsDuplicate: 0 };

  const send = async (message: OutboundMessage): Promise<void> => {
    const result = await sendOnce(baseUrl, message);
    if (result.kind === 'accepted') {
      message.messageId = result.messageId;
      counts.acceptedAsDuplicate += result.status === 200 ? 1 : 0;
    } else if (result.kind === 'retryAfter') {
      message.notBefore = Date.now() + result.delayInMilliseconds;
      counts.retryAfter++;
    } else {
      message.notBefore = Date.now() + failedSendRetryDelayInMilliseconds;
      if (shouldStop()) {
        counts.failed++;
      } else {
        counts.unexpectedErrors.push(`${message.dedupKey}: ${result.error}`);
      }
    }
  };
  const sendNewMessages = async (): Promise<void> => {
    for (let message = newMessages.shift(); message !== undefined && !shouldStop(); message = newMessages.shift()) {
      await send(message);
    }
  };

  await Promise.all([...retries.map(send), ...Array.from({ length: sendConcurrency }, sendNewMessages)]);
  return counts;
}

interface ListedInstance {
  instanceId: string;
  name: string;
  runtimeStatus: string;
}

/** Lists every instance through the management API, following `x-ms-continuation-token` paging. */
async function listAllInstances(baseUrl: string): Promise<ListedInstance[]> {
  const instances: ListedInstance[] = [];
  let continuationToken: string | null = null;
  do {
    const headers: Record<string, string> = { 'x-functions-key': functionKey };
    if (continuationToken !== null) {
      headers['x-ms-continuation-token'] = continuationToken;
    }
    const response = await fetch(`${baseUrl}/runtime/webhooks/durabletask/instances?showInput=false&top=500`, { headers, signal: AbortSignal.timeout(sendTimeoutInMilliseconds) });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`Listing instances responded with ${response.status}: ${text}`);
    }
    instances.push(...(JSON.parse(text) as ListedInstance[]));
    continuationToken = response.headers.get('x-ms-continuation-token');
  } while (continuationToken);
  return instances;
}

function isUnfinished(instance: ListedInstance): boolean {
  return instance.runtimeStatus === 'Pending' || instance.runtimeStatus === 'Running';
}

/** Polls the instance list until no instance is Pending or Running. Throws with those instances when `timeoutInMilliseconds` passes first. */
async function waitUntilSettled(baseUrl: string, timeoutInMilliseconds: number): Promise<ListedInstance[]> {
  const deadline = Date.now() + timeoutInMilliseconds;
  for (;;) {
    const instances = await listAllInstances(baseUrl);
    const unfinished = instances.filter(isUnfinished);
    if (unfinished.length === 0) {
      return instances;
    }
    if (Date.now() > deadline) {
      throw new Error(`${unfinished.length} instances are still Pending or Running after ${timeoutInMilliseconds} ms of waiting, such as ${JSON.stringify(unfinished.slice(0, 5))}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, settlePollIntervalInMilliseconds));
  }
}

const startedHosts: HostProcess[] = [];
const startedTargets: QuickTarget[] = [];

afterAll(async () => {
  await Promise.all(startedHosts.map((host) => host.stop()));
  await Promise.all(startedTargets.map((target) => target.close()));
  removeTempFolders();
});

test(
  'random kills lose no message',
  async () => {
    const seed = Number(process.env.RANDOM_KILLS_SEED ?? crypto.randomInt(2 ** 31));
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`RANDOM_KILLS_SEED is "${process.env.RANDOM_KILLS_SEED}", but it must be an integer, such as a seed that an earlier run printed.`);
    }
    console.log(`random kill test seed: ${seed} (run again with RANDOM_KILLS_SEED=${seed})`);
    const random = createRandom(seed);
    const startedAt = Date.now();

    const target = await startQuickTarget(createRandom(seed ^ 0x5bd1e995));
    startedTargets.push(target);
    const folder = createTempFolder('e2e-random-kills-');
    const dataDir = path.join(folder, 'data');
    const connectorsFile = writeConnectorsFile(folder, target.url, [
      { id: connectorId, destinations: [{ id: destinationId, path: '/orders', maxAttempts: 10 }] },
    ]);

    const messages: OutboundMessage[] = Array.from({ length: messageCount }, (_, sequence) => ({
      dedupKey: `order-${seed}-${sequence}`,
      body: jsonBytes({ orderId: `ORD-${sequence}`, sequence, note: `Grüße ${sequence}` }),
      sendAttempts: 0,
      notBefore: 0,
    }));
    const batchSizes = randomBatchSizes(random, messageCount, killCount + 1);
    const counts = { failedSends: 0, retryAfterAnswers: 0, acceptedAsDuplicate: 0, killsThatInterruptedSends: 0 };
    const unexpectedErrors: string[] = [];
    const addRound = (round: SendCounts): void => {
      counts.failedSends += round.failed;
      counts.retryAfterAnswers += round.retryAfter;
      counts.acceptedAsDuplicate += round.acceptedAsDuplicate;
      unexpectedErrors.push(...round.unexpectedErrors);
    };
    let released = 0;

    for (let run = 0; run < killCount; run++) {
      released += batchSizes[run];
      const host = await startConnectorHost(connectorsFile, dataDir);
      startedHosts.push(host);

      let killed = false;
      const killDelayInMilliseconds = randomInteger(random, minKillDelayInMilliseconds, maxKillDelayInMilliseconds);
      const sending = sendDueMessages(host.baseUrl, messages.slice(0, released), () => killed);
      await new Promise((resolve) => setTimeout(resolve, killDelayInMilliseconds));
      killed = true;
      host.kill();
      await host.exited;

      const round = await sending;
      addRound(round);
      counts.killsThatInterruptedSends += round.failed > 0 ? 1 : 0;
    }

    const finalHost = await startConnectorHost(connectorsFile, dataDir);
    startedHosts.push(finalHost);
    const sendDeadline = Date.now() + finalSendTimeoutInMilliseconds;
    while (messages.some((message) => message.messageId === undefined) && Date.now() < sendDeadline) {
      addRound(await sendDueMessages(finalHost.baseUrl, messages, () => Date.now() > sendDeadline));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const allSentAt = Date.now();

    const notAccepted = messages.filter((message) => message.messageId === undefined);
    expect(unexpectedErrors, `seed ${seed}: sends that failed while the host was running`).toEqual([]);
    expect(notAccepted.map((message) => message.dedupKey), `seed ${seed}: messages never accepted`).toEqual([]);

    const instances = await waitUntilSettled(finalHost.baseUrl, settleTimeoutInMilliseconds);
    const statuses = new Map<string, MessageStatus>();
    for (const message of messages) {
      statuses.set(message.dedupKey, await readStatus(finalHost.baseUrl, message.messageId as string));
    }

    const bodyByIdempotencyKey = new Map(messages.map((message) => [createDeliveryInstanceId(message.messageId as string, destinationId), message.body]));
    const receivedKeys = new Set(target.requests.map((request) => request.idempotencyKey));
    const repeatedDeliveries = target.requests.length - receivedKeys.size;
    console.log(
      `random kill test seed ${seed}: ${killCount} kills, ${counts.killsThatInterruptedSends} of them during sends, ` +
        `${messages.reduce((sum, message) => sum + message.sendAttempts, 0)} sends for ${messageCount} messages, ` +
        `${counts.failedSends} failed sends, ${counts.retryAfterAnswers} responses 503, ${counts.acceptedAsDuplicate} accepted with 200, ` +
        `${target.requests.length} deliveries (${repeatedDeliveries} repeated), ` +
        `all accepted after ${((allSentAt - startedAt) / 1_000).toFixed(1)} s, checked after ${((Date.now() - startedAt) / 1_000).toFixed(1)} s`,
    );

    const context = `seed ${seed}`;
    expect(messages.filter((message) => message.messageId !== createMessageId(connectorId, message.dedupKey)).map((message) => message.dedupKey), `${context}: wrong message ids`).toEqual([]);
    expect(new Set(messages.map((message) => message.messageId)).size, `${context}: distinct message ids`).toBe(messageCount);
    expect(messages.filter((message) => statuses.get(message.dedupKey)?.runtimeStatus !== 'Completed').map((message) => message.messageId), `${context}: messages not Completed`).toEqual([]);
    expect(messages.filter((message) => statuses.get(message.dedupKey)?.outcome !== 'delivered').map((message) => message.messageId), `${context}: messages not delivered`).toEqual([]);
    expect([...bodyByIdempotencyKey.keys()].filter((key) => !receivedKeys.has(key)), `${context}: messages the target never received`).toEqual([]);
    expect(target.requests.filter((request) => !bodyByIdempotencyKey.has(request.idempotencyKey)).map((request) => request.idempotencyKey), `${context}: deliveries with an unknown Idempotency-Key`).toEqual([]);
    expect(target.requests.filter((request) => !bodyByIdempotencyKey.get(request.idempotencyKey)?.equals(request.body)).map((request) => request.idempotencyKey), `${context}: deliveries whose body differs from the message`).toEqual([]);
    expect(instances.filter(isUnfinished), `${context}: instances Pending or Running`).toEqual([]);
    expect(instances.filter((instance) => instance.runtimeStatus === 'Failed'), `${context}: instances Failed`).toEqual([]);
  },
  testTimeoutInMilliseconds,
);
