import { ConfigError, checkFiles, loadConfigFile, redactConfig } from '../config/load.js';

/**
 * `atcad --check-config FILE`: validates the file (every issue with its path and reason), then
 * checks the files and variables it names as the daemon will use them (checkFiles: every
 * secret readable and safely stored, every ipmitoolPath a trustworthy executable; never
 * printing a secret), and prints the effective configuration with defaults filled in and
 * secrets redacted. Exit 0 or 1.
 */
export function checkConfigCommand(
  file: string,
  out: (s: string) => void,
  err: (s: string) => void,
  env = process.env,
): number {
  try {
    const cfg = loadConfigFile(file);
    const issues = checkFiles(cfg, env);
    if (issues.length > 0) {
      err(`${file}: ${issues.length} problem(s) with the secrets and programs it names:`);
      for (const i of issues) err(`  ${i.path}: ${i.message} [${i.code}]`);
      return 1;
    }
    out(
      `${file}: valid (${cfg.shelves.length} shelf/shelves, ${cfg.shelves.reduce((n, s) => n + Object.keys(s.slots).length, 0)} slots, pacemaker mode ${cfg.pacemaker.mode})`,
    );
    out(JSON.stringify(redactConfig(cfg), null, 2));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`${e.message} [${e.code}]`);
      return 1;
    }
    throw e;
  }
}
