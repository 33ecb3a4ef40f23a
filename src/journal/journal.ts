import { existsSync, mkdirSync, realpathSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AtcaError } from '../errors.js';
import { Checkpointer } from './checkpointer.js';
import { JournalReadModel } from './read-model.js';
import { type ActionKind, type ActionStatus, migrate } from './schema.js';

/**
 * The journal: every event, decision (with its evidence chain) and action (command, exit
 * code, duration, output) in an embedded SQLite database in WAL mode. What it offers says what
 * it means:
 *   - appendEvent: an event is queued and group-committed (within EVENT_COMMIT_MS, or with the
 *     next decision, whose transaction carries it). The queue is bounded: past its bound the
 *     oldest events are dropped and counted — they led nowhere yet, and memory must not grow
 *     with a storm or a full disk.
 *   - commit: the decisions of one policy step, each with the start of the action it leads to,
 *     in one transaction with a named durability. It throws when the write fails: the caller
 *     then carries nothing out (nothing is acted on without its row).
 *   - completeAction: an action's outcome.
 * Its queries are in the read model (`read`). Opening the file is start(), not construction.
 */
export interface JournalEvent {
  readonly at: number;
  readonly shelf?: string | undefined;
  readonly slot?: number | undefined;
  readonly source: string;
  readonly kind: string;
  /** False for a valid trap or SEL record the decoder did not understand: kept, not dropped. */
  readonly understood: boolean;
  readonly body: unknown;
}

export interface DecisionRow {
  readonly at: number;
  readonly slot: string;
  readonly kind: string;
  readonly node?: string | undefined;
  readonly reason: string;
  readonly evidence: unknown;
  readonly body: unknown;
  /** The action this decision starts: its row is written `started` in the same transaction. */
  readonly action?: { readonly kind: ActionKind; readonly node: string | undefined; readonly value?: string };
}

/**
 * `fsync`: on disk when commit returns (synchronous=FULL), for the start and end of anything
 * irreversible; `os`: in the operating system's hands (synchronous=NORMAL in WAL mode): it
 * survives kill -9 of atcad, not a power cut — for what polling rebuilds (events, health).
 */
export type Durability = 'fsync' | 'os';

export interface ActionResultRow {
  readonly status: ActionStatus;
  readonly at: number;
  readonly exitCode?: number | null;
  readonly durationMs?: number;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly note?: string;
  /** The argv that ran, when known only once it ran. */
  readonly command?: readonly string[];
}

/** What the journal itself is going through, for logs, /status and /readyz. */
export interface JournalHealth {
  readonly open: boolean;
  readonly queuedEvents: number;
  readonly droppedEvents: number;
  readonly writeErrors: number;
  readonly lastWriteAt: number | undefined;
  readonly lastError: string | undefined;
  /** Since when writes have been failing; undefined while they succeed. */
  readonly failingSince: number | undefined;
  /** Since when the filesystem has had less than minFreeBytes free (events held back). */
  readonly lowSpaceSince: number | undefined;
}

export interface JournalOptions {
  /** Copy the WAL back from a thread of its own (checkpointer.ts), as atcad does. */
  readonly backgroundCheckpoint?: boolean;
  readonly maxQueuedEvents?: number;
  /**
   * Events are written only while the journal's filesystem has at least this much free; below
   * it they stay queued (and the oldest are dropped, counted), so that the room left goes to
   * decisions, action outcomes and the WAL's checkpoint. 0: no reserve.
   */
  readonly minFreeBytes?: number;
  /**
   * The room events may count on: the filesystem's free bytes (statfs) by default. The room
   * SQLite already owns (pages freed by pruning) is added to it. For tests.
   */
  readonly freeBytes?: (path: string) => number;
  /** The filesystem went below minFreeBytes (low: true) or came back above it (with a margin). */
  readonly onSpace?: (low: boolean, freeBytes: number) => void;
  /** Events that will never be written (held back at close, or unwritable then). */
  readonly onLost?: (events: number, why: string) => void;
  /** A background write (group commit, checkpoint) failed; the journal retries by itself. */
  readonly onError?: (e: AtcaError) => void;
  readonly now?: () => number;
}

