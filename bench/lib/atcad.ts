// atcad as deployed, seen from outside: `node dist/atcad.mjs --config FILE` with a YAML file
// written here, its trap socket read in /proc, its journal read (read-only) with better-sqlite3.
// Nothing of atcad's own code is imported: it is being rewritten, and the benchmark measures
// whatever is built.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { killPid, onCleanup } from './cleanup.js';
import { type UdpSocketStats, udpSocket } from './procfs.js';
import { sleep } from './stats.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const ATCAD_BUNDLE = join(REPO, 'dist/atcad.mjs');

export interface AtcadConfigOptions {
  readonly shelfManagerPort: number;
  readonly shelfUser: string;
  readonly trapPort: number;
  readonly apiPort: number;
  readonly journal: string;
  readonly mode: 'live' | 'dry-run';
  /** Slot number → cluster node name. */
  readonly slots: Readonly<Record<number, string>>;
  /** Extra YAML lines under `policy:` (indented two spaces), e.g. `recoveryMs: 0`. */
  readonly policy?: readonly string[];
  readonly polling?: readonly string[];
}

/** The YAML atcad reads: secrets by environment (SHELF_PW, COMMUNITY), as deployed. */
export function atcadYaml(o: AtcadConfigOptions): string {
  const slots = Object.entries(o.slots)
    .map(([s, n]) => `"${s}": { node: ${n} }`)
    .join(', ');
  const block = (name: string, lines: readonly string[] | undefined) =>
    lines && lines.length > 0 ? `${name}:\n${lines.map((l) => `  ${l}`).join('\n')}\n` : '';
  return `shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${o.shelfManagerPort} }]
    ipmi: { username: ${o.shelfUser}, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { ${slots} }
traps:
  address: 127.0.0.1
  port: ${o.trapPort}
  communities: [{ env: COMMUNITY }]
${block('polling', o.polling)}${block('policy', o.policy)}pacemaker: { mode: ${o.mode} }
journal: { path: ${o.journal}, maxEvents: 100000000 }
api: { address: 127.0.0.1, port: ${o.apiPort} }
`;
}

/** A running atcad: the PID of the node process itself, and its output file. */
export interface AtcadHandle {
  readonly pid: number;
  readonly logFile: string;
  readonly trapPort: number;
  readonly journalPath: string;
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts atcad on this host, through `prefix` (e.g. ['taskset', '-c', '1']; it must exec in
 * place so that the PID is atcad's). Stopped by PID at the end, pass or fail.
 */
export function spawnAtcad(
  prefix: readonly string[],
  config: string,
  logFile: string,
  env: Readonly<Record<string, string>>,
  trapPort: number,
  journalPath: string,
): AtcadHandle {
  const out = openSync(logFile, 'a');
  // BENCH_NODE_ARGS: node options for atcad, to profile it under load ("--cpu-prof --cpu-prof-dir=/tmp/p").
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [file, ...args] = [...prefix, process.execPath, ...nodeArgs, ATCAD_BUNDLE, '--config', config];
  const child: ChildProcess = spawn(file!, args, {
    cwd: REPO,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid!;
  const stop = onCleanup(`atcad ${pid}`, () => killPid(pid, 'SIGTERM', 10_000));
  return {
    pid,
    logFile,
    trapPort,
    journalPath,
    running: () => child.exitCode === null && child.signalCode === null,
    stop,
  };
}

export function tail(file: string, n = 3000): string {
  try {
    return readFileSync(file, 'utf8').slice(-n);
  } catch {
    return '';
  }
}

/**
 * Read-only view of atcad's journal. Only the `events` table (one row per accepted trap, plus
 * poll events) is relied on; if it has a `source` column, `trapEvents` counts source = 'trap'
 * rows alone, else every row (say which with `trapFilter`).
 */
export class JournalReader {
  #db: Database.Database | undefined;
  #all: Database.Statement | undefined;
  #traps: Database.Statement | undefined;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  #open(): boolean {
    if (this.#db) return true;
    try {
      const db = new Database(this.path, { readonly: true, fileMustExist: true });
      this.#all = db.prepare('SELECT count(*) AS n FROM events');
      const cols = db.prepare('PRAGMA table_info(events)').all() as { name: string }[];
      this.#traps = cols.some((c) => c.name === 'source')
        ? db.prepare("SELECT count(*) AS n FROM events WHERE source = 'trap'")
        : undefined;
      this.#db = db;
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  #count(which: 'all' | 'traps'): number | undefined {
    if (!this.#open()) return undefined;
    try {
      const st = which === 'traps' ? (this.#traps ?? this.#all!) : this.#all!;
      return (st.get() as { n: number }).n;
    } catch {
      this.close();
      return undefined;
    }
  }

  /** Rows in `events`; undefined until the file and table exist. */
  events(): number | undefined {
    return this.#count('all');
  }

  /** Rows that trap reception wrote (see the class comment). */
  trapEvents(): number | undefined {
    return this.#count('traps');
  }

  /** How trapEvents counts, for the report. */
  get trapFilter(): string {
    this.#open();
    return this.#traps ? "events WHERE source = 'trap'" : 'all events rows';
  }

  close(): void {
    try {
      this.#db?.close();
    } catch {
      // already closed
    }
    this.#db = undefined;
    this.#all = undefined;
    this.#traps = undefined;
  }
}

/**
 * Waits until atcad holds its trap socket and the journal has `minEvents` rows (its first poll
 * of the shelf): ready to measure. Fails with atcad's output if it exits first.
 */
export async function waitReady(
  a: AtcadHandle,
  journal: JournalReader,
  minEvents: number,
  timeoutMs = 60_000,
): Promise<UdpSocketStats> {
  const by = Date.now() + timeoutMs;
  for (;;) {
    if (!a.running()) throw new Error(`atcad ${a.pid} exited during start-up:\n${tail(a.logFile)}`);
    const s = udpSocket(a.pid, a.trapPort);
    if (s && (journal.events() ?? 0) >= minEvents) return s;
    if (Date.now() > by) throw new Error(`atcad ${a.pid} not ready within ${timeoutMs} ms:\n${tail(a.logFile)}`);
    await sleep(50);
  }
}
