import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AtcaError } from '../errors.js';
import { Checkpointer } from './checkpointer.js';

/**
 * The journal: every event, decision (with its evidence chain) and action (command, exit
 * code, duration, output) in an embedded SQLite database. WAL with synchronous=FULL: a row is
 * on disk when the insert returns, so `kill -9` at any moment loses nothing acknowledged.
 * An action is written as 'started' before its command is spawned; on restart, actions still
 * 'started' are reconciled, never blindly repeated.
 */
export type ActionStatus = 'started' | 'succeeded' | 'failed' | 'reconciled-done' | 'abandoned';

export interface JournalEvent {
  readonly at: number;
  readonly shelf?: string | undefined;
  readonly slot?: number | undefined;
  readonly source: string;
  readonly kind: string;
  /** False for a valid trap the decoder did not understand: kept, not dropped. */
  readonly understood: boolean;
  readonly body: unknown;
}

export interface JournalDecision {
  readonly at: number;
  readonly slot: string;
  readonly kind: string;
  readonly node?: string | undefined;
  readonly reason: string;
  readonly evidence: unknown;
  readonly body: unknown;
}

export interface ActionRow {
  readonly id: number;
  readonly decisionId: number | null;
  readonly slot: string;
  readonly node: string | null;
  readonly kind: string;
  readonly status: ActionStatus;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly command: readonly string[] | null;
  readonly exitCode: number | null;
  readonly durationMs: number | null;
  readonly stdout: string | null;
  readonly stderr: string | null;
  readonly note: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, shelf TEXT, slot INTEGER, source TEXT NOT NULL,
  kind TEXT NOT NULL, understood INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, slot TEXT NOT NULL, kind TEXT NOT NULL, node TEXT,
  reason TEXT NOT NULL, evidence TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions(at);
CREATE TABLE IF NOT EXISTS actions (
  id INTEGER PRIMARY KEY, decision_id INTEGER REFERENCES decisions(id), slot TEXT NOT NULL, node TEXT,
  kind TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
  command TEXT, exit_code INTEGER, duration_ms REAL, stdout TEXT, stderr TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS actions_status ON actions(status);
`;

const MAX_OUTPUT = 16 * 1024;
const clip = (s: string | undefined) =>
  s === undefined ? null : s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}…` : s;

/** Queued events beyond this are written at once rather than held: memory stays bounded under a flood. */
const MAX_QUEUED_EVENTS = 4096;
/** How long events that lead to no decision wait for company before they are committed. */
const EVENT_COMMIT_MS = 5;
/** How often the background thread checkpoints the WAL. */
const CHECKPOINT_EVERY_MS = 1000;

export class Journal {
  readonly #db: Database.Database;
  readonly #queued: JournalEvent[] = [];
  #flushScheduled = false;
  #synchronous: 'FULL' | 'NORMAL' = 'FULL';
  /** Where a failed background flush is reported (the events stay queued for the next one). */
  onFlushError: (e: Error) => void = () => undefined;
  /** Where a failed background checkpoint is reported (the next one, or a commit, retries). */
  onCheckpointError: (e: Error) => void = () => undefined;
  readonly #insertEvent: Database.Statement;
  readonly #insertDecision: Database.Statement;
  readonly #insertAction: Database.Statement;
  readonly #finishAction: Database.Statement;
  readonly #unfinished: Database.Statement;
  readonly #checkpointer: Checkpointer | undefined;

  /**
   * `backgroundCheckpoint`: copy the WAL into the database from a thread of its own (see
   * checkpointer.ts), as atcad does; the commits here then only checkpoint if the WAL has
   * grown past 10,000 pages, should that thread not be running.
   */
  constructor(path: string, opts: { backgroundCheckpoint?: boolean } = {}) {
    try {
      // Only when missing: Node 20's recursive mkdir never returns on some paths (under /proc).
      if (path !== ':memory:' && !existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      this.#db = new Database(path);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      this.#db.exec(SCHEMA);
      if (opts.backgroundCheckpoint && path !== ':memory:') {
        this.#db.pragma('wal_autocheckpoint = 10000');
        this.#checkpointer = new Checkpointer(
          path,
          CHECKPOINT_EVERY_MS,
          (m) => this.onCheckpointError(new Error(`WAL checkpoint: ${m}`)),
          () => {
            this.onCheckpointError(new Error('the WAL checkpoint thread ended: commits checkpoint again'));
            if (this.#db.open) this.#db.pragma('wal_autocheckpoint = 1000');
          },
        );
      }
    } catch (e) {
      throw new AtcaError('ATCA_ERR_JOURNAL', `${path}: ${(e as Error).message}`, { cause: e });
    }
    this.#insertEvent = this.#db.prepare(
      'INSERT INTO events (at, shelf, slot, source, kind, understood, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertDecision = this.#db.prepare(
      'INSERT INTO decisions (at, slot, kind, node, reason, evidence, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insertAction = this.#db.prepare(
      "INSERT INTO actions (decision_id, slot, node, kind, status, started_at, command) VALUES (?, ?, ?, ?, 'started', ?, ?)",
    );
    this.#unfinished = this.#db.prepare("SELECT * FROM actions WHERE status = 'started' ORDER BY id");
    this.#finishAction = this.#db.prepare(
      'UPDATE actions SET status = ?, ended_at = ?, exit_code = ?, duration_ms = ?, stdout = ?, stderr = ?, note = ?, command = coalesce(?, command) WHERE id = ?',
    );
  }

  #write<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw new AtcaError('ATCA_ERR_JOURNAL', `${what}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Queues an event for the next group commit: within EVENT_COMMIT_MS, or earlier with the
   * next decision, whose transaction carries it. So an event is durable before anything is
   * acted on because of it, and a flood of events that lead nowhere costs one commit per few
   * ms rather than one each (a third of the WAL written at 1000 traps/s, measured).
   */
  queueEvent(e: JournalEvent): void {
    this.#queued.push(e);
    if (this.#queued.length >= MAX_QUEUED_EVENTS) {
      this.flush();
      return;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setTimeout(() => {
        this.#flushScheduled = false;
        try {
          this.flush();
        } catch (err) {
          this.onFlushError(err as Error);
        }
      }, EVENT_COMMIT_MS);
    }
  }

  /** Writes the queued events in one transaction (kill -9-safe; see #durability). */
  flush(): void {
    if (this.#queued.length === 0) return;
    this.#durability('NORMAL');
    this.#write('events', () => this.#db.transaction(() => this.#insertQueued())());
  }

  /**
   * In WAL mode a NORMAL commit is in the operating system's hands when it returns — it
   * survives kill -9 of atcad, not a power cut — and a FULL one is also fsynced. Rows whose
   * loss in a power cut harms nothing (events, health: rebuilt by polling) are written NORMAL;
   * the start of anything irreversible (standby, fence) FULL, which also makes every earlier
   * NORMAL commit durable. An fsync costs 0.2–5 ms here: that is the difference on the
   * path from a trap to a health change.
   */
  #durability(level: 'FULL' | 'NORMAL'): void {
    if (this.#synchronous === level) return;
    this.#db.pragma(`synchronous = ${level}`);
    this.#synchronous = level;
  }

  #insertQueued(): void {
    for (const e of this.#queued) this.#insertOne(e);
    this.#queued.length = 0;
  }

  #insertOne(e: JournalEvent): number {
    return Number(
      this.#insertEvent.run(
        e.at,
        e.shelf ?? null,
        e.slot ?? null,
        e.source,
        e.kind,
        e.understood ? 1 : 0,
        JSON.stringify(e.body),
      ).lastInsertRowid,
    );
  }

