/**
 * A value recomputed at most once per `maxAgeMs`, for the reads operators and Prometheus repeat
 * (the shelves' summary, /metrics): atcad has one thread, and the trap path shares it. With
 * 16 shelves × 14 slots, building /metrics takes about 3 ms and /api/v1/shelves about 1 ms;
 * served from here, 200 requests a second cost a few builds a second instead of 200
 * (bench/api.ts). The staleness is bounded by maxAgeMs; the event stream is not cached.
 */
export class FreshCache<T> {
  #value: T | undefined;
  #at = Number.NEGATIVE_INFINITY;
  #pending: Promise<T> | undefined;

  constructor(
    private readonly build: () => T | Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(): Promise<T> {
    if (this.#value !== undefined && this.now() - this.#at < this.maxAgeMs) return this.#value;
    // Requests that arrive while it is built share the build.
    if (this.#pending) return this.#pending;
    // A build that throws (at once or later) is not kept: the next request builds again.
    const p = Promise.resolve()
      .then(() => this.build())
      .then((v) => {
        this.#value = v;
        this.#at = this.now();
        return v;
      })
      .finally(() => {
        if (this.#pending === p) this.#pending = undefined;
      });
    this.#pending = p;
    return p;
  }
}
