// PET varbind and specific-trap decoding (atca-domain.md §4). decodePet and decodeSpecificTrap
// are pure, so these tests feed them hand-built bytes: each record below is spelled out field by
// field from the layout table rather than produced by an encoder that could share a bug with the
// decoder. The real-peer path (snmptrap → TrapReceiver) is in test/integration/snmp-trap-receiver.
import { describe, expect, it } from 'vitest';
import { decodePet, decodeSpecificTrap, PET_MIN_LENGTH } from '../../src/snmp/pet.js';
import { catchAtcaError } from './catch-atca-error.js';

interface Fields {
  guid?: number[];
  sequence?: [number, number];
  timestamp?: [number, number, number, number];
  utcOffset?: [number, number];
  trapSource?: number;
  eventSource?: number;
  severity?: number;
  sensorDevice?: number;
  sensorNumber?: number;
  entity?: number;
  entityInstance?: number;
  eventData?: number[];
  language?: number;
  manufacturer?: [number, number, number, number];
  systemId?: [number, number];
  oem?: number[];
}

const GUID = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];

/** Lays the fields out at their PET offsets; defaults follow the Pigeon Point hot-swap trap. */
function pet(f: Fields = {}): Buffer {
  const bytes = [
    ...(f.guid ?? GUID), // 0–15
    ...(f.sequence ?? [0x01, 0x02]), // 16–17
    ...(f.timestamp ?? [0x30, 0xe7, 0x24, 0x00]), // 18–21: 2024-01-01T00:00:00Z
    ...(f.utcOffset ?? [0xff, 0xff]), // 22–23
    f.trapSource ?? 0x20, // 24
    f.eventSource ?? 0x20, // 25
    f.severity ?? 0x10, // 26
    f.sensorDevice ?? 0x82, // 27
    f.sensorNumber ?? 0x09, // 28
    f.entity ?? 0xa0, // 29
    f.entityInstance ?? 0x60, // 30
    ...(f.eventData ?? [0xa6, 0x14, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]), // 31–38
    f.language ?? 0x19, // 39
    ...(f.manufacturer ?? [0x0a, 0x40, 0x00, 0x00]), // 40–43: 16394 LSB first
    ...(f.systemId ?? [0x00, 0x00]), // 44–45
    ...(f.oem ?? [0xc1]), // 46–
  ];
  return Buffer.from(bytes);
}

