import type { ServerResponse } from 'node:http';
import type { ActionRow, JournalReadModel } from '../journal/read-model.js';
import type { ModelView } from '../shelf/model.js';
import { type Cursor, cursorId, readAfter, type TailItem, unsettled } from './journal-tail.js';
import { isLoopback } from './values.js';

/**
 * Server-Sent Events of what atcad journals (events, decisions, actions, each with the
 * journal's cursor as its id) and of model changes (a slot's view, as `slot`). One timer for
 * every client; clients at the same cursor share one read of the journal. A client that cannot
 * keep up (its socket buffers more than MAX_BUFFERED) is dropped rather than held in memory:
 * it reconnects with Last-Event-ID and resumes from the journal.
 */
export interface StreamSource {
  journal(): JournalReadModel | undefined;
  model(): ModelView;
}

export const MAX_STREAMS = 200;
/** Streams one client address may hold: one address must not take every stream. */
export const MAX_STREAMS_PER_ADDRESS = 10;
/**
 * Why a new stream from `ip` is refused, or undefined: the global bound, and the per-address
 * one except for loopback (every local user, SSH tunnel and reverse proxy at once).
 */
export function refuseStream(total: number, fromAddress: number, ip: string): string | undefined {
  if (total >= MAX_STREAMS) return `${MAX_STREAMS} streams are open already`;
  if (!isLoopback(ip) && fromAddress >= MAX_STREAMS_PER_ADDRESS)
    return `${MAX_STREAMS_PER_ADDRESS} streams are open from ${ip} already`;
  return undefined;
}

/** Distinct cursors read per tick: clients far behind catch up in turns, not all at once. */
const READS_PER_TICK = 4;
/** On resume, the current state of this many actions before the cursor is sent again. */
const RESUME_ACTIONS = 100;
const MAX_BUFFERED = 1 << 20;
const HEARTBEAT_MS = 15_000;

interface Client {
  readonly res: ServerResponse;
  readonly address: string;
  cursor: Cursor;
  /** Actions this client has seen not settled, with the status it saw: sent again when it changes. */
  watch: Map<number, string>;
}

export class EventStream {
  readonly #clients = new Set<Client>();
  readonly #src: StreamSource;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #beat: NodeJS.Timeout | undefined;
  #slots = new Map<string, string>();
  #turn = 0;
  #ticks = 0;

