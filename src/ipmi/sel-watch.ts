import type { DomainEvent } from '../domain/events.js';
import { platformEventToDomain } from '../domain/platform-event.js';
import type { Logger } from '../log.js';
import { SEL_FIRST, SEL_LAST, type SelInfo, type SelRecord } from './sel.js';
import type { RunOnShelf } from './sensor-watch.js';
import { CC_NOT_PRESENT, isCc, readSelEntry, readSelInfo } from './storage-requests.js';

/** At most this many new entries per poll: a flood is read over several polls, not in one stall. */
const MAX_ENTRIES_PER_POLL = 256;

/**
 * Follows the shelf manager's SEL: the first poll takes the log's end as the starting point
 * (history before atcad started is not news), later polls read only the entries added since,
 * and turn each into the domain event it reports. Entries that report nothing we understand
 * are handed to `unparsed` for the journal. A cleared log is detected (the last entry seen is
 * gone or different) and followed from its new start.
 */
export class SelWatch {
  readonly #shelf: string;
  readonly #run: RunOnShelf;
  readonly #emit: (e: DomainEvent) => void;
  readonly #unparsed: (r: SelRecord) => void;
  readonly #log: Logger;
  #info: SelInfo | undefined;
  #last: SelRecord | undefined;
  #started = false;
  #behind = false;

  constructor(
    shelf: string,
    run: RunOnShelf,
    emit: (e: DomainEvent) => void,
    unparsed: (r: SelRecord) => void,
    log: Logger,
  ) {
    this.#shelf = shelf;
    this.#run = run;
    this.#emit = emit;
    this.#unparsed = unparsed;
    this.#log = log;
  }

  /** Reads what was added since the last poll; returns how many entries were new. */
  async poll(now: () => number = Date.now): Promise<number> {
    const info = await this.#run((s) => readSelInfo(s));
    if (!this.#started) {
      this.#last = info.entries > 0 ? await this.#entry(SEL_LAST).then((e) => e?.record) : undefined;
      this.#info = info;
      this.#started = true;
      return 0;
    }
    // Timestamps count seconds: two additions within one second differ only in the count.
    const unchanged =
      this.#info &&
      info.entries === this.#info.entries &&
      info.lastAddition === this.#info.lastAddition &&
      info.lastErase === this.#info.lastErase;
    if (unchanged && !this.#behind) return 0;
    this.#info = info;
    let id = await this.#firstNewId();
    let n = 0;
    while (id !== undefined && n < MAX_ENTRIES_PER_POLL) {
      const e = await this.#entry(id);
      if (!e) break;
      n++;
      this.#last = e.record;
      this.#handle(e.record, now());
      id = e.next === SEL_LAST ? undefined : e.next;
    }
    this.#behind = id !== undefined;
    if (this.#behind) this.#log.warn(`${this.#shelf}: more than ${MAX_ENTRIES_PER_POLL} new SEL entries; reading on`);
    return n;
  }

  /** The ID after the last entry handled; the log's first entry when that one is gone (cleared). */
  async #firstNewId(): Promise<number | undefined> {
    if (!this.#last) return SEL_FIRST;
    const last = this.#last;
    const again = await this.#entry(last.id);
    if (!again?.record.raw.every((b, i) => b === last.raw[i])) {
      this.#log.info(`${this.#shelf}: the shelf manager's SEL was cleared; reading it from its start`);
      return SEL_FIRST;
    }
    return again.next === SEL_LAST ? undefined : again.next;
  }

  async #entry(id: number) {
    try {
      return await this.#run((s) => readSelEntry(s, id));
    } catch (e) {
      if (isCc(e, CC_NOT_PRESENT)) return undefined;
      throw e;
    }
  }

  #handle(r: SelRecord, at: number): void {
    const e = r.event ? platformEventToDomain(r.event, this.#shelf, at, 'sel') : undefined;
    if (e) this.#emit(e);
    else this.#unparsed(r);
  }
}
