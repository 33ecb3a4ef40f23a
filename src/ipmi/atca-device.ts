import { HOT_SWAP_NAMES, type HotSwapState } from '../domain/hotswap.js';
import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { hexByte } from './ipmitool-argv.js';
import { type Picmg, SITE_TYPE_FRONT_BOARD } from './picmg.js';
import type { ShelfConnection } from './shelf-connection.js';
import { IpmiCcError } from './shell-session.js';

const SENSOR_TYPE_FRU_HOT_SWAP = 0xf0;
const READING_TYPE_SENSOR_SPECIFIC = 0x6f;
/** Front-board sites a shelf may define (PICMG 3.0 allows up to 16 in a 19-inch shelf). */
const MAX_SITE = 16;

export type PowerState = 'on' | 'off';

export interface AtcaDeviceOptions {
  readonly fruId: number;
  readonly hotswapSensor: number;
  readonly gracefulTimeoutMs: number;
  readonly pollMs: number;
  readonly powerWaitMs: number;
  /** Infinity when the fencer's timeout governs. */
  readonly powerTimeoutMs: number;
  readonly overrideDeactivationLock: boolean;
}

export interface SlotRef {
  readonly slot: number;
  readonly ipmb: number;
}

export interface ListEntry {
  readonly slot: number;
  readonly ipmb: number;
  readonly state: PowerState | 'unknown';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a hot-swap state proves about power: only M4 is on, only M1 and M0 are off. */
export function powerOf(m: HotSwapState): PowerState | undefined {
  if (m === 4) return 'on';
  if (m === 1 || m === 0) return 'off';
  return undefined;
}

/**
 * A blade slot's power, through the shelf manager, with every state read off the blade's
 * FRU Hot Swap sensor. No method here reports a state it did not read.
 */
export class AtcaDevice {
  readonly #conn: ShelfConnection;
  readonly #o: AtcaDeviceOptions;
  readonly #log: Logger;
  readonly #slots = new Map<number, SlotRef>();
  readonly #sensorChecked = new Set<number>();

  constructor(conn: ShelfConnection, o: AtcaDeviceOptions, log: Logger) {
    this.#conn = conn;
    this.#o = o;
    this.#log = log;
  }

