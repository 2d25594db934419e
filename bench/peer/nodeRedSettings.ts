/**
 * Builds the settings file of the Node-RED peer.
 *
 * Node-RED 4.1 loads its settings file with `require`, so the file is a CommonJS module. The
 * settings keep Node-RED on the loopback interface and switch off everything that could contact
 * another host: telemetry and its update check, the diagnostics endpoint, installing modules from
 * npm, projects and the editor with its admin API.
 */

export interface NodeRedSettingsOptions {
  port: number;
  userDir: string;
  flowFileName: string;
  /** Key that Node-RED uses to encrypt the credentials file. The flow stores no credentials. */
  credentialSecret: string;
  /** Pid of the process that starts Node-RED. Node-RED exits once that process is gone. */
  parentPid: number;
}

const parentCheckIntervalInMilliseconds = 1_000;

/**
 * Returns the source of the settings file. Besides the settings, the file starts a timer that
 * removes the user directory and ends Node-RED once its parent process is gone, for example after
 * the benchmark was killed. On Linux an orphaned process gets another parent pid.
 */
export function buildSettingsSource(options: NodeRedSettingsOptions): string {
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: options.port,
    userDir: options.userDir,
    flowFile: options.flowFileName,
    flowFilePretty: false,
    credentialSecret: options.credentialSecret,

    // No editor and no admin API. Readiness is checked on the ingest route instead.
    httpAdminRoot: false,
    disableEditor: true,
    httpNodeRoot: '/',

    logging: { console: { level: 'warn', metrics: false, audit: false } },

    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },

    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
      modules: { allowInstall: false },
    },
    functionExternalModules: false,

    editorTheme: { projects: { enabled: false }, tours: false },
  };

  const parentWatch = [
    `const parentPid = ${options.parentPid};`,
    `const userDir = ${JSON.stringify(options.userDir)};`,
    'function exitWhenOrphaned() {',
    '  if (process.ppid !== parentPid) {',
    "    require('node:fs').rmSync(userDir, { recursive: true, force: true });",
    '    process.exit(0);',
    '  }',
    '}',
    `setInterval(exitWhenOrphaned, ${parentCheckIntervalInMilliseconds}).unref();`,
  ].join('\n');

  return `${parentWatch}\n\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`;
}
