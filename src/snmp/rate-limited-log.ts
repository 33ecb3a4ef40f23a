export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, msg: string) => void;

interface KeyState {
  last: number;
  level: LogLevel;
  suppressed: number;
}

/**
 * At most one line per key per interval: a flood of bad traps (a misconfigured shelf, a scan)
 * must not flood the journal. Lines dropped in between are counted; the next line of the same
 * key says how many, and flush() reports what is still pending (call it on shutdown).
 */
export class RateLimitedLog {
  readonly #log: LogFn;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState>();
  #suppressedTotal = 0;

  constructor(log: LogFn, intervalMs = 10_000, now: () => number = () => performance.now()) {
    this.#log = log;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Lines dropped since this log was created. */
  get suppressed(): number {
    return this.#suppressedTotal;
  }

  /**
   * Logs `msg` unless a line of `key` went out within the interval. `msg` may be a function: it
   * is only called for a line that goes out (a flood of refusals should not pay for formatting
   * thousands of lines nobody sees).
   */
  emit(key: string, level: LogLevel, msg: string | (() => string)): void {
    const now = this.#now();
    const state = this.#keys.get(key);
    if (state && now - state.last < this.#intervalMs) {
      state.suppressed++;
      this.#suppressedTotal++;
      return;
    }
    const dropped = state?.suppressed ?? 0;
    this.#keys.set(key, { last: now, level, suppressed: 0 });
    const text = typeof msg === 'string' ? msg : msg();
    this.#log(level, dropped > 0 ? `${text} (${dropped} similar line(s) suppressed before this one)` : text);
  }

  /** Writes one line per key whose suppressed lines were never reported, and forgets them. */
  flush(): void {
    for (const [key, state] of this.#keys) {
      if (state.suppressed > 0) {
        this.#log(state.level, `${state.suppressed} more "${key}" line(s) were suppressed by rate limiting`);
        state.suppressed = 0;
      }
    }
  }
}
