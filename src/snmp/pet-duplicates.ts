import type { PetRecord } from './pet.js';

/**
 * Recognises a PET seen before: the same shelf, trap, sequence number, timestamp and event
 * data within a window. Shelf managers resend (to each destination, or from both shelf
 * managers), and a captured trap can be replayed; a repeat must not count as a second fault.
 * Only PETs that carry a sequence number or a timestamp are compared: without either, two
 * identical traps may be two real events (fault, clear, fault again). Pure but for the Map.
 *
 * At most `max` PETs are remembered (the oldest are forgotten first). Expiry walks a FIFO of
 * keys in arrival order rather than the Map itself: a Map whose oldest entries are deleted one
 * by one is slow to iterate from the front (V8 keeps the holes until it rehashes).
 */
export class PetDuplicates {
  readonly #windowMs: number;
  readonly #max: number;
  /** key → when it stops counting. */
  readonly #seen = new Map<string, number>();
  /** Keys and their expiry in arrival order (a ring); an entry is stale if the Map moved on. */
  readonly #fifoKeys: string[];
  readonly #fifoUntil: Float64Array;
  #head = 0;
  #length = 0;
  readonly #scratch = Buffer.alloc(40);

  constructor(windowMs: number, max = 16_384) {
    this.#windowMs = windowMs;
    this.#max = max;
    this.#fifoKeys = new Array<string>(max + 1);
    this.#fifoUntil = new Float64Array(max + 1);
  }

  /** How many PETs are remembered (at most `max`). */
  get size(): number {
    return this.#seen.size;
  }

  /** True for a repeat within the window; records the PET either way. */
  check(shelf: string, specific: number, pet: PetRecord, now: number): boolean {
    if (pet.sequence === 0 && pet.timestamp === undefined) return false;
    this.#expire(now);
    const key = this.#key(shelf, specific, pet);
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return true;
    const expiry = now + this.#windowMs;
    this.#seen.set(key, expiry);
    this.#push(key, expiry);
    return false;
  }

  /**
   * The fields that make a PET the same one, packed into one short flat string (shelf, then 40
   * bytes as latin1): a key built from many parts costs a chain of intermediate strings per trap,
   * and keys live long enough (thousands of traps) for V8's GC to feel every byte of them.
   */
  #key(shelf: string, specific: number, pet: PetRecord): string {
    const b = this.#scratch;
    b.writeUInt32BE(specific >>> 0, 0);
    if (b.write(pet.guid, 4, 16, 'hex') !== 16) b.fill(0, 4, 20);
    b.writeUInt16BE(pet.sequence & 0xffff, 20);
    const t = pet.timestamp?.getTime();
    b.writeDoubleBE(t === undefined ? -1 : t, 22);
    b[30] = pet.sensorDevice;
    b[31] = pet.sensorNumber;
    const ed = pet.eventData;
    for (let i = 0; i < 8; i++) b[32 + i] = ed[i] ?? 0;
    return `${shelf}\u0000${b.toString('latin1', 0, 40)}`;
  }

  /** Forgets what has expired, and the oldest while more than `max` are remembered. */
  #expire(now: number): void {
    const cap = this.#fifoKeys.length;
    while (this.#length > 0) {
      const until = this.#fifoUntil[this.#head]!;
      if (until > now && this.#seen.size < this.#max) break;
      const key = this.#fifoKeys[this.#head]!;
      // Only if the Map still holds this entry (not a newer sighting of the same key).
      if (this.#seen.get(key) === until) this.#seen.delete(key);
      this.#fifoKeys[this.#head] = '';
      this.#head = (this.#head + 1) % cap;
      this.#length--;
    }
  }

  #push(key: string, until: number): void {
    const cap = this.#fifoKeys.length;
    if (this.#length === cap) {
      // Only with a clock that went back (stale entries piled up): forget the oldest outright.
      const old = this.#fifoKeys[this.#head]!;
      if (this.#seen.get(old) === this.#fifoUntil[this.#head]) this.#seen.delete(old);
      this.#head = (this.#head + 1) % cap;
      this.#length--;
    }
    const at = (this.#head + this.#length) % cap;
    this.#fifoKeys[at] = key;
    this.#fifoUntil[at] = until;
    this.#length++;
  }
}
