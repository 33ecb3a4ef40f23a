import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { AtcaError } from '../errors.js';
import type { CommandRunner, RunResult } from './command-runner.js';

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}\n[… ${s.length - max} characters dropped]` : s;
}

/**
 * Runs a Pacemaker tool with execa: no shell, exactly the environment given (nothing of
 * atcad's inherited), stdin /dev/null, a timeout that is a failure (SIGTERM, then SIGKILL after
 * the grace period), output bounded, and killed if atcad exits first. Never rejects. The
 * Pacemaker tools start no processes of their own, so the tool's own PID is what is killed.
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
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const started = performance.now();
  const spawnedAt = performance.timeOrigin + started;
  const r = await execa(file, args, {
    env: { ...opts.env },
    extendEnv: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: opts.killGraceMs ?? DEFAULT_GRACE_MS,
    maxBuffer: max,
    cleanup: true,
    reject: false,
    stripFinalNewline: false,
  });
  const durationMs = Math.round(performance.now() - started);
  const stdout = clip(typeof r.stdout === 'string' ? r.stdout : '', max);
  const stderr = clip(typeof r.stderr === 'string' ? r.stderr : '', max);
  let error: AtcaError | undefined;
  // execa sets `code` (ENOENT, EACCES) only when the process could not be started.
  const cause = r.cause as NodeJS.ErrnoException | undefined;
  if (r.timedOut) {
    error = new AtcaError(
      'ATCA_ERR_PCMK_TIMEOUT',
      `${basename(file)} did not finish within ${opts.timeoutMs} ms and was killed (${r.signal ?? 'SIGTERM'})`,
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
    signal: (r.signal as NodeJS.Signals | undefined) ?? null,
    timedOut: r.timedOut,
    durationMs,
    stdout,
    stderr,
    ...(error ? { error } : {}),
    spawnedAt,
  };
  return result;
};
