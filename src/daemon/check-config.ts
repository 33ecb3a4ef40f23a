import { ConfigError, checkSecrets, loadConfigFile, redactConfig } from '../config/load.js';

/**
 * `atcad --check-config FILE`: validates the file (every issue with its path and reason),
 * checks that every secret it names can be read (never printing one), and prints the
 * effective configuration with defaults filled in and secrets redacted. Exit 0 or 1.
 */
export function checkConfigCommand(
  file: string,
  out: (s: string) => void,
  err: (s: string) => void,
  env = process.env,
): number {
  try {
    const cfg = loadConfigFile(file);
    const secretIssues = checkSecrets(cfg, env);
    if (secretIssues.length > 0) {
      err(`${file}: secrets that cannot be read [ATCA_ERR_CONFIG_SECRET]:`);
      for (const i of secretIssues) err(`  ${i.message}`);
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
