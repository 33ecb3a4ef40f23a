// PICMG 3.0 response decoders and the request bytes of each command fence_atca sends.
import { describe, expect, it } from 'vitest';
import { HOT_SWAP_NAMES } from '../../src/domain/hotswap.js';
import { AtcaError } from '../../src/errors.js';
import { decodeActivationPolicy, decodeAddressInfo, decodeHotSwapReading, Picmg } from '../../src/ipmi/picmg.js';
import type { IpmiSession, RawRequest } from '../../src/ipmi/session.js';
import { catchAtcaError, rejectedAtcaError } from './catch-atca-error.js';

/** Captured from a shelf: Get Address Info for site 1 (after the completion code). */
const ADDRESS_INFO_SITE_1 = [0x00, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00];
/** Captured from a shelf: Get Sensor Reading of the FRU Hot Swap sensor of a blade in M4. */
const HOT_SWAP_M4 = [0x04, 0xc0, 0x10, 0x00];

describe('decodeAddressInfo', () => {
  it('decodes the captured response for site 1', () => {
    expect(decodeAddressInfo(ADDRESS_INFO_SITE_1)).toEqual({
      hwAddr: 0x41,
      ipmb: 0x82,
      fruId: 0x00,
      siteNumber: 1,
      siteType: 0x00,
    });
  });

  it('reads each field from its own byte (an unconventional IPMB address, FRU 2, site 12)', () => {
    expect(decodeAddressInfo([0x00, 0x4c, 0x9a, 0xff, 0x02, 0x0c, 0x00])).toEqual({
      hwAddr: 0x4c,
      ipmb: 0x9a,
      fruId: 0x02,
      siteNumber: 12,
      siteType: 0x00,
    });
  });

  it('ignores trailing bytes beyond the seven it needs', () => {
    expect(decodeAddressInfo([...ADDRESS_INFO_SITE_1, 0x55])).toEqual(decodeAddressInfo(ADDRESS_INFO_SITE_1));
  });

  it.each([
    ['empty', []],
    ['one byte short', ADDRESS_INFO_SITE_1.slice(0, 6)],
    ['not starting with the PICMG identifier', [0x01, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00]],
  ])('rejects a response that is %s as malformed', (_what, bytes) => {
    const e = catchAtcaError(() => decodeAddressInfo(bytes));
    expect(e.code).toBe('ATCA_ERR_BAD_RESPONSE');
    expect(e.detail).toContain('Get Address Info');
  });

  it('shows the offending bytes in hex', () => {
    const e = catchAtcaError(() => decodeAddressInfo([0x01, 0x41, 0x82]));
    expect(e.detail).toBe('Get Address Info: expected PICMG response, got [0x01 0x41 0x82]');
  });
});

describe('decodeHotSwapReading', () => {
  it('decodes the captured M4 reading', () => {
    expect(decodeHotSwapReading(HOT_SWAP_M4)).toBe(4);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7] as const)('bit n of the state byte means Mn: M%i', (m) => {
    expect(decodeHotSwapReading([0x00, 0xc0, 1 << m, 0x00])).toBe(m);
    expect(HOT_SWAP_NAMES[m]).toMatch(new RegExp(`^M${m} \\(`));
  });

  it('accepts a three-byte reading (the optional fourth byte absent)', () => {
    expect(decodeHotSwapReading([0x01, 0xc0, 0x02])).toBe(1);
  });

  it('does not use the reading byte or the optional fourth byte', () => {
    expect(decodeHotSwapReading([0xff, 0xc0, 0x10, 0xff])).toBe(4);
  });

  it('of byte 1, "scanning enabled" (0x40) must be set and "reading unavailable" (0x20) clear; the rest does not matter', () => {
    expect(decodeHotSwapReading([0x04, 0x40, 0x10])).toBe(4);
    expect(decodeHotSwapReading([0x04, 0xdf, 0x10])).toBe(4);
  });

  it('a sensor with scanning disabled may hold a stale state: unknown, never taken as current', () => {
    for (const flags of [0x00, 0x80, 0x9f]) {
      const e = catchAtcaError(() => decodeHotSwapReading([0x01, flags, 0x02]));
      expect(e.code).toBe('ATCA_ERR_STATE_UNKNOWN');
      expect(e.detail).toMatch(/scanning disabled/);
    }
  });

  it.each([
    ['reading unavailable, even with one state bit set', [0x04, 0xe0, 0x10, 0x00]],
    ['reading unavailable alone', [0x00, 0x20, 0x10]],
    ['scanning disabled (an M1 that may be stale)', [0x01, 0x80, 0x02, 0x00]],
    ['no state bit set', [0x00, 0xc0, 0x00, 0x00]],
    ['two state bits set (M1 and M4)', [0x00, 0xc0, 0x12, 0x00]],
    ['every state bit set', [0x00, 0xc0, 0xff, 0x00]],
  ])('refuses a reading with %s as an untrustworthy state', (_what, bytes) => {
    expect(catchAtcaError(() => decodeHotSwapReading(bytes)).code).toBe('ATCA_ERR_STATE_UNKNOWN');
  });

  it('names the state bits it could not trust', () => {
    expect(catchAtcaError(() => decodeHotSwapReading([0x00, 0xc0, 0x12])).detail).toContain('0x12');
  });

  it.each([
    ['empty', []],
    ['two bytes', [0x04, 0xc0]],
  ])('rejects a %s reading as malformed', (_what, bytes) => {
    expect(catchAtcaError(() => decodeHotSwapReading(bytes)).code).toBe('ATCA_ERR_BAD_RESPONSE');
  });
});

