import { EVENT_TYPE } from '../domain/sensor-types.js';
import { THRESHOLD_NAMES, type ThresholdName } from '../domain/sensors.js';
import { badResponse, le16, le32 } from './bytes.js';
import { hexByte } from './ipmitool-argv.js';

/**
 * Pure decoders for the shelf manager's Sensor Data Record repository (IPMI 2.0 §33, §43):
 * which controller owns which sensor, of what type, named how, and how a raw reading turns
 * into units. Only full (0x01) and compact (0x02) sensor records describe readable sensors;
 * other record types are skipped by the caller.
 */

export const SDR_FULL_SENSOR = 0x01;
export const SDR_COMPACT_SENSOR = 0x02;
/** Bytes of the record header: ID (2), SDR version, record type, length of the body. */
export const SDR_HEADER_LENGTH = 5;

export const EVENT_TYPE_THRESHOLD = EVENT_TYPE.threshold;

/** y = (M·x + B·10^Bexp)·10^Rexp, for a linear full sensor record. */
export interface LinearConversion {
  readonly m: number;
  readonly b: number;
  readonly bExp: number;
  readonly rExp: number;
  /** 0 unsigned, 1 one's complement, 2 two's complement. */
  readonly format: 0 | 1 | 2;
}

export interface SensorRecord {
  readonly recordId: number;
  /** IPMB address of the controller that owns the sensor. */
  readonly owner: number;
  readonly lun: number;
  readonly number: number;
  readonly sensorType: number;
  /** Event/reading type: 0x01 threshold, 0x6F sensor-specific, 0x02–0x0C generic discrete. */
  readonly eventType: number;
  readonly name: string;
  /** IPMI unit code (§43.17): 1 °C, 4 V, 18 RPM, …; undefined for discrete sensors. */
  readonly unit: number | undefined;
  readonly conversion: LinearConversion | undefined;
  /** A full threshold record's readable thresholds, in its units (LNC…UNR); empty otherwise. */
  readonly thresholds: Readonly<Partial<Record<ThresholdName, number>>>;
}

/** Where each threshold sits in a full record's body (after the 5-byte header): LNC at 36 … UNR at 31. */
const THRESHOLD_AT: Readonly<Record<ThresholdName, number>> = { LNC: 36, LC: 35, LNR: 34, UNC: 33, UC: 32, UNR: 31 };

export interface SdrRepositoryInfo {
  readonly records: number;
  readonly lastAddition: number;
  readonly lastErase: number;
}

export function decodeSdrRepositoryInfo(bytes: readonly number[]): SdrRepositoryInfo {
  if (bytes.length < 14) badResponse('Get SDR Repository Info', bytes);
  return { records: le16(bytes, 1), lastAddition: le32(bytes, 5), lastErase: le32(bytes, 9) };
}

/** A two's-complement number of `bits` bits. */
function signed(v: number, bits: number): number {
  return v & (1 << (bits - 1)) ? v - (1 << bits) : v;
}

function idString(b: readonly number[], at: number): string {
  const typeLength = b[at];
  if (typeLength === undefined) return '';
  const len = typeLength & 0x1f;
  // Type 3 is 8-bit ASCII + Latin-1, what shelf managers use; other encodings are rare here.
  return Buffer.from(b.slice(at + 1, at + 1 + len))
    .toString('latin1')
    .replace(/\0+$/, '')
    .trim();
}

/** A full or compact sensor record (header included), or undefined for any other record type. */
export function decodeSensorRecord(r: readonly number[]): SensorRecord | undefined {
  if (r.length < SDR_HEADER_LENGTH) badResponse('SDR record', r);
  const type = r[3]!;
  if (type !== SDR_FULL_SENSOR && type !== SDR_COMPACT_SENSOR) return undefined;
  const b = r.slice(SDR_HEADER_LENGTH);
  const minBody = type === SDR_FULL_SENSOR ? 43 : 27;
  if (b.length < minBody) badResponse(`SDR record type ${hexByte(type)} too short`, r);
  // Owner ID bit 0 = 1 would be a system software ID: no controller to bridge to.
  if ((b[0]! & 0x01) !== 0) return undefined;
  const eventType = b[8]!;
  const analog = eventType === EVENT_TYPE_THRESHOLD;
  const format = (b[15]! >> 6) & 0x03;
  let conversion: LinearConversion | undefined;
  // Compact records carry no conversion factors; non-linear full records need a formula
  // table we do not guess at: both keep their raw readings.
  if (type === SDR_FULL_SENSOR && analog && format !== 3 && (b[18]! & 0x7f) === 0) {
    conversion = {
      m: signed(b[19]! | ((b[20]! & 0xc0) << 2), 10),
      b: signed(b[21]! | ((b[22]! & 0xc0) << 2), 10),
      rExp: signed(b[24]! >> 4, 4),
      bExp: signed(b[24]! & 0x0f, 4),
      format: format as 0 | 1 | 2,
    };
  }
  const thresholds: Partial<Record<ThresholdName, number>> = {};
  if (conversion) {
    const readable = b[13]!;
    THRESHOLD_NAMES.forEach((t, bit) => {
      if ((readable >> bit) & 1) thresholds[t] = convertReading(b[THRESHOLD_AT[t]]!, conversion);
    });
  }
  return {
    recordId: le16(r, 0),
    owner: b[0]!,
    lun: b[1]! & 0x03,
    number: b[2]!,
    sensorType: b[7]!,
    eventType,
    name: idString(b, type === SDR_FULL_SENSOR ? 42 : 26),
    unit: analog ? b[16]! : undefined,
    conversion,
    thresholds,
  };
}

/** The reading in the record's units; undefined when the record gives no linear conversion. */
export function convertReading(raw: number, c: LinearConversion | undefined): number | undefined {
  if (!c) return undefined;
  const x = c.format === 2 ? signed(raw, 8) : c.format === 1 ? (raw & 0x80 ? -(~raw & 0x7f) : raw) : raw;
  const y = (c.m * x + c.b * 10 ** c.bExp) * 10 ** c.rExp;
  // Exponents make binary fractions (0.1 · 3 = 0.30000000000000004): keep what the sensor can mean.
  return Math.round(y * 1e6) / 1e6;
}
