// The pure trap decoders under fast-check: whatever bytes and numbers a peer can make net-snmp
// hand them, they throw nothing but AtcaError('ATCA_ERR_TRAP_MALFORMED') and return no field
// out of its range. Seeded, so a failure reproduces (fast-check prints the seed and the path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import { isAtcaError } from '../../src/errors.js';
import {
  decodeNotification,
  JOURNAL_VARBINDS_CHARS,
  journalVarbinds,
  type NotificationPdu,
} from '../../src/snmp/notification.js';
import { decodePet, decodeSpecificTrap, PET_MIN_LENGTH, type PetRecord } from '../../src/snmp/pet.js';
import { petToEvent } from '../../src/snmp/pet-event.js';

const RUNS = { seed: 0x7e57, numRuns: 3_000 };
const PET_ENTERPRISE = '1.3.6.1.4.1.3183.1.1';
const PET_OID_PREFIX = `${PET_ENTERPRISE}.0.`;
const PET_VARBIND = `${PET_ENTERPRISE}.1`;

const isByte = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xff;
const isU16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;

/** Runs `f`; an exception other than ATCA_ERR_TRAP_MALFORMED fails the property. */
function onlyMalformed<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (isAtcaError(e, 'ATCA_ERR_TRAP_MALFORMED')) return undefined;
    throw e;
  }
}

function checkPet(p: PetRecord, length: number): void {
  expect(p.guid).toMatch(/^[0-9a-f]{32}$/);
  expect(isU16(p.sequence)).toBe(true);
  if (p.timestamp !== undefined) expect(Number.isNaN(p.timestamp.getTime())).toBe(false);
  if (p.utcOffsetMinutes !== undefined) {
    expect(Number.isInteger(p.utcOffsetMinutes) && p.utcOffsetMinutes >= -0x8000 && p.utcOffsetMinutes < 0x8000).toBe(
      true,
    );
  }
  for (const b of [
    p.trapSourceType,
    p.eventSourceType,
    p.severityCode,
    p.sensorDevice,
    p.sensorNumber,
    p.entity,
    p.entityInstance,
    p.language,
  ]) {
    expect(isByte(b)).toBe(true);
  }
  expect(p.eventData).toHaveLength(8);
  expect(p.eventData.every(isByte)).toBe(true);
  expect([
    'unspecified',
    'monitor',
    'information',
    'ok',
    'non-critical',
    'critical',
    'non-recoverable',
    'unknown',
  ]).toContain(p.severity);
  expect(Number.isInteger(p.manufacturerId) && p.manufacturerId >= 0 && p.manufacturerId <= 0xffff_ffff).toBe(true);
  expect(isU16(p.systemId)).toBe(true);
  expect(p.oem.length).toBeLessThanOrEqual(length - PET_MIN_LENGTH);
  expect(p.oem.every((b) => isByte(b) && b !== 0xc1)).toBe(true);
}

function checkEvent(e: DomainEvent, shelf: string, at: number): void {
  expect(e).toMatchObject({ shelf, at, source: 'trap' });
  if ('ipmb' in e) expect(isByte(e.ipmb) && e.ipmb !== 0xff).toBe(true);
  switch (e.kind) {
    case 'hotswap':
      expect(e.state >= 0 && e.state <= 7).toBe(true);
      if (e.previous !== undefined) expect(e.previous >= 0 && e.previous <= 7).toBe(true);
      expect(isByte(e.fru)).toBe(true);
      if (e.cause !== undefined) expect(e.cause >= 0 && e.cause <= 0xf).toBe(true);
      break;
    case 'threshold':
      expect(e.offset >= 0 && e.offset <= 0x0b).toBe(true);
      expect(isByte(e.sensorNumber) && isByte(e.sensorType)).toBe(true);
      if (e.reading !== undefined) expect(isByte(e.reading)).toBe(true);
      break;
    case 'discrete':
      expect(e.offset >= 0 && e.offset <= 0x0f).toBe(true);
      expect(isByte(e.sensorNumber) && isByte(e.sensorType)).toBe(true);
      break;
    default:
      throw new Error(`a trap gave a ${e.kind} event`);
  }
}

/** Numbers as net-snmp can produce them (any safe integer), and the ones it should not. */
const anyNumber = fc.oneof(
  fc.integer({ min: -0x8000_0000, max: 0xffff_ffff }),
  // PET-shaped: sensor type | event type | direction | offset, for sensors that are mapped
  fc
    .tuple(
      fc.constantFrom(0x01, 0x02, 0x04, 0x07, 0x08, 0x23, 0xf0, 0x05),
      fc.constantFrom(0x01, 0x6f, 0x03),
      fc.boolean(),
      fc.integer({ min: 0, max: 15 }),
    )
    .map(([sensor, event, deassert, offset]) => (sensor << 16) | (event << 8) | (deassert ? 0x80 : 0) | offset),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 32, -(2 ** 31) - 1, 2 ** 53),
);

