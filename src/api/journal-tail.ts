import type { ActionRow, DecisionRecord, EventRow, JournalReadModel } from '../journal/read-model.js';
import { UNSETTLED } from '../journal/schema.js';

/**
 * The live stream's source: the journal itself, read after its last ids every `intervalMs` by
 * one reader shared by every client. What a client sees is what was journaled, with the
 * journal's ids, so a client that reconnects with `Last-Event-ID` resumes exactly where it
 * left off, and nothing shown can be missing from the journal afterwards.
 */
export interface Cursor {
  readonly events: number;
  readonly decisions: number;
  readonly actions: number;
}

export type TailItem =
  | { readonly type: 'event'; readonly row: EventRow }
  | { readonly type: 'decision'; readonly row: DecisionRecord }
  | { readonly type: 'action'; readonly row: ActionRow };

/** A cursor as an SSE id: `e<events>.d<decisions>.a<actions>`. */
export function cursorId(c: Cursor): string {
  return `e${c.events}.d${c.decisions}.a${c.actions}`;
}

export function parseCursorId(id: string | undefined): Cursor | undefined {
  const m = id === undefined ? null : /^e(\d{1,15})\.d(\d{1,15})\.a(\d{1,15})$/.exec(id.trim());
  return m ? { events: Number(m[1]), decisions: Number(m[2]), actions: Number(m[3]) } : undefined;
}

/** At most this many rows of each table per read: a client far behind catches up in steps. */
export const TAIL_BATCH = 200;

/**
 * What the journal holds after `c`, oldest first within each table, and the cursor after it;
 * and the current rows of the actions in `watched` (not settled when last sent), for each
 * client to compare with what it was sent.
 */
export function readAfter(
  read: JournalReadModel,
  c: Cursor,
  watched: ReadonlySet<number>,
): { items: TailItem[]; changed: ActionRow[]; cursor: Cursor } {
  const events = read.eventsAfter(c.events, TAIL_BATCH);
  const decisions = read.decisionsAfter(c.decisions, TAIL_BATCH);
  const fresh = read.actionsAfter(c.actions, TAIL_BATCH);
  const changed = watched.size > 0 ? read.actionsById([...watched]) : [];
  // Table by table, each in id order: a client may tell rows apart by their id.
  const items: TailItem[] = [
    ...events.map((row) => ({ type: 'event' as const, row })),
    ...decisions.map((row) => ({ type: 'decision' as const, row })),
    ...fresh.map((row) => ({ type: 'action' as const, row })),
  ];
  return {
    items,
    changed,
    cursor: {
      events: events.at(-1)?.id ?? c.events,
      decisions: decisions.at(-1)?.id ?? c.decisions,
      actions: fresh.at(-1)?.id ?? c.actions,
    },
  };
}

/** Whether an action is still to be watched for its outcome. */
export const unsettled = (a: ActionRow) => UNSETTLED.includes(a.status);
