import type { AtcaError } from '../errors.js';

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
  /** Wall-clock ms (sub-ms precision) when the process was spawned. */
  readonly spawnedAt?: number;
}

/** The result of a command that never ran. */
export function failedRun(error: AtcaError): RunResult {
  return { exitCode: null, signal: null, timedOut: false, durationMs: 0, stdout: '', stderr: '', error };
}

/** Runs argv (argv[0] is the executable) and never rejects. Injectable so tests can stand in. */
export type CommandRunner = (argv: readonly string[], opts: RunOptions) => Promise<RunResult>;
