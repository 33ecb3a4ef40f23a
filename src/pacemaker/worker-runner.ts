import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AtcaError, type ErrorCode } from '../errors.js';
import { type CommandRunner, failedRun, type RunResult, runCommand } from './command-runner.js';
import type { RunRequest } from './command-worker.js';

interface Reply {
  readonly id: number;
  readonly result: Omit<RunResult, 'error'>;
  readonly error?: { code: ErrorCode; detail: string };
}

/**
 * Runs commands from a helper process. Node's spawn() forks, and a fork stalls the whole
 * forking process — every thread — for 5–16 ms on the machines we measured
 * (docs/benchmarks.md): in atcad that is a trap left waiting. The helper forks instead (its
 * warm trampolines, see warm-spawn.ts), in its own address space. Everything else (timeouts,
 * killing the process group, bounded output) is runCommand's, unchanged. If the helper dies,
 * the commands in flight fail (ATCA_ERR_PCMK_FAILED) and the next one starts a new helper;
 * if atcad dies, the helper sees its channel close and exits.
 */
export class WorkerRunner {
  readonly #file: string;
  #worker: ChildProcess | undefined;
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
      const w = this.#helper();
      this.#holdOpen(w);
      w.send(request);
    });

  /** The channel keeps atcad alive only while a command is in flight. */
  #holdOpen(w: ChildProcess): void {
    if (this.#pending.size > 0) w.channel?.ref();
    else w.channel?.unref();
  }

  #helper(): ChildProcess {
    if (this.#worker) return this.#worker;
    const w = fork(this.#file, [], {
      // Not atcad's own flags (an --inspect port, a profiler): the helper needs none.
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // Its own environment is not the commands': each request carries theirs.
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    w.unref();
    w.on('message', (m: Reply | 'closed') => {
      if (m === 'closed') return;
      const resolve = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      this.#holdOpen(w);
      resolve?.({ ...m.result, ...(m.error ? { error: new AtcaError(m.error.code, m.error.detail) } : {}) });
    });
    const fail = (why: string) => {
      if (this.#worker === w) this.#worker = undefined;
      for (const [id, resolve] of this.#pending) {
        this.#pending.delete(id);
        resolve(failedRun(new AtcaError('ATCA_ERR_PCMK_FAILED', `the command helper ${why}`)));
      }
    };
    w.on('error', (e) => fail(`failed: ${e.message}`));
    w.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    this.#worker = w;
    return w;
  }

  /** Ends the idle trampolines, then the helper. */
  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => {
      if (w.exitCode !== null || w.signalCode !== null) resolve();
      else w.once('exit', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      w.on('message', (m) => {
        if (m === 'closed') {
          clearTimeout(t);
          resolve();
        }
      });
      w.send('close');
    });
    w.disconnect();
    const t = setTimeout(() => w.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * The runner atcad uses: from the helper process when it is bundled beside this module (a
 * built atcad), else in-process (tests that run the sources; the behaviour is the same).
 */
export function defaultRunner(): CommandRunner {
  const file = fileURLToPath(new URL('./command-worker.mjs', import.meta.url));
  return existsSync(file) ? new WorkerRunner(file).run : runCommand;
}
