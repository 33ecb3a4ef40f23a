import { execFileSync } from 'node:child_process';
import type { Logger } from '../../src/log.js';

/**
 * Polls `f` until it gives something other than undefined/false, or fails after `ms` with
 * what it was waiting for. A deadline, never a fixed sleep: the box may be loaded.
 */
export async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A log that keeps quiet: for tests that look at decisions and the journal instead. */
export const QUIET: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/** Whether process `pid` exists (a zombie not yet reaped counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process whose command line matches `pattern` (pgrep -f) is running. */
export function running(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern]);
    return true;
  } catch {
    return false;
  }
}

/**
 * A `sleep` that stands in for a hung program, with a duration no other test picks: test files
 * run in parallel, and `running()` must not see another file's stand-in (nor miss its own).
 */
export function hungSleep(): { command: string; pattern: string } {
  const secs = 100_000 + Math.floor(Math.random() * 800_000) * 10 + (process.pid % 10);
  return { command: `sleep ${secs}`, pattern: `^sleep ${secs}$` };
}