describe('decodeActivationPolicy', () => {
  it.each([
    [0x00, { locked: false, deactivationLocked: false }],
    [0x01, { locked: true, deactivationLocked: false }],
    [0x02, { locked: false, deactivationLocked: true }],
    [0x03, { locked: true, deactivationLocked: true }],
    [0xfc, { locked: false, deactivationLocked: false }],
  ])('policy byte %i decodes to its two bits', (policy, expected) => {
    expect(decodeActivationPolicy([0x00, policy])).toEqual(expected);
  });

  it.each([
    ['empty', []],
    ['only the PICMG identifier', [0x00]],
    ['not starting with the PICMG identifier', [0x01, 0x00]],
  ])('rejects a response that is %s as malformed', (_what, bytes) => {
    const e = catchAtcaError(() => decodeActivationPolicy(bytes));
    expect(e.code).toBe('ATCA_ERR_BAD_RESPONSE');
    expect(e.detail).toContain('Get FRU Activation Policy');
  });
});

// A fake session is used because this checks the exact bytes built for each PICMG command; the
// real ipmitool/ipmi_sim path is covered by test/integration.
class RecordingSession implements IpmiSession {
  readonly peer = 'fake-shelf:623';
  readonly requests: RawRequest[] = [];
  reply: number[] | AtcaError = [];

  async raw(req: RawRequest): Promise<number[]> {
    this.requests.push(req);
    if (this.reply instanceof AtcaError) throw this.reply;
    return this.reply;
  }

  async close(): Promise<void> {}
}

function picmgWith(reply: number[] | AtcaError): { picmg: Picmg; session: RecordingSession } {
  const session = new RecordingSession();
  session.reply = reply;
  return { picmg: new Picmg(session), session };
}

const IPMB = 0x82;

