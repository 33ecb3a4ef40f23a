// The IPMI 2.0 Full Sensor Record (type 0x01) the simulated shelf manager holds for each blade.
import { describe, expect, it } from 'vitest';
import { type FullSensorRecordInput, fullSensorRecord } from '../../src/sim/sdr.js';

const INPUT: FullSensorRecordInput = {
  recordId: 0x1234,
  owner: 0x82,
  number: 1,
  entityInstance: 0x61,
  name: 'Temp Slot1',
};

const latin1 = (s: string) => [...Buffer.from(s, 'latin1')];

describe('fullSensorRecord', () => {
  const r = fullSensorRecord(INPUT);

  it('starts with the header: record id LS byte first, SDR version 0x51, type 0x01', () => {
    expect(r.slice(0, 4)).toEqual([0x34, 0x12, 0x51, 0x01]);
  });

  it.each([1, 0xff, 0x100, 0xffff])('encodes record id %i little-endian', (recordId) => {
    const rec = fullSensorRecord({ ...INPUT, recordId });
    expect(rec[0]! | (rec[1]! << 8)).toBe(recordId);
  });

  it('gives in its length byte the number of bytes after the header', () => {
    expect(r[4]).toBe(r.length - 5);
  });

  it('keys the record by owner, LUN 0 and sensor number', () => {
    expect(r.slice(5, 8)).toEqual([0x82, 0x00, 0x01]);
  });

  it('describes a PICMG front board temperature threshold sensor', () => {
    expect(r[8]).toBe(0xa0); // entity: PICMG front board
    expect(r[9]).toBe(0x61); // entity instance
    expect(r[12]).toBe(0x01); // sensor type: temperature
    expect(r[13]).toBe(0x01); // event/reading type: threshold
  });

  it('ends with the ID string, preceded by its type/length byte 0xC0 | length', () => {
    const name = latin1('Temp Slot1');
    expect(r.slice(-name.length)).toEqual(name);
    expect(r[r.length - name.length - 1]).toBe(0xc0 | name.length);
  });

  it.each([
    ['an empty name', '', 0],
    ['a 16-character name', 'ABCDEFGHIJKLMNOP', 16],
    ['a longer name, cut to 16 characters', 'A very long sensor name', 16],
  ])('handles %s', (_what, name, length) => {
    const rec = fullSensorRecord({ ...INPUT, name });
    expect(rec.at(-length - 1)).toBe(0xc0 | length);
    expect(rec.slice(rec.length - length)).toEqual(latin1(name.slice(0, 16)).slice(0, length));
    expect(rec[4]).toBe(rec.length - 5);
    expect(rec.length).toBeLessThanOrEqual(64);
  });

  it('encodes the ID string as Latin-1, one byte per character', () => {
    const rec = fullSensorRecord({ ...INPUT, name: 'Temp 50°C' });
    expect(rec.slice(-9)).toEqual([0x54, 0x65, 0x6d, 0x70, 0x20, 0x35, 0x30, 0xb0, 0x43]);
  });

  it('puts the upper thresholds at bytes 37–39 (UNR, UC, UNC) and UNC as normal maximum', () => {
    expect(r.slice(36, 39)).toEqual([0x5a, 0x50, 0x46]);
    expect(r[32]).toBe(0x46);
    const custom = fullSensorRecord({ ...INPUT, upper: [100, 90, 80] });
    expect(custom.slice(36, 39)).toEqual([100, 90, 80]);
    expect(custom[32]).toBe(80);
  });

  it('every entry is a byte', () => {
    for (const b of fullSensorRecord({ ...INPUT, recordId: 0xffff, name: 'ÿÿÿÿ' })) {
      expect(Number.isInteger(b) && b >= 0 && b <= 0xff).toBe(true);
    }
  });

  // IPMI 2.0 table 43-1: hysteresis (bytes 43, 44), two reserved bytes (45, 46) and OEM (47) come
  // before the ID string type/length code at byte 48, so the record length is 43 + name length.
  it('places the ID string type/length code at byte 48, as IPMI 2.0 table 43-1 does', () => {
    expect(r[47]).toBe(0xc0 | 10);
    expect(r[4]).toBe(43 + 10);
  });
});
