import type { HotSwapState } from '../domain/hotswap.js';
import { AtcaError } from '../errors.js';
import { hexByte } from './ipmitool-argv.js';
import type { IpmiSession } from './session.js';

/** PICMG 3.0 group extension: request NetFn 0x2C, every body starts with the PICMG identifier 0x00. */
const NETFN_PICMG = 0x2c;
const NETFN_SENSOR = 0x04;
const PICMG_ID = 0x00;

export const SITE_TYPE_FRONT_BOARD = 0x00;

export interface AddressInfo {
  readonly hwAddr: number;
  readonly ipmb: number;
  readonly fruId: number;
  readonly siteNumber: number;
  readonly siteType: number;
}

export interface ActivationPolicy {
  readonly locked: boolean;
  readonly deactivationLocked: boolean;
}

function body(what: string, bytes: number[], min: number): number[] {
  if (bytes.length < min || bytes[0] !== PICMG_ID) {
    throw new AtcaError(
      'ATCA_ERR_BAD_RESPONSE',
      `${what}: expected PICMG response, got [${bytes.map(hexByte).join(' ')}]`,
    );
  }
  return bytes.slice(1);
}

/** Decodes Get Address Info's response (after the completion code). */
export function decodeAddressInfo(bytes: number[]): AddressInfo {
  const b = body('Get Address Info', bytes, 7);
  return { hwAddr: b[0]!, ipmb: b[1]!, fruId: b[3]!, siteNumber: b[4]!, siteType: b[5]! };
}

/**
 * Decodes Get Sensor Reading of a FRU Hot Swap sensor: byte 3 holds one bit per state M0–M7.
 * Byte 2 must say the reading is current: "reading unavailable" (bit 5) clear and "sensor
 * scanning enabled" (bit 6) set — a sensor that is not scanning keeps whatever state it last
 * held, which may be stale. Exactly one state bit must be set; anything else is not a state
 * we can trust.
 */
export function decodeHotSwapReading(bytes: number[]): HotSwapState {
  if (bytes.length < 3) {
    throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `hot-swap reading too short: [${bytes.map(hexByte).join(' ')}]`);
  }
  if ((bytes[1]! & 0x20) !== 0) {
    throw new AtcaError('ATCA_ERR_STATE_UNKNOWN', 'the hot-swap sensor reports its reading as unavailable');
  }
  if ((bytes[1]! & 0x40) === 0) {
    throw new AtcaError(
      'ATCA_ERR_STATE_UNKNOWN',
      'the hot-swap sensor reports scanning disabled: its state may be stale, not current',
    );
  }
  const bits = bytes[2]!;
  const set = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => (bits & (1 << i)) !== 0);
  if (set.length !== 1) {
    throw new AtcaError('ATCA_ERR_STATE_UNKNOWN', `hot-swap reading has state bits ${hexByte(bits)}, not exactly one`);
  }
  return set[0] as HotSwapState;
}

export function decodeActivationPolicy(bytes: number[]): ActivationPolicy {
  const b = body('Get FRU Activation Policy', bytes, 2);
  return { locked: (b[0]! & 0x01) !== 0, deactivationLocked: (b[0]! & 0x02) !== 0 };
}

/** The PICMG commands fence_atca needs, over any IpmiSession. */
export class Picmg {
  constructor(readonly session: IpmiSession) {}

  /** Get Address Info by physical site (key type 3), asked of the shelf manager. */
  async addressOfSite(site: number, siteType = SITE_TYPE_FRONT_BOARD): Promise<AddressInfo> {
    const r = await this.session.raw({ netfn: NETFN_PICMG, cmd: 0x01, data: [PICMG_ID, 0x00, 0x03, site, siteType] });
    return decodeAddressInfo(r);
  }

  /** Get Sensor Type: [type, event/reading type]. */
  async sensorType(ipmb: number, sensor: number): Promise<{ type: number; readingType: number }> {
    const r = await this.session.raw({ target: ipmb, netfn: NETFN_SENSOR, cmd: 0x2f, data: [sensor] });
    if (r.length < 2) throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `Get Sensor Type: [${r.map(hexByte).join(' ')}]`);
    return { type: r[0]!, readingType: r[1]! & 0x7f };
  }

  async hotSwapState(ipmb: number, sensor: number): Promise<HotSwapState> {
    const r = await this.session.raw({ target: ipmb, netfn: NETFN_SENSOR, cmd: 0x2d, data: [sensor] });
    return decodeHotSwapReading(r);
  }

  async activationPolicy(ipmb: number, fru: number): Promise<ActivationPolicy> {
    const r = await this.session.raw({ target: ipmb, netfn: NETFN_PICMG, cmd: 0x0b, data: [PICMG_ID, fru] });
    return decodeActivationPolicy(r);
  }

  /** Set FRU Activation Policy: mask bit 0 Locked, bit 1 Deactivation-Locked. */
  async setActivationPolicy(ipmb: number, fru: number, mask: number, values: number): Promise<void> {
    const r = await this.session.raw({
      target: ipmb,
      netfn: NETFN_PICMG,
      cmd: 0x0a,
      data: [PICMG_ID, fru, mask, values],
    });
    body('Set FRU Activation Policy', r, 1);
  }

  async setActivation(ipmb: number, fru: number, activate: boolean): Promise<void> {
    const r = await this.session.raw({
      target: ipmb,
      netfn: NETFN_PICMG,
      cmd: 0x0c,
      data: [PICMG_ID, fru, activate ? 1 : 0],
    });
    body('Set FRU Activation', r, 1);
  }

  /** Set Power Level; level 0 removes payload power. */
  async setPowerLevel(ipmb: number, fru: number, level: number): Promise<void> {
    const r = await this.session.raw({
      target: ipmb,
      netfn: NETFN_PICMG,
      cmd: 0x11,
      data: [PICMG_ID, fru, level, 0x00],
    });
    body('Set Power Level', r, 1);
  }

  /** FRU Control; option 0 is cold reset. */
  async fruControl(ipmb: number, fru: number, option: number): Promise<void> {
    const r = await this.session.raw({ target: ipmb, netfn: NETFN_PICMG, cmd: 0x04, data: [PICMG_ID, fru, option] });
    body('FRU Control', r, 1);
  }
}
