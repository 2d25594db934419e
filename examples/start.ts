import fs from 'node:fs';
import path from 'node:path';
import { readSettings, sampleConnectorsFileName } from '../lib/settings';
import { runCli } from '../local/cli';
import { createHostLogger } from '../local/logger';
import { readLocalSettings } from '../local/settings';
import { defaultSampleTargetPort, startSampleTarget } from './sampleTarget';

/**
 * `npm start`: runs the connector on the local host. While the shipped sample connectors file is
 * in use, it also runs the sample target on 127.0.0.1 in this process, so a delivery shows in
 * the console, and it takes the sample's partner secret from local.settings.sample.json when no
 * setting provides one. Both end with the host's process.
 */

const sampleSettingsFileName = 'local.settings.sample.json';

function readSampleSecrets(appRoot: string): Record<string, string> {
  const file = path.join(appRoot, sampleSettingsFileName);
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return parsed.Values ?? {};
}

async function main(): Promise<void> {
  const appRoot = path.resolve('.');
  const localValues = readLocalSettings(appRoot).values;
  const environment = { ...localValues, ...process.env };
  const settings = readSettings(environment, appRoot);
  const usesSample = path.basename(settings.connectorsFile) === sampleConnectorsFileName;

  if (usesSample) {
    const logger = createHostLogger().child({ component: 'sampleTarget' });
    const sampleSecretName = 'ORDERS_HMAC_SECRET';
    if (environment[sampleSecretName] === undefined) {
      process.env[sampleSecretName] = readSampleSecrets(appRoot)[sampleSecretName];
      logger.info({ setting: sampleSecretName, source: sampleSettingsFileName }, 'sample connector secret taken from the sample settings file');
    }
    const portText = environment.SAMPLE_TARGET_PORT;
    const port = portText ? Number(portText) : defaultSampleTargetPort;
    try {
      await startSampleTarget(port, logger);
    } catch (error) {
      process.stderr.write(
        `The sample target could not listen on 127.0.0.1:${port}: ${(error as Error).message}. ` +
          'Stop what uses that port, or set SAMPLE_TARGET_PORT and point the sample connector at it.\n',
      );
      process.exit(1);
    }
  }

  const host = await runCli(process.argv.slice(2));
  if (!host) {
    process.exit(process.exitCode ?? 0);
  }
}

void main();
