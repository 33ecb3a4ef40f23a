import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { AtcaError } from '../errors.js';
import { type AtcadConfig, configSchema, type SecretRef } from './schema.js';

/** One problem with a configuration: where (a dotted path) and why. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends AtcaError {
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: readonly ConfigIssue[]) {
    super(
      'ATCA_ERR_CONFIG_INVALID',
      `${file}:\n${issues.map((i) => `  ${i.path || '(top)'}: ${i.message}`).join('\n')}`,
    );
    this.issues = issues;
  }
}

function issuesOf(e: z.ZodError): ConfigIssue[] {
  return e.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** Parses and validates YAML text; the result is deeply frozen. Secrets are not read here. */
export function parseConfig(text: string, file = 'config'): AtcadConfig {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(file, [{ path: '', message: `not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const r = configSchema.safeParse(doc ?? {});
  if (!r.success) throw new ConfigError(file, issuesOf(r.error));
  const names = new Set<string>();
  const extra: ConfigIssue[] = [];
  r.data.shelves.forEach((s, i) => {
    if (names.has(s.name)) extra.push({ path: `shelves.${i}.name`, message: `duplicate shelf name '${s.name}'` });
    names.add(s.name);
  });
  const nodes = new Map<string, string>();
  for (const [i, s] of r.data.shelves.entries()) {
    for (const [slot, v] of Object.entries(s.slots)) {
      const where = `${s.name}/${slot}`;
      const other = nodes.get(v.node);
      if (other)
        extra.push({
          path: `shelves.${i}.slots.${slot}.node`,
          message: `node '${v.node}' is already mapped to ${other}`,
        });
      nodes.set(v.node, where);
    }
  }
  if (extra.length > 0) throw new ConfigError(file, extra);
  return deepFreeze(r.data);
}

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

/** Reads a secret from its file (first line, trailing newline removed) or environment variable. */
export function readSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.env !== undefined) {
    const v = env[ref.env];
    if (v === undefined || v === '')
      throw new AtcaError('ATCA_ERR_CONFIG_SECRET', `${where}: environment variable ${ref.env} is not set`);
    return v;
  }
  let text: string;
  try {
    text = readFileSync(ref.file!, 'utf8');
  } catch (e) {
    throw new AtcaError(
      'ATCA_ERR_CONFIG_SECRET',
      `${where}: ${ref.file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  const v = text.split('\n')[0]!.replace(/\r$/, '');
  if (v === '') throw new AtcaError('ATCA_ERR_CONFIG_SECRET', `${where}: ${ref.file} is empty`);
  return v;
}

/** Every secret the configuration names, checked readable (for --check-config); values are discarded. */
export function checkSecrets(cfg: AtcadConfig, env: NodeJS.ProcessEnv = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (ref: SecretRef, path: string) => {
    try {
      readSecret(ref, path, env);
    } catch (e) {
      issues.push({ path, message: (e as AtcaError).detail });
    }
  };
  for (const [i, s] of cfg.shelves.entries()) check(s.ipmi.password, `shelves.${i}.ipmi.password`);
  for (const [i, c] of cfg.traps.communities.entries()) check(c, `traps.communities.${i}`);
  for (const [i, u] of cfg.traps.v3Users.entries()) {
    check(u.authKey, `traps.v3Users.${i}.authKey`);
    check(u.privKey, `traps.v3Users.${i}.privKey`);
  }
  return issues;
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
