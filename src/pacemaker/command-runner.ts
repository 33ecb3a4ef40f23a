import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { AtcaError } from '../errors.js';

export interface RunOptions {
  /** The command is killed after this long, and that is a failure (ATCA_ERR_PCMK_TIMEOUT). */
  readonly timeoutMs: number;
  /** The whole environment of the command: nothing is inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** After SIGTERM at the timeout, SIGKILL follows this much later. Default 2000 ms. */
  readonly killGraceMs?: number;
  /** Output kept per stream; the rest is dropped and marked. Default 1 MiB. */
  readonly maxOutputBytes?: number;
}

/** What runCommand needs of a process: a ChildProcess, or one started elsewhere (process-launcher.ts). */
export interface LaunchedProcess {
  /** Known once the process exists; its process group has the same id. */
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  // 'spawn' (optionally with when it was told the command and when its exec was seen done,
  // epoch ms), 'error' (could not start), 'exit' (code, signal), 'close' (exited and its
  // output streams ended).
  // biome-ignore lint/suspicious/noExplicitAny: the events' argument lists differ; ChildProcess's own signature.
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** Where a process can come from instead of a spawn() in this process. */
export interface ProcessSource {
  /** A process running `file args` in its own process group, with piped stdout and stderr. */
  take(file: string, args: readonly string[], env: Readonly<Record<string, string>>): LaunchedProcess | undefined;
}

export interface RunResult {
  /** null when the command was ended by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** ATCA_ERR_PCMK_TIMEOUT after a timeout, ATCA_ERR_PCMK_FAILED if the command could not start. */
  readonly error?: AtcaError;
  /**
   * Wall-clock ms (sub-ms precision) when a process was told to run the command (from the
   * launcher's pool) or was spawned, and when its exec was seen done (the program running).
   */
  readonly spawnedAt?: number;
  readonly execedAt?: number;
}

/** The result of a command that never ran. */
export function failedRun(error: AtcaError): RunResult {
  return { exitCode: null, signal: null, timedOut: false, durationMs: 0, stdout: '', stderr: '', error };
}

/** Runs argv (argv[0] is the executable) and never rejects. Injectable so tests can stand in. */
export type CommandRunner = (argv: readonly string[], opts: RunOptions) => Promise<RunResult>;

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After the process exits, how long its pipes may stay open (held by an escaped grandchild). */
export const CLOSE_WAIT_MS = 1000;

class BoundedText {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    const room = this.max - this.#kept;
    if (room <= 0) {
      this.#dropped += chunk.length;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(part);
    this.#kept += part.length;
    this.#dropped += chunk.length - part.length;
  }

  text(): string {
    const s = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? `${s}\n[… ${this.#dropped} bytes dropped]` : s;
  }
}

/**
 * execFile semantics without a shell: spawn, in its own process group so that the timeout
 * kills whatever the tool started too (SIGTERM, then SIGKILL after the grace period).
 */
export const runCommand: CommandRunner = (argv, opts) => runWith(undefined, argv, opts);

/** runCommand, taking its processes from `source` when it has one ready. */
export const runCommandFrom =
  (source: ProcessSource): CommandRunner =>
  (argv, opts) =>
    runWith(source, argv, opts);

function runWith(source: ProcessSource | undefined, argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const [file, ...args] = argv;
    const grace = opts.killGraceMs ?? DEFAULT_GRACE_MS;
    const out = new BoundedText(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const err = new BoundedText(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    if (file === undefined || file === '') {
      resolve(failedRun(new AtcaError('ATCA_ERR_PCMK_FAILED', 'empty command')));
      return;
    }
    const name = basename(file);
    const child: LaunchedProcess =
      source?.take(file, args, opts.env) ??
      spawn(file, args, {
        env: { ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        shell: false,
        windowsHide: true,
      });
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    // Comparable across processes: wall clock, sub-millisecond.
    let spawnedAt: number | undefined;
    let execedAt: number | undefined;
    let running = false;
    let timedOut = false;
    let spawnError: Error | undefined;
    let done = false;
    let exitCode: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;

    const signalGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(closeTimer);
      stdout.destroy();
      stderr.destroy();
      let error: AtcaError | undefined;
      if (spawnError) {
        error = new AtcaError('ATCA_ERR_PCMK_FAILED', `cannot run ${file}: ${spawnError.message}`, {
          cause: spawnError,
        });
      } else if (timedOut) {
        error = new AtcaError(
          'ATCA_ERR_PCMK_TIMEOUT',
          `${name} did not finish within ${opts.timeoutMs} ms and was killed (${signal ?? 'SIGTERM'})`,
        );
      }
      resolve({
        exitCode,
        signal,
        timedOut,
        durationMs: Math.round(performance.now() - started),
        stdout: out.text(),
        stderr: err.text(),
        ...(error ? { error } : {}),
        ...(spawnedAt === undefined ? {} : { spawnedAt }),
        ...(execedAt === undefined ? {} : { execedAt }),
      });
    };

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => {
        signalGroup('SIGKILL');
        // Not even SIGKILL made it report its end (a launcher that is stuck): a timeout is a
        // failure either way, and nothing waits on it for ever.
        closeTimer ??= setTimeout(finish, CLOSE_WAIT_MS);
      }, grace);
    }, opts.timeoutMs);

    child.on('spawn', (handed?: number, execed?: number) => {
      running = true;
      const now = performance.timeOrigin + performance.now();
      spawnedAt = handed ?? now;
      execedAt = execed ?? now;
    });
    stdout.on('data', (c: Buffer) => out.add(c));
    stderr.on('data', (c: Buffer) => err.add(c));
    child.on('error', (e) => {
      // Only a failure to start ends the run here; a failed kill() is not one.
      if (!running) {
        spawnError = e;
        finish();
      }
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      signal = sig;
      // A timed-out tool's helpers die with it; then give the pipes a moment to drain.
      if (timedOut) signalGroup('SIGKILL');
      clearTimeout(closeTimer);
      closeTimer = setTimeout(finish, CLOSE_WAIT_MS);
    });
    child.on('close', finish);
  });
}
