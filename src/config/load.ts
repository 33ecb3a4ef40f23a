import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { parseTokens } from '../api/tokens.js';
import { AtcaError } from '../errors.js';
import { crossChecks } from './cross-checks.js';
import { executableProblems, readSecretFile } from './files.js';
import { ConfigError, type ConfigIssue, codeOf } from './issues.js';
import { type AtcadConfig, configSchema, type SecretRef } from './schema.js';

export { ConfigError, type ConfigIssue } from './issues.js';

/** zod's issues as path + message; a bad record key (a slot) gives the key check's own reasons. */
function issuesOf(e: z.ZodError): ConfigIssue[] {
  return e.issues.map((i) => {
    const nested = i.code === 'invalid_key' ? i.issues.map((n) => n.message) : [];
    return { path: i.path.map(String).join('.'), message: nested.length > 0 ? nested.join('; ') : i.message };
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/**
 * Parses and validates YAML text: the schema (each key), then the checks across objects (a
 * shelf name, trap source, node or SNMPv3 user used twice). The result is deeply frozen.
 * Nothing on disk is looked at here: see checkFiles.
 */
export function parseConfig(text: string, file = 'config'): AtcadConfig {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(file, [{ path: '', message: `not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const r = configSchema.safeParse(doc ?? {});
  if (!r.success) throw new ConfigError(file, issuesOf(r.error));
  const extra = crossChecks(r.data);
  if (extra.length > 0) throw new ConfigError(file, extra);
  return deepFreeze(r.data);
}

/** Reads and validates a configuration file (parseConfig); the files it names are not checked. */
export function loadConfigFile(file: string): AtcadConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` },
    ]);
  }
  return parseConfig(text, file);
}

type SecretResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly problems: readonly string[] };

function secretOf(ref: SecretRef, env: NodeJS.ProcessEnv, whole = false): SecretResult {
  if (ref.env !== undefined) {
    const v = env[ref.env];
    if (v === undefined || v === '') return { ok: false, problems: [`environment variable ${ref.env} is not set`] };
    return { ok: true, value: v };
  }
  return readSecretFile(ref.file!, whole);
}

/**
 * Reads a secret from its file (first line, trailing newline removed) or environment variable.
 * A file must pass the rule of src/config/files.ts (regular file, owned by root or this user,
 * mode & 077 == 0, first line not empty); otherwise ATCA_ERR_CONFIG_SECRET names the file and
 * the fix, never the value.
 */
export function readSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env, whole = false): string {
  const r = secretOf(ref, env, whole);
  if (!r.ok) throw new AtcaError('ATCA_ERR_CONFIG_SECRET', `${where}: ${r.problems.join('; ')}`);
  return r.value;
}

/** RFC 3414 §11.2 (and the trap receiver): SNMPv3 pass phrases have at least 8 characters. */
const MIN_V3_KEY_LENGTH = 8;

/**
 * Every secret the configuration names, read and checked (values discarded): every problem,
 * each with its config path and ATCA_ERR_CONFIG_SECRET. Empty means every secret is usable.
 */
