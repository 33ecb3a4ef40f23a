import type { ShelfConfig } from '../config/schema.js';
import type { DomainEvent } from '../domain/events.js';
import type { SlotReading } from '../domain/sensors.js';
import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { AtcaDevice } from './atca-device.js';
import type { PollLimiter } from './poll-limiter.js';
import type { SelRecord } from './sel.js';
import { SelWatch } from './sel-watch.js';
import { type SensorState, SensorWatch } from './sensor-watch.js';
import type { IpmiSession } from './session.js';
import { type ManagerState, ShelfConnection } from './shelf-connection.js';
import { IpmitoolShellSession } from './shell-session.js';

export type { SlotReading };

export interface PollerOptions {
  readonly intervalMs: number;
  readonly sensorIntervalMs: number;
  readonly selIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly backoffMaxMs: number;
  /** Shared by every shelf's poller: how many polls run at once. */
  readonly limiter: PollLimiter;
}

export interface PollerSinks {
  readonly emit: (e: DomainEvent) => void;
  /** A SEL entry that reports nothing we understand: kept in the journal, not dropped. */
  readonly unparsedSel: (shelf: string, r: SelRecord) => void;
  /** One scheduled cycle ended (metrics, /status): which, whether it reached the shelf, how long. */
  readonly cycle?: (shelf: string, what: string, ok: boolean, seconds: number) => void;
}

/**
 * Polls one shelf over IPMI — the source of truth. It resolves every configured slot to its
 * IPMC address through the shelf manager and runs three loops, each at its own interval: the
 * hot-swap state of every slot, the sensors of every active blade (M4: a blade without payload
 * power has no meaningful voltages), and new entries of the shelf manager's SEL. Events are
 * emitted on change only. A slot it cannot read is *unknown* (an IPMC or shelf-manager event),
 * never off. `read()` and `readSensors()` give fresh readings on demand, for the policy's
 * confirmations. Requests share one session per shelf (ipmitool runs them one at a time).
 */
/** Out-of-turn hot-swap polls asked for back to back start at least this far apart. */
const PROMPT_SPACING_MS = 100;

export class ShelfPoller {
  readonly #shelf: ShelfConfig;
  readonly #emit: (e: DomainEvent) => void;
  readonly #cycle: PollerSinks['cycle'];
  readonly #log: Logger;
  readonly #o: PollerOptions;
  readonly #sensors: SensorWatch;
  readonly #sel: SelWatch;
  readonly #device: AtcaDevice;
  readonly #conn: ShelfConnection;
  readonly #last = new Map<number, SlotReading>();
  /** What the last poll itself read (a trap's claim moves #last, not this). */
  readonly #polled = new Map<number, SlotReading>();
  /** Claims made per slot (by traps and SEL entries), to tell a reading from before one. */
  readonly #claims = new Map<number, number>();
  readonly #ipmbToSlot = new Map<number, number>();
  #shmcUp: boolean | undefined;
  /** A sensor sweep out of turn waits for the limiter. */
  #sensorsWaiting = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;
  /** A hot-swap poll asked for out of turn (pollNow), and whether another is wanted after it. */
  #prompt: Promise<void> | undefined;
  #promptAgain = false;
  #promptStarted = Number.NEGATIVE_INFINITY;
  /** The next hot-swap cycle reports every slot's state, changed or not. */
  #relevelHotswap = false;

