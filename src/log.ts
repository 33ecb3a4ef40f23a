/**
 * The one logging interface every part of atca-fence writes to: the fence agent implements it
 * in the family's stderr/debug-file form (src/fence/log.ts), atcad with pino
 * (src/daemon/logger.ts). Nothing that reaches a logger may hold a secret.
 */
export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

/** A logger that says nothing: for tests that look at decisions and the journal instead. */
export const SILENT: Logger = Object.freeze({
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
});
