import type Database from 'better-sqlite3';
import type { ActionKind, ActionStatus } from './schema.js';

/** The journal's queries: what the engine restores at start, and what operators read. */
export interface EventRow {
  readonly id: number;
  readonly at: number;
  readonly shelf: string | undefined;
  readonly slot: number | undefined;
  readonly source: string;
  readonly kind: string;
  readonly understood: boolean;
  readonly body: unknown;
}

export interface DecisionRecord {
  readonly id: number;
  readonly at: number;
  readonly slot: string;
  readonly kind: string;
  readonly node: string | undefined;
  readonly reason: string;
  readonly evidence: unknown;
  readonly body: unknown;
}

export interface ActionRow {
  readonly id: number;
  readonly decisionId: number | null;
  readonly slot: string;
  readonly node: string | null;
  readonly kind: ActionKind;
  readonly status: ActionStatus;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly command: readonly string[] | null;
  readonly exitCode: number | null;
  readonly durationMs: number | null;
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly note: string | null;
  /** The health value or standby on/off the action set. */
  readonly value: string | null;
}

function actionRow(r: Record<string, unknown>): ActionRow {
  const command = r.command ? (JSON.parse(r.command as string) as string[]) : null;
  return {
    id: r.id as number,
    decisionId: r.decision_id as number | null,
    slot: r.slot as string,
    node: r.node as string | null,
    kind: r.kind as ActionKind,
    status: r.status as ActionStatus,
    startedAt: r.started_at as number,
    endedAt: r.ended_at as number | null,
    command: command && command.length > 0 ? command : null,
    exitCode: r.exit_code as number | null,
    durationMs: r.duration_ms as number | null,
    stdout: r.stdout as string | null,
    stderr: r.stderr as string | null,
    note: r.note as string | null,
    value: (r.value as string | null) ?? null,
  };
}

function decisionRecord(r: Record<string, unknown>): DecisionRecord {
  return {
    id: r.id as number,
    at: r.at as number,
    slot: r.slot as string,
    kind: r.kind as string,
    node: (r.node as string | null) ?? undefined,
    reason: r.reason as string,
    evidence: JSON.parse(r.evidence as string),
    body: JSON.parse(r.body as string),
  };
}

function eventRow(r: Record<string, unknown>): EventRow {
  return {
    id: r.id as number,
    at: r.at as number,
    shelf: (r.shelf as string | null) ?? undefined,
    slot: (r.slot as number | null) ?? undefined,
    source: r.source as string,
    kind: r.kind as string,
    understood: r.understood === 1,
    body: JSON.parse(r.body as string),
  };
}

const limitOf = (n: number) => Math.max(1, Math.min(10_000, Math.floor(n)));

/**
 * What an operator filters the journal by. Each field narrows; `before` is the cursor (rows with
 * a smaller id, i.e. older: pages run newest first). Times are ms since the epoch, inclusive.
 */
export interface JournalFilter {
  readonly shelf?: string | undefined;
  readonly slot?: number | undefined;
  readonly node?: string | undefined;
  readonly kind?: string | undefined;
  /** Decisions about this fault class. */
  readonly fault?: string | undefined;
  /** Events from this source (trap, poll, sel). */
  readonly source?: string | undefined;
  /** Health decisions setting this value (green, yellow, red). */
  readonly value?: string | undefined;
  /** Actions in this status. */
  readonly status?: string | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly before?: number | undefined;
  readonly limit?: number | undefined;
}

type Table = 'events' | 'decisions' | 'actions';

