import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The API's bearer tokens: a file of `name token` lines (# comments, blank lines ignored), read
 * with the same rule as every other secret (owner-only mode). The name is who acted, in the
 * journal; the token itself is never kept in clear after parsing, never logged, never echoed.
 */
export interface TokenEntry {
  readonly name: string;
  readonly digest: Buffer;
}

/** Tokens shorter than this are refused: a guessable token protects nothing. */
export const MIN_TOKEN_LENGTH = 16;
/** …and this many different characters: "aaaaaaaaaaaaaaaa" is not a token. */
export const MIN_DISTINCT = 10;

const digestOf = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Parses a token file's text; problems name the line, never its token. Pure. */
export function parseTokens(text: string): { tokens: TokenEntry[]; problems: string[] } {
  const tokens: TokenEntry[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9_.@-]{1,64})\s+(\S+)$/.exec(line);
    if (!m) {
      problems.push(`line ${i + 1}: expected "name token" (a name of letters, digits, "_.@-", then the token)`);
      return;
    }
    const [, name, token] = m as unknown as [string, string, string];
    // Problems name the line only: a line with its columns swapped would put a token in the log.
    if (token.length < MIN_TOKEN_LENGTH)
      problems.push(`line ${i + 1}: the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
    else if (new Set(token).size < MIN_DISTINCT)
      problems.push(
        `line ${i + 1}: the token has fewer than ${MIN_DISTINCT} different characters: make one with openssl rand -base64 32`,
      );
    else if (names.has(name)) problems.push(`line ${i + 1}: its name is given on an earlier line too`);
    else {
      names.add(name);
      tokens.push({ name, digest: digestOf(token) });
    }
  });
  if (tokens.length === 0 && problems.length === 0) problems.push('no token in the file');
  return { tokens, problems };
}

/**
 * The name of the token `given` is, or undefined. Every entry is compared, in constant time over
 * digests of equal length, so neither the answer's time nor a token's length tells anything.
 */
export function tokenName(tokens: readonly TokenEntry[], given: string): string | undefined {
  const d = digestOf(given);
  let found: string | undefined;
  for (const t of tokens) if (timingSafeEqual(t.digest, d) && found === undefined) found = t.name;
  return found;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * Failed authentications per client address: past `max` in a window, that address's
 * authenticated requests are refused until the window ends. Bounded: the oldest addresses are
 * forgotten first, so a spray of addresses cannot grow it without end.
 */
export class AuthFailures {
  readonly #seen = new Map<string, { start: number; n: number }>();
  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly capacity = 4096,
  ) {}

  /** Milliseconds until `addr` may try again, or 0. */
  blockedFor(addr: string, now: number): number {
    const e = this.#seen.get(addr);
    if (!e || now - e.start >= this.windowMs) return 0;
    return e.n >= this.max ? e.start + this.windowMs - now : 0;
  }

  fail(addr: string, now: number): void {
    const e = this.#seen.get(addr);
    if (e && now - e.start < this.windowMs) {
      e.n++;
      return;
    }
    this.#seen.delete(addr);
    if (this.#seen.size >= this.capacity) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(addr, { start: now, n: 1 });
  }
}
