import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { AtcaError } from '../errors.js';
import type { CommandRunner, RunResult } from './command-runner.js';

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After SIGKILL, how long the output pipes may stay open (held by something that escaped the group). */
const CLOSE_WAIT_MS = 1000;

/** Process groups of commands running now: killed if atcad exits before they do. */
const running = new Set<number>();
let exitHook = false;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function clip(s: unknown, max: number): string {
  const t = typeof s === 'string' ? s : '';
  return t.length > max ? `${t.slice(0, max)}\n[… ${t.length - max} characters dropped]` : t;
}

/**
 * Runs a Pacemaker tool with execa: no shell, exactly the environment given (nothing of
 * atcad's inherited), stdin /dev/null, output bounded, in a process group of its own. A
 * timeout is a failure: SIGTERM to the group, SIGKILL after the grace period, and the result
 * comes back even if something that escaped the group keeps the pipes open. Never rejects.
 *
 * A Perl process launcher with processes forked ahead of need used to save the fork of atcad
 * here: 2.5 ms on a 20–25 ms path from trap to attribute in the CIB, 11–12 % at the median and
 * 3–8 % at p90/p99 under load (docs/benchmarks.md). Its death made fences under way uncertain
 * and it was a process spawned at construction; it is gone.
 */
export const execaRunner: CommandRunner = async (argv, opts) => {
  const [file, ...args] = argv;
  if (file === undefined || file === '') {
    return {
      exitCode: null,
      signal: null,
      timedOut: false,
      durationMs: 0,
      stdout: '',
      stderr: '',
      error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'empty command'),
    };
  }
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const pid of running) killGroup(pid, 'SIGKILL');
    });
  }
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const grace = opts.killGraceMs ?? DEFAULT_GRACE_MS;
  const started = performance.now();
  const spawnedAt = performance.timeOrigin + started;
  const sub = execa(file, args, {
    env: { ...opts.env },
    extendEnv: false,
    stdin: 'ignore',
    detached: true,
    cleanup: false,
    maxBuffer: max,
    reject: false,
    stripFinalNewline: false,
  });
  const pid = sub.pid;
  if (pid !== undefined) running.add(pid);
  let timedOut = false;
  let lastSignal: NodeJS.Signals = 'SIGTERM';
  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setTimeout(() => {
      timedOut = true;
      killGroup(pid, 'SIGTERM');
      timers.push(
        setTimeout(() => {
          lastSignal = 'SIGKILL';
          killGroup(pid, 'SIGKILL');
          timers.push(
            setTimeout(() => {
              sub.stdout?.destroy();
              sub.stderr?.destroy();
            }, CLOSE_WAIT_MS),
          );
        }, grace),
      );
    }, opts.timeoutMs),
  );
  const r = await sub;
  for (const t of timers) clearTimeout(t);
  if (pid !== undefined) {
    running.delete(pid);
    // Whatever the tool left behind in its group goes with it.
    if (timedOut) killGroup(pid, 'SIGKILL');
  }
  const durationMs = Math.round(performance.now() - started);
  const stdout = clip(r.stdout, max);
  const stderr = clip(r.stderr, max);
  let error: AtcaError | undefined;
  // execa sets `code` (ENOENT, EACCES) only when the process could not be started.
  const cause = r.cause as NodeJS.ErrnoException | undefined;
  if (timedOut) {
    error = new AtcaError(
      'ATCA_ERR_PCMK_TIMEOUT',
      `${basename(file)} did not finish within ${opts.timeoutMs} ms and was killed (${r.signal ?? lastSignal})`,
    );
  } else if (r.exitCode === undefined && r.signal === undefined && cause?.code) {
    error = new AtcaError('ATCA_ERR_PCMK_FAILED', `cannot run ${file}: ${cause.code}`, { cause });
  } else if (r.isMaxBuffer) {
    // execa stops reading past maxBuffer, and the tool gets EPIPE: its answer is cut short.
    error = new AtcaError(
      'ATCA_ERR_PCMK_FAILED',
      `${basename(file)} wrote more than ${max} bytes; the rest was dropped`,
    );
  }
  const result: RunResult = {
    exitCode: r.exitCode ?? null,
    signal: (r.signal as NodeJS.Signals | undefined) ?? (timedOut && r.exitCode === undefined ? lastSignal : null),
    timedOut,
    durationMs,
    stdout,
    stderr,
    ...(error ? { error } : {}),
    spawnedAt,
  };
  return result;
};