/** The WHERE clause of a filter over one table, with its parameters (never interpolated values). */
function whereOf(table: Table, f: JournalFilter): { sql: string; params: unknown[] } {
  const c: string[] = [];
  const p: unknown[] = [];
  const add = (cond: string, ...params: unknown[]) => {
    c.push(cond);
    p.push(...params);
  };
  const at = table === 'actions' ? 'started_at' : 'at';
  if (table === 'events') {
    if (f.shelf !== undefined) add('shelf = ?', f.shelf);
    if (f.slot !== undefined) add('slot = ?', f.slot);
    // Events carry no node (the caller resolves a node to its slot) and no fault class: they
    // are what the shelf said, before atcad classified it.
    if (f.source !== undefined) add('source = ?', f.source);
  } else {
    // Decisions and actions name a slot as "shelf/slot".
    if (f.shelf !== undefined && f.slot !== undefined) add('slot = ?', `${f.shelf}/${f.slot}`);
    else if (f.shelf !== undefined) add("substr(slot, 1, length(?) + 1) = ? || '/'", f.shelf, f.shelf);
    else if (f.slot !== undefined) add("slot LIKE '%/' || ?", String(f.slot));
    if (f.node !== undefined) add('node = ?', f.node);
    // A decision about a fault names it first in its reason ("<fault>: …", "<fault> confirmed …"),
    // a confirm decision in its body.
    if (f.fault !== undefined && table === 'decisions')
      add(
        "(json_extract(body, '$.fault') = ? OR substr(reason, 1, length(?) + 1) IN (? || ':', ? || ' '))",
        f.fault,
        f.fault,
        f.fault,
        f.fault,
      );
    if (f.status !== undefined && table === 'actions') add('status = ?', f.status);
    if (f.value !== undefined && table === 'decisions') add("json_extract(body, '$.value') = ?", f.value);
  }
  if (f.kind !== undefined) add('kind = ?', f.kind);
  if (f.since !== undefined) add(`${at} >= ?`, f.since);
  if (f.until !== undefined) add(`${at} <= ?`, f.until);
  if (f.before !== undefined) add('id < ?', f.before);
  return { sql: c.length ? ` WHERE ${c.join(' AND ')}` : '', params: p };
}

