// Percentiles and the small text tables the end-to-end benchmarks print.

/** The q-quantile (0–1) by the nearest-rank method; NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    p50: quantile(xs, 0.5),
    p90: quantile(xs, 0.9),
    p99: quantile(xs, 0.99),
    max: xs.length === 0 ? Number.NaN : Math.max(...xs),
  };
}

export const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** Prints rows as a left-aligned table with a header; cells are already strings. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}

/** An integer from the environment, or the default; rejects anything else loudly. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${v}: a non-negative integer is expected`);
  return n;
}

/** A comma-separated list of integers from the environment, or the default. */
export function envInts(name: string, dflt: readonly number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v === '') return [...dflt];
  return v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${v}: positive integers, comma-separated`);
    return n;
  });
}

export const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));