export function checkSecrets(cfg: AtcadConfig, env: NodeJS.ProcessEnv = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (ref: SecretRef, path: string, minLength = 1) => {
    const r = secretOf(ref, env);
    if (!r.ok) {
      for (const message of r.problems) issues.push({ path, message, code: 'ATCA_ERR_CONFIG_SECRET' });
    } else if (r.value.length < minLength) {
      const from = ref.env !== undefined ? `environment variable ${ref.env}` : ref.file!;
      issues.push({
        path,
        message: `${from}: an SNMPv3 key needs at least ${minLength} characters (RFC 3414)`,
        code: 'ATCA_ERR_CONFIG_SECRET',
      });
    }
  };
  for (const [i, s] of cfg.shelves.entries()) check(s.ipmi.password, `shelves.${i}.ipmi.password`);
  for (const [i, c] of cfg.traps.communities.entries()) check(c, `traps.communities.${i}`);
  for (const [i, u] of cfg.traps.v3Users.entries()) {
    check(u.authKey, `traps.v3Users.${i}.authKey`, MIN_V3_KEY_LENGTH);
    check(u.privKey, `traps.v3Users.${i}.privKey`, MIN_V3_KEY_LENGTH);
  }
  // Files read whole: every line of a token file, every line of a PEM key.
  const whole = (ref: SecretRef, path: string, parse?: (v: string) => string[]) => {
    const r = secretOf(ref, env, true);
    const problems = r.ok ? (parse?.(r.value) ?? []) : r.problems;
    for (const message of problems) issues.push({ path, message, code: 'ATCA_ERR_CONFIG_SECRET' });
  };
  if (cfg.api.enabled && cfg.api.tokens) whole(cfg.api.tokens, 'api.tokens', (v) => parseTokens(v).problems);
  if (cfg.api.enabled && cfg.api.tls) {
    whole(cfg.api.tls.key, 'api.tls.key');
    // The certificate is public (any mode), but it must be there.
    try {
      accessSync(cfg.api.tls.cert, constants.R_OK);
      if (!statSync(cfg.api.tls.cert).isFile())
        throw Object.assign(new Error('not a file'), { code: 'not a regular file' });
    } catch (e) {
      issues.push({
        path: 'api.tls.cert',
        message: `${cfg.api.tls.cert}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        code: 'ATCA_ERR_CONFIG_SECRET',
      });
    }
  }
  return issues;
}

/**
 * Every program the configuration names (each shelf's ipmitoolPath): it must exist, be a
 * regular file atcad can execute, owned by root or this user and not writable by group or
 * others. Issues carry ATCA_ERR_IPMITOOL_MISSING.
 */
export function checkExecutables(cfg: AtcadConfig): ConfigIssue[] {
  return cfg.shelves.flatMap((s, i) =>
    executableProblems(
      s.ipmi.ipmitoolPath,
      'the ipmitool program',
      'install ipmitool, or set ipmitoolPath to where it is',
    ).map((message) => ({
      path: `shelves.${i}.ipmi.ipmitoolPath`,
      message,
      code: 'ATCA_ERR_IPMITOOL_MISSING' as const,
    })),
  );
}

/**
 * The checks that need this host's filesystem and environment, for `--check-config` and daemon
 * start alike: checkSecrets then checkExecutables. Every problem at once, each with its path.
 */
export function checkFiles(cfg: AtcadConfig, env: NodeJS.ProcessEnv = process.env): ConfigIssue[] {
  return [...checkSecrets(cfg, env), ...checkExecutables(cfg)];
}

/**
 * What the daemon loads at start: loadConfigFile, then checkFiles. Throws one ConfigError with
 * every problem (code ATCA_ERR_CONFIG_INVALID for the file itself; for the files it names,
 * ATCA_ERR_CONFIG_SECRET or ATCA_ERR_IPMITOOL_MISSING when all share it, each line its own).
 */
export function loadCheckedConfig(file: string, env: NodeJS.ProcessEnv = process.env): AtcadConfig {
  const cfg = loadConfigFile(file);
  const issues = checkFiles(cfg, env);
  if (issues.length > 0) throw new ConfigError(file, issues, codeOf(issues));
  return cfg;
}

/**
 * The configuration as it may be shown (API, logs, --check-config): secret references are
 * replaced by where they come from, never their values (which this function never reads).
 */
export function redactConfig(cfg: AtcadConfig): unknown {
  const ref = (r: SecretRef) => (r.env !== undefined ? `<secret from env ${r.env}>` : `<secret from file ${r.file}>`);
  return {
    ...cfg,
    shelves: cfg.shelves.map((s) => ({ ...s, ipmi: { ...s.ipmi, password: ref(s.ipmi.password) } })),
    traps: {
      ...cfg.traps,
      communities: cfg.traps.communities.map(ref),
      v3Users: cfg.traps.v3Users.map((u) => ({ ...u, authKey: ref(u.authKey), privKey: ref(u.privKey) })),
    },
  };
}
