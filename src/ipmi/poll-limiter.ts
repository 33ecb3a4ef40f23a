/**
 * Bounds how many polls run at once across every shelf (polling.concurrency): a daemon
 * watching sixteen shelves does not start sixteen sweeps, and their ipmitool processes, at
 * the same instant. Waiters are served in arrival order.
 */
export class PollLimiter {
  readonly #max: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, not ${max}`);
    this.#max = max;
  }

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#max) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#active++;
    try {
      return await f();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter: #active stays counted for it.
      if (next) next();
      else this.#active--;
    }
  }
}
