import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { Picmg } from './picmg.js';
import type { IpmiEndpoint, IpmiSession } from './session.js';

/** One shelf manager as atcad last saw it (ShelfConnection.managers). */
export interface ManagerState {
  readonly name: string;
  readonly state: 'answering' | 'answered' | 'failed' | 'not tried';
  readonly at?: number | undefined;
  readonly error?: string | undefined;
}

export type OpenSession = (ep: IpmiEndpoint) => Promise<IpmiSession>;

/**
 * What became of a step run at most once: its answer, or the transport failure that cut it
 * off — after which nobody knows whether the shelf acted on what was sent.
 */
export type Sent<T> =
  | { readonly answered: true; readonly value: T }
  | { readonly answered: false; readonly error: AtcaError };

/** Errors that say "this shelf manager is not answering", as opposed to an answer we dislike. */
function isTransportFailure(e: unknown): boolean {
  return (
    isAtcaError(e, 'ATCA_ERR_SHMC_UNREACHABLE') ||
    isAtcaError(e, 'ATCA_ERR_SHMC_LOST') ||
    isAtcaError(e, 'ATCA_ERR_IPMI_TIMEOUT') ||
    isAtcaError(e, 'ATCA_ERR_LOGIN_REJECTED')
  );
}

/**
 * A session with whichever of the shelf's shelf managers answers. The first is tried first;
 * when one does not answer at login, the next is tried, and the log says so. When one stops
 * answering in the middle of a step, the session is dropped and the next step goes to the
 * next shelf manager; what happens to the step cut off depends on how it was run:
 * - `run`: the step is run once more on the next shelf manager. Only for steps that may be
 *   repeated without harm: reads, and writes that set a value (not ones that start something).
 * - `runOnce`: never repeated; the caller learns that the answer was lost and decides (reads
 *   the state through the next shelf manager, and acts on what it reads).
 * Answers (completion codes, states) are never a reason to switch: the second shelf manager
 * would tell the same story.
 */
export class ShelfConnection {
  readonly #endpoints: readonly IpmiEndpoint[];
  readonly #open: OpenSession;
  readonly #log: Logger;
  #index = 0;
  #session: IpmiSession | undefined;
  /** The login under way, shared by every caller that finds no session: one login at a time. */
  #pending: Promise<IpmiSession> | undefined;
  /** Bumped by close(): a login that completes after it is closed at once, and nothing is rerun. */
  #epoch = 0;
  readonly #seen = new Map<string, { ok: boolean; at: number; error?: string }>();

  constructor(endpoints: readonly IpmiEndpoint[], open: OpenSession, log: Logger) {
    this.#endpoints = endpoints;
    this.#open = open;
    this.#log = log;
  }

  get peer(): string | undefined {
    return this.#session?.peer;
  }