  /** Resolves a physical slot to its IPMC's IPMB-0 address by asking the shelf manager. */
  async slot(plug: string): Promise<SlotRef> {
    const slot = Number(plug);
    const known = this.#slots.get(slot);
    if (known) return known;
    const info = await this.#conn.run(async (p) => {
      try {
        return await p.addressOfSite(slot, SITE_TYPE_FRONT_BOARD);
      } catch (e) {
        if (e instanceof IpmiCcError && [0xd3, 0xcc, 0xcb, 0xc9].includes(e.cc)) {
          throw new AtcaError(
            'ATCA_ERR_SLOT_UNKNOWN',
            `the shelf manager knows no front-board site ${slot} (${e.detail})`,
          );
        }
        throw e;
      }
    });
    if (info.siteNumber !== slot || info.siteType !== SITE_TYPE_FRONT_BOARD) {
      throw new AtcaError(
        'ATCA_ERR_BAD_RESPONSE',
        `asked for front-board site ${slot}, the shelf manager answered site ${info.siteNumber} type ${info.siteType}`,
      );
    }
    const ref = { slot, ipmb: info.ipmb };
    this.#log.debug(`slot ${slot} is IPMB ${hexByte(info.ipmb)} (hardware address ${hexByte(info.hwAddr)})`);
    this.#slots.set(slot, ref);
    return ref;
  }

  async #readState(p: Picmg, ref: SlotRef): Promise<HotSwapState> {
    const sensor = this.#o.hotswapSensor;
    if (!this.#sensorChecked.has(ref.ipmb)) {
      let t: { type: number; readingType: number };
      try {
        t = await p.sensorType(ref.ipmb, sensor);
      } catch (e) {
        if (e instanceof IpmiCcError && e.cc === 0xcb) {
          throw new AtcaError('ATCA_ERR_NOT_HOTSWAP_SENSOR', `slot ${ref.slot}: the IPMC has no sensor ${sensor}`);
        }
        throw this.#explain(e, ref);
      }
      if (t.type !== SENSOR_TYPE_FRU_HOT_SWAP || t.readingType !== READING_TYPE_SENSOR_SPECIFIC) {
        throw new AtcaError(
          'ATCA_ERR_NOT_HOTSWAP_SENSOR',
          `slot ${ref.slot}: sensor ${sensor} on IPMB ${hexByte(ref.ipmb)} has type ${hexByte(t.type)}/${hexByte(t.readingType)}, not 0xf0/0x6f; set hotswap_sensor`,
        );
      }
      this.#sensorChecked.add(ref.ipmb);
    }
    try {
      return await p.hotSwapState(ref.ipmb, sensor);
    } catch (e) {
      throw this.#explain(e, ref);
    }
  }

  #explain(e: unknown, ref: SlotRef): unknown {
    if (isAtcaError(e, 'ATCA_ERR_IPMC_UNREACHABLE')) {
      return new AtcaError(
        'ATCA_ERR_IPMC_UNREACHABLE',
        `slot ${ref.slot} (IPMB ${hexByte(ref.ipmb)}) did not answer the shelf manager (CC 0x83); the blade may be dead, absent or still powered`,
      );
    }
    return e;
  }

  async state(plug: string): Promise<HotSwapState> {
    const ref = await this.slot(plug);
    return this.#conn.run((p) => this.#readState(p, ref));
  }

  /** on or off, or an error: M7, M2/M3/M5/M6 and an unreachable IPMC prove neither. */
  async status(plug: string): Promise<PowerState> {
    const m = await this.state(plug);
    const power = powerOf(m);
    if (!power) throw new AtcaError('ATCA_ERR_STATE_UNKNOWN', `slot ${plug} is in ${HOT_SWAP_NAMES[m]}`);
    return power;
  }

  /** Deactivates and waits for M1, escalating to payload power removal if the payload stalls. */
  async off(plug: string): Promise<void> {
    const ref = await this.slot(plug);
    const fru = this.#o.fruId;
    await this.#conn.run(async (p) => {
      const policy = await p.activationPolicy(ref.ipmb, fru);
      if (policy.deactivationLocked) {
        if (!this.#o.overrideDeactivationLock) {
          throw new AtcaError(
            'ATCA_ERR_FRU_LOCKED',
            `slot ${ref.slot} has the Deactivation-Locked policy bit set; clear it (ipmitool picmg policy set) or set override_deactivation_lock=1`,
          );
        }
        this.#log.warn(`slot ${ref.slot}: clearing the Deactivation-Locked bit (override_deactivation_lock=1)`);
        await p.setActivationPolicy(ref.ipmb, fru, 0x02, 0x00);
      }
      this.#log.info(`slot ${ref.slot}: Set FRU Activation (deactivate) to IPMB ${hexByte(ref.ipmb)} FRU ${fru}`);
      try {
        await p.setActivation(ref.ipmb, fru, false);
      } catch (e) {
        if (e instanceof IpmiCcError && e.cc === 0xd5) {
          throw new AtcaError(
            'ATCA_ERR_FRU_LOCKED',
            `slot ${ref.slot} refused deactivation in its present state (${e.detail})`,
          );
        }
        throw this.#explain(e, ref);
      }
    });
    if (this.#o.powerWaitMs > 0) await sleep(this.#o.powerWaitMs);
    const started = performance.now();
    let escalated = false;
    let last: HotSwapState | AtcaError | undefined;
    for (;;) {
      last = await this.#conn
        .run((p) => this.#readState(p, ref))
        .catch((e: unknown) => {
          // An IPMC that vanishes mid-way proves nothing: keep looking until the deadline.
          if (isAtcaError(e, 'ATCA_ERR_IPMC_UNREACHABLE')) return e;
          throw e;
        });
      if (last === 1 || last === 0) return;
      const elapsed = performance.now() - started;
      if (!escalated && elapsed >= this.#o.gracefulTimeoutMs && !(last instanceof AtcaError)) {
        this.#log.warn(
          `slot ${ref.slot} still in ${HOT_SWAP_NAMES[last]} after ${Math.round(elapsed)} ms: removing payload power (Set Power Level 0)`,
        );
        await this.#conn.run((p) => p.setPowerLevel(ref.ipmb, fru, 0));
        escalated = true;
        continue;
      }
      if (elapsed >= this.#o.powerTimeoutMs) {
        const seen = last instanceof AtcaError ? last.detail : `still in ${HOT_SWAP_NAMES[last]}`;
        throw new AtcaError('ATCA_ERR_POWER_OFF_TIMEOUT', `slot ${ref.slot} ${seen} after ${Math.round(elapsed)} ms`);
      }
      await sleep(this.#o.pollMs);
    }
  }

  /** Clears the Locked bit (M1 → M2), activates, and waits for M4. */
  async on(plug: string): Promise<void> {
    const ref = await this.slot(plug);
    const fru = this.#o.fruId;
    await this.#conn.run(async (p) => {
      const m = await this.#readState(p, ref);
      if (m === 0) throw new AtcaError('ATCA_ERR_FRU_ABSENT', `slot ${ref.slot} is in M0: no blade to power on`);
      const policy = await p.activationPolicy(ref.ipmb, fru);
      if (policy.locked) {
        this.#log.info(`slot ${ref.slot}: clearing the Locked bit (Set FRU Activation Policy)`);
        await p.setActivationPolicy(ref.ipmb, fru, 0x01, 0x00);
      }
      this.#log.info(`slot ${ref.slot}: Set FRU Activation (activate) to IPMB ${hexByte(ref.ipmb)} FRU ${fru}`);
      await p.setActivation(ref.ipmb, fru, true);
    });
    if (this.#o.powerWaitMs > 0) await sleep(this.#o.powerWaitMs);
    const started = performance.now();
    for (;;) {
      const m = await this.#conn.run((p) => this.#readState(p, ref));
      if (m === 4) return;
      const elapsed = performance.now() - started;
      if (elapsed >= this.#o.powerTimeoutMs) {
        throw new AtcaError(
          'ATCA_ERR_POWER_ON_TIMEOUT',
          `slot ${ref.slot} still in ${HOT_SWAP_NAMES[m]} after ${Math.round(elapsed)} ms`,
        );
      }
      await sleep(this.#o.pollMs);
    }
  }

  /** FRU Control cold reset. Only the completion code says it happened: the hot-swap state does not change. */
  async coldReset(plug: string): Promise<void> {
    const ref = await this.slot(plug);
    await this.#conn.run(async (p) => {
      try {
        await p.fruControl(ref.ipmb, this.#o.fruId, 0);
      } catch (e) {
        throw this.#explain(e, ref);
      }
    });
  }

  /** Boards whose IPMC answers, with what their hot-swap state proves. */
  async list(): Promise<ListEntry[]> {
    const out: ListEntry[] = [];
    for (let site = 1; site <= MAX_SITE; site++) {
      let ref: SlotRef;
      try {
        ref = await this.slot(String(site));
      } catch (e) {
        if (isAtcaError(e, 'ATCA_ERR_SLOT_UNKNOWN')) continue;
        throw e;
      }
      try {
        const m = await this.#conn.run((p) => this.#readState(p, ref));
        out.push({ ...ref, state: powerOf(m) ?? 'unknown' });
      } catch (e) {
        if (isAtcaError(e, 'ATCA_ERR_IPMC_UNREACHABLE')) continue; // empty slot or dead IPMC: not listed
        if (isAtcaError(e, 'ATCA_ERR_STATE_UNKNOWN') || isAtcaError(e, 'ATCA_ERR_NOT_HOTSWAP_SENSOR')) {
          out.push({ ...ref, state: 'unknown' });
          continue;
        }
        throw e;
      }
    }
    return out;
  }
}
