// SDR repository records, decoded from the records the simulated shelf manager holds (the
// same bytes ipmi_sim serves to `ipmitool sdr`) and from hand-made vendor-style variants.
import { describe, expect, it } from 'vitest';
import { convertReading, decodeSdrRepositoryInfo, decodeSensorRecord } from '../../src/ipmi/sdr-record.js';
import { compactSensorRecord, fullSensorRecord } from '../../src/sim/sdr.js';

describe('decodeSensorRecord', () => {
  it('reads a full threshold record: owner, number, type, name, °C, linear M=1, its readable thresholds', () => {
    const r = fullSensorRecord({ recordId: 7, owner: 0x9a, number: 2, entityInstance: 0x63, name: 'Temp Slot3' });
    expect(decodeSensorRecord(r)).toEqual({
      thresholds: { UNC: 70, UC: 80, UNR: 90 },
      recordId: 7,
      owner: 0x9a,
      lun: 0,
      number: 2,
      sensorType: 0x01,
      eventType: 0x01,
      name: 'Temp Slot3',
      unit: 1,
      conversion: { m: 1, b: 0, bExp: 0, rExp: 0, format: 0 },
    });
  });

  it('reads a compact sensor-specific record: no unit, no conversion', () => {
    const r = compactSensorRecord({
      recordId: 8,
      owner: 0x82,
      number: 3,
      sensorType: 0x23,
      statesMask: 0x10f,
      entityInstance: 0x61,
      name: 'Watchdog Slot1',
    });
    expect(decodeSensorRecord(r)).toMatchObject({
      recordId: 8,
      owner: 0x82,
      number: 3,
      sensorType: 0x23,
      eventType: 0x6f,
      name: 'Watchdog Slot1',
      unit: undefined,
      conversion: undefined,
      thresholds: {},
    });
  });

  it('reads only the thresholds the record marks readable, converted (a 12 V rail: M=63, R=-3)', () => {
    const r = fullSensorRecord({
      recordId: 1,
      owner: 0x82,
      number: 5,
      entityInstance: 1,
      name: '12V',
      upper: [0xd0, 0xc8, 0xc0],
    });
    const body = 5;
    r[body + 13] = 0x3f; // every threshold readable
    r[body + 19] = 63;
    r[body + 24] = 0xd0; // R = -3, B exponent 0
    r[body + 34] = 0xa0; // LNR
    r[body + 35] = 0xa8; // LC
    r[body + 36] = 0xb0; // LNC
    expect(decodeSensorRecord(r)?.thresholds).toEqual({
      LNC: 11.088,
      LC: 10.584,
      LNR: 10.08,
      UNC: 12.096,
      UC: 12.6,
      UNR: 13.104,
    });
  });

  it('skips records that describe no sensor (e.g. an FRU device locator, type 0x11)', () => {
    expect(decodeSensorRecord([1, 0, 0x51, 0x11, 3, 0x20, 0, 0])).toBeUndefined();
  });

  it('skips a sensor owned by system software (owner ID bit 0 set): nothing to bridge to', () => {
    const r = fullSensorRecord({ recordId: 1, owner: 0x41, number: 1, entityInstance: 1, name: 'x' });
    expect(decodeSensorRecord(r)).toBeUndefined();
  });

  it('rejects a record shorter than its type needs, naming the bytes', () => {
    expect(() => decodeSensorRecord([1, 0, 0x51, 0x01, 3, 0x82, 0, 1])).toThrow(/SDR record type 0x01 too short/);
  });

  it('decodes 10-bit signed M and B and signed exponents (a 12 V rail: M=63, R=-3)', () => {
    const r = fullSensorRecord({ recordId: 1, owner: 0x82, number: 5, entityInstance: 1, name: '12V' });
    const body = 5;
    r[body + 7] = 0x02; // voltage
    r[body + 16] = 4; // volts
    r[body + 19] = 63; // M LS
    r[body + 20] = 0x00;
    r[body + 21] = 0xff; // B LS: with MS bits 11 → -1
    r[body + 22] = 0xc0;
    r[body + 24] = 0xd0; // R = -3, Bexp = 0
    const rec = decodeSensorRecord(r)!;
    expect(rec.conversion).toEqual({ m: 63, b: -1, bExp: 0, rExp: -3, format: 0 });
    expect(convertReading(191, rec.conversion)).toBe(12.032);
  });
});

describe('convertReading', () => {
  it('two’s-complement raw readings are signed', () => {
    expect(convertReading(0xf6, { m: 1, b: 0, bExp: 0, rExp: 0, format: 2 })).toBe(-10);
  });
  it('one’s-complement raw readings are signed', () => {
    expect(convertReading(0xf5, { m: 1, b: 0, bExp: 0, rExp: 0, format: 1 })).toBe(-10);
  });
  it('no conversion → undefined, never a made-up number', () => {
    expect(convertReading(10, undefined)).toBeUndefined();
  });
});

describe('decodeSdrRepositoryInfo', () => {
  it('reads the record count and timestamps (captured from ipmi_sim)', () => {
    const hex = '51 02 00 fe ff 65 3c 00 00 00 00 00 00 02'.split(' ').map((t) => Number.parseInt(t, 16));
    expect(decodeSdrRepositoryInfo(hex)).toEqual({ records: 2, lastAddition: 0x3c65, lastErase: 0 });
  });
});
