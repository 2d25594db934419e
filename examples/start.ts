import fs from 'node:fs';
import path from 'node:path';
import { readSettings, sampleConnectorsFileName } from '../lib/settings';
import { runCli } from '../local/cli';
import { createHostLogger } from '../local/logger';
import { readLocalSettings } from '../local/settings';
import { startSampleTarget } from './sampleTarget';

/**
 * `npm start`: runs the connector on the local host. While the shipped sample connectors file is
 * in use, it also runs the sample target in this process on the port the sample connector
 * delivers to, so a delivery shows in the console. It then takes the sample's partner secret from
 * local.settings.sample.json when no setting provides one. Both end with the host's process.
 */

const sampleSettingsFileName = 'local.settings.sample.json';
const sampleSecretName = 'ORDERS_HMAC_SECRET';

function readSampleSecret(appRoot: string): string | undefined {
  const file = path.join(appRoot, sampleSettingsFileName);
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return parsed.Values?.[sampleSecretName];
}

/** Returns the port of the first destination in the sample connectors file, where the sample target must listen. */
function readSampleTargetPort(connectorsFile: string): number {
  const parsed = JSON.parse(fs.readFileSync(connectorsFile, 'utf8')) as { connectors: { destinations: { url: string }[] }[] };
  const url = new URL(parsed.connectors[0].destinations[0].url);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

async function startSample(appRoot: string, connectorsFile: string, environment: Record<string, string | undefined>): Promise<void> {
  const hostLogger = createHostLogger();
  const logger = hostLogger.child({ component: 'sample' });
  if (environment[sampleSecretName] === undefined) {
    process.env[sampleSecretName] = readSampleSecret(appRoot);
    logger.info({ setting: sampleSecretName, source: sampleSettingsFileName }, 'sample connector secret taken from the sample settings file');
  }
  const port = readSampleTargetPort(connectorsFile);
  try {
    await startSampleTarget(port, hostLogger.child({ component: 'sampleTarget' }));
  } catch (error) {
    process.stderr.write(
      `The sample target could not listen on 127.0.0.1:${port}, the port that ${sampleConnectorsFileName} delivers to: ${(error as Error).message}. ` +
        'Stop what uses that port, or create connectors.json with destinations of your own (see the README).\n',
    );
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  const appRoot = path.resolve('.');
  const environment = { ...readLocalSettings(appRoot).values, ...process.env };
  const settings = readSettings(environment, appRoot);
  if (!wantsHelp && path.basename(settings.connectorsFile) === sampleConnectorsFileName) {
    await startSample(appRoot, settings.connectorsFile, environment);
  }

  const host = await runCli(argv);
  if (!host) {
    process.exit(process.exitCode ?? 0);
  }
}

void main();
