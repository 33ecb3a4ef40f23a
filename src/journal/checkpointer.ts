import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the journal's WAL back into the database from a thread of its own. SQLite does that
 * by default inside whichever commit crosses 1000 WAL pages, fsyncs included: 5–10 ms on the
 * machines we measured (docs/benchmarks.md), landing at random on a trap's way to its
 * command. A PASSIVE checkpoint on another connection never blocks the writer. It can only
 * let the WAL start over when no commit came while it ran: so at ordinary rates the commits
 * never checkpoint, while under a sustained storm the WAL fills up to the main connection's
 * limit (journal.ts) and one commit in that many pages pays the last copy and its fsyncs.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage(String(e && e.message));
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  process.exit(0);
});
`;

export class Checkpointer {
  readonly #worker: Worker;

  constructor(path: string, everyMs: number, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, everyMs, driver } });
    this.#worker.on('message', (m: string) => onError(m));
    this.#worker.on('error', (e) => onError(e.message));
    // It must not keep atcad (or a test) alive.
    this.#worker.unref();
  }

  /** Closes the thread's connection and ends it (does not wait). */
  stop(): void {
    this.#worker.postMessage('stop');
  }
}
