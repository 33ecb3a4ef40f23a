// PET → domain event (atca-domain.md §1 hot-swap event data, §6 sensor types, threshold offsets
// and FreeIPMI severities). petToEvent is pure: the PetRecords here are plain objects standing in
// for decodePet's output (its own tests cover the bytes), so each case states only the fields
// that matter to it.
import { describe, expect, it } from 'vitest';
import type { PetRecord } from '../../src/snmp/pet.js';
import { petToEvent } from '../../src/snmp/pet-event.js';

const AT = 1_700_000_000_000;
const SHELF = 'shelf-a';

function record(eventData: number[], over: Partial<PetRecord> = {}): PetRecord {
  return {
    guid: '00112233445566778899aabbccddeeff',
    sequence: 1,
    timestamp: undefined,
    utcOffsetMinutes: undefined,
    trapSourceType: 0x20,
    eventSourceType: 0x20,
    severity: 'critical',
    severityCode: 0x10,
    sensorDevice: 0x82,
    sensorNumber: 0x09,
    entity: 0xa0,
    entityInstance: 0x60,
    eventData: [...eventData, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff].slice(0, 8),
    language: 0x19,
    manufacturerId: 16394,
    manufacturerName: 'Pigeon Point Systems',
    manufacturerByteOrder: 'lsb-first',
    manufacturerKnown: true,
    systemId: 0,
    oem: [],
    ...over,
  };
}

/** sensor type, event type, direction and offset → the PET specific-trap number. */
function specific(sensorType: number, eventType: number, offset: number, deassertion = false): number {
  return (sensorType << 16) | (eventType << 8) | (deassertion ? 0x80 : 0) | offset;
}

describe('petToEvent: FRU hot swap (sensor type 0xF0, event type 0x6F)', () => {
  it('reads M4 → M7 with its cause from ED1–ED3', () => {
    // ED1 = 0xA0 | new state 7; ED2 = cause 0xF (unknown) << 4 | previous state 4; ED3 = FRU 0.
    const event = petToEvent(record([0xa7, 0xf4, 0x00]), specific(0xf0, 0x6f, 7), SHELF, AT);
    expect(event).toEqual({
      kind: 'hotswap',
      shelf: SHELF,
      at: AT,
      source: 'trap',
      ipmb: 0x82,
      fru: 0,
      state: 7,
      previous: 4,
      cause: 0xf,
    });
  });

  it('reads a shelf-manager-commanded M4 → M6 (cause 1) of FRU 2', () => {
    const event = petToEvent(record([0xa6, 0x14, 0x02]), 15757062, SHELF, AT);
    expect(event).toMatchObject({ kind: 'hotswap', fru: 2, state: 6, previous: 4, cause: 1 });
  });

  it('reports a shelf-manager-generated event (byte 27 = 0x20) as ipmb 0x20 with the FRU from ED3', () => {
    // The FRU's own IPMB address is not in the trap: the consumer resolves it through the SDR.
    const event = petToEvent(record([0xa7, 0x44, 0x07], { sensorDevice: 0x20 }), specific(0xf0, 0x6f, 7), SHELF, AT);
    expect(event).toMatchObject({ kind: 'hotswap', ipmb: 0x20, fru: 7, state: 7, previous: 4, cause: 4 });
  });

  it('without the 0xA marker in ED1 gives the state only, for FRU 0', () => {
    const event = petToEvent(record([0x07, 0x44, 0x03]), specific(0xf0, 0x6f, 7), SHELF, AT);
    expect(event).toEqual({ kind: 'hotswap', shelf: SHELF, at: AT, source: 'trap', ipmb: 0x82, fru: 0, state: 7 });
  });

  it('leaves out a previous state that is not M0–M7', () => {
    const event = petToEvent(record([0xa4, 0x0c, 0x00]), specific(0xf0, 0x6f, 4), SHELF, AT);
    expect(event).toMatchObject({ kind: 'hotswap', state: 4, cause: 0 });
    expect(event).not.toHaveProperty('previous');
  });

  it.each([
    ['a new state beyond M7', [0xa9, 0x04, 0x00], specific(0xf0, 0x6f, 9)],
    ['a deassertion', [0xa6, 0x14, 0x00], specific(0xf0, 0x6f, 6, true)],
  ])('does not understand %s', (_what, ed, spec) => {
    expect(petToEvent(record(ed), spec, SHELF, AT)).toBeUndefined();
  });
});

