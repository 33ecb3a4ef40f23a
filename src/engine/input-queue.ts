/**
 * The engine's input queue, bounded. Past the bound an input is dropped by rank, oldest first:
 * rank 1 (what may only clear or say nothing: polling re-reads it, and a fault it would have
 * cleared is refuted by the fresh reading before anything is done) before rank 2 (what may
 * raise a fault), and never rank 0 (a confirmation, an action's outcome: at most one of each
 * per slot anyway). Pure but for itself.
 */
export type DropRank = 0 | 1 | 2;

/** How far from the head to look for a rank-1 input before dropping a rank-2 one: a bounded cost per push. */
const SCAN = 256;

export class InputQueue<T> {
  readonly #items: T[] = [];
  #head = 0;
  readonly #max: number;
  readonly #rank: (t: T) => DropRank;
  #dropped = 0;

  constructor(max: number, rank: (t: T) => DropRank) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`queue bound must be a positive integer, not ${max}`);
    this.#max = max;
    this.#rank = rank;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Inputs dropped so far because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds `t`; returns the input it had to drop to stay within the bound (possibly `t` itself). */
  push(t: T): T | undefined {
    if (this.size < this.#max) {
      this.#items.push(t);
      return undefined;
    }
    const i = this.#victim(this.#rank(t));
    if (i === undefined) {
      if (this.#rank(t) === 0) {
        // Never dropped: the bound yields (by at most one per slot, see the class comment).
        this.#items.push(t);
        return undefined;
      }
      this.#dropped++;
      return t;
    }
    const gone = this.#items[i]!;
    this.#items.splice(i, 1);
    this.#items.push(t);
    this.#dropped++;
    return gone;
  }

  /** The oldest input of the lowest droppable rank, no higher than `incoming`'s (or any, for rank 0). */
  #victim(incoming: DropRank): number | undefined {
    const end = Math.min(this.#items.length, this.#head + SCAN);
    let firstTwo: number | undefined;
    for (let k = this.#head; k < end; k++) {
      const r = this.#rank(this.#items[k]!);
      if (r === 1) return k;
      if (r === 2) firstTwo ??= k;
    }
    if (incoming === 1) return undefined;
    if (firstTwo !== undefined) return firstTwo;
    for (let k = end; k < this.#items.length; k++) if (this.#rank(this.#items[k]!) !== 0) return k;
    return undefined;
  }

  peek(): T | undefined {
    return this.size > 0 ? this.#items[this.#head] : undefined;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const t = this.#items[this.#head]!;
    this.#head++;
    // Compact now and then so the array does not grow with everything ever queued.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return t;
  }

  some(f: (t: T) => boolean): boolean {
    for (let k = this.#head; k < this.#items.length; k++) if (f(this.#items[k]!)) return true;
    return false;
  }
}
