import path from 'node:path';
import { startHost, type RunningHost } from './host';
import { defaultDataDir, defaultPort, hostEnvironmentNames, parsePort, readLocalSettings } from './settings';

/**
 * Command line of the local host: `node dist/local/cli.js [--port N] [--app-root DIR] [--data-dir DIR]`.
 * It starts the host, prints the base URL once the host is ready, and stops gracefully on
 * SIGTERM or SIGINT (exit code 0). A second signal exits at once with code 1.
 */

const usage = `Usage: node dist/local/cli.js [options]

Runs an Azure Functions app (Node.js programming model v4) on 127.0.0.1 without Core Tools.

Options:
  --port N          TCP port to listen on; 0 picks a free port. Default: the ${hostEnvironmentNames.port}
                    setting, then Host.LocalHttpPort in local.settings.json, then ${defaultPort}.
  --app-root DIR    Folder of the app (package.json, host.json, local.settings.json).
                    Default: the current folder.
  --data-dir DIR    Folder for the durable engine's database and the key file. Default: the
                    ${hostEnvironmentNames.dataDir} setting, then ${defaultDataDir}, relative to the current folder.
  --help            Print this help.
`;

export interface CliArguments {
  port: number | undefined;
  appRoot: string | undefined;
  dataDir: string | undefined;
  help: boolean;
}

/** Raised for invalid command-line arguments. The CLI prints the message and the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses `--name value` and `--name=value` options. */
export function parseCliArguments(argv: string[]): CliArguments {
  const parsed: CliArguments = { port: undefined, appRoot: undefined, dataDir: undefined, help: false };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--help' || argument === '-h') {
      parsed.help = true;
      continue;
    }
    const [name, inlineValue] = argument.split(/=(.*)/s, 2);
    if (!['--port', '--app-root', '--data-dir'].includes(name)) {
      throw new UsageError(`Unknown argument "${argument}".`);
    }
    const value = inlineValue ?? argv[++index];
    if (value === undefined || value === '') {
      throw new UsageError(`${name} needs a value.`);
    }
    if (name === '--port') {
      parsed.port = parsePort(value, '--port');
    } else if (name === '--app-root') {
      parsed.appRoot = value;
    } else {
      parsed.dataDir = value;
    }
  }
  return parsed;
}

function describeStartFailure(error: unknown): string {
  const lines = [`Host failed to start: ${(error as Error).message ?? String(error)}`];
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    lines.push(`Another process uses that port. Stop it, or choose another port with --port N or the ${hostEnvironmentNames.port} setting (0 picks a free port).`);
    return lines.join('\n');
  }
  // An error in the app's own configuration already states the fix, and its stack would only bury it.
  const cause = (error as Error).cause;
  if (cause instanceof Error && cause.stack && cause.name !== 'ConfigurationError') {
    lines.push(`Caused by: ${cause.stack}`);
  }
  return lines.join('\n');
}

/** Interval at which the host checks whether the process that started it has exited. */
const parentCheckIntervalInMilliseconds = 1000;

/**
 * Stops the host on SIGTERM and SIGINT, then exits with 0. A second signal exits at once with 1.
 * The host also stops when the process that started it exits: `npm start` runs the host under a
 * shell, and a signal sent to npm alone ends npm and the shell without reaching the host.
 */
function stopOnSignals(host: RunningHost): void {
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals | 'parentExited') => {
    if (stopRequested) {
      host.logger.warn({ signal }, 'second stop signal received; exiting without waiting');
      process.exit(1);
    }
    stopRequested = true;
    host.logger.info({ signal }, signal === 'parentExited' ? 'parent process exited; stopping' : 'stop signal received');
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        host.logger.error({ err: error }, 'host failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // An orphaned process gets a new parent (init or a subreaper), so a changed parent id means the
  // parent exited. NOTE: not tried on Windows, where the recorded parent id is expected to stay
  // the same, so that only the signals stop the host.
  const parentProcessId = process.ppid;
  const parentCheck = setInterval(() => {
    if (process.ppid !== parentProcessId && !stopRequested) {
      clearInterval(parentCheck);
      onSignal('parentExited');
    }
  }, parentCheckIntervalInMilliseconds);
  parentCheck.unref();
}

/**
 * Runs the host from command-line arguments (without the node and script paths). Resolves with
 * the running host, or with undefined after printing the help or an error. It never rejects:
 * on an error it sets `process.exitCode` (2 for invalid arguments, 1 for a failed start).
 */
export async function runCli(argv: string[]): Promise<RunningHost | undefined> {
  let parsed: CliArguments;
  try {
    parsed = parseCliArguments(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    process.exitCode = 2;
    return undefined;
  }
  if (parsed.help) {
    process.stdout.write(usage);
    return undefined;
  }

  try {
    const appRoot = path.resolve(parsed.appRoot ?? '.');
    // PORT and DATA_DIR may come from local.settings.json, which startHost applies later.
    const localSettings = readLocalSettings(appRoot);
    const readSetting = (name: string) => process.env[name] ?? localSettings.values[name];
    const portSetting = readSetting(hostEnvironmentNames.port);
    const port = parsed.port ?? (portSetting ? parsePort(portSetting, `The setting ${hostEnvironmentNames.port}`) : (localSettings.localHttpPort ?? defaultPort));
    const dataDir = path.resolve(parsed.dataDir ?? readSetting(hostEnvironmentNames.dataDir) ?? defaultDataDir);

    const host = await startHost({ appRoot, port, dataDir });
    process.on('uncaughtExceptionMonitor', (error) => host.logger.fatal({ err: error }, 'uncaught exception; the host process ends'));
    stopOnSignals(host);
    const keyLocation = host.hostKeySource === 'file' ? `host key in ${host.hostKeyFilePath}` : `host key from ${hostEnvironmentNames.functionKey}`;
    process.stdout.write(`Functions host ready at ${host.baseUrl} (${keyLocation})\n`);
    return host;
  } catch (error) {
    process.stderr.write(`${describeStartFailure(error)}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((host) => {
    // Exit explicitly on failure: timers or sockets that the app opened while loading would keep the process alive.
    if (!host && process.exitCode) {
      process.exit();
    }
  });
}