describe('petToEvent: threshold (event type 0x01)', () => {
  it('reads temperature UC going high, asserted, with the trigger reading from ED2', () => {
    // ED1 bits 7:6 = 01 (ED2 = reading), 5:4 = 01 (ED3 = threshold), offset 9; reading 90, threshold 85.
    const event = petToEvent(record([0x59, 90, 85]), specific(0x01, 0x01, 0x09), SHELF, AT);
    expect(event).toEqual({
      kind: 'threshold',
      shelf: SHELF,
      at: AT,
      source: 'trap',
      ipmb: 0x82,
      sensorNumber: 0x09,
      sensorType: 0x01,
      offset: 0x09,
      asserted: true,
      severity: 'critical',
      reading: 90,
    });
  });

  it.each([
    [0x00, 'noncritical', 'info'], // LNC going low
    [0x01, 'noncritical', 'info'], // LNC going high
    [0x02, 'critical', 'noncritical'], // LC
    [0x03, 'critical', 'noncritical'],
    [0x04, 'nonrecoverable', 'critical'], // LNR
    [0x05, 'nonrecoverable', 'critical'],
    [0x06, 'noncritical', 'info'], // UNC
    [0x07, 'noncritical', 'info'],
    [0x08, 'critical', 'noncritical'], // UC
    [0x09, 'critical', 'noncritical'],
    [0x0a, 'nonrecoverable', 'critical'], // UNR
    [0x0b, 'nonrecoverable', 'critical'],
  ] as const)('offset %i: asserted %s, deasserted one level lower (%s)', (offset, asserted, deasserted) => {
    const on = petToEvent(record([0x50 | offset, 1, 2]), specific(0x02, 0x01, offset), SHELF, AT);
    const off = petToEvent(record([0x50 | offset, 1, 2]), specific(0x02, 0x01, offset, true), SHELF, AT);
    expect(on).toMatchObject({ kind: 'threshold', sensorType: 0x02, offset, asserted: true, severity: asserted });
    expect(off).toMatchObject({ kind: 'threshold', offset, asserted: false, severity: deasserted });
  });

  it('gives no reading when ED1 says ED2 is unspecified', () => {
    const event = petToEvent(record([0x09, 90, 85]), specific(0x01, 0x01, 0x09), SHELF, AT);
    expect(event).toMatchObject({ kind: 'threshold', offset: 0x09 });
    expect(event).not.toHaveProperty('reading');
  });

  it('takes the offset from ED1 when the specific trap leaves it unspecified (0xF)', () => {
    expect(petToEvent(record([0x47, 70]), specific(0x01, 0x01, 0x0f), SHELF, AT)).toMatchObject({
      offset: 0x07,
      severity: 'noncritical',
      reading: 70,
    });
  });

  it('does not understand an offset beyond UNR going high', () => {
    expect(petToEvent(record([0x0c]), specific(0x01, 0x01, 0x0c), SHELF, AT)).toBeUndefined();
  });
});

describe('petToEvent: sensor-specific discrete sensors (event type 0x6F)', () => {
  it('reads processor IERR as critical', () => {
    const event = petToEvent(record([0x00], { sensorNumber: 0x30 }), specific(0x07, 0x6f, 0x00), SHELF, AT);
    expect(event).toEqual({
      kind: 'discrete',
      shelf: SHELF,
      at: AT,
      source: 'trap',
      ipmb: 0x82,
      sensorNumber: 0x30,
      sensorType: 0x07,
      offset: 0x00,
      asserted: true,
      severity: 'critical',
    });
  });

  it.each([
    ['processor thermal trip', 0x07, 0x01, 'critical'],
    ['processor correctable machine check', 0x07, 0x0c, 'noncritical'],
    ['processor presence', 0x07, 0x07, 'info'],
    ['power supply failure', 0x08, 0x01, 'critical'],
    ['power supply AC lost', 0x08, 0x03, 'critical'],
    ['watchdog 2 timer expired', 0x23, 0x00, 'noncritical'],
    ['watchdog 2 hard reset', 0x23, 0x01, 'critical'],
    ['watchdog 2 power down', 0x23, 0x02, 'critical'],
    ['watchdog 2 power cycle', 0x23, 0x03, 'critical'],
  ] as const)('reads %s as %s', (_what, sensorType, offset, severity) => {
    expect(petToEvent(record([offset]), specific(sensorType, 0x6f, offset), SHELF, AT)).toMatchObject({
      kind: 'discrete',
      sensorType,
      offset,
      asserted: true,
      severity,
    });
  });

  it('makes a deassertion one level milder (IERR cleared → noncritical)', () => {
    expect(petToEvent(record([0x00]), specific(0x07, 0x6f, 0x00, true), SHELF, AT)).toMatchObject({
      asserted: false,
      severity: 'noncritical',
    });
  });

  it('does not understand a reserved offset (watchdog 2 offset 5)', () => {
    expect(petToEvent(record([0x05]), specific(0x23, 0x6f, 0x05), SHELF, AT)).toBeUndefined();
  });
});

describe('petToEvent: what it does not understand', () => {
  it.each([
    ['chassis intrusion (sensor type 0x05)', 356096],
    ['IPMB physical link (0xF1)', specific(0xf1, 0x6f, 0x00)],
    ['a hot-swap sensor with a generic event type', specific(0xf0, 0x03, 0x01)],
    ['an OEM event type', specific(0x07, 0x70, 0x00)],
  ])('%s → undefined', (_what, spec) => {
    expect(petToEvent(record([0xa6, 0x14, 0x00]), spec, SHELF, AT)).toBeUndefined();
  });

  it('an event whose generator is unspecified (byte 27 = 0xFF) → undefined', () => {
    expect(petToEvent(record([0xa7, 0xf4, 0x00], { sensorDevice: 0xff }), 15757063, SHELF, AT)).toBeUndefined();
  });
});