  constructor(src: StreamSource, intervalMs = 200) {
    this.#src = src;
    this.#intervalMs = intervalMs;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** The cursor of the journal's head (a new client starts there), or undefined while it is closed. */
  head(): Cursor | undefined {
    const j = this.#src.journal();
    return j?.lastIds();
  }

  /** Streams held by a client address. */
  countOf(address: string): number {
    let n = 0;
    for (const c of this.#clients) if (c.address === address) n++;
    return n;
  }

  /**
   * Starts streaming to `res` (headers written here) from `from`. A resumed client (`resumed`)
   * first gets the current state of the actions just before its cursor: an outcome that landed
   * while it was away is not lost. Every client watches the actions not settled yet.
   */
  add(res: ServerResponse, given: Cursor, address: string, resumed: boolean): void {
    const j = this.#src.journal();
    // A cursor beyond the journal's head is from another journal (a new file): from its start.
    const head = j?.lastIds();
    const from: Cursor = head
      ? {
          events: given.events > head.events ? 0 : given.events,
          decisions: given.decisions > head.decisions ? 0 : given.decisions,
          actions: given.actions > head.actions ? 0 : given.actions,
        }
      : given;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The reconnection delay, then a first comment so that the client knows it is connected.
    res.write(`retry: 2000\nid: ${cursorId(from)}\n: connected\n\n`);
    const watch = new Map<number, string>();
    for (const a of j?.unfinishedActions() ?? []) if (a.id <= from.actions) watch.set(a.id, a.status);
    if (j && resumed && from.actions > 0) {
      // As they are now: an outcome (or an "uncertain") that landed while it was away.
      const recent = j.actionsAfter(Math.max(0, from.actions - RESUME_ACTIONS), RESUME_ACTIONS);
      const text = recent
        .filter((a) => a.id <= from.actions)
        .map((a) => `event: action\ndata: ${JSON.stringify(a)}\n\n`)
        .join('');
      if (text) res.write(text);
    }
    const c: Client = { res, address, cursor: from, watch };
    this.#clients.add(c);
    res.on('close', () => this.#remove(c));
    if (this.#clients.size === 1) this.#begin();
    this.#tick();
  }

  close(): void {
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
    this.#end();
  }

  #begin(): void {
    this.#slots = this.#slotTexts();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#beat = setInterval(() => {
      for (const c of this.#clients) this.#write(c, ': keep-alive\n\n');
    }, HEARTBEAT_MS);
  }

  #end(): void {
    clearInterval(this.#timer);
    clearInterval(this.#beat);
    this.#timer = undefined;
    this.#beat = undefined;
  }

  #remove(c: Client): void {
    this.#clients.delete(c);
    if (this.#clients.size === 0) this.#end();
  }

  #write(c: Client, text: string): void {
    if (c.res.writableLength > MAX_BUFFERED) {
      // Too far behind: it resumes from the journal when it reconnects.
      c.res.destroy();
      this.#remove(c);
      return;
    }
    c.res.write(text);
  }

  #slotTexts(): Map<string, string> {
    const m = new Map<string, string>();
    for (const s of this.#src.model().shelves)
      for (const v of s.slots) m.set(`${s.name}/${v.slot}`, JSON.stringify({ shelf: s.name, ...v }));
    return m;
  }

  #tick(): void {
    const j = this.#src.journal();
    if (j) {
      // One read per distinct cursor: clients that are caught up share it, with every action
      // any of them watches. A few distinct cursors per tick, the rest next tick.
      const groups = new Map<string, Client[]>();
      for (const c of this.#clients) {
        const key = cursorId(c.cursor);
        const g = groups.get(key);
        if (g) g.push(c);
        else groups.set(key, [c]);
      }
      // Clients at the head (the furthest cursor) are read every tick; those behind take turns.
      const weight = (k: string) => {
        const c = groups.get(k)![0]!.cursor;
        return c.events + c.decisions + c.actions;
      };
      const keys = [...groups.keys()].sort((a, b) => weight(b) - weight(a));
      const behind = keys.slice(1);
      const start = this.#turn % Math.max(1, behind.length);
      this.#turn++;
      const chosen = [
        ...keys.slice(0, 1),
        ...Array.from(
          { length: Math.min(READS_PER_TICK - 1, behind.length) },
          (_, k) => behind[(start + k) % behind.length]!,
        ),
      ];
      for (const key of chosen) {
        const group = groups.get(key)!;
        const watched = new Set<number>();
        for (const c of group) for (const id of c.watch.keys()) watched.add(id);
        const r = readAfter(j, group[0]!.cursor, watched);
        for (const c of group) this.#send(c, r);
      }
    }
    // Slot changes every other tick: building 224 slots' views costs about a millisecond of
    // the one thread the trap path needs too.
    if (this.#ticks++ % 2 === 1) return;
    const now = this.#slotTexts();
    const changed: string[] = [];
    for (const [k, v] of now) if (this.#slots.get(k) !== v) changed.push(v);
    this.#slots = now;
    if (changed.length === 0) return;
    const text = changed.map((v) => `event: slot\ndata: ${v}\n\n`).join('');
    for (const c of this.#clients) this.#write(c, text);
  }

  #send(c: Client, r: { items: TailItem[]; changed: ActionRow[]; cursor: Cursor }): void {
    // An outcome is sent to each client that saw the action otherwise.
    const items: TailItem[] = [
      ...r.changed
        .filter((a) => c.watch.has(a.id) && c.watch.get(a.id) !== a.status)
        .map((row) => ({ type: 'action' as const, row })),
      ...r.items,
    ];
    for (const a of [
      ...r.changed.filter((x) => c.watch.has(x.id)),
      ...r.items.flatMap((i) => (i.type === 'action' ? [i.row] : [])),
    ]) {
      if (unsettled(a)) c.watch.set(a.id, a.status);
      else c.watch.delete(a.id);
    }
    if (items.length > 0) {
      // The cursor rides on the batch's last item: a client cut off mid-batch resumes before
      // it and sees some rows twice (each carries its journal id), never none.
      const last = items.length - 1;
      const text = items
        .map(
          (i, n) =>
            `event: ${i.type}\n${n === last ? `id: ${cursorId(r.cursor)}\n` : ''}data: ${JSON.stringify(i.row)}\n\n`,
        )
        .join('');
      this.#write(c, text);
    }
    c.cursor = r.cursor;
  }
}