  /** `password` is asked for at each login (start() reads the secrets; construction does no I/O). */
  constructor(shelf: ShelfConfig, password: () => string, o: PollerOptions, sinks: PollerSinks, log: Logger) {
    this.#shelf = shelf;
    this.#emit = sinks.emit;
    this.#cycle = sinks.cycle;
    this.#log = log;
    this.#o = o;
    const copts = {
      ipmitoolPath: shelf.ipmi.ipmitoolPath,
      username: shelf.ipmi.username,
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
      (ep) => IpmitoolShellSession.open(ep, { ...copts, password: password() }),
      log,
    );
    this.#device = new AtcaDevice(this.#conn, { fruId: 0, hotswapSensor: shelf.hotswapSensor }, log);
    const run = <T>(step: (s: IpmiSession) => Promise<T>) => this.#conn.run((p) => step(p.session));
    this.#sensors = new SensorWatch(shelf.name, run, sinks.emit, log);
    this.#sel = new SelWatch(shelf.name, run, sinks.emit, (r) => sinks.unparsedSel(shelf.name, r), log);
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

  /** The shelf manager answering now (host:port), if any. */
  get shelfManager(): {
    readonly up: boolean | undefined;
    readonly peer: string | undefined;
    readonly managers: readonly ManagerState[];
  } {
    return { up: this.#shmcUp, peer: this.#conn.peer, managers: this.#conn.managers() };
  }

  /** What atcad last read of a slot's sensors (empty until its IPMC address is known). */
  sensorStates(slot: number): SensorState[] {
    const ipmb = this.ipmbOf(slot);
    return ipmb === undefined ? [] : this.#sensors.statesOf(ipmb);
  }

  start(): void {
    this.#stopped = false;
    // Sensors and the SEL are read once the first hot-swap sweep has found the shelf manager
    // and the slots' IPMCs: before, there is nothing to read them through.
    this.#loop(
      'hot-swap',
      () => this.#hotswapCycle(),
      this.#o.intervalMs,
      () => {
        this.#loop('sensor', () => this.#sensorCycle(), this.#o.sensorIntervalMs);
        this.#loop('SEL', () => this.#selCycle(), this.#o.selIntervalMs);
      },
    );
  }

  /** Stops polling; waits for cycles under way (their requests are bounded) so no ipmitool outlives us. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([...this.#running].map((p) => p.catch(() => undefined)));
    await this.#conn.close().catch(() => undefined);
  }

  /**
   * Forgets what it last read, so that the next readings report every slot's state and every
   * sensor's asserted states as they are (levels), not only what changed since — and reads them
   * now. For when atcad may have missed changes: a shelf manager that was silent is back, or
   * events were dropped on the way to the policy.
   */
  relevel(): void {
    if (this.#stopped) return;
    this.#sensors.forgetReadings();
    this.#relevelHotswap = true;
    this.pollNow();
    this.#sensorsNow();
  }

  /**
   * A sensor sweep out of turn. Asks while one waits for its turn are served by it, so that a
   * burst of them (operators' polls, a flapping shelf manager) cannot queue sweep after sweep
   * ahead of every shelf's hot-swap polling in the shared limiter.
   */
  #sensorsNow(): void {
    if (this.#sensorsWaiting) return;
    this.#sensorsWaiting = true;
    const p = this.#o.limiter
      .run(() => {
        this.#sensorsWaiting = false;
        return this.#sensorCycle();
      })
      .then(
        () => undefined,
        (e: unknown) => {
          this.#sensorsWaiting = false;
          this.#log.warn(`${this.#shelf.name}: sensor re-read failed: ${(e as Error).message}`);
        },
      );
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p));
  }

