// SEL decoding over bytes captured from ipmi_sim 2.0.33 (`ipmitool raw 0x0a 0x43 …`, `raw 0x0a 0x40`):
// a pure parser, so captured output is the peer.
import { describe, expect, it } from 'vitest';
import { platformEventToDomain } from '../../src/domain/platform-event.js';
import { isAtcaError } from '../../src/errors.js';
import { decodeSelEntry, decodeSelInfo, decodeSelRecord } from '../../src/ipmi/sel.js';

const hex = (s: string) =>
  s
    .trim()
    .split(/\s+/)
    .map((t) => Number.parseInt(t, 16));

describe('decodeSelInfo', () => {
  it('reads the entry count and the last addition/erase times (little-endian)', () => {
    expect(decodeSelInfo(hex('51 04 00 40 3e 74 3c 00 00 00 00 00 00 0a'))).toEqual({
      entries: 4,
      lastAddition: 0x3c74,
      lastErase: 0,
    });
  });

  it('rejects a short answer with a clear error', () => {
    try {
      decodeSelInfo(hex('51 04'));
      expect.unreachable();
    } catch (e) {
      expect(isAtcaError(e, 'ATCA_ERR_BAD_RESPONSE')).toBe(true);
      expect((e as Error).message).toContain('Get SEL Info: [0x51 0x04]');
    }
  });
});

describe('decodeSelEntry', () => {
  it('decodes a threshold event: UNC going high on sensor 1 of IPMC 0x82, reading 0x55, threshold 0x46', () => {
    const e = decodeSelEntry(hex('04 00 03 00 02 74 3c 00 00 82 00 04 01 01 01 57 55 46'));
    expect(e.next).toBe(4);
    expect(e.record).toMatchObject({ id: 3, type: 2, timestamp: 0x3c74 });
    expect(e.record.event).toEqual({
      ipmb: 0x82,
      sensorType: 0x01,
      sensorNumber: 1,
      eventType: 0x01,
      deassertion: false,
      eventData: [0x57, 0x55, 0x46],
    });
    expect(platformEventToDomain(e.record.event!, 's1', 5, 'sel')).toEqual({
      kind: 'threshold',
      shelf: 's1',
      at: 5,
      source: 'sel',
      ipmb: 0x82,
      sensorNumber: 1,
      sensorType: 1,
      offset: 7,
      asserted: true,
      severity: 'noncritical',
      reading: 0x55,
    });
  });

  it('decodes the last entry (next = 0xFFFF), a hot-swap transition to M4 without ED2/ED3', () => {
    const e = decodeSelEntry(hex('ff ff 02 00 02 65 3c 00 00 84 00 04 f0 00 6f 04 ff ff'));
    expect(e.next).toBe(0xffff);
    expect(platformEventToDomain(e.record.event!, 's1', 5, 'sel')).toMatchObject({
      kind: 'hotswap',
      ipmb: 0x84,
      state: 4,
      fru: 0,
      source: 'sel',
    });
  });

  it('reads a deassertion from bit 7 of the event direction/type byte', () => {
    const r = decodeSelRecord(hex('05 00 02 80 3c 00 00 82 00 04 23 02 ef 01 ff ff'));
    expect(r.event).toMatchObject({ sensorType: 0x23, eventType: 0x6f, deassertion: true });
  });

  it('a software generator ID (bit 0 set) names no IPMC: the event decodes to nothing attributable', () => {
    const r = decodeSelRecord(hex('06 00 02 80 3c 00 00 41 00 04 23 02 6f 01 ff ff'));
    expect(r.event?.ipmb).toBe(0xff);
    expect(platformEventToDomain(r.event!, 's1', 5, 'sel')).toBeUndefined();
  });

  it('an OEM record carries no platform event (and a non-timestamped one no time)', () => {
    const r = decodeSelRecord(hex('07 00 e1 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d'));
    expect(r).toMatchObject({ id: 7, type: 0xe1, timestamp: undefined, event: undefined });
    expect(r.raw).toHaveLength(16);
  });

  it('rejects a truncated entry', () => {
    expect(() => decodeSelEntry(hex('04 00 03 00 02 74'))).toThrow(/Get SEL Entry/);
  });
});