  /** Writes one event now, durably (fsynced, with any queued before it). */
  recordEvent(e: JournalEvent): number {
    this.#durability('FULL');
    return this.#write('event', () =>
      this.#db.transaction(() => {
        this.#insertQueued();
        return this.#insertOne(e);
      })(),
    );
  }

  /**
   * Writes a decision — with the events queued before it, and the start of the action it
   * leads to, if any — in one transaction: one fsync between a trap and the command it causes.
   */
  recordDecision(
    d: JournalDecision,
    start?: { kind: string; node: string | undefined; at: number; command: readonly string[] },
    /** False for what a power cut may lose harmlessly (a health change); fsynced otherwise. */
    durable = true,
  ): { decisionId: number; actionId: number | undefined } {
    this.#durability(durable ? 'FULL' : 'NORMAL');
    return this.#write('decision', () =>
      this.#db.transaction(() => {
        this.#insertQueued();
        const decisionId = this.#insertDecisionRow(d);
        const actionId = start
          ? Number(
              this.#insertAction.run(
                decisionId,
                d.slot,
                start.node ?? null,
                start.kind,
                start.at,
                JSON.stringify(start.command),
              ).lastInsertRowid,
            )
          : undefined;
        return { decisionId, actionId };
      })(),
    );
  }

  #insertDecisionRow(d: JournalDecision): number {
    return this.#write('decision', () =>
      Number(
        this.#insertDecision.run(
          d.at,
          d.slot,
          d.kind,
          d.node ?? null,
          d.reason,
          JSON.stringify(d.evidence),
          JSON.stringify(d.body),
        ).lastInsertRowid,
      ),
    );
  }

  /** Written before the command runs. */
  startAction(a: {
    decisionId: number | null;
    slot: string;
    node: string | undefined;
    kind: string;
    at: number;
    command: readonly string[];
  }): number {
    this.#durability('FULL');
    return this.#write('action', () =>
      Number(
        this.#insertAction.run(a.decisionId, a.slot, a.node ?? null, a.kind, a.at, JSON.stringify(a.command))
          .lastInsertRowid,
      ),
    );
  }

  finishAction(
    id: number,
    r: {
      status: ActionStatus;
      at: number;
      exitCode?: number | null;
      durationMs?: number;
      stdout?: string;
      stderr?: string;
      note?: string;
      /** The argv that ran, when known only once it ran. */
      command?: readonly string[];
    },
    /** False for the end of a health change (its loss in a power cut harms nothing); fsynced otherwise. */
    durable = true,
  ): void {
    this.#durability(durable ? 'FULL' : 'NORMAL');
    this.#write('action result', () =>
      this.#finishAction.run(
        r.status,
        r.at,
        r.exitCode ?? null,
        r.durationMs ?? null,
        clip(r.stdout),
        clip(r.stderr),
        r.note ?? null,
        r.command && r.command.length > 0 ? JSON.stringify(r.command) : null,
        id,
      ),
    );
  }

  unfinishedActions(): ActionRow[] {
    return this.#rows(this.#unfinished.all());
  }

  actions(limit = 100): ActionRow[] {
    return this.#actions(`ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`);
  }

  /** Times of fences started since `since` that were not abandoned, for the rate limit after a restart. */
  fenceTimesSince(since: number): number[] {
    return (
      this.#db
        .prepare(
          "SELECT started_at AS t FROM actions WHERE kind = 'fence' AND status != 'abandoned' AND status != 'failed' AND started_at >= ?",
        )
        .all(since) as { t: number }[]
    ).map((r) => r.t);
  }

  counts(): { events: number; decisions: number; actions: number } {
    const one = (t: string) => (this.#db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { events: one('events'), decisions: one('decisions'), actions: one('actions') };
  }

  decisions(limit = 100): (JournalDecision & { id: number })[] {
    return (
      this.#db.prepare('SELECT * FROM decisions ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[]
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

  events(limit = 100): (JournalEvent & { id: number })[] {
    return (
      this.#db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[]
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

  /** Deletes what is older than the retention; never an action still 'started'. */
  prune(retentionDays: number, now: number): number {
    const before = now - retentionDays * 86_400_000;
    return this.#write('prune', () => {
      const tx = this.#db.transaction(() => {
        let n = this.#db.prepare('DELETE FROM events WHERE at < ?').run(before).changes;
        n += this.#db.prepare("DELETE FROM actions WHERE started_at < ? AND status != 'started'").run(before).changes;
        n += this.#db
          .prepare(
            'DELETE FROM decisions WHERE at < ? AND id NOT IN (SELECT decision_id FROM actions WHERE decision_id IS NOT NULL)',
          )
          .run(before).changes;
        return n;
      });
      return tx();
    });
  }

  #actions(tail: string): ActionRow[] {
    return this.#rows(this.#db.prepare(`SELECT * FROM actions ${tail}`).all());
  }

  #rows(rows: unknown[]): ActionRow[] {
    return (rows as Record<string, unknown>[]).map((r) => ({
      id: r.id as number,
      decisionId: r.decision_id as number | null,
      slot: r.slot as string,
      node: r.node as string | null,
      kind: r.kind as string,
      status: r.status as ActionStatus,
      startedAt: r.started_at as number,
      endedAt: r.ended_at as number | null,
      command: r.command ? (JSON.parse(r.command as string) as string[]) : null,
      exitCode: r.exit_code as number | null,
      durationMs: r.duration_ms as number | null,
      stdout: r.stdout as string | null,
      stderr: r.stderr as string | null,
      note: r.note as string | null,
    }));
  }

  close(): void {
    try {
      this.flush();
    } finally {
      this.#checkpointer?.stop();
      this.#db.close();
    }
  }
}
