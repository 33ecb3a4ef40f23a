import type { HotSwapState } from '../domain/hotswap.js';
import { AtcaError, isAtcaError } from '../errors.js';
import type { Logger } from '../log.js';
import { hexByte } from './ipmitool-argv.js';
import { type ActivationPolicy, type Picmg, SITE_TYPE_FRONT_BOARD } from './picmg.js';
import type { Sent, ShelfConnection } from './shelf-connection.js';
import { IpmcSilentError, IpmiCcError } from './shell-session.js';

const SENSOR_TYPE_FRU_HOT_SWAP = 0xf0;
const READING_TYPE_SENSOR_SPECIFIC = 0x6f;
/** Front-board sites a shelf may define (PICMG 3.0 allows up to 16 in a 19-inch shelf). */
const MAX_SITE = 16;

export type PowerState = 'on' | 'off';

/** What the engine needs to know about this blade's controller: where it sits and what to read. */
export interface AtcaDeviceOptions {
  readonly fruId: number;
  readonly hotswapSensor: number;
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

/**
 * What became of one command that changes the blade, sent once:
 * - `done`: the IPMC (through the shelf manager) answered CC 0;
 * - `refused`: it answered a completion code: the command was not carried out;
 * - `lost`: no answer — the shelf manager stopped answering (the connection has moved on to
 *   the next one), or it said the blade did not answer in time (CC 0xC3/0xCE), or the blade's
 *   IPMC was silent while the shelf manager answered. The command may or may not have taken
 *   effect: read the state to find out.
 * A command that cannot have reached the blade (CC 0x83, the IPMC does not acknowledge) is an
 * error (ATCA_ERR_IPMC_UNREACHABLE), as is anything that is not an answer at all.
 */
export type Outcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'refused'; readonly cc: number; readonly detail: string }
  | { readonly kind: 'lost'; readonly detail: string };

const CC_INVALID_COMMAND = 0xc1;
/** Completion codes that say "no answer from the blade in time", not "no". */
const CC_OUTCOME_UNKNOWN: ReadonlySet<number> = new Set([0xc3, 0xce]);

/** What a hot-swap state proves about power: only M4 is on, only M1 and M0 are off. */
export function powerOf(m: HotSwapState): PowerState | undefined {
  if (m === 4) return 'on';
  if (m === 1 || m === 0) return 'off';
  return undefined;
}

