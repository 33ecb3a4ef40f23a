import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { Picmg } from './picmg.js';
import type { IpmiEndpoint, IpmiSession } from './session.js';

export type OpenSession = (ep: IpmiEndpoint) => Promise<IpmiSession>;

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
 * when it does not answer — at login or in the middle of an operation — the step is run
 * once more on the next one, and the log says so. Answers (completion codes, states) are
 * never a reason to switch: the second shelf manager would tell the same story.
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

  /** Runs one step; on a transport failure mid-way, reconnects to the next shelf manager and reruns it once. */
  async run<T>(step: (p: Picmg) => Promise<T>): Promise<T> {
    const first = await this.#connect();
    try {
      return await step(new Picmg(first));
    } catch (e) {
      if (!isTransportFailure(e)) throw e;
      // The session is dead either way: the next step must open a new one.
      await first.close().catch(() => undefined);
      this.#session = undefined;
      if (this.#endpoints.length < 2) throw e;
      this.#log.warn(`shelf manager ${first.peer} stopped answering (${(e as Error).message}); failing over`);
      this.#index = (this.#index + 1) % this.#endpoints.length;
      const second = await this.#connect();
      return await step(new Picmg(second));
    }
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    await s?.close();
  }
}
