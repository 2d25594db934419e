import fs from 'node:fs';
import path from 'node:path';
import { benchTransformExpression } from './benchPayload';
import { registerPid, unregisterPid } from './childProcesses';
import { reportOf, runDeliveryLoad, type BenchContext, type RunReport } from './loadRuns';

/**
 * The Node-RED peer: the same saturation and half-rate end-to-end load as the connector's, sent
 * to a Node-RED flow that transforms each payload with the same JSONata expression and posts it
 * to the same target. `bench/peer/nodeRedPeer.ts` installs and starts Node-RED.
 */

/** The exports of `bench/peer/nodeRedPeer.ts`. */
interface NodeRedPeerModule {
  installNodeRedPeer(): Promise<void>;
  startNodeRedPeer(options: { targetUrl: string; jsonataExpression: string }): Promise<{ ingestUrl: string; pid: number; stop(): Promise<void> }>;
}

export type PeerReport =
  | { skipped: string }
  | { failed: string }
  | { saturation: RunReport; halfRate: RunReport | null };

/** The peer's flow responds with 202 once the target has accepted the delivery. Any 2xx counts as accepted. */
const peerAcceptedStatuses = [200, 201, 202, 204];

function loadPeerModule(): NodeRedPeerModule | string {
  const modulePath = path.join(__dirname, 'peer', 'nodeRedPeer.js');
  if (!fs.existsSync(modulePath)) {
    return `${modulePath} does not exist; bench/peer/nodeRedPeer.ts is missing or was not compiled`;
  }
  return require(modulePath) as NodeRedPeerModule;
}

/**
 * Runs the peer's saturation run, then a fixed-rate run at half of its delivered rate. A peer
 * that fails to install or start is reported as failed, so that the connector's figures are
 * still printed.
 */
export async function runPeer(context: BenchContext): Promise<PeerReport> {
  try {
    return await runPeerLoad(context);
  } catch (error) {
    console.error('The Node-RED peer failed:', error);
    return { failed: (error as Error).message.split('\n')[0] };
  }
}

async function runPeerLoad(context: BenchContext): Promise<PeerReport> {
  const peerModule = loadPeerModule();
  if (typeof peerModule === 'string') {
    return { skipped: peerModule };
  }
  await peerModule.installNodeRedPeer();
  const peer = await peerModule.startNodeRedPeer({ targetUrl: `${context.targetUrl}/peer`, jsonataExpression: benchTransformExpression });
  registerPid(peer.pid);
  try {
    const saturation = await runDeliveryLoad(context, { url: peer.ingestUrl, runId: 'peersat', model: 'closed', acceptedStatuses: peerAcceptedStatuses });
    const saturationRate = saturation.endToEnd?.deliveredPerSecond;
    if (saturationRate === undefined) {
      return { saturation: reportOf(saturation), halfRate: null };
    }
    const halfRate = await runDeliveryLoad(context, { url: peer.ingestUrl, runId: 'peerhalf', model: 'open', ratePerSecond: saturationRate / 2, acceptedStatuses: peerAcceptedStatuses });
    return { saturation: reportOf(saturation), halfRate: reportOf(halfRate) };
  } finally {
    await peer.stop();
    unregisterPid(peer.pid);
  }
}
