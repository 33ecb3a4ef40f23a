import type Database from 'better-sqlite3';

/**
 * The journal's tables. `actions.value` (the health value or standby on/off an action set)
 * was added after the first release: migrate() adds it to an older file.
 */
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
  command TEXT, exit_code INTEGER, duration_ms REAL, stdout TEXT, stderr TEXT, note TEXT, value TEXT);
CREATE INDEX IF NOT EXISTS actions_status ON actions(status);
CREATE INDEX IF NOT EXISTS actions_kind_started ON actions(kind, started_at);
-- Pruning decisions checks each against actions.decision_id: without it, a table scan per row.
CREATE INDEX IF NOT EXISTS actions_decision ON actions(decision_id);
`;

export function migrate(db: Database.Database): void {
  db.exec(SCHEMA);
  const cols = db.pragma('table_info(actions)') as { name: string }[];
  if (!cols.some((c) => c.name === 'value')) db.exec('ALTER TABLE actions ADD COLUMN value TEXT');
}

/**
 * An action's life: `started` is written before its command runs. It ends `succeeded` or
 * `failed` (the command said so), `not-started` (it provably never ran: it could not be
 * executed, or the daemon it talks to was not reachable), or `uncertain` (it timed out or was
 * interrupted: a fence may have happened anyway) until the fencer's history settles it as
 * `reconciled-done` or `reconciled-failed`. An idempotent action (health, standby) a restart
 * interrupted is `abandoned`: it is decided afresh.
 */
export const ACTION_STATUSES = [
  'started',
  'succeeded',
  'failed',
  'not-started',
  'uncertain',
  'reconciled-done',
  'reconciled-failed',
  'abandoned',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Statuses whose outcome is not settled: a fence in one of them may still be happening. */
export const UNSETTLED: readonly ActionStatus[] = ['started', 'uncertain'];

export type ActionKind = 'health' | 'standby' | 'fence';