  /**
   * What atcad last saw of each shelf manager, in configured order: answering (the session in
   * use), failed (when, and why), or not tried yet. atcad talks to one at a time: the other's
   * state is its last, not a probe's.
   */
  managers(): ManagerState[] {
    return this.#endpoints.map((ep) => {
      const name = `${ep.host}:${ep.port}`;
      const seen = this.#seen.get(name);
      const inUse = this.#session !== undefined && this.#endpoints[this.#index] === ep;
      return inUse
        ? { name, state: 'answering', at: seen?.at }
        : seen
          ? { name, state: seen.ok ? 'answered' : 'failed', at: seen.at, error: seen.error }
          : { name, state: 'not tried' };
    });
  }

  #saw(ep: IpmiEndpoint | string, ok: boolean, error?: string): void {
    const name = typeof ep === 'string' ? ep : `${ep.host}:${ep.port}`;
    this.#seen.set(name, { ok, at: Date.now(), ...(error === undefined ? {} : { error }) });
  }

  /**
   * The session, logging in first if there is none. Single flight: callers that find no
   * session while a login is under way wait for that one, so that concurrent callers (atcad's
   * poll, a trap-driven read and a confirmation at once) never open one session each — a
   * session nobody holds would keep its ipmitool process and a shelf-manager session slot for
   * the daemon's life.
   */
  #connect(): Promise<IpmiSession> {
    if (this.#session) return Promise.resolve(this.#session);
    if (this.#pending) return this.#pending;
    const p = this.#login(this.#epoch);
    this.#pending = p;
    const settled = () => {
      if (this.#pending === p) this.#pending = undefined;
    };
    p.then(settled, settled);
    return p;
  }

  async #login(epoch: number): Promise<IpmiSession> {
    const failures: AtcaError[] = [];
    for (let n = 0; n < this.#endpoints.length; n++) {
      if (epoch !== this.#epoch) break;
      const ep = this.#endpoints[this.#index]!;
      let s: IpmiSession;
      try {
        s = await this.#open(ep);
      } catch (e) {
        if (!isTransportFailure(e)) throw e;
        failures.push(e as AtcaError);
        this.#saw(ep, false, (e as Error).message);
        const more = n + 1 < this.#endpoints.length;
        this.#log.warn(
          `shelf manager ${ep.host}:${ep.port} failed: ${(e as Error).message}${more ? '; failing over' : ''}`,
        );
        this.#index = (this.#index + 1) % this.#endpoints.length;
        continue;
      }
      if (epoch !== this.#epoch || this.#session) {
        // Lost a race (closed while logging in, or a session is already in place): nobody holds it.
        await s.close().catch(() => undefined);
        if (epoch === this.#epoch && this.#session) return this.#session;
        break;
      }
      this.#session = s;
      this.#saw(ep, true);
      if (failures.length > 0) this.#log.warn(`using shelf manager ${ep.host}:${ep.port} instead`);
      return s;
    }
    if (epoch !== this.#epoch) throw new AtcaError('ATCA_ERR_SHMC_LOST', 'the connection was closed while logging in');
    // All refused our login: say so; otherwise (any silence) the shelf is unreachable.
    if (failures.every((f) => f.code === 'ATCA_ERR_LOGIN_REJECTED')) {
      throw new AtcaError('ATCA_ERR_LOGIN_REJECTED', failures.map((f) => f.detail).join('; '));
    }
    throw new AtcaError('ATCA_ERR_SHMC_UNREACHABLE', failures.map((f) => f.detail || f.message).join('; '));
  }

  /**
   * Runs a step that may safely run twice (a read, or a write that sets a value); on a
   * transport failure mid-way, reconnects to the next shelf manager and reruns it once. A rerun
   * that fails the same way drops its session too (the next step logs in afresh).
   */
  async run<T>(step: (p: Picmg) => Promise<T>): Promise<T> {
    const epoch = this.#epoch;
    const first = await this.#connect();
    try {
      return await step(new Picmg(first));
    } catch (e) {
      if (!isTransportFailure(e)) throw e;
      await this.#drop(first, e as AtcaError);
      if (this.#endpoints.length < 2 || epoch !== this.#epoch) throw e;
      const second = await this.#connect();
      try {
        return await step(new Picmg(second));
      } catch (e2) {
        if (isTransportFailure(e2)) await this.#drop(second, e2 as AtcaError);
        throw e2;
      }
    }
  }

  /**
   * Runs a step that must not run twice (a command that starts something: deactivate,
   * activate, a reset). A transport failure before it starts (at login) fails over as usual,
   * since nothing was sent; one during it drops the session and is returned, not retried: the
   * command may or may not have reached the blade, and only its state can tell.
   */
  async runOnce<T>(step: (p: Picmg) => Promise<T>): Promise<Sent<T>> {
    const s = await this.#connect();
    try {
      return { answered: true, value: await step(new Picmg(s)) };
    } catch (e) {
      if (!isTransportFailure(e)) throw e;
      await this.#drop(s, e as AtcaError);
      return { answered: false, error: e as AtcaError };
    }
  }

  /**
   * Session `s` failed: closes it. If it is still the current session, the next step opens one
   * on the next shelf manager (or this one again, if alone). If it is not — several steps
   * failed on it at once and another caller already dropped it, or a new session replaced it —
   * the failover already happened: moving on again would send the next login back to the
   * shelf manager that just died.
   */
  async #drop(s: IpmiSession, e: AtcaError): Promise<void> {
    if (this.#session === s) {
      this.#saw(this.#endpoints[this.#index]!, false, e.message);
      this.#session = undefined;
      const more = this.#endpoints.length > 1;
      this.#log.warn(`shelf manager ${s.peer} stopped answering (${e.message})${more ? '; failing over' : ''}`);
      this.#index = (this.#index + 1) % this.#endpoints.length;
    } else {
      this.#log.debug(`shelf manager ${s.peer}: a session already dropped failed again (${e.message})`);
    }
    await s.close().catch(() => undefined);
  }

  /**
   * Closes the session, and any login under way as soon as it completes. The connection can be
   * used again afterwards (a new step logs in afresh).
   */
  async close(): Promise<void> {
    this.#epoch++;
    const s = this.#session;
    const pending = this.#pending;
    this.#session = undefined;
    this.#pending = undefined;
    await s?.close();
    await pending?.catch(() => undefined);
  }
}
