import { AtcaError } from '../errors.js';
import { longName, OPTION_BY_NAME, OPTIONS, type OptionDef } from './options.js';

/** Raw option values by canonical name, before typing; plus what was ignored. */
export interface RawInput {
  readonly values: ReadonlyMap<string, string>;
  readonly warnings: readonly string[];
  /**
   * The `nodename` Pacemaker sends with every call on a target (not an option: the family
   * drops it). Kept aside only to recognise Pacemaker's validate-all placeholder plug.
   */
  readonly nodename?: string;
}

function lookup(name: string): OptionDef | undefined {
  return OPTION_BY_NAME.get(name.replace(/-/g, '_'));
}

/**
 * Parses the family's stdin protocol: `name=value` lines, blank and `#` lines skipped,
 * split at the first '=', surrounding quotes removed, last value wins, old names accepted.
 * Unknown names are warned about by name only — never echoing the value, which may be a
 * mistyped password; a line without '=' that is not a known option is warned about by its
 * line number only (it may be a password pasted on a line of its own).
 */
export function parseStdin(text: string): RawInput {
  const values = new Map<string, string>();
  const warnings: string[] = [];
  let nodename: string | undefined;
  for (const [n, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    // A line without '=' is a flag only if it names one we know (`verbose`); anything else may
    // be a pasted secret, even one that looks like a name (`hunter2`). Say where, not what.
    if (eq < 0 && line !== 'nodename' && !lookup(line)) {
      warnings.push(`Parse error: Ignoring line ${n + 1}, which is not name=value`);
      continue;
    }
    const name = (eq < 0 ? line : line.slice(0, eq)).trim();
    let value = eq < 0 ? '' : line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name === 'nodename') {
      // Pacemaker sends it; the family drops it silently.
      nodename = value;
      continue;
    }
    const def = lookup(name);
    if (!def) {
      warnings.push(`Parse error: Ignoring unknown option '${name}'`);
      continue;
    }
    if (def.type === 'boolean' && value === '') value = '1';
    values.set(def.name, value);
  }
  return nodename === undefined ? { values, warnings } : { values, warnings, nodename };
}

const BY_SHORT = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));
const BY_LONG = new Map(
  OPTIONS.flatMap((o) => {
    const l: [string, OptionDef][] = [[longName(o), o]];
    if (o.oldName) l.push([o.oldName.replace(/_/g, '-'), o]);
    return l;
  }),
);

/** Parses GNU getopt-style arguments (`-o off`, `-ooff`, `--action=off`, `--action off`, `-vP`). */
export function parseArgv(argv: readonly string[]): RawInput {
  const values = new Map<string, string>();
  const take = (def: OptionDef, inline: string | undefined, i: number): number => {
    if (def.type === 'boolean') {
      values.set(def.name, inline === undefined || inline === '' ? '1' : inline);
      return i;
    }
    if (inline !== undefined) {
      values.set(def.name, inline);
      return i;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new AtcaError('ATCA_ERR_BAD_OPTION', `option ${argv[i]} requires a value`);
    values.set(def.name, next);
    return i + 1;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const def = BY_LONG.get(name) ?? BY_LONG.get(name.replace(/_/g, '-'));
      if (!def) throw new AtcaError('ATCA_ERR_UNKNOWN_OPTION', `--${name}`);
      i = take(def, eq < 0 ? undefined : arg.slice(eq + 1), i);
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const def = BY_SHORT.get(arg[k]!);
        if (!def) throw new AtcaError('ATCA_ERR_UNKNOWN_OPTION', `-${arg[k]}`);
        if (def.type === 'boolean') {
          values.set(def.name, '1');
          continue;
        }
        const rest = arg.slice(k + 1);
        i = take(def, rest === '' ? undefined : rest, i);
        break;
      }
    } else {
      throw new AtcaError(
        'ATCA_ERR_UNKNOWN_OPTION',
        `unexpected argument at position ${i + 1} (not echoed: it may be a secret)`,
      );
    }
  }
  return { values, warnings: [] };
}