const MAX_OUTPUT = 16 * 1024;
const clip = (s: string | undefined) =>
  s === undefined ? null : s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}…` : s;

/** Default bound of the event queue: ~1 s of a 10,000 traps/s storm. */
export const MAX_QUEUED_EVENTS = 10_000;
/** Events per transaction: on a nearly full disk, what fits is written. */
const FLUSH_CHUNK = 1000;
/** How long events that lead to no decision wait for company before they are committed. */
const EVENT_COMMIT_MS = 5;
/** While writes fail, how long between attempts of the background group commit. */
const RETRY_MS = 1000;
const CHECKPOINT_EVERY_MS = 1000;

interface Statements {
  readonly insertEvent: Database.Statement;
  readonly insertDecision: Database.Statement;
  readonly insertAction: Database.Statement;
  readonly finishAction: Database.Statement;
}

/** Bytes free to an unprivileged writer on the filesystem of `path`. */
function statfsFree(path: string): number {
  const st = statfsSync(path);
  return st.bavail * st.bsize;
}

export class Journal {
  readonly path: string;
  readonly #o: JournalOptions;
  readonly #max: number;
  readonly #now: () => number;
  #db: Database.Database | undefined;
  #st: Statements | undefined;
  #read: JournalReadModel | undefined;
  #checkpointer: Checkpointer | undefined;
  #queued: JournalEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #synchronous: 'FULL' | 'NORMAL' | undefined;
  #dropped = 0;
  #errors = 0;
  #lastWriteAt: number | undefined;
  #lastError: string | undefined;
  #failingSince: number | undefined;
  #lowSpaceSince: number | undefined;
  /** The journal file with its links resolved: the filesystem its WAL is on too. */
  #realPath: string | undefined;
  #statfsFailing = false;
  #pageSize = 0;

  constructor(path: string, opts: JournalOptions = {}) {
    this.path = path;
    this.#o = opts;
    this.#max = opts.maxQueuedEvents ?? MAX_QUEUED_EVENTS;
    this.#now = opts.now ?? Date.now;
  }

  /** Opens (creating if need be) the database. Throws ATCA_ERR_JOURNAL. */
  open(): this {
    if (this.#db) return this;
    const path = this.path;
    let db: Database.Database | undefined;
    try {
      // Only when missing: Node 20's recursive mkdir never returns on some paths (under /proc).
      if (path !== ':memory:' && !existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      this.#st = {
        insertEvent: db.prepare(
          'INSERT INTO events (at, shelf, slot, source, kind, understood, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ),
        insertDecision: db.prepare(
          'INSERT INTO decisions (at, slot, kind, node, reason, evidence, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ),
        insertAction: db.prepare(
          "INSERT INTO actions (decision_id, slot, node, kind, status, started_at, command, value) VALUES (?, ?, ?, ?, 'started', ?, '[]', ?)",
        ),
        finishAction: db.prepare(
          'UPDATE actions SET status = ?, ended_at = ?, exit_code = ?, duration_ms = ?, stdout = ?, stderr = ?, note = ?, command = coalesce(?, command) WHERE id = ?',
        ),
      };
      this.#read = new JournalReadModel(db);
      if (this.#o.backgroundCheckpoint && path !== ':memory:') {
        db.pragma('wal_autocheckpoint = 10000');
        this.#checkpointer = new Checkpointer(
          path,
          CHECKPOINT_EVERY_MS,
          (m) => this.#o.onError?.(new AtcaError('ATCA_ERR_JOURNAL', `WAL checkpoint: ${m}`)),
          () => {
            this.#o.onError?.(
              new AtcaError('ATCA_ERR_JOURNAL', 'the WAL checkpoint thread ended: commits checkpoint again'),
            );
            if (this.#db?.open) this.#db.pragma('wal_autocheckpoint = 1000');
          },
        );
      }
      const real = path === ':memory:' ? undefined : realpathSync(path);
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      this.#db = db;
      this.#realPath = real;
      this.#pageSize = pageSize;
    } catch (e) {
      db?.close();
      throw new AtcaError('ATCA_ERR_JOURNAL', `${path}: ${(e as Error).message}`, { cause: e });
    }
    return this;
  }

  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  /** The queries (events, decisions, actions, the budget's fences). */
  get read(): JournalReadModel {
    if (!this.#read) throw new AtcaError('ATCA_ERR_JOURNAL', `${this.path}: not open`);
    return this.#read;
  }

  get health(): JournalHealth {
    return {
      open: this.#db !== undefined,
      queuedEvents: this.#queued.length,
      droppedEvents: this.#dropped,
      writeErrors: this.#errors,
      lastWriteAt: this.#lastWriteAt,
      lastError: this.#lastError,
      failingSince: this.#failingSince,
      lowSpaceSince: this.#lowSpaceSince,
    };
  }

  /** Queues an event for the next group commit (see the class comment). Never throws. */
  appendEvent(e: JournalEvent): void {
    if (this.#queued.length >= this.#max) {
      // The oldest go first: they are the furthest from anything still to be decided.
      const drop = this.#queued.length - this.#max + 1;
      this.#queued.splice(0, drop);
      this.#dropped += drop;
    }
    this.#queued.push(e);
    this.#schedule(this.#failingSince === undefined ? EVENT_COMMIT_MS : RETRY_MS);
  }

  #schedule(ms: number): void {
    if (this.#timer || !this.#db) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.#o.onError?.(err as AtcaError);
        if (this.#queued.length > 0) this.#schedule(RETRY_MS);
      }
    }, ms);
    this.#timer.unref();
  }

  /**
   * Writes the queued events, oldest first, in transactions of at most FLUSH_CHUNK: on a disk
   * with little room left, what fits gets written. Throws ATCA_ERR_JOURNAL (what was not
   * written stays queued).
   */
  flush(): void {
    // The room is asked before each chunk: a queue written at once could take the reserve.
    while (this.#queued.length > 0) {
      if (!this.#roomForEvents()) {
        this.#schedule(RETRY_MS);
        return;
      }
      const n = Math.min(this.#queued.length, FLUSH_CHUNK);
      this.#tx('events', 'os', () => this.#insertQueued(n), n);
    }
  }

  /**
   * One policy step's decisions, with the events queued before them and the start of each
   * action, in one transaction. Returns the ids in order (actionIds[i] undefined for a decision
   * that starts nothing). If that does not fit (a disk with little room, a queue grown while it
   * was full), the decisions go alone — each carries its evidence chain in its own row — and the
   * events wait for their own commits. Throws ATCA_ERR_JOURNAL: then nothing was written.
   */
  commit(
    rows: readonly DecisionRow[],
    durability: Durability,
  ): { decisionIds: number[]; actionIds: (number | undefined)[] } {
    const n = this.#queued.length > 0 && this.#roomForEvents() ? Math.min(this.#queued.length, FLUSH_CHUNK) : 0;
    try {
      const both = () => {
        this.#insertQueued(n);
        return this.#insertRows(rows);
      };
      return this.#tx('decision', durability, both, n);
    } catch (e) {
      if (n === 0) throw e;
      return this.#tx('decision', durability, () => this.#insertRows(rows));
    }
  }

  #insertRows(rows: readonly DecisionRow[]): { decisionIds: number[]; actionIds: (number | undefined)[] } {
    const st = this.#st!;
    const decisionIds: number[] = [];
    const actionIds: (number | undefined)[] = [];
    for (const d of rows) {
      const id = Number(
        st.insertDecision.run(
          d.at,
          d.slot,
          d.kind,
          d.node ?? null,
          d.reason,
          JSON.stringify(d.evidence),
          JSON.stringify(d.body),
        ).lastInsertRowid,
      );
      decisionIds.push(id);
      actionIds.push(
        d.action
          ? Number(
              st.insertAction.run(id, d.slot, d.action.node ?? null, d.action.kind, d.at, d.action.value ?? null)
                .lastInsertRowid,
            )
          : undefined,
      );
    }
    return { decisionIds, actionIds };
  }

  /** Records an action's outcome. Throws ATCA_ERR_JOURNAL. */
  completeAction(id: number, r: ActionResultRow, durability: Durability): void {
    this.#tx('action result', durability, () =>
      this.#st!.finishAction.run(
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

  /**
   * Deletes what is older than the retention, and the oldest events past `maxEvents` (down to
   * 90 % of it, so that a storm is not pruned row by row); never an unsettled action or its
   * decision.
   */
  prune(retentionDays: number, now: number, maxEvents = Number.POSITIVE_INFINITY): number {
    const before = now - retentionDays * 86_400_000;
    return this.#tx('prune', 'os', () => {
      const db = this.#db!;
      // The newest row of each table is kept, whatever its age: ids then never go back (SQLite
      // reuses max(id) + 1), so a stream's or a page's cursor never skips new rows.
      let n = db.prepare('DELETE FROM events WHERE at < ? AND id < (SELECT max(id) FROM events)').run(before).changes;
      const span = db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM events').get() as {
        lo: number | null;
        hi: number | null;
        n: number;
      };
      if (span.n > maxEvents && span.hi !== null) {
        const keep = Math.floor(maxEvents * 0.9);
        n += db.prepare('DELETE FROM events WHERE id <= ?').run(span.hi - keep).changes;
      }
      n += db
        .prepare(
          "DELETE FROM actions WHERE started_at < ? AND status NOT IN ('started', 'uncertain') AND id < (SELECT max(id) FROM actions)",
        )
        .run(before).changes;
      // An operator's last maintenance switch of each slot outlives retention: it is what a
      // restart restores.
      n += db
        .prepare(
          `DELETE FROM decisions WHERE at < ? AND id < (SELECT max(id) FROM decisions)
             AND id NOT IN (SELECT decision_id FROM actions WHERE decision_id IS NOT NULL)
             AND id NOT IN (SELECT max(id) FROM decisions WHERE kind = 'maintenance' GROUP BY slot)`,
        )
        .run(before).changes;
      return n;
    });
  }

  /**
   * Whether events may take the filesystem's room: its free bytes plus the pages SQLite already
   * owns and reuses (pruned rows leave them in the file, and statfs does not see them). Below
   * minFreeBytes events are held; they are written again only above it plus a margin, so that
   * a disk hovering at the line neither flaps nor logs at every commit. A statfs is a few
   * microseconds, asked before each chunk of events rather than cached. A statfs that fails
   * says nothing about the room: events are written (and fail on their own if there is none).
   */
  #roomForEvents(): boolean {
    const min = this.#o.minFreeBytes ?? 0;
    if (min <= 0 || this.#realPath === undefined) return true;
    let free: number;
    try {
      const fs = this.#o.freeBytes ? this.#o.freeBytes(this.#realPath) : statfsFree(this.#realPath);
      // Pages the file owns spare its growth, but every write goes through the WAL first,
      // which needs the filesystem's own room: half the reserve at least stays free there.
      free = fs < min / 2 ? fs : fs + this.#ownedFreeBytes();
      this.#statfsFailing = false;
    } catch (e) {
      if (!this.#statfsFailing)
        this.#o.onError?.(
          new AtcaError(
            'ATCA_ERR_JOURNAL',
            `${this.path}: cannot tell the filesystem's free space (${(e as Error).message}): the reserve (journal.minFreeMiB) is not applied until it can`,
          ),
        );
      this.#statfsFailing = true;
      free = Number.POSITIVE_INFINITY;
    }
    const margin = Math.max(1, Math.floor(min / 8));
    if (this.#lowSpaceSince === undefined && free < min) {
      this.#lowSpaceSince = this.#now();
      this.#o.onSpace?.(true, free);
    } else if (this.#lowSpaceSince !== undefined && free >= min + margin) {
      this.#lowSpaceSince = undefined;
      this.#o.onSpace?.(false, free);
    }
    return this.#lowSpaceSince === undefined;
  }

  /** Free pages inside the database file: room that writes reuse without growing it. */
  #ownedFreeBytes(): number {
    const db = this.#db;
    if (!db) return 0;
    return (db.pragma('freelist_count', { simple: true }) as number) * this.#pageSize;
  }

  #insertQueued(n: number): void {
    const st = this.#st!;
    for (let i = 0; i < n; i++) {
      const e = this.#queued[i]!;
      st.insertEvent.run(
        e.at,
        e.shelf ?? null,
        e.slot ?? null,
        e.source,
        e.kind,
        e.understood ? 1 : 0,
        JSON.stringify(e.body),
      );
    }
  }

  /**
   * Runs `f` in a transaction at `durability`. When `f` writes the first `taken` queued
   * events, they leave the queue only once the transaction committed.
   */
  #tx<T>(what: string, durability: Durability, f: () => T, taken = 0): T {
    const db = this.#db;
    if (!db) throw new AtcaError('ATCA_ERR_JOURNAL', `${this.path}: not open (${what})`);
    const n = taken;
    try {
      this.#durability(durability === 'fsync' ? 'FULL' : 'NORMAL');
      const r = db.transaction(f)();
      if (n > 0) this.#queued.splice(0, n);
      this.#lastWriteAt = this.#now();
      this.#failingSince = undefined;
      return r;
    } catch (e) {
      this.#errors++;
      this.#lastError = `${what}: ${(e as Error).message}`;
      this.#failingSince ??= this.#now();
      throw new AtcaError('ATCA_ERR_JOURNAL', `${this.path}: ${this.#lastError}`, { cause: e });
    }
  }

  /**
   * In WAL mode a NORMAL commit is in the operating system's hands when it returns and a FULL
   * one is also fsynced (which makes every earlier NORMAL commit durable too). An fsync costs
   * 0.2–5 ms here: that is the difference on the path from a trap to a health change.
   */
  #durability(level: 'FULL' | 'NORMAL'): void {
    if (this.#synchronous === level) return;
    this.#db!.pragma(`synchronous = ${level}`);
    this.#synchronous = level;
  }

  /** Writes what is queued (if it can) and closes. Never throws. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const db = this.#db;
    if (!db) return;
    try {
      this.flush();
    } catch (e) {
      this.#o.onError?.(e as AtcaError);
    }
    // flush() may have scheduled a retry: nothing runs after close.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queued.length > 0) {
      const n = this.#queued.length;
      this.#dropped += n;
      this.#queued = [];
      this.#o.onLost?.(
        n,
        this.#lowSpaceSince !== undefined
          ? 'the filesystem is below the journal reserve (journal.minFreeMiB)'
          : (this.#lastError ?? 'the journal could not write them'),
      );
    }
    this.#checkpointer?.stop();
    this.#checkpointer = undefined;
    db.close();
    this.#db = undefined;
    this.#st = undefined;
    this.#read = undefined;
  }
}
