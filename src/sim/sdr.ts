/**
 * Builds an IPMI 2.0 Full Sensor Record (type 0x01, §43.1) for a blade's temperature
 * sensor, so that the shelf manager's SDR repository describes the blades' sensors as a real
 * shelf manager's does (`ipmitool sdr` through the shelf manager lists them).
 */
export interface FullSensorRecordInput {
  readonly recordId: number;
  readonly owner: number;
  readonly number: number;
  readonly entityInstance: number;
  readonly name: string;
  /** Thresholds UNR, UC, UNC (°C); lower thresholds are not used. */
  readonly upper?: readonly [number, number, number];
}

const ENTITY_PICMG_FRONT_BOARD = 0xa0;
const UNITS_DEGREES_C = 0x01;

/** The ID string: at most 16 Latin-1 bytes (type/length byte 0xC0 | n goes before them). */
const idBytes = (name: string): number[] => [...Buffer.from(name.slice(0, 16), 'latin1')];

/** Record ID (LS byte first), SDR version 0x51, record type, body length, body. */
const withHeader = (recordId: number, type: number, body: number[]): number[] => [
  recordId & 0xff,
  (recordId >> 8) & 0xff,
  0x51,
  type,
  body.length,
  ...body,
];

export function fullSensorRecord(i: FullSensorRecordInput): number[] {
  const [unr, uc, unc] = i.upper ?? [0x5a, 0x50, 0x46];
  const name = idBytes(i.name);
  const body = [
    i.owner,
    0x00, // channel 0, LUN 0
    i.number,
    ENTITY_PICMG_FRONT_BOARD,
    i.entityInstance,
    0x7f, // initialisation: scanning, events, thresholds, hysteresis, type
    0x68, // capabilities: thresholds readable/settable, per-threshold events
    0x01, // sensor type: temperature
    0x01, // event/reading type: threshold
    0x80, // assertion mask: UNC going high...
    0x0a, // ...UC and UNR going high
    0x80,
    0x7a, // deassertion mask + upper threshold comparisons returned
    0x38, // readable thresholds: UNC, UC, UNR
    0x38, // settable thresholds
    0x00, // unsigned
    UNITS_DEGREES_C,
    0x00,
    0x00, // linear
    0x01, // M = 1
    0x00,
    0x00, // B = 0
    0x00,
    0x00,
    0x00, // R, B exponents
    0x00,
    0x28, // nominal 40
    unc, // normal max
    0x00, // normal min
    0xff,
    0x00,
    unr,
    uc,
    unc,
    0x00, // LNR
    0x00, // LC
    0x00, // LNC
    0x00, // positive hysteresis
    0x00, // negative hysteresis
    0x00,
    0x00, // reserved
    0x00, // OEM
    0xc0 | name.length,
    ...name,
  ];
  return withHeader(i.recordId, 0x01, body);
}

export interface CompactSensorRecordInput {
  readonly recordId: number;
  readonly owner: number;
  readonly number: number;
  readonly sensorType: number;
  /** The sensor-specific states (offsets 0–14) the sensor asserts, deasserts and reads. */
  readonly statesMask: number;
  readonly entityInstance: number;
  readonly name: string;
}

/** An IPMI 2.0 Compact Sensor Record (type 0x02, §43.2) for a sensor-specific discrete sensor. */
export function compactSensorRecord(i: CompactSensorRecordInput): number[] {
  const name = idBytes(i.name);
  const lo = i.statesMask & 0xff;
  const hi = (i.statesMask >> 8) & 0x7f;
  const body = [
    i.owner,
    0x00, // channel 0, LUN 0
    i.number,
    ENTITY_PICMG_FRONT_BOARD,
    i.entityInstance,
    0x63, // initialisation: scanning, events, sensor type
    0x40, // capabilities: auto re-arm, no thresholds
    i.sensorType,
    0x6f, // event/reading type: sensor-specific
    lo,
    hi, // assertion mask
    lo,
    hi, // deassertion mask
    lo,
    hi, // discrete reading mask
    0xc0, // units 1: no analog reading
    0x00,
    0x00,
    0x01,
    0x00, // record sharing: one sensor
    0x00,
    0x00, // hysteresis
    0x00,
    0x00,
    0x00, // reserved
    0x00, // OEM
    0xc0 | name.length,
    ...name,
  ];
  return withHeader(i.recordId, 0x02, body);
}
