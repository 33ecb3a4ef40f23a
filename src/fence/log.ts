import { appendFileSync } from 'node:fs';
import type { Logger } from '../log.js';

/**
 * The agent's log: errors and warnings to stderr (unless quiet), debug lines to stderr when
 * verbose and to debug_file when set — in the family's "time LEVEL: message" form.
 * Nothing that reaches here may hold a secret: the password is never put in a message.
 */
export type AgentLog = Logger;

export function createLog(o: { quiet: boolean; verbose: boolean; debugFile?: string | undefined }): AgentLog {
  const line = (level: string, msg: string) => `${new Date().toISOString()} ${level}: ${msg}\n`;
  const toFile = (l: string) => {
    if (!o.debugFile) return;
    try {
      appendFileSync(o.debugFile, l, { mode: 0o600 });
    } catch {
      // A debug file we cannot write must not turn a fence into a failure.
    }
  };
  const emit = (level: string, msg: string, toStderr: boolean) => {
    const l = line(level, msg);
    if (toStderr) process.stderr.write(l);
    toFile(l);
  };
  return {
    error: (m) => emit('ERROR', m, !o.quiet),
    warn: (m) => emit('WARNING', m, !o.quiet),
    info: (m) => emit('INFO', m, o.verbose),
    debug: (m) => emit('DEBUG', m, o.verbose),
  };
}
