import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { Picmg } from './picmg.js';
import type { IpmiEndpoint, IpmiSession } from './session.js';

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

  constructor(endpoints: readonly IpmiEndpoint[], open: OpenSession, log: Logger) {
    this.#endpoints = endpoints;
    this.#open = open;
    this.#log = log;
  }

  get peer(): string | undefined {
    return this.#session?.peer;
  }

  async #connect(): Promise<IpmiSession> {
    if (this.#session) return this.#session;
    const failures: AtcaError[] = [];
    for (let n = 0; n < this.#endpoints.length; n++) {
      const ep = this.#endpoints[this.#index]!;
      try {
        this.#session = await this.#open(ep);
        if (failures.length > 0) this.#log.warn(`using shelf manager ${ep.host}:${ep.port} instead`);
        return this.#session;
      } catch (e) {
        if (!isTransportFailure(e)) throw e;
        failures.push(e as AtcaError);
        const more = n + 1 < this.#endpoints.length;
        this.#log.warn(
          `shelf manager ${ep.host}:${ep.port} failed: ${(e as Error).message}${more ? '; failing over' : ''}`,
        );
        this.#index = (this.#index + 1) % this.#endpoints.length;
      }
    }
    // All refused our login: say so; otherwise (any silence) the shelf is unreachable.
    if (failures.every((f) => f.code === 'ATCA_ERR_LOGIN_REJECTED')) {
      throw new AtcaError('ATCA_ERR_LOGIN_REJECTED', failures.map((f) => f.detail).join('; '));
    }
    throw new AtcaError('ATCA_ERR_SHMC_UNREACHABLE', failures.map((f) => f.detail || f.message).join('; '));
  }

  /**
   * Runs a step that may safely run twice (a read, or a write that sets a value); on a
   * transport failure mid-way, reconnects to the next shelf manager and reruns it once.
   */
  async run<T>(step: (p: Picmg) => Promise<T>): Promise<T> {
    const first = await this.#connect();
    try {
      return await step(new Picmg(first));
    } catch (e) {
      if (!isTransportFailure(e)) throw e;
      await this.#drop(first, e as AtcaError);
      if (this.#endpoints.length < 2) throw e;
      const second = await this.#connect();
      return await step(new Picmg(second));
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

  /** The session is dead: the next step opens one on the next shelf manager (or this one again, if alone). */
  async #drop(s: IpmiSession, e: AtcaError): Promise<void> {
    await s.close().catch(() => undefined);
    if (this.#session === s) this.#session = undefined;
    const more = this.#endpoints.length > 1;
    this.#log.warn(`shelf manager ${s.peer} stopped answering (${e.message})${more ? '; failing over' : ''}`);
    this.#index = (this.#index + 1) % this.#endpoints.length;
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    await s?.close();
  }
}
