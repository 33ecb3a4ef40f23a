import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { AGENT, type AgentResult } from './agent.js';
import { until } from './wait.js';

/**
 * fence_atca started as Pacemaker starts it (key=value lines on stdin), but watched while it
 * runs: its stderr so far, its children, and its process group (it leads its own, so a test
 * can tell whether anything it started outlives it).
 */
export class RunningAgent {
  readonly child: ChildProcess;
  readonly done: Promise<AgentResult>;
  #stdout = '';
  #stderr = '';

  constructor(input: Record<string, string | number>, env: NodeJS.ProcessEnv = {}) {
    const t0 = performance.now();
    this.child = spawn(AGENT, [], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.#stdout += d;
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
    });
    this.done = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code) =>
        resolve({ code, stdout: this.#stdout, stderr: this.#stderr, ms: performance.now() - t0 }),
      );
    });
    this.child.stdin!.end(
      Object.entries(input)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Waits until its stderr matches `re` (the agent must run with verbose=1 for debug lines);
   * fails at once, with what it printed, if the agent exits first.
   */
  waitFor(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    return until(
      `fence_atca stderr to match ${re}`,
      () => {
        const m = this.#stderr.match(re);
        if (m) return m;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(
            `fence_atca exited (${this.child.exitCode ?? this.child.signalCode}) first:\n${this.#stderr}`,
          );
        }
        return undefined;
      },
      ms,
    );
  }

  /** Kills the agent, and then anything left in its process group: the cleanup of a test, pass or fail. */
  async cleanup(): Promise<void> {
    for (const pid of [this.pid, ...processesInGroup(this.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await this.done.catch(() => undefined);
  }
}

/** The PIDs of `pid`'s children (as /proc lists them), live or not yet reaped. */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((s) => s !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, … */
function statOf(pid: number): { state: string; pgrp: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process: a zombie (dead, not yet reaped by whoever adopted it) is not. */
export function liveProcess(pid: number): boolean {
  const s = statOf(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Live processes in process group `pgid` (zombies excluded), by scanning /proc. */
export function processesInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (s && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') out.push(Number(name));
  }
  return out;
}

/** The command name (comm) of a process, if it exists. */
export function commOf(pid: number): string | undefined {
  return statOf(pid)?.comm;
}