  /**
   * Reads every slot's hot-swap state now, out of turn: for a trap that says something
   * happened on this shelf but not to which slot (the shelf manager reporting on a FRU's
   * behalf, as IPMB 0x20). Asks made while one runs are served by one more, not one each.
   */
  pollNow(): void {
    if (this.#stopped) return;
    if (this.#prompt) {
      this.#promptAgain = true;
      return;
    }
    const run = async () => {
      do {
        this.#promptAgain = false;
        // Out-of-turn polls start PROMPT_SPACING_MS apart, so that a storm of traps naming
        // slots does not keep the shelf manager (and atcad's core) answering polls.
        const wait = this.#promptStarted + PROMPT_SPACING_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (this.#stopped) return;
        this.#promptStarted = Date.now();
        try {
          await this.#o.limiter.run(() => this.#hotswapCycle());
        } catch (e) {
          this.#log.warn(`${this.#shelf.name}: hot-swap poll out of turn failed: ${(e as Error).message}`);
        }
      } while (this.#promptAgain && !this.#stopped);
    };
    const p = run().finally(() => {
      this.#prompt = undefined;
      this.#running.delete(p);
    });
    this.#prompt = p;
    this.#running.add(p);
  }

  /**
   * Runs `cycle` now and then every `intervalMs`; a cycle that finds no shelf manager (false)
   * backs off exponentially up to backoffMaxMs, so a dead shelf is not hammered.
   */
  #loop(what: string, cycle: () => Promise<boolean>, intervalMs: number, afterFirst?: () => void): void {
    let failures = 0;
    let first = afterFirst;
    const once = async () => {
      if (this.#stopped) return;
      let ok = false;
      let t0 = 0;
      try {
        ok = await this.#o.limiter.run(() => {
          t0 = performance.now();
          return cycle();
        });
      } catch (e) {
        this.#log.warn(`${this.#shelf.name}: ${what} poll failed: ${(e as Error).message}`);
      }
      if (t0 > 0) this.#cycle?.(this.#shelf.name, what, ok, (performance.now() - t0) / 1000);
      if (first && !this.#stopped) {
        first();
        first = undefined;
      }
      failures = ok ? 0 : failures + 1;
      const delay = ok ? intervalMs : Math.min(this.#o.backoffMaxMs, intervalMs * 2 ** failures);
      if (this.#stopped) return;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        track();
      }, delay);
      this.#timers.add(t);
    };
    const track = () => {
      const p = once();
      this.#running.add(p);
      void p.finally(() => this.#running.delete(p));
    };
    track();
  }

  async #hotswapCycle(): Promise<boolean> {
    const levels = this.#relevelHotswap;
    this.#relevelHotswap = false;
    for (const slot of Object.keys(this.#shelf.slots).map(Number)) {
      if (this.#stopped) return true;
      if ((await this.#read(slot, levels)) === 'shmc-unreachable') {
        if (levels) this.#relevelHotswap = true;
        return false;
      }
    }
    return true;
  }

  async #sensorCycle(): Promise<boolean> {
    // Nothing to learn while no shelf manager answers; the hot-swap loop reports that.
    if (this.#shmcUp !== true) return this.#shmcUp === undefined;
    await this.#sensors.refreshRecords();
    for (const slot of Object.keys(this.#shelf.slots).map(Number)) {
      if (this.#stopped) return true;
      const ipmb = this.ipmbOf(slot);
      if (ipmb !== undefined && this.#last.get(slot) === 4) {
        const states = await this.#sensors.readOwner(ipmb);
        // Every sensor read just now: the slot is known as it is (see SweptEvent).
        if (states.every((x) => x.error === undefined && x.reading !== undefined)) {
          this.#emit({ kind: 'swept', shelf: this.#shelf.name, source: 'poll', at: Date.now(), ipmb });
        }
      }
    }
    return true;
  }

  async #selCycle(): Promise<boolean> {
    if (this.#shmcUp !== true) return this.#shmcUp === undefined;
    await this.#sel.poll();
    return true;
  }

  /** The IPMC address of a slot, once a poll has resolved it. */
  ipmbOf(slot: number): number | undefined {
    for (const [ipmb, s] of this.#ipmbToSlot) if (s === slot) return ipmb;
    return undefined;
  }

  /**
   * What a trap or SEL entry says, noted so that the next poll is compared with it: a claim
   * the shelf does not bear out is then reported gone by that poll (polling is the truth).
   */
  claim(e: DomainEvent): void {
    if (e.source === 'poll') return;
    if (e.kind === 'hotswap') {
      const slot = this.#ipmbToSlot.get(e.ipmb);
      if (slot !== undefined && e.fru === 0 && this.#last.has(slot)) {
        this.#last.set(slot, e.state);
        this.#claims.set(slot, (this.#claims.get(slot) ?? 0) + 1);
      }
    } else if (e.kind === 'threshold') {
      // Offsets come in pairs (going low, going high) per threshold: LNC LC LNR UNC UC UNR = bits 0–5.
      this.#sensors.claim(e.ipmb, e.sensorNumber, e.offset >> 1, e.asserted);
    } else if (e.kind === 'discrete') {
      this.#sensors.claim(e.ipmb, e.sensorNumber, e.offset, e.asserted);
    }
  }

  /** A fresh reading of a slot's sensors (for confirmation); emits the events a change implies. */
  readSensors(slot: number): Promise<SensorState[]> {
    if (this.#stopped) return Promise.reject(new AtcaError('ATCA_ERR_SHMC_LOST', 'atcad is stopping'));
    return this.#tracked(async () => {
      const ipmb = this.ipmbOf(slot) ?? (await this.#device.slot(String(slot))).ipmb;
      await this.#sensors.refreshRecords();
      return this.#sensors.readOwner(ipmb);
    });
  }

  /** A fresh reading of one slot; emits the events a change implies (`levels`: the state even if unchanged). */
  read(slot: number, levels = false): Promise<SlotReading> {
    // Stopped: no new session is opened for a reading nobody will act on.
    if (this.#stopped) return Promise.resolve('unknown');
    return this.#tracked(() => this.#read(slot, levels));
  }

  /**
   * Runs a reading asked for from outside the poll loops (a confirmation) as one of the work
   * stop() waits for: one still under way when the connection is closed would otherwise log in
   * again afterwards, and that ipmitool would outlive atcad.
   */
  #tracked<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.finally(() => this.#running.delete(settled));
    return p;
  }

  async #read(slot: number, levels: boolean): Promise<SlotReading> {
    if (this.#stopped) return 'unknown';
    const claimsBefore = this.#claims.get(slot) ?? 0;
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
    if ((this.#claims.get(slot) ?? 0) !== claimsBefore) {
      // A trap or SEL entry said something of the slot while this reading was on its way: the
      // reading may be older than what it said, so it is not compared with it (it could clear
      // what the claim raised). The slot is read again.
      this.pollNow();
      return reading;
    }
    const before = this.#last.get(slot);
    const polledBefore = this.#polled.get(slot);
    this.#last.set(slot, reading);
    this.#polled.set(slot, reading);
    // Reported when it differs from what was claimed or from what the last poll read: a state
    // a trap claimed and a poll then reads is the poll's evidence too (the policy tells them apart).
    if ((reading === before && reading === polledBefore && !levels) || ipmb === undefined) return reading;
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
    // Back after silence: what changed meanwhile may not show as a change against stale readings.
    if (up) queueMicrotask(() => this.relevel());
    if (!up) this.#log.warn(`${this.#shelf.name}: no shelf manager answers (${why})`);
    const endpoint = this.#shelf.shelfManagers.map((m) => `${m.host}:${m.port}`).join(',');
    this.#emit({ kind: 'shmc', shelf: this.#shelf.name, source: 'poll', at, endpoint, reachable: up });
  }
}