export class JournalReadModel {
  readonly #db: Database.Database;
  readonly #unfinished: Database.Statement;
  readonly #fences: Database.Statement;
  readonly #lastValue: Database.Statement;
  readonly #lastAction: Database.Statement;
  readonly #lastFence: Database.Statement;
  readonly #decidedSince: Database.Statement;
  readonly #lastMaintenance: Database.Statement;
  readonly #queries = new Map<string, Database.Statement>();
  readonly #afterQueries = new Map<Table, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#unfinished = db.prepare("SELECT * FROM actions WHERE status IN ('started', 'uncertain') ORDER BY id");
    // Every fence counts against the budget but one that provably never started.
    this.#fences = db.prepare(
      "SELECT * FROM actions WHERE kind = 'fence' AND status != 'not-started' AND (started_at >= ? OR status IN ('started', 'uncertain')) ORDER BY id",
    );
    this.#lastAction = db.prepare('SELECT * FROM actions WHERE kind = ? AND node = ? ORDER BY id DESC LIMIT 1');
    this.#lastFence = db.prepare(
      "SELECT * FROM actions WHERE kind = 'fence' AND slot = ? AND status != 'not-started' ORDER BY id DESC LIMIT 1",
    );
    this.#decidedSince = db.prepare('SELECT 1 FROM decisions WHERE slot = ? AND kind = ? AND at >= ? LIMIT 1');
    this.#lastMaintenance = db.prepare(
      "SELECT body FROM decisions WHERE slot = ? AND kind = 'maintenance' ORDER BY id DESC LIMIT 1",
    );
    this.#lastValue = db.prepare(
      "SELECT value FROM actions WHERE kind = ? AND node = ? AND status = 'succeeded' AND value IS NOT NULL ORDER BY id DESC LIMIT 1",
    );
  }

  /** Actions whose outcome is not settled (started, uncertain), oldest first. */
  unfinishedActions(): ActionRow[] {
    return (this.#unfinished.all() as Record<string, unknown>[]).map(actionRow);
  }

  /** Fences that count against the budget from `since`: started since, or still unsettled. */
  fencesSince(since: number): ActionRow[] {
    return (this.#fences.all(since) as Record<string, unknown>[]).map(actionRow);
  }

  /** The last health or standby action on `node`, whatever became of it. */
  lastAction(kind: 'health' | 'standby', node: string): ActionRow | undefined {
    const r = this.#lastAction.get(kind, node) as Record<string, unknown> | undefined;
    return r ? actionRow(r) : undefined;
  }

  /** The last fence of `slot` that reached the fencer (any outcome but not-started). */
  lastFence(slot: string): ActionRow | undefined {
    const r = this.#lastFence.get(slot) as Record<string, unknown> | undefined;
    return r ? actionRow(r) : undefined;
  }

  /** Whether a decision of `kind` about `slot` was made at or after `at`. */
  decidedSince(slot: string, kind: string, at: number): boolean {
    return this.#decidedSince.get(slot, kind, at) !== undefined;
  }

  /** The value the last successful health or standby action set on `node`. */
  lastValue(kind: 'health' | 'standby', node: string): string | undefined {
    const r = this.#lastValue.get(kind, node) as { value: string } | undefined;
    return r?.value;
  }

  #select(table: Table, f: JournalFilter | number): Record<string, unknown>[] {
    const filter = typeof f === 'number' ? { limit: f } : f;
    const w = whereOf(table, filter);
    // Statements are cached by SQL text: the filters in use are few.
    const sql = `SELECT * FROM ${table}${w.sql} ORDER BY id DESC LIMIT ?`;
    let st = this.#queries.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      if (this.#queries.size < 256) this.#queries.set(sql, st);
    }
    return st.all(...w.params, limitOf(filter.limit ?? 100)) as Record<string, unknown>[];
  }

  /** Actions, newest first: the last `limit`, or those a filter selects. */
  actions(f: JournalFilter | number = 100): ActionRow[] {
    return this.#select('actions', f).map(actionRow);
  }

  decisions(f: JournalFilter | number = 100): DecisionRecord[] {
    return this.#select('decisions', f).map(decisionRecord);
  }

  events(f: JournalFilter | number = 100): EventRow[] {
    return this.#select('events', f).map(eventRow);
  }

  #after(table: Table, id: number, limit: number): Record<string, unknown>[] {
    let st = this.#afterQueries.get(table);
    if (!st) {
      st = this.#db.prepare(`SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`);
      this.#afterQueries.set(table, st);
    }
    return st.all(id, limitOf(limit)) as Record<string, unknown>[];
  }

  /** Rows after `id`, oldest first (the live stream's tail). */
  eventsAfter(id: number, limit: number): EventRow[] {
    return this.#after('events', id, limit).map(eventRow);
  }

  decisionsAfter(id: number, limit: number): DecisionRecord[] {
    return this.#after('decisions', id, limit).map(decisionRecord);
  }

  actionsAfter(id: number, limit: number): ActionRow[] {
    return this.#after('actions', id, limit).map(actionRow);
  }

  /** These actions as they are now (an outcome may have landed since they were read). */
  actionsById(ids: readonly number[]): ActionRow[] {
    if (ids.length === 0) return [];
    const some = ids.slice(0, 500);
    return (
      this.#db.prepare(`SELECT * FROM actions WHERE id IN (${some.map(() => '?').join(',')})`).all(...some) as Record<
        string,
        unknown
      >[]
    ).map(actionRow);
  }

  /** The newest row id of each table (0: none): where a live stream starts. */
  lastIds(): { events: number; decisions: number; actions: number } {
    const one = (t: Table) => (this.#db.prepare(`SELECT coalesce(max(id), 0) AS n FROM ${t}`).get() as { n: number }).n;
    return { events: one('events'), decisions: one('decisions'), actions: one('actions') };
  }

  /** The last maintenance switch an operator made on `slot` (a decision of kind maintenance). */
  lastMaintenance(slot: string): boolean | undefined {
    const r = this.#lastMaintenance.get(slot) as { body: string } | undefined;
    if (!r) return undefined;
    const on = (JSON.parse(r.body) as { on?: unknown }).on;
    return typeof on === 'boolean' ? on : undefined;
  }

  counts(): { events: number; decisions: number; actions: number } {
    const one = (t: string) => (this.#db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { events: one('events'), decisions: one('decisions'), actions: one('actions') };
  }
}