describe('Picmg requests', () => {
  it.each([
    {
      what: 'Get Address Info by physical site, asked of the shelf manager itself',
      call: (p: Picmg) => p.addressOfSite(1),
      reply: ADDRESS_INFO_SITE_1,
      request: { netfn: 0x2c, cmd: 0x01, data: [0x00, 0x00, 0x03, 0x01, 0x00] },
      result: { hwAddr: 0x41, ipmb: 0x82, fruId: 0, siteNumber: 1, siteType: 0 },
    },
    {
      what: 'Get Address Info with an explicit site type',
      call: (p: Picmg) => p.addressOfSite(14, 0x01),
      reply: [0x00, 0x4e, 0x9c, 0xff, 0x00, 0x0e, 0x01],
      request: { netfn: 0x2c, cmd: 0x01, data: [0x00, 0x00, 0x03, 14, 0x01] },
      result: { hwAddr: 0x4e, ipmb: 0x9c, fruId: 0, siteNumber: 14, siteType: 1 },
    },
    {
      what: 'Get Sensor Type, bridged to the IPMC',
      call: (p: Picmg) => p.sensorType(IPMB, 3),
      reply: [0xf0, 0x6f],
      request: { target: IPMB, netfn: 0x04, cmd: 0x2f, data: [3] },
      result: { type: 0xf0, readingType: 0x6f },
    },
    {
      what: 'Get Sensor Type, masking bit 7 of the event/reading type',
      call: (p: Picmg) => p.sensorType(IPMB, 0),
      reply: [0xf0, 0xef],
      request: { target: IPMB, netfn: 0x04, cmd: 0x2f, data: [0] },
      result: { type: 0xf0, readingType: 0x6f },
    },
    {
      what: 'Get Sensor Reading of the hot-swap sensor',
      call: (p: Picmg) => p.hotSwapState(IPMB, 0),
      reply: HOT_SWAP_M4,
      request: { target: IPMB, netfn: 0x04, cmd: 0x2d, data: [0] },
      result: 4,
    },
    {
      what: 'Get FRU Activation Policy',
      call: (p: Picmg) => p.activationPolicy(IPMB, 0),
      reply: [0x00, 0x02],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x0b, data: [0x00, 0x00] },
      result: { locked: false, deactivationLocked: true },
    },
    {
      what: 'Set FRU Activation Policy (clear Deactivation-Locked)',
      call: (p: Picmg) => p.setActivationPolicy(IPMB, 0, 0x02, 0x00),
      reply: [0x00],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x0a, data: [0x00, 0x00, 0x02, 0x00] },
      result: undefined,
    },
    {
      what: 'Set FRU Activation (deactivate)',
      call: (p: Picmg) => p.setActivation(IPMB, 0, false),
      reply: [0x00],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x0c, data: [0x00, 0x00, 0x00] },
      result: undefined,
    },
    {
      what: 'Set FRU Activation (activate)',
      call: (p: Picmg) => p.setActivation(IPMB, 1, true),
      reply: [0x00],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x0c, data: [0x00, 0x01, 0x01] },
      result: undefined,
    },
    {
      what: 'Set Power Level 0 (remove payload power)',
      call: (p: Picmg) => p.setPowerLevel(IPMB, 0, 0),
      reply: [0x00],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x11, data: [0x00, 0x00, 0x00, 0x00] },
      result: undefined,
    },
    {
      what: 'FRU Control cold reset',
      call: (p: Picmg) => p.fruControl(IPMB, 0, 0),
      reply: [0x00],
      request: { target: IPMB, netfn: 0x2c, cmd: 0x04, data: [0x00, 0x00, 0x00] },
      result: undefined,
    },
  ])('$what', async ({ call, reply, request, result }) => {
    const { picmg, session } = picmgWith(reply);
    expect(await call(picmg)).toEqual(result);
    expect(session.requests).toStrictEqual([request]);
  });

  it('sends exactly one request per call', async () => {
    const { picmg, session } = picmgWith([0x00]);
    await picmg.setActivation(IPMB, 0, false);
    await picmg.setPowerLevel(IPMB, 0, 0);
    expect(session.requests.map((r) => r.cmd)).toEqual([0x0c, 0x11]);
  });
});

describe('Picmg responses', () => {
  it.each([
    ['Set FRU Activation Policy', (p: Picmg) => p.setActivationPolicy(IPMB, 0, 0x02, 0x00)],
    ['Set FRU Activation', (p: Picmg) => p.setActivation(IPMB, 0, false)],
    ['Set Power Level', (p: Picmg) => p.setPowerLevel(IPMB, 0, 0)],
    ['FRU Control', (p: Picmg) => p.fruControl(IPMB, 0, 0)],
  ])('%s rejects a response without the PICMG identifier as malformed', async (what, call) => {
    for (const reply of [[], [0x01]]) {
      const e = await rejectedAtcaError(call(picmgWith(reply).picmg));
      expect(e.code).toBe('ATCA_ERR_BAD_RESPONSE');
      expect(e.detail).toContain(what);
    }
  });

  it('Get Sensor Type rejects a one-byte response as malformed', async () => {
    const e = await rejectedAtcaError(picmgWith([0xf0]).picmg.sensorType(IPMB, 0));
    expect(e.code).toBe('ATCA_ERR_BAD_RESPONSE');
  });

  it('the decoders run on what the session returned', async () => {
    const e = await rejectedAtcaError(picmgWith([0x00, 0xe0, 0x10]).picmg.hotSwapState(IPMB, 0));
    expect(e.code).toBe('ATCA_ERR_STATE_UNKNOWN');
  });

  it("passes the session's own error through unchanged", async () => {
    const refused = new AtcaError('ATCA_ERR_IPMI_CC', 'CC 0xd5 (command not supported in present state)');
    expect(await rejectedAtcaError(picmgWith(refused).picmg.setActivation(IPMB, 0, false))).toBe(refused);
  });
});
