import type { ShelfConfig } from '../config/schema.js';
import { isAtcaError } from '../errors.js';
import type { DomainEvent } from '../events.js';
import { AtcaDevice } from '../fence/atca-device.js';
import type { AgentLog } from '../fence/log.js';
import { ShelfConnection } from '../fence/shelf-connection.js';
import type { HotSwapState } from './picmg.js';
import { IpmitoolShellSession } from './shell-session.js';

export type SlotReading = HotSwapState | 'ipmc-unreachable' | 'shmc-unreachable' | 'unknown';

/**
 * Polls one shelf over IPMI — the source of truth. It resolves every configured slot to its
 * IPMC address through the shelf manager, reads each slot's hot-swap state at the configured
 * interval, and emits domain events on change only. A slot it cannot read is *unknown* (an
 * IPMC or shelf-manager event), never off. `read()` gives a fresh reading on demand, for the
 * policy's confirmations.
 */
export class ShelfPoller {
  readonly #shelf: ShelfConfig;
  readonly #emit: (e: DomainEvent) => void;
  readonly #log: AgentLog;
  readonly #device: AtcaDevice;
  readonly #conn: ShelfConnection;
  readonly #intervalMs: number;
  readonly #backoffMaxMs: number;
  readonly #last = new Map<number, SlotReading>();
  readonly #ipmbToSlot = new Map<number, number>();
  #shmcUp: boolean | undefined;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> = Promise.resolve();
  #stopped = false;
  #failures = 0;

  constructor(
    shelf: ShelfConfig,
    password: string,
    o: { intervalMs: number; requestTimeoutMs: number; backoffMaxMs: number },
    emit: (e: DomainEvent) => void,
    log: AgentLog,
  ) {
    this.#shelf = shelf;
    this.#emit = emit;
    this.#log = log;
    this.#intervalMs = o.intervalMs;
    this.#backoffMaxMs = o.backoffMaxMs;
    const copts = {
      ipmitoolPath: shelf.ipmi.ipmitoolPath,
      username: shelf.ipmi.username,
      password,
      lanplus: shelf.ipmi.lanplus,
      cipher: shelf.ipmi.cipher,
      privlvl: shelf.ipmi.privlvl,
      retransmitSec: shelf.ipmi.retransmitSec,
      retries: 1,
      loginTimeoutMs: Math.max(o.requestTimeoutMs, shelf.ipmi.retransmitSec * 2000 + 500),
      commandTimeoutMs: o.requestTimeoutMs,
      log: (l: string) => log.debug(l),
    };
    this.#conn = new ShelfConnection(
      shelf.shelfManagers.map((m) => ({ host: m.host, port: m.port })),
      (ep) => IpmitoolShellSession.open(ep, copts),
      log,
    );
    this.#device = new AtcaDevice(
      this.#conn,
      {
        fruId: 0,
        hotswapSensor: shelf.hotswapSensor,
        gracefulTimeoutMs: 0,
        pollMs: 0,
        powerWaitMs: 0,
        powerTimeoutMs: 0,
        overrideDeactivationLock: false,
      },
      log,
    );
  }

  get name(): string {
    return this.#shelf.name;
  }

  slotOfIpmb(ipmb: number): number | undefined {
    return this.#ipmbToSlot.get(ipmb);
  }

  lastReading(slot: number): SlotReading | undefined {
    return this.#last.get(slot);
  }

  start(): void {
    this.#stopped = false;
    this.#current = this.#cycle();
  }

  /** Stops polling; waits for a cycle under way (its requests are bounded) so no ipmitool outlives us. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#current.catch(() => undefined);
    await this.#conn.close().catch(() => undefined);
  }

  async #cycle(): Promise<void> {
    if (this.#stopped) return;
    let ok = true;
    for (const slot of Object.keys(this.#shelf.slots).map(Number)) {
      if (this.#stopped) return;
      const r = await this.read(slot);
      if (r === 'shmc-unreachable') {
        ok = false;
        break;
      }
    }
    this.#failures = ok ? 0 : this.#failures + 1;
    const delay = ok ? this.#intervalMs : Math.min(this.#backoffMaxMs, this.#intervalMs * 2 ** this.#failures);
    if (!this.#stopped) {
      this.#timer = setTimeout(() => {
        this.#current = this.#cycle();
      }, delay);
    }
  }

  /** A fresh reading of one slot; emits the events a change implies. */
  async read(slot: number): Promise<SlotReading> {
    const at = Date.now();
    let reading: SlotReading;
    let ipmb: number | undefined;
    try {
      const ref = await this.#device.slot(String(slot));
      ipmb = ref.ipmb;
      this.#ipmbToSlot.set(ref.ipmb, slot);
      reading = await this.#device.state(String(slot));
      this.#setShmc(true, at);
    } catch (e) {
      if (isAtcaError(e, 'ATCA_ERR_IPMC_UNREACHABLE')) {
        reading = 'ipmc-unreachable';
        this.#setShmc(true, at);
      } else if (
        isAtcaError(e, 'ATCA_ERR_SHMC_UNREACHABLE') ||
        isAtcaError(e, 'ATCA_ERR_SHMC_LOST') ||
        isAtcaError(e, 'ATCA_ERR_IPMI_TIMEOUT') ||
        isAtcaError(e, 'ATCA_ERR_LOGIN_REJECTED')
      ) {
        this.#setShmc(false, at, (e as Error).message);
        return 'shmc-unreachable';
      } else {
        this.#log.warn(`${this.#shelf.name} slot ${slot}: ${(e as Error).message}`);
        reading = 'unknown';
      }
    }
    const before = this.#last.get(slot);
    this.#last.set(slot, reading);
    if (reading === before || ipmb === undefined) return reading;
    if (reading === 'ipmc-unreachable') {
      this.#emit({ kind: 'ipmc', shelf: this.#shelf.name, source: 'poll', at, ipmb, reachable: false });
    } else if (typeof reading === 'number') {
      if (before === 'ipmc-unreachable')
        this.#emit({ kind: 'ipmc', shelf: this.#shelf.name, source: 'poll', at, ipmb, reachable: true });
      this.#emit({
        kind: 'hotswap',
        shelf: this.#shelf.name,
        source: 'poll',
        at,
        ipmb,
        fru: 0,
        state: reading,
        ...(typeof before === 'number' ? { previous: before } : {}),
      });
    }
    return reading;
  }

  #setShmc(up: boolean, at: number, why = ''): void {
    if (this.#shmcUp === up) return;
    const first = this.#shmcUp === undefined;
    this.#shmcUp = up;
    if (first && up) return;
    if (!up) this.#log.warn(`${this.#shelf.name}: no shelf manager answers (${why})`);
    const endpoint = this.#shelf.shelfManagers.map((m) => `${m.host}:${m.port}`).join(',');
    this.#emit({ kind: 'shmc', shelf: this.#shelf.name, source: 'poll', at, endpoint, reachable: up });
  }
}
