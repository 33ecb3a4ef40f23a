// The confirmation rule: only what a fresh reading shows confirms a fault. Pure; readings
// are built from bytes ipmi_sim answered.
import { describe, expect, it } from 'vitest';
import type { SensorRecord } from '../../src/ipmi/sdr-record.js';
import { decodeSensorReading } from '../../src/ipmi/sensor-reading.js';
import type { SensorState } from '../../src/ipmi/sensor-watch.js';
import { confirms } from '../../src/shelf/confirm.js';

const rec = (sensorType: number, eventType: number, name: string): SensorRecord => ({
  recordId: 1,
  owner: 0x82,
  lun: 0,
  number: 1,
  sensorType,
  eventType,
  name,
  unit: undefined,
  conversion: undefined,
});
const state = (record: SensorRecord, bytes: number[], error?: string): SensorState => ({
  record,
  reading: decodeSensorReading(bytes),
  value: bytes[0],
  at: 1,
  error,
});
const TEMP = rec(0x01, 0x01, 'Temp Slot1');
const WD = rec(0x23, 0x6f, 'Watchdog Slot1');
const CPU = rec(0x07, 0x6f, 'CPU Slot1');

describe('confirms: hot-swap faults', () => {
  it.each([
    ['hotswap-lost', 7, true],
    ['hotswap-lost', 'ipmc-unreachable', true],
    ['hotswap-lost', 4, false],
    ['hotswap-lost', 'shmc-unreachable', false],
    ['hotswap-lost', 'unknown', false],
    ['hotswap-removed', 0, true],
    ['hotswap-removed', 1, false],
    ['unexpected-deactivation', 1, true],
    ['unexpected-deactivation', 6, true],
    ['unexpected-deactivation', 4, false],
    ['ipmc-unreachable', 'ipmc-unreachable', true],
    ['ipmc-unreachable', 4, false],
  ] as const)('%s with a fresh %s → %s', (fault, hotswap, confirmed) => {
    expect(confirms(fault, { hotswap, sensors: undefined }).confirmed).toBe(confirmed);
  });
});

describe('confirms: sensor faults', () => {
  const hot = state(TEMP, [0x55, 0xc0, 0x18, 0x00]);
  it('temperature-critical: UC crossed now → confirmed, naming the sensor and value', () => {
    const v = confirms('temperature-critical', { hotswap: 4, sensors: [hot] });
    expect(v).toEqual({ confirmed: true, summary: 'fresh IPMI reading: M4; Temp Slot1 = 85 (states 0x18)' });
  });
  it('temperature-nonrecoverable is not confirmed by a reading past UC only', () => {
    expect(confirms('temperature-nonrecoverable', { hotswap: 4, sensors: [hot] }).confirmed).toBe(false);
  });
  it('temperature back to normal → not confirmed', () => {
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [state(TEMP, [0x28, 0xc0, 0, 0])] }).confirmed).toBe(
      false,
    );
  });
  it('a reading that failed just now confirms nothing, even if the last good one showed the fault', () => {
    const stale = state(TEMP, [0x55, 0xc0, 0x18, 0x00], 'IPMC does not answer');
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [stale] }).confirmed).toBe(false);
  });
  it('watchdog: a state bit 0–3 asserted now → confirmed; interrupt only (bit 8) → not', () => {
    expect(confirms('watchdog-expired', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0x02, 0])] }).confirmed).toBe(true);
    expect(confirms('watchdog-expired', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0, 0x01])] }).confirmed).toBe(
      false,
    );
  });
  it('processor IERR (bit 0) confirmed; a watchdog bit does not confirm a processor fault', () => {
    expect(confirms('processor-ierr', { hotswap: 4, sensors: [state(CPU, [0, 0xc0, 0x01, 0])] }).confirmed).toBe(true);
    expect(confirms('processor-ierr', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0x01, 0])] })).toEqual({
      confirmed: false,
      summary: 'fresh IPMI reading: M4; no such sensor on this blade',
    });
  });
  it('sensors not read (blade not in M4, or the read failed) → not confirmed, and said so', () => {
    expect(confirms('processor-ierr', { hotswap: 1, sensors: undefined })).toEqual({
      confirmed: false,
      summary: 'fresh IPMI reading: M1; sensors not read',
    });
  });
});

describe('confirms: a reading the IPMC marks unavailable', () => {
  it('does not confirm from the last good states it keeps beside the error', () => {
    const stale: SensorState = {
      record: TEMP,
      reading: decodeSensorReading([0x55, 0xc0, 0x18, 0x00]),
      value: 85,
      at: 2,
      error: 'reading unavailable',
    };
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [stale] }).confirmed).toBe(false);
  });
});
