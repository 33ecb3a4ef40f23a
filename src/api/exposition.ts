/**
 * Prometheus text exposition (format 0.0.4) of metric families known only at scrape time: a
 * snapshot of the live model and of atcad's status. prom-client keeps what atcad counts as it
 * goes (metrics.ts); building a snapshot through its gauges (reset, then one labelled set per
 * sample) cost 34 ms for 16 shelves × 14 slots — time taken from the trap path — where this
 * takes about 1 ms (bench/api.ts). Pure.
 */
export interface Sample {
  /** Its labels as written between the braces (labels()), '' for none. */
  readonly labels: string;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: readonly Sample[];
}

/** A label value escaped as the format asks: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function value(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** Labels as written between a sample's braces; `more` appends to labels already written. */
export function labels(l: Readonly<Record<string, string>>, more = ''): string {
  let out = more;
  for (const k in l) out += `${out ? ',' : ''}${k}="${escapeLabel(l[k]!)}"`;
  return out;
}

export function render(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) out += `${f.name}${s.labels ? `{${s.labels}}` : ''} ${value(s.value)}\n`;
  }
  return out;
}