/**
 * A blade slot through the shelf manager, as single primitives: reads (slot address, hot-swap
 * state off the blade's FRU Hot Swap sensor, activation policy), which the connection may
 * repeat on the other shelf manager, and commands (deactivate, activate, clear a lock bit,
 * remove payload power, cold reset), each sent once and reported as an Outcome. Nothing here
 * waits, retries a command or decides: the fence engine (src/fence/engine.ts) does, on what
 * these report. No method reports a state it did not read.
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
    if (e instanceof IpmcSilentError) {
      return new AtcaError(
        'ATCA_ERR_IPMC_UNREACHABLE',
        `slot ${ref.slot} (IPMB ${hexByte(ref.ipmb)}) did not answer, while the shelf manager does; the blade's state is unknown (${e.detail})`,
      );
    }
    if (isAtcaError(e, 'ATCA_ERR_IPMC_UNREACHABLE')) {
      return new AtcaError(
        'ATCA_ERR_IPMC_UNREACHABLE',
        `slot ${ref.slot} (IPMB ${hexByte(ref.ipmb)}) did not answer the shelf manager (CC 0x83); the blade may be dead, absent or still powered`,
      );
    }
    return e;
  }

  /** The hot-swap state, read off the blade's FRU Hot Swap sensor (checked to be one, once per IPMC). */
  async state(plug: string): Promise<HotSwapState> {
    const ref = await this.slot(plug);
    return this.#conn.run((p) => this.#readState(p, ref));
  }

  /**
   * Get FRU Activation Policy: the Locked and Deactivation-Locked bits. An IPMC that does not
   * implement the command (CC 0xC1: stock ipmi_sim, some IPMCs) has no activation policy to
   * lock anything with: not locked (logged). Were it deactivation-locked after all, the
   * deactivate itself would be refused and the engine would say so.
   */
  async activationPolicy(plug: string): Promise<ActivationPolicy> {
    const ref = await this.slot(plug);
    return this.#conn.run(async (p) => {
      try {
        return await p.activationPolicy(ref.ipmb, this.#o.fruId);
      } catch (e) {
        if (e instanceof IpmiCcError && e.cc === CC_INVALID_COMMAND) {
          this.#log.warn(
            `slot ${ref.slot}: the IPMC does not implement Get FRU Activation Policy (${e.detail}): taking it as not locked`,
          );
          return { locked: false, deactivationLocked: false };
        }
        throw this.#explain(e, ref);
      }
    });
  }

  /**
   * Set FRU Activation Policy clearing one bit: `locked` (on a real shelf the IPMC then goes
   * M1 → M2) or `deactivation-locked`. Setting a bit to a value could be repeated without
   * harm, but it is still reported rather than repeated, like every command.
   */
  clearLock(plug: string, bit: 'locked' | 'deactivation-locked'): Promise<Outcome> {
    const mask = bit === 'locked' ? 0x01 : 0x02;
    return this.#command(plug, `Set FRU Activation Policy (clear ${bit})`, (p, ref) =>
      p.setActivationPolicy(ref.ipmb, this.#o.fruId, mask, 0x00),
    );
  }

  /** Set FRU Activation (deactivate): starts the graceful shutdown, M4 → M6 → M1. */
  deactivate(plug: string): Promise<Outcome> {
    return this.#command(plug, 'Set FRU Activation (deactivate)', (p, ref) =>
      p.setActivation(ref.ipmb, this.#o.fruId, false),
    );
  }

  /** Set FRU Activation (activate): M2 → M3 → M4. */
  activate(plug: string): Promise<Outcome> {
    return this.#command(plug, 'Set FRU Activation (activate)', (p, ref) =>
      p.setActivation(ref.ipmb, this.#o.fruId, true),
    );
  }

  /** Set Power Level 0: payload power removal, the shelf manager's way to take power away. */
  removePayloadPower(plug: string): Promise<Outcome> {
    return this.#command(plug, 'Set Power Level 0 (payload power removal)', (p, ref) =>
      p.setPowerLevel(ref.ipmb, this.#o.fruId, 0),
    );
  }

  /** FRU Control cold reset: leaves no trace in the hot-swap state, so only its answer says it happened. */
  coldReset(plug: string): Promise<Outcome> {
    return this.#command(plug, 'FRU Control (cold reset)', (p, ref) => p.fruControl(ref.ipmb, this.#o.fruId, 0));
  }

  /** Sends one command, once, and says what became of it. */
  async #command(plug: string, what: string, send: (p: Picmg, ref: SlotRef) => Promise<void>): Promise<Outcome> {
    const ref = await this.slot(plug);
    this.#log.info(`slot ${ref.slot}: ${what} to IPMB ${hexByte(ref.ipmb)} FRU ${this.#o.fruId}`);
    let sent: Sent<void>;
    try {
      sent = await this.#conn.runOnce((p) => send(p, ref));
    } catch (e) {
      // A silent IPMC may have acted on it before going quiet: its outcome is unknown.
      if (e instanceof IpmcSilentError) return { kind: 'lost', detail: (this.#explain(e, ref) as AtcaError).detail };
      if (e instanceof IpmiCcError && e.cc !== 0x83) {
        if (CC_OUTCOME_UNKNOWN.has(e.cc)) return { kind: 'lost', detail: e.detail };
        return { kind: 'refused', cc: e.cc, detail: e.detail };
      }
      throw this.#explain(e, ref);
    }
    if (!sent.answered) return { kind: 'lost', detail: sent.error.message };
    return { kind: 'done' };
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
