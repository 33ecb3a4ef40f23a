import pino from 'pino';
import type { Logger } from '../log.js';

/**
 * atcad's log: pino's JSON lines on stdout (journald or a collector takes them from there),
 * written synchronously so that the last lines before a crash are not lost in a buffer. The
 * messages never hold a secret (every caller's rule); pino's own redaction guards the fields.
 */
export function createDaemonLogger(o: { verbose: boolean }): Logger & { readonly pino: pino.Logger } {
  const p = pino(
    {
      name: 'atcad',
      level: o.verbose ? 'debug' : 'info',
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'community', '*.authKey', '*.privKey'], censor: '[secret]' },
    },
    pino.destination({ fd: 1, sync: true }),
  );
  return {
    pino: p,
    error: (m) => p.error(m),
    warn: (m) => p.warn(m),
    info: (m) => p.info(m),
    debug: (m) => p.debug(m),
  };
}
