// What a trap may put in the journal and the log, whatever a peer sent: journalVarbinds() bounds
// the varbinds (a cut value keeps its length and SHA-256, the rest is summarised), decodePet()
// bounds the OEM part of an oversized PET, and clip() cuts values quoted in log lines.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip } from '../../src/snmp/clip.js';
import {
  JOURNAL_VALUE_CHARS,
  JOURNAL_VARBINDS_CHARS,
  journalVarbinds,
  type RawVarbind,
} from '../../src/snmp/notification.js';
import { decodePet, PET_OEM_MAX } from '../../src/snmp/pet.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const PET = Buffer.from(
  '00112233445566778899aabbccddeeff000130e72400ffff2020108209a060a61400ffffffffff190a4000000000c1',
  'hex',
);

describe('journalVarbinds', () => {
  it("keeps a PET trap's varbinds whole, as before", () => {
    const vbs: RawVarbind[] = [
      { oid: '1.3.6.1.2.1.1.3.0', type: 67, value: 12345 },
      { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 6, value: '1.3.6.1.4.1.3183.1.1.0.15757062' },
      { oid: '1.3.6.1.4.1.3183.1.1.1', type: 4, value: Buffer.concat([PET, Buffer.alloc(63)]) },
    ];
    expect(journalVarbinds(vbs)).toEqual({
      varbinds: [
        { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 12345 },
        { oid: '1.3.6.1.6.3.1.1.4.1.0', type: 'OID', value: '1.3.6.1.4.1.3183.1.1.0.15757062' },
        {
          oid: '1.3.6.1.4.1.3183.1.1.1',
          type: 'OctetString',
          value: Buffer.concat([PET, Buffer.alloc(63)]).toString('hex'),
        },
      ],
    });
  });

  it('cuts a long buffer or string, with its whole length and SHA-256; cuts a long OID', () => {
    const big = Buffer.alloc(60_000, 0x41);
    const text = 'x'.repeat(5000);
    const longOid = `1.3.6.${'1.'.repeat(200)}1`;
    const { varbinds } = journalVarbinds([
      { oid: '1.3.6.1.4.1.99999.1', type: 4, value: big },
      { oid: '1.3.6.1.4.1.99999.2', type: 6, value: text },
    ]);
    expect(varbinds).toEqual([
      { oid: '1.3.6.1.4.1.99999.1', type: 'OctetString', value: '41'.repeat(256), length: 60_000, sha256: sha(big) },
      {
        oid: '1.3.6.1.4.1.99999.2',
        type: 'OID',
        value: 'x'.repeat(JOURNAL_VALUE_CHARS),
        length: 5000,
        sha256: sha(text),
      },
    ]);
    const [v] = journalVarbinds([{ oid: longOid, type: 5, value: null }]).varbinds;
    expect(v?.oid).toBe(`${longOid.slice(0, 128)}…(${longOid.length} chars)`);
  });

  it('lists varbinds while their JSON stays within 2,048 characters, and summarises the rest', () => {
    const vbs: RawVarbind[] = Array.from({ length: 500 }, (_, i) => ({
      oid: `1.3.6.1.4.1.99999.${i}`,
      type: 4,
      value: Buffer.from([i & 0xff]),
    }));
    const j = journalVarbinds(vbs);
    expect(JSON.stringify(j.varbinds).length).toBeLessThanOrEqual(JOURNAL_VARBINDS_CHARS);
    expect(j.varbinds.length).toBeGreaterThan(10);
    const rest = vbs.slice(j.varbinds.length);
    const h = createHash('sha256');
    for (const v of rest)
      h.update(`${v.oid}\0${v.type}\0`)
        .update(v.value as Buffer)
        .update('\0');
    expect(j.omitted).toEqual({ count: rest.length, bytes: rest.length, sha256: h.digest('hex') });
    // Another value among the omitted ones gives another hash.
    const other = [...vbs];
    other[499] = { ...other[499]!, value: Buffer.from([0xee]) };
    expect(journalVarbinds(other).omitted?.sha256).not.toBe(j.omitted?.sha256);
  });

  it('stays within its bound whatever the varbinds', () => {
    const value = fc.oneof(
      fc.uint8Array({ maxLength: 5000 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 3000 }),
      fc.integer(),
      fc.bigInt(),
      fc.constant(null),
      fc.boolean(),
    );
    const vb = fc.record({ oid: fc.string({ maxLength: 600 }), type: fc.integer({ min: 0, max: 255 }), value });
    fc.assert(
      fc.property(fc.array(vb, { maxLength: 80 }), (vbs) => {
        const j = journalVarbinds(vbs);
        expect(JSON.stringify(j.varbinds).length).toBeLessThanOrEqual(JOURNAL_VARBINDS_CHARS);
        expect(j.varbinds.length + (j.omitted?.count ?? 0)).toBe(vbs.length);
      }),
      { seed: 0x10a2, numRuns: 300 },
    );
  });
});

describe('decodePet on an oversized record', () => {
  it(`keeps at most ${PET_OEM_MAX} OEM bytes and says how many there were`, () => {
    const long = Buffer.concat([PET.subarray(0, 46), Buffer.alloc(3000, 0x01)]);
    const p = decodePet(long);
    expect(p.oem).toHaveLength(PET_OEM_MAX);
    expect(p.oemLength).toBe(3000);
    expect(decodePet(PET).oemLength).toBeUndefined();
  });
});

describe('clip', () => {
  it('leaves short values alone, cuts long ones saying how long they were, and defuses control characters', () => {
    expect(clip('1.3.6.1')).toBe('1.3.6.1');
    const long = '7.'.repeat(100);
    expect(clip(long)).toBe(`${long.slice(0, 128)}…(200 chars)`);
    expect(clip('a\nATCA_ERR_FORGED: b\u0000')).toBe('a?ATCA_ERR_FORGED: b?');
    expect(clip(`${'a'.repeat(9)}\u{1f600}`, 10)).toBe(`${'a'.repeat(9)}…(11 chars)`);
  });
});
