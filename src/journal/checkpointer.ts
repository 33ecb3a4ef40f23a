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

/** A failing checkpoint is reported at most this often (it is retried every second). */
const REPORT_EVERY_MS = 60_000;

export class Checkpointer {
  readonly #worker: Worker;
  #stopping = false;
  #reportedAt = -Infinity;
  #unreported = 0;

  /**
   * `onError`: a checkpoint failed (rate-limited). `onGone`: the thread ended on its own, so
   * checkpoints are the main connection's again.
   */
  constructor(path: string, everyMs: number, onError: (message: string) => void, onGone: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const report = (m: string) => {
      const now = performance.now();
      if (now - this.#reportedAt < REPORT_EVERY_MS) {
        this.#unreported++;
        return;
      }
      onError(this.#unreported > 0 ? `${m} (and ${this.#unreported} more since the last report)` : m);
      this.#reportedAt = now;
      this.#unreported = 0;
    };
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, everyMs, driver } });
    this.#worker.on('message', (m: string) => report(m));
    this.#worker.on('error', (e) => report(e.message));
    this.#worker.on('exit', () => {
      if (!this.#stopping) onGone();
    });
    // It must not keep atcad (or a test) alive.
    this.#worker.unref();
  }

  /** Closes the thread's connection and ends it (does not wait). */
  stop(): void {
    this.#stopping = true;
    this.#worker.postMessage('stop');
  }
}
