import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AtcaError, type ErrorCode } from '../errors.js';
import { type CommandRunner, type RunResult, runCommand } from './command-runner.js';
import type { RunRequest } from './command-worker.js';

interface Reply {
  readonly id: number;
  readonly result: Omit<RunResult, 'error'>;
  readonly error?: { code: ErrorCode; detail: string };
}

/**
 * Runs commands on a thread of their own. Spawning forks the whole process, and the fork
 * blocks the calling thread for as long as it takes to copy atcad's page tables — 6 to 16 ms
 * for an 80 MB process on the machines we measured (docs/benchmarks.md). On the main thread
 * that is a trap left waiting; here it is not. Everything else (timeouts, killing the process
 * group, bounded output) is runCommand's, unchanged. If the thread dies, the commands in flight
 * fail (ATCA_ERR_PCMK_FAILED) and the next one starts a new thread.
 */
export class WorkerRunner {
  readonly #file: string;
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, (r: RunResult) => void>();

  constructor(workerFile: string) {
    this.#file = workerFile;
  }

  readonly run: CommandRunner = (argv, opts) =>
    new Promise<RunResult>((resolve) => {
      const id = this.#next++;
      this.#pending.set(id, resolve);
      const request: RunRequest = { id, argv, opts };
      this.#thread().postMessage(request);
    });

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(this.#file);
    // An idle thread must not keep atcad alive; a command in flight is awaited by its caller.
    w.unref();
    w.on('message', (m: Reply | 'closed') => {
      if (m === 'closed') return;
      const resolve = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      resolve?.({ ...m.result, ...(m.error ? { error: new AtcaError(m.error.code, m.error.detail) } : {}) });
    });
    const fail = (why: string) => {
      if (this.#worker === w) this.#worker = undefined;
      for (const [id, resolve] of this.#pending) {
        this.#pending.delete(id);
        resolve({
          exitCode: null,
          signal: null,
          timedOut: false,
          durationMs: 0,
          stdout: '',
          stderr: '',
          error: new AtcaError('ATCA_ERR_PCMK_FAILED', `the command thread ${why}`),
        });
      }
    };
    w.on('error', (e) => fail(`failed: ${e.message}`));
    w.on('exit', (code) => fail(`exited (${code})`));
    this.#worker = w;
    return w;
  }

  /** Ends the idle trampolines, then the thread. */
  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      w.on('message', (m) => {
        if (m === 'closed') {
          clearTimeout(t);
          resolve();
        }
      });
      w.postMessage('close');
    });
    await w.terminate();
    this.#worker = undefined;
  }
}

/**
 * The runner atcad uses: on its own thread when the worker is bundled beside this module (a
 * built atcad), else in-process (tests that run the sources; the behaviour is the same).
 */
export function defaultRunner(): CommandRunner {
  const file = fileURLToPath(new URL('./command-worker.mjs', import.meta.url));
  return existsSync(file) ? new WorkerRunner(file).run : runCommand;
}
