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
  thresholds: {},
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
    ['hotswap-lost', 7, 'confirmed'],
    ['hotswap-lost', 'ipmc-unreachable', 'confirmed'],
    ['hotswap-lost', 4, 'refuted'],
    ['hotswap-lost', 'shmc-unreachable', 'unknown'],
    ['hotswap-lost', 'unknown', 'unknown'],
    ['hotswap-removed', 0, 'confirmed'],
    ['hotswap-removed', 1, 'refuted'],
    ['hotswap-removed', 'ipmc-unreachable', 'unknown'],
    ['unexpected-deactivation', 1, 'confirmed'],
    ['unexpected-deactivation', 6, 'confirmed'],
    ['unexpected-deactivation', 4, 'refuted'],
    ['unexpected-deactivation', 7, 'unknown'],
    ['unexpected-deactivation', 'shmc-unreachable', 'unknown'],
    ['ipmc-unreachable', 'ipmc-unreachable', 'confirmed'],
    ['ipmc-unreachable', 4, 'refuted'],
    ['ipmc-unreachable', 'shmc-unreachable', 'unknown'],
    ['shmc-unreachable', 'shmc-unreachable', 'confirmed'],
    ['shmc-unreachable', 4, 'refuted'],
  ] as const)('%s with a fresh %s → %s', (fault, hotswap, verdict) => {
    expect(confirms(fault, { hotswap, sensors: undefined }).verdict).toBe(verdict);
  });
});

describe('confirms: sensor faults', () => {
  const hot = state(TEMP, [0x55, 0xc0, 0x18, 0x00]);
  it('temperature-critical: UC crossed now → confirmed, naming the sensor and value', () => {
    const v = confirms('temperature-critical', { hotswap: 4, sensors: [hot] });
    expect(v).toEqual({
      verdict: 'confirmed',
      summary: 'fresh IPMI reading: M4; Temp Slot1 = 85 (states 0x18)',
      payloadOff: false,
    });
  });
  it('temperature-nonrecoverable is refuted by a reading past UC only', () => {
    expect(confirms('temperature-nonrecoverable', { hotswap: 4, sensors: [hot] }).verdict).toBe('refuted');
  });
  it('temperature back to normal → refuted', () => {
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [state(TEMP, [0x28, 0xc0, 0, 0])] }).verdict).toBe(
      'refuted',
    );
  });
  it('a reading that failed just now is unknown, even if the last good one showed the fault', () => {
    const stale = state(TEMP, [0x55, 0xc0, 0x18, 0x00], 'IPMC does not answer');
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [stale] }).verdict).toBe('unknown');
  });
  it('watchdog: a state bit 0–3 asserted now → confirmed; interrupt only (bit 8) → refuted', () => {
    expect(confirms('watchdog-expired', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0x02, 0])] }).verdict).toBe(
      'confirmed',
    );
    expect(confirms('watchdog-expired', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0, 0x01])] }).verdict).toBe(
      'refuted',
    );
  });
  it('processor IERR (bit 0) confirmed; a watchdog bit does not confirm a processor fault', () => {
    expect(confirms('processor-ierr', { hotswap: 4, sensors: [state(CPU, [0, 0xc0, 0x01, 0])] }).verdict).toBe(
      'confirmed',
    );
    // A sensor atcad does not read (another LUN, not in the SDR) disproves nothing.
    expect(confirms('processor-ierr', { hotswap: 4, sensors: [state(WD, [0, 0xc0, 0x01, 0])] })).toMatchObject({
      verdict: 'unknown',
      summary: 'fresh IPMI reading: M4; no sensor of this kind that atcad reads on this blade',
    });
  });
  it('sensors not readable (blade not in M4, shelf manager silent) or not read → unknown, and said so', () => {
    expect(confirms('processor-ierr', { hotswap: 1, sensors: undefined })).toMatchObject({
      verdict: 'unknown',
      summary: 'fresh IPMI reading: M1; sensors not readable',
      // Whatever the sensor said, the blade is without payload power: dead, not sick.
      payloadOff: true,
    });
    expect(confirms('processor-ierr', { hotswap: 4, sensors: undefined }).payloadOff).toBe(false);
    expect(confirms('processor-ierr', { hotswap: 'shmc-unreachable', sensors: undefined }).payloadOff).toBeUndefined();
    expect(confirms('unexpected-deactivation', { hotswap: 0, sensors: undefined }).payloadOff).toBe(true);
    expect(confirms('processor-ierr', { hotswap: 'shmc-unreachable', sensors: undefined }).verdict).toBe('unknown');
    expect(confirms('processor-ierr', { hotswap: 4, sensors: undefined }).verdict).toBe('unknown');
  });
  it.each([
    [5, 'confirmed'],
    [6, 'confirmed'],
    [1, 'confirmed'],
    [4, 'refuted'],
    [7, 'unknown'],
    ['shmc-unreachable', 'unknown'],
  ] as const)('deactivating against a reading of %s → %s', (hotswap, want) => {
    expect(confirms('deactivating', { hotswap, sensors: undefined }).verdict).toBe(want);
  });
});

describe('confirms: a reading the IPMC marks unavailable', () => {
  it('is unknown, not confirmed from the last good states it keeps beside the error', () => {
    const stale: SensorState = {
      record: TEMP,
      reading: decodeSensorReading([0x55, 0xc0, 0x18, 0x00]),
      value: 85,
      at: 2,
      error: 'reading unavailable',
    };
    expect(confirms('temperature-critical', { hotswap: 4, sensors: [stale] }).verdict).toBe('unknown');
  });
});