/** PET-like bytes: any length, often 46–110, sometimes with a hot-swap-shaped body. */
const petBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.uint8Array({ minLength: PET_MIN_LENGTH, maxLength: 110 }),
  fc
    .tuple(
      fc.uint8Array({ minLength: 47, maxLength: 47 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 255 }),
    )
    .map(([b, state, ipmb]) => {
      b[27] = ipmb;
      b[31] = 0xa0 | state;
      return b;
    }),
);

describe('decodePet', () => {
  it('throws only ATCA_ERR_TRAP_MALFORMED, and only when shorter than the fixed fields; fields in range', () => {
    fc.assert(
      fc.property(petBytes, (raw) => {
        const bytes = Buffer.from(raw);
        const p = onlyMalformed(() => decodePet(bytes));
        expect(p === undefined).toBe(bytes.length < PET_MIN_LENGTH);
        if (p) checkPet(p, bytes.length);
      }),
      RUNS,
    );
  });
});

describe('decodeSpecificTrap', () => {
  it('throws only ATCA_ERR_TRAP_MALFORMED (for non-32-bit numbers); fields in range', () => {
    fc.assert(
      fc.property(anyNumber, (n) => {
        const t = onlyMalformed(() => decodeSpecificTrap(n));
        const is32 = Number.isInteger(n) && n >= -0x8000_0000 && n <= 0xffff_ffff;
        expect(t === undefined).toBe(!is32);
        if (!t) return;
        expect(isByte(t.sensorType) && isByte(t.eventType)).toBe(true);
        expect(typeof t.deassertion).toBe('boolean');
        if (t.offset !== undefined) expect(Number.isInteger(t.offset) && t.offset >= 0 && t.offset <= 0x0e).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('petToEvent', () => {
  it('throws only ATCA_ERR_TRAP_MALFORMED; an event it returns is a trap event with fields in range', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(
        petBytes.filter((b) => b.length >= PET_MIN_LENGTH),
        anyNumber,
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        (raw, specific, shelf, at) => {
          const pet = decodePet(Buffer.from(raw));
          const e = onlyMalformed(() => petToEvent(pet, specific, shelf, at) ?? null);
          if (e) checkEvent(e, shelf, at);
          if (e) kinds.add(e.kind);
        },
      ),
      RUNS,
    );
    // The generators reach what matters, not only refusals.
    expect([...kinds].sort()).toEqual(['discrete', 'hotswap', 'threshold']);
  });
});

// --- decodeNotification: the PDU as net-snmp hands it over, any shape it can take ----------------

const oidArb = fc.oneof(
  fc.constantFrom(
    '1.3.6.1.6.3.1.1.4.1.0',
    '1.3.6.1.6.3.1.1.4.3.0',
    PET_VARBIND,
    '1.3.6.1.2.1.1.3.0',
    'NaN.NaN',
    '0.0',
    '',
  ),
  fc.array(fc.nat({ max: 2 ** 32 + 5 }), { minLength: 1, maxLength: 12 }).map((a) => a.join('.')),
);
const trapOidArb = fc.oneof(
  oidArb,
  fc.oneof(fc.nat(), fc.maxSafeInteger(), fc.constant(0xf06f06)).map((n) => `${PET_OID_PREFIX}${n}`),
  fc.string({ maxLength: 12 }).map((t) => `${PET_OID_PREFIX}${t}`),
);
/** A varbind value of any type net-snmp decodes (and a few it should not produce). */
const valueArb = fc.oneof(
  fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
  fc.string(),
  anyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  trapOidArb,
);
const varbindArb = fc.record({
  oid: oidArb,
  type: fc.constantFrom(1, 2, 3, 4, 5, 6, 64, 65, 66, 67, 68, 70, 128, 129, 130, 255),
  value: valueArb,
});
/** The two varbinds a PET has, with any types and values, among others. */
const petVarbinds = fc
  .tuple(trapOidArb, fc.constantFrom(4, 6, 68, 2), petBytes, fc.array(varbindArb, { maxLength: 4 }))
  .map(([trapOid, petType, pet, rest]) => [
    { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: trapOid },
    { oid: PET_VARBIND, type: petType, value: Buffer.from(pet) },
    ...rest,
  ]);
const versionArb = fc.constantFrom(0, 1, 3, 2, -1, 2 ** 31);
const notificationArb: fc.Arbitrary<NotificationPdu> = fc.record(
  {
    type: fc.constantFrom(0xa4, 0xa6, 0xa7, 0xa0, 0xa2, 0xa8),
    varbinds: fc.oneof(fc.array(varbindArb, { maxLength: 6 }), petVarbinds),
    enterprise: fc.oneof(fc.constant(PET_ENTERPRISE), oidArb),
    generic: fc.oneof(fc.constantFrom(0, 1, 5, 6, 7, -1), anyNumber),
    specific: anyNumber,
  },
  { requiredKeys: ['type', 'varbinds'] },
);

describe('decodeNotification', () => {
  it('throws only ATCA_ERR_TRAP_MALFORMED; what it returns is in range and consistent', () => {
    const seen = { refused: 0, plain: 0, pet: 0, event: 0 };
    fc.assert(
      fc.property(versionArb, notificationArb, fc.integer({ min: 0, max: 2 ** 42 }), (version, n, at) => {
        const d = onlyMalformed(() => decodeNotification(version, n, 'shelf-p', at));
        seen[!d ? 'refused' : d.event ? 'event' : d.pet ? 'pet' : 'plain']++;
        if (!d) return;
        expect([1, 2, 3]).toContain(d.version);
        expect(d.version).toBe(version === 0 ? 1 : version === 1 ? 2 : 3);
        if (d.specific !== undefined) {
          expect(Number.isInteger(d.specific) && d.specific >= -0x8000_0000 && d.specific <= 0xffff_ffff).toBe(true);
        }
        if (d.pet) checkPet(d.pet, 200);
        if (d.event) {
          expect(d.pet).toBeDefined();
          checkEvent(d.event, 'shelf-p', at);
        }
        if (d.trapOid !== undefined) expect(typeof d.trapOid).toBe('string');
        // Journal form of whatever came in: never throws, types named or numbered.
        const j = journalVarbinds(n.varbinds);
        for (const v of j.varbinds) expect(typeof v.type).toBe('string');
        expect(JSON.stringify(j.varbinds).length).toBeLessThanOrEqual(JOURNAL_VARBINDS_CHARS);
        expect(j.varbinds.length + (j.omitted?.count ?? 0)).toBe(n.varbinds.length);
      }),
      RUNS,
    );
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
  });

  it('decodes a v2c hot-swap PET and a v1 one to the same event', () => {
    const pet = Buffer.from(
      '00112233445566778899aabbccddeeff000130e72400ffff2020108209a060a61400ffffffffff190a4000000000c1',
      'hex',
    );
    const v2 = decodeNotification(
      1,
      {
        type: 0xa7,
        varbinds: [
          { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: `${PET_OID_PREFIX}15757062` },
          { oid: PET_VARBIND, type: 4, value: pet },
        ],
      },
      's',
      1,
    );
    const v1 = decodeNotification(
      0,
      {
        type: 0xa4,
        enterprise: PET_ENTERPRISE,
        generic: 6,
        specific: 15757062,
        varbinds: [{ oid: PET_VARBIND, type: 4, value: pet }],
      },
      's',
      1,
    );
    expect(v2.event).toEqual({
      kind: 'hotswap',
      shelf: 's',
      at: 1,
      source: 'trap',
      ipmb: 0x82,
      fru: 0,
      state: 6,
      previous: 4,
      cause: 1,
    });
    expect(v1.event).toEqual(v2.event);
    expect(v1.trapOid).toBe(v2.trapOid);
  });

  it.each([
    [
      'an SNMPv1 message with an SNMPv2 PDU',
      { version: 0, type: 0xa7, varbinds: [] },
      'SNMPv1 message carrying an SNMPv2',
    ],
    ['an SNMPv2c message with a v1 Trap-PDU', { version: 1, type: 0xa4, varbinds: [] }, 'carrying an SNMPv1 Trap-PDU'],
    [
      'a v1 specific-trap wider than 32 bits',
      { version: 0, type: 0xa4, generic: 6, specific: 2 ** 40, varbinds: [] },
      'not a 32-bit',
    ],
    [
      'a PET trap OID past 32 bits',
      {
        version: 1,
        type: 0xa7,
        varbinds: [{ oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: `${PET_OID_PREFIX}4294967296` }],
      },
      'no 32-bit specific',
    ],
    [
      'a PET whose varbind is an OID, not an OCTET STRING',
      {
        version: 1,
        type: 0xa7,
        varbinds: [
          { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: `${PET_OID_PREFIX}15757062` },
          { oid: PET_VARBIND, type: 6, value: '1.3' },
        ],
      },
      'without an OCTET STRING',
    ],
  ] as const)('refuses %s as malformed', (_what, { version, ...n }, detail) => {
    let err: unknown;
    try {
      decodeNotification(version, n, 's', 0);
    } catch (e) {
      err = e;
    }
    expect(isAtcaError(err, 'ATCA_ERR_TRAP_MALFORMED')).toBe(true);
    expect((err as Error).message).toContain(detail);
  });
});
