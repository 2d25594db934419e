import Database from 'better-sqlite3';
import http from 'node:http';
import path from 'node:path';
import { useWalWithAsyncSync } from '../lib/sqlite/walSync';
import { announceReady, serveParentRequests } from './childProcesses';

/**
 * The floor: the least that an accepting server must do per request on this machine. A bare
 * `node:http` server on 127.0.0.1 that writes each request body to SQLite in its own transaction
 * and responds 202 once that transaction is on disk. It makes commits durable the way the
 * connector's stores and durable engine do: WAL with `synchronous=NORMAL`, and an fdatasync of
 * the WAL (WalSync) that starts after the commit, off the main thread, before the response.
 *
 * Usage: `node dist/bench/floorServer.js <data folder>`, forked by the bench. The `rowCount`
 * request returns how many bodies were stored.
 */

const dataFolder = process.argv[2];
if (!dataFolder) {
  throw new Error('Usage: node dist/bench/floorServer.js <data folder>');
}

const db = new Database(path.join(dataFolder, 'floor.db'));
const walSync = useWalWithAsyncSync(db);
if (walSync === undefined) {
  throw new Error('The floor database must be a file, so that its commits can be synced.');
}
db.exec('CREATE TABLE bodies (id INTEGER PRIMARY KEY, received_at REAL NOT NULL, body BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO bodies (received_at, body) VALUES (?, ?)');
const insertBody = db.transaction((body: Buffer) => insert.run(Date.now(), body));
const countRows = db.prepare('SELECT COUNT(*) AS count FROM bodies');

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    insertBody(Buffer.concat(chunks));
    walSync.sync().then(
      () => {
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end('{"accepted":true}');
      },
      (error: unknown) => {
        response.writeHead(503, { 'content-type': 'text/plain' });
        response.end(`The body could not be synced to disk: ${(error as Error).message}`);
      },
    );
  });
});

serveParentRequests((command) => {
  if (command !== 'rowCount') {
    throw new Error(`Unknown floor server command ${command}; expected rowCount.`);
  }
  return (countRows.get() as { count: number }).count;
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  announceReady({ url: `http://127.0.0.1:${address.port}/messages` });
});