describe('decodePet', () => {
  it('decodes every field of a Pigeon Point style hot-swap PET (47 bytes)', () => {
    const bytes = pet();
    expect(bytes.length).toBe(47);
    expect(decodePet(bytes)).toEqual({
      guid: '00112233445566778899aabbccddeeff',
      sequence: 0x0102,
      timestamp: new Date('2024-01-01T00:00:00Z'),
      utcOffsetMinutes: undefined,
      trapSourceType: 0x20,
      eventSourceType: 0x20,
      severity: 'critical',
      severityCode: 0x10,
      sensorDevice: 0x82,
      sensorNumber: 0x09,
      entity: 0xa0,
      entityInstance: 0x60,
      eventData: [0xa6, 0x14, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff],
      language: 0x19,
      manufacturerId: 16394,
      manufacturerName: 'Pigeon Point Systems',
      manufacturerByteOrder: 'lsb-first',
      manufacturerKnown: true,
      systemId: 0,
      oem: [],
    });
  });

  describe('manufacturer ID (bytes 40–43), decoded both ways', () => {
    it('reads Dell 674 sent MSB first (00 00 02 A2), as FreeIPMI does', () => {
      const p = decodePet(pet({ manufacturer: [0x00, 0x00, 0x02, 0xa2] }));
      expect(p.manufacturerId).toBe(674);
      expect(p.manufacturerName).toBe('Dell');
      expect(p.manufacturerByteOrder).toBe('msb-first');
      expect(p.manufacturerKnown).toBe(true);
    });

    it('reads Pigeon Point 16394 sent LSB first (0A 40 00 00)', () => {
      const p = decodePet(pet({ manufacturer: [0x0a, 0x40, 0x00, 0x00] }));
      expect(p.manufacturerId).toBe(16394);
      expect(p.manufacturerByteOrder).toBe('lsb-first');
    });

    it('reads Intel 343 LSB first too (57 01 00 00)', () => {
      const p = decodePet(pet({ manufacturer: [0x57, 0x01, 0x00, 0x00] }));
      expect(p.manufacturerId).toBe(343);
      expect(p.manufacturerName).toBe('Intel');
      expect(p.manufacturerByteOrder).toBe('lsb-first');
    });

    it('keeps an unknown number MSB first and flags it', () => {
      const p = decodePet(pet({ manufacturer: [0x00, 0x00, 0x12, 0x34] }));
      expect(p.manufacturerId).toBe(0x1234);
      expect(p.manufacturerName).toBeUndefined();
      expect(p.manufacturerByteOrder).toBe('msb-first');
      expect(p.manufacturerKnown).toBe(false);
    });
  });

  describe('timestamp (bytes 18–21): seconds since 1998-01-01 UTC, MSB first', () => {
    it.each([
      [[0x00, 0x00, 0x00, 0x01], '1998-01-01T00:00:01.000Z'],
      [[0x00, 0x01, 0x51, 0x80], '1998-01-02T00:00:00.000Z'], // 86400 s
      [[0x30, 0xe7, 0x24, 0x00], '2024-01-01T00:00:00.000Z'],
      [[0xff, 0xff, 0xff, 0xff], '2134-02-07T06:28:15.000Z'], // unsigned: no wrap to before 1998
    ] as const)('%j → %s', (ts, iso) => {
      expect(decodePet(pet({ timestamp: [...ts] })).timestamp?.toISOString()).toBe(iso);
    });

    it('gives undefined for 0 (unspecified)', () => {
      expect(decodePet(pet({ timestamp: [0, 0, 0, 0] })).timestamp).toBeUndefined();
    });
  });

  describe('UTC offset (bytes 22–23): signed minutes', () => {
    it.each([
      [[0xff, 0xff], undefined],
      [[0x00, 0x00], 0],
      [[0x00, 0x3c], 60],
      [[0xff, 0x88], -120],
      [[0x02, 0x0d], 525], // +08:45
    ] as const)('%j → %s', (bytes, minutes) => {
      expect(decodePet(pet({ utcOffset: [...bytes] })).utcOffsetMinutes).toBe(minutes);
    });
  });

  it.each([
    [0x00, 'unspecified'],
    [0x01, 'monitor'],
    [0x02, 'information'],
    [0x04, 'ok'],
    [0x08, 'non-critical'],
    [0x10, 'critical'],
    [0x20, 'non-recoverable'],
    [0x03, 'unknown'],
    [0x40, 'unknown'],
  ] as const)('names severity byte %i as %s and keeps the raw byte', (code, name) => {
    const p = decodePet(pet({ severity: code }));
    expect(p.severity).toBe(name);
    expect(p.severityCode).toBe(code);
  });

  it('reads the sequence number and system ID MSB first', () => {
    const p = decodePet(pet({ sequence: [0xbe, 0xef], systemId: [0x12, 0x34] }));
    expect(p.sequence).toBe(0xbeef);
    expect(p.systemId).toBe(0x1234);
  });

  describe('OEM custom fields (46–), up to the 0xC1 terminator', () => {
    it.each([
      ['a lone terminator', [0xc1], []],
      ['bytes then the terminator', [0xc2, 0x41, 0x42, 0xc1], [0xc2, 0x41, 0x42]],
      ['padding after the terminator', [0xc1, 0x00, 0x00, 0x00], []],
      ['no terminator: everything to the end', [0x41, 0x42], [0x41, 0x42]],
    ] as const)('%s', (_what, oem, expected) => {
      expect(decodePet(pet({ oem: [...oem] })).oem).toEqual(expected);
    });

    it('accepts the 46-byte form without any OEM byte (as OpenIPMI does)', () => {
      const bytes = pet().subarray(0, PET_MIN_LENGTH);
      expect(bytes.length).toBe(46);
      expect(decodePet(bytes).oem).toEqual([]);
    });

    it('accepts the 110-byte maximum and longer', () => {
      const long = [...Array.from({ length: 63 }, (_, i) => 0x20 + (i % 64)), 0xc1];
      const p = decodePet(pet({ oem: long }));
      expect(pet({ oem: long }).length).toBe(110);
      expect(p.oem).toHaveLength(63);
      expect(decodePet(pet({ oem: [...long, 0x00, 0x00] })).oem).toHaveLength(63);
    });
  });

  it('copies its input: the record does not change when the buffer does', () => {
    const bytes = pet();
    const p = decodePet(bytes);
    bytes.fill(0);
    expect(p.eventData[0]).toBe(0xa6);
    expect(p.guid).toBe('00112233445566778899aabbccddeeff');
  });

  it.each([
    ['empty', 0],
    ['20 bytes', 20],
    ['45 bytes, one short', 45],
  ])('rejects a truncated record (%s) as ATCA_ERR_TRAP_MALFORMED', (_what, length) => {
    const e = catchAtcaError(() => decodePet(pet().subarray(0, length)));
    expect(e.code).toBe('ATCA_ERR_TRAP_MALFORMED');
    expect(e.detail).toBe(`PET varbind has ${length} bytes, fewer than the 46 of its fixed fields`);
  });
});

describe('decodeSpecificTrap', () => {
  it.each([
    [356096, { sensorType: 0x05, eventType: 0x6f, deassertion: false, offset: 0 }], // chassis intrusion asserted
    [356224, { sensorType: 0x05, eventType: 0x6f, deassertion: true, offset: 0 }], // … deasserted
    [65799, { sensorType: 0x01, eventType: 0x01, deassertion: false, offset: 7 }], // temperature UNC going high
    [15757062, { sensorType: 0xf0, eventType: 0x6f, deassertion: false, offset: 6 }], // hot swap → M6
  ])('splits the atca-domain.md §4 example %i', (specific, expected) => {
    expect(decodeSpecificTrap(specific)).toEqual(expected);
  });

  it('gives offset undefined for 0xF (unspecified)', () => {
    expect(decodeSpecificTrap(0x01010f).offset).toBeUndefined();
  });

  it('ignores bits 6–4 and 31–24, and takes a negative (signed 32-bit) number as unsigned', () => {
    expect(decodeSpecificTrap(0x01f06f76)).toEqual({
      sensorType: 0xf0,
      eventType: 0x6f,
      deassertion: false,
      offset: 6,
    });
    expect(decodeSpecificTrap(0x81f06f86 | 0)).toEqual({
      sensorType: 0xf0,
      eventType: 0x6f,
      deassertion: true,
      offset: 6,
    });
  });

  it.each([1.5, Number.NaN, 2 ** 32])('rejects %s as ATCA_ERR_TRAP_MALFORMED', (n) => {
    expect(catchAtcaError(() => decodeSpecificTrap(n)).code).toBe('ATCA_ERR_TRAP_MALFORMED');
  });
});
