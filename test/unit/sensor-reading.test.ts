// Get Sensor Reading answers captured from ipmi_sim (temperature at 85 °C past UNC and UC:
// `55 c0 18 00`; watchdog with "hard reset" asserted: `00 c0 02 00`), and the events a change
// between two readings implies. Pure functions: captured bytes are the peer.
import { describe, expect, it } from 'vitest';
import type { SensorRecord } from '../../src/ipmi/sdr-record.js';
import { decodeSensorReading, sensorChangeEvents } from '../../src/ipmi/sensor-reading.js';

const TEMP: SensorRecord = {
  recordId: 1,
  owner: 0x82,
  lun: 0,
  number: 1,
  sensorType: 0x01,
  eventType: 0x01,
  name: 'Temp Slot1',
  unit: 1,
  conversion: { m: 1, b: 0, bExp: 0, rExp: 0, format: 0 },
  thresholds: { UNC: 70, UC: 80, UNR: 90 },
};
const WATCHDOG: SensorRecord = { ...TEMP, number: 2, sensorType: 0x23, eventType: 0x6f, unit: undefined };

describe('decodeSensorReading', () => {
  it('reads raw value, scanning, availability and threshold status', () => {
    expect(decodeSensorReading([0x55, 0xc0, 0x18, 0x00])).toEqual({
      raw: 0x55,
      unavailable: false,
      scanning: true,
      states: 0x18,
    });
  });
  it('reads discrete states over two bytes (bit 15 is reserved)', () => {
    expect(decodeSensorReading([0x00, 0xc0, 0x02, 0xff]).states).toBe(0x7f02);
  });
  it('flags an unavailable reading', () => {
    expect(decodeSensorReading([0x00, 0xe0]).unavailable).toBe(true);
  });
  it('rejects a one-byte answer', () => {
    expect(() => decodeSensorReading([0x55])).toThrow(/Get Sensor Reading/);
  });
});

describe('sensorChangeEvents', () => {
  const r = (states: number, raw = 0x28, flags = 0xc0) => decodeSensorReading([raw, flags, states & 0xff, states >> 8]);

  it('first reading past UNC and UC: both assertions, with their severities and the raw reading', () => {
    const ev = sensorChangeEvents(TEMP, undefined, r(0x18, 0x55), 's1', 9);
    expect(ev).toEqual([
      expect.objectContaining({
        kind: 'threshold',
        offset: 0x07,
        asserted: true,
        severity: 'noncritical',
        reading: 0x55,
      }),
      expect.objectContaining({
        kind: 'threshold',
        offset: 0x09,
        asserted: true,
        severity: 'critical',
        source: 'poll',
      }),
    ]);
  });

  it('a first reading with nothing crossed says nothing', () => {
    expect(sensorChangeEvents(TEMP, undefined, r(0), 's1', 9)).toEqual([]);
  });

  it('cooling below UC but not UNC: only UC deasserts (one level milder)', () => {
    const ev = sensorChangeEvents(TEMP, 0x18, r(0x08, 0x48), 's1', 9);
    expect(ev).toEqual([expect.objectContaining({ offset: 0x09, asserted: false, severity: 'noncritical' })]);
  });

  it('lower thresholds map to the going-low offsets (LNC 0x00, LC 0x02, LNR 0x04)', () => {
    const ev = sensorChangeEvents(TEMP, 0, r(0x07, 0x01), 's1', 9);
    expect(ev.map((e) => (e.kind === 'threshold' ? e.offset : -1))).toEqual([0x00, 0x02, 0x04]);
  });

  it('a watchdog "hard reset" state becomes a critical discrete assertion', () => {
    expect(sensorChangeEvents(WATCHDOG, 0, r(0x02), 's1', 9)).toEqual([
      expect.objectContaining({ kind: 'discrete', sensorType: 0x23, offset: 1, asserted: true, severity: 'critical' }),
    ]);
  });

  it('an unavailable reading or a sensor not scanning says nothing (neither ok nor fault)', () => {
    expect(sensorChangeEvents(TEMP, 0x18, r(0, 0, 0xe0), 's1', 9)).toEqual([]);
    expect(sensorChangeEvents(TEMP, 0x18, r(0, 0, 0x80), 's1', 9)).toEqual([]);
  });

  it('states the policy does not know (e.g. processor presence) produce no event', () => {
    const cpu = { ...WATCHDOG, sensorType: 0x07 };
    expect(sensorChangeEvents(cpu, 0, r(1 << 7), 's1', 9)).toEqual([
      expect.objectContaining({ kind: 'discrete', offset: 7, severity: 'info' }),
    ]);
  });
});
