import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The machine and the versions that a bench result belongs to. */
export interface MachineDescription {
  cpuCount: number;
  cpuModel: string | undefined;
  memoryInBytes: number;
  platform: string;
  node: string;
  sqlite: string;
  betterSqlite3: string;
  autocannon: string;
  durableFunctions: string;
  azureFunctions: string;
  /** The 1-minute load average when the bench started; other work on the machine skews the figures. */
  loadAverageAtStart: number;
}

function packageVersion(name: string): string {
  const packageJsonPath = path.resolve(__dirname, '..', '..', 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;
}

export function describeMachine(): MachineDescription {
  const memory = new Database(':memory:');
  const sqlite = (memory.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
  memory.close();
  return {
    cpuCount: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    memoryInBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    sqlite,
    betterSqlite3: packageVersion('better-sqlite3'),
    autocannon: packageVersion('autocannon'),
    durableFunctions: packageVersion('durable-functions'),
    azureFunctions: packageVersion('@azure/functions'),
    loadAverageAtStart: os.loadavg()[0],
  };
}
