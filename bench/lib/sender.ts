// Drives bench/lib/sender-main.ts (bundled as dist/bench-sender.mjs) in a process of its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrapTemplate } from '../../src/sim/trap-datagram.js';
import { killPid, onCleanup } from './cleanup.js';

export type SenderCommand =
  | { op: 'templates'; templates: { datagram: string; petAt: number; specific: number }[] }
  /**
   * rate 0: as fast as the process can, up to 60,000 per template per second (16-bit PET
   * sequence numbers); ends after durationMs or count, or at 'stop'.
   */
  | { op: 'start'; host: string; port: number; rate: number; durationMs?: number; count?: number }
  | { op: 'retarget'; port: number }
  | { op: 'stop' };

export type SenderReport =
  | { op: 'ready' }
  | { op: 'ok' }
  | { op: 'error'; message: string }
  | { op: 'done'; sent: number; errors: number; ms: number };

export interface SendResult {
  readonly sent: number;
  readonly errors: number;
  readonly ms: number;
}

/** The bundle next to the running benchmark's own (both live in dist/). */
export const SENDER_BUNDLE = fileURLToPath(new URL('./bench-sender.mjs', import.meta.url));

export class TrapSender {
  readonly #child: ChildProcess;
  readonly #stop: () => Promise<void>;
  #running: Promise<SendResult> | undefined;

  private constructor(child: ChildProcess, stop: () => Promise<void>) {
    this.#child = child;
    this.#stop = stop;
  }

  /**
   * Starts the sender through `prefix` (e.g. ['taskset', '-c', '0'] or nsenter into a network
   * namespace; it must exec the command in place, so that the PID is the sender's).
   */
  static async start(prefix: readonly string[], templates: readonly TrapTemplate[]): Promise<TrapSender> {
    const [file, ...args] = [...prefix, process.execPath, SENDER_BUNDLE];
    const child = spawn(file!, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const stop = onCleanup(`trap sender ${child.pid}`, () => killPid(child.pid));
    const s = new TrapSender(child, stop);
    try {
      await s.#next('ready', 10_000);
      s.#send({
        op: 'templates',
        templates: templates.map((t) => ({
          datagram: t.datagram.toString('base64'),
          petAt: t.petAt,
          specific: t.specific,
        })),
      });
      await s.#next('ok', 10_000);
    } catch (e) {
      await stop();
      throw e;
    }
    return s;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #send(c: SenderCommand): void {
    this.#child.send(c);
  }

  #next<K extends SenderReport['op']>(op: K, timeoutMs: number): Promise<Extract<SenderReport, { op: K }>> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: SenderReport) => {
        if (m.op === 'error') {
          cleanup();
          reject(new Error(`sender: ${m.message}`));
        } else if (m.op === op) {
          cleanup();
          resolve(m as Extract<SenderReport, { op: K }>);
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error('the sender exited'));
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`the sender did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(t);
        this.#child.off('message', onMsg);
        this.#child.off('exit', onExit);
      };
      this.#child.on('message', onMsg);
      this.#child.once('exit', onExit);
    });
  }

  /** Starts sending; `done()` resolves when the job ends (by its limits or `stop()`). */
  begin(port: number, rate: number, limits: { durationMs?: number; count?: number } = {}, host = '127.0.0.1'): void {
    if (this.#running) throw new Error('the sender is already sending');
    const maxMs = limits.durationMs ?? 24 * 3600_000;
    this.#running = this.#next('done', maxMs + 60_000);
    this.#send({ op: 'start', host, port, rate, ...limits });
  }

  /** Sends to another port from now on, at the same rate. */
  async retarget(port: number): Promise<void> {
    const ok = this.#next('ok', 10_000);
    this.#send({ op: 'retarget', port });
    await ok;
  }

  async done(): Promise<SendResult> {
    const r = this.#running;
    if (!r) throw new Error('the sender is not sending');
    try {
      return await r;
    } finally {
      this.#running = undefined;
    }
  }

  async stop(): Promise<SendResult> {
    if (!this.#running) return { sent: 0, errors: 0, ms: 0 };
    this.#send({ op: 'stop' });
    return this.done();
  }

  /** Sends exactly `count` as fast as it can (rate 0) or at `rate`, and waits for the end. */
  async burst(port: number, count: number, rate = 0): Promise<SendResult> {
    this.begin(port, rate, { count });
    return this.done();
  }

  async close(): Promise<void> {
    await this.#stop();
  }
}
