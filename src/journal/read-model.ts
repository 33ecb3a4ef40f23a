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

const limitOf = (n: number) => Math.max(1, Math.min(10_000, Math.floor(n)));

export class JournalReadModel {
  readonly #db: Database.Database;
  readonly #unfinished: Database.Statement;
  readonly #fences: Database.Statement;
  readonly #lastValue: Database.Statement;
  readonly #lastAction: Database.Statement;
  readonly #lastFence: Database.Statement;
  readonly #decidedSince: Database.Statement;

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

  actions(limit = 100): ActionRow[] {
    return (
      this.#db.prepare('SELECT * FROM actions ORDER BY id DESC LIMIT ?').all(limitOf(limit)) as Record<
        string,
        unknown
      >[]
    ).map(actionRow);
  }

  decisions(limit = 100): DecisionRecord[] {
    return (
      this.#db.prepare('SELECT * FROM decisions ORDER BY id DESC LIMIT ?').all(limitOf(limit)) as Record<
        string,
        unknown
      >[]
    ).map((r) => ({
      id: r.id as number,
      at: r.at as number,
      slot: r.slot as string,
      kind: r.kind as string,
      node: (r.node as string | null) ?? undefined,
      reason: r.reason as string,
      evidence: JSON.parse(r.evidence as string),
      body: JSON.parse(r.body as string),
    }));
  }

  events(limit = 100): EventRow[] {
    return (
      this.#db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limitOf(limit)) as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as number,
      at: r.at as number,
      shelf: (r.shelf as string | null) ?? undefined,
      slot: (r.slot as number | null) ?? undefined,
      source: r.source as string,
      kind: r.kind as string,
      understood: r.understood === 1,
      body: JSON.parse(r.body as string),
    }));
  }

  counts(): { events: number; decisions: number; actions: number } {
    const one = (t: string) => (this.#db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { events: one('events'), decisions: one('decisions'), actions: one('actions') };
  }
}
