/**
 * A token bucket per key: at most `burst` replies at once, refilled at `perSecond`. The trap
 * receiver answers informs and SNMPv3 discovery only for configured sources, but a source
 * address is easy to spoof over UDP: this bounds what a spoofer can make atcad send to a shelf
 * manager (a reflector). Pure but for the Map; the clock is injected.
 */
export class ReplyBudget {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perSecond: number, burst: number, now: () => number = () => performance.now()) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#now = now;
  }

  /** Takes one token for `key`; false when its bucket is empty. Keys are configured sources only. */
  take(key: string): boolean {
    const now = this.#now();
    const b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#burst < 1) return false;
      this.#buckets.set(key, { tokens: this.#burst - 1, at: now });
      return true;
    }
    b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
