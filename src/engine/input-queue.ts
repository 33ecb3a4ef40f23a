/**
 * The engine's input queue, bounded. Past the bound the oldest input that may be dropped goes
 * (domain events: polling re-reads what they said), never one that may not (a confirmation,
 * an action's outcome: there is at most one of each per slot anyway). Pure but for itself.
 */
export class InputQueue<T> {
  readonly #items: T[] = [];
  #head = 0;
  readonly #max: number;
  readonly #droppable: (t: T) => boolean;
  #dropped = 0;

  constructor(max: number, droppable: (t: T) => boolean) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`queue bound must be a positive integer, not ${max}`);
    this.#max = max;
    this.#droppable = droppable;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Inputs dropped so far because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds `t`; returns the input it had to drop to stay within the bound, if any. */
  push(t: T): T | undefined {
    let gone: T | undefined;
    if (this.size >= this.#max) {
      let i = this.#head;
      while (i < this.#items.length && !this.#droppable(this.#items[i]!)) i++;
      if (i < this.#items.length) {
        gone = this.#items[i];
        this.#items.splice(i, 1);
        this.#dropped++;
      } else if (this.#droppable(t)) {
        this.#dropped++;
        return t;
      }
    }
    this.#items.push(t);
    return gone;
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
