import { AtcaError, isAtcaError } from '../errors.js';
import {
  type ActionResult,
  classifyExit,
  DEFAULT_TOOL_PATHS,
  resolveArgv,
  type ToolArgv,
  type ToolPaths,
  toolMessage,
} from './actuator.js';
import type { CommandRunner } from './command-runner.js';
import { execaRunner } from './execa-runner.js';

/** What tests (and only tests, normally) replace: the runner and where the tools live. */
export interface ActuatorDeps {
  readonly runner?: CommandRunner;
  readonly toolPaths?: Partial<ToolPaths>;
  readonly killGraceMs?: number;
}

export interface ToolRunnerOptions extends ActuatorDeps {
  readonly commandTimeoutMs: number;
  /** Offline: the CIB file every tool reads and writes (CIB_file). */
  readonly cibFile?: string;
  /** Run one command at a time (offline: concurrent writers of one CIB file lose updates). */
  readonly serialize?: boolean;
}

export function toolPaths(partial: Partial<ToolPaths> | undefined): ToolPaths {
  return { ...DEFAULT_TOOL_PATHS, ...partial };
}

/**
 * The tools' whole environment. Nothing is inherited: a CIB_file or CIB_shadow left in
 * atcad's own environment would silently point a live daemon at a file.
 */
export function toolEnv(cibFile?: string): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  if (cibFile !== undefined) env.CIB_file = cibFile;
  return env;
}

export function failedBeforeRunning(e: unknown): ActionResult {
  const error = isAtcaError(e) ? e : new AtcaError('ATCA_ERR_INTERNAL', String(e), { cause: e });
  return { ok: false, command: [], exitCode: null, durationMs: 0, stdout: '', stderr: '', error };
}

/** Runs the tools for the live and offline actuators and turns what happened into ActionResults. */
export class ToolRunner {
  readonly #opts: ToolRunnerOptions;
  readonly #paths: ToolPaths;
  readonly #env: Record<string, string>;
  readonly #runner: CommandRunner;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ToolRunnerOptions) {
    this.#opts = opts;
    this.#paths = toolPaths(opts.toolPaths);
    this.#env = toolEnv(opts.cibFile);
    this.#runner = opts.runner ?? execaRunner;
  }

  /** Builds the argv (a bad node name fails here, before anything runs) and runs it. */
  act(build: () => ToolArgv, timeoutMs = this.#opts.commandTimeoutMs): Promise<ActionResult> {
    let argv: ToolArgv;
    try {
      argv = build();
    } catch (e) {
      return Promise.resolve(failedBeforeRunning(e));
    }
    return this.#exclusive(() => this.#run(argv, timeoutMs));
  }

  /** For the reads: rejects with the AtcaError, or with what `parse` throws. */
  async query<T>(build: () => ToolArgv, parse: (stdout: string) => T): Promise<T> {
    const r = await this.act(build);
    if (r.error) throw r.error;
    return parse(r.stdout);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#opts.serialize) return fn();
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #run(argv: ToolArgv, timeoutMs: number): Promise<ActionResult> {
    const command = resolveArgv(argv, this.#paths);
    const r = await this.#runner(command, { timeoutMs, env: this.#env, killGraceMs: this.#opts.killGraceMs });
    let error = r.error;
    if (!error && r.exitCode !== null) error = classifyExit(argv[0], r.exitCode, toolMessage(r.stdout, r.stderr));
    if (!error && r.exitCode === null) {
      error = new AtcaError('ATCA_ERR_PCMK_FAILED', `${argv[0]} was killed by ${r.signal ?? 'a signal'}`);
    }
    return {
      ok: error === undefined,
      command,
      exitCode: r.exitCode,
      durationMs: r.durationMs,
      stdout: r.stdout,
      stderr: r.stderr,
      ...(error ? { error } : {}),
    };
  }
}
