// SnmpEngine's reliance on net-snmp internals, checked: the constructor refuses a net-snmp
// without them, and TrapReceiver.start() runs engineSelfTest() and refuses to start (before it
// binds anything) when net-snmp behaves differently. "Differently" is simulated by changing
// net-snmp at run time the way a new version could: reworded error messages, a receiver without
// its engine, a key derivation that no longer goes through Authentication.passwordToKey.
import { createSocket, type RemoteInfo } from 'node:dgram';
import asn1 from 'asn1-ber';
import snmp from 'net-snmp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAtcaError } from '../../src/errors.js';
import { freePort } from '../../src/sim/ports.js';
import { engineSelfTest } from '../../src/snmp/engine-self-test.js';
import { type EngineNotification, SnmpEngine } from '../../src/snmp/snmp-engine.js';
import { TrapReceiver } from '../../src/snmp/trap-receiver.js';
import { oidContent, tlv } from '../helpers/trap-fuzz-ber.js';

const RINFO: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 40001, size: 0 };
const seq = (...xs: Buffer[]) => tlv(0x30, Buffer.concat(xs));
const int = (n: number) => tlv(0x02, Buffer.from([n]));
const oid = (o: string) => tlv(0x06, oidContent(o));

function v2cTrap(community: string, value: Buffer): Buffer {
  const vbs = seq(
    seq(oid('1.3.6.1.6.3.1.1.4.1.0'), oid('1.3.6.1.4.1.99999.0.1')),
    seq(oid('1.3.6.1.4.1.99999.1'), value),
  );
  return seq(int(1), tlv(0x04, Buffer.from(community)), tlv(0xa7, Buffer.concat([int(1), int(0), int(0), vbs])));
}

function engine(got: EngineNotification[]): SnmpEngine {
  return new SnmpEngine(
    { communities: ['c0mmunity'], v3Users: [] },
    { notification: (n) => got.push(n), refused: () => {}, reply: () => {} },
  );
}

/** start() of a receiver on a free port: the error it rejects with, and whether the port stayed free. */
async function startFails(): Promise<{ error: unknown; portFree: boolean }> {
  const port = await freePort();
  const r = new TrapReceiver({
    address: '127.0.0.1',
    port,
    communities: ['c0mmunity'],
    v3Users: [],
    sources: new Map(),
    log: () => {},
    onTrap: () => {},
  });
  const error = await r.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  await r.stop();
  const s = createSocket('udp4');
  const portFree = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  s.close();
  return { error, portFree };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('engineSelfTest', () => {
  it('passes on the net-snmp this was written for, in a few milliseconds', () => {
    expect(engineSelfTest()).toBeUndefined();
    const t = performance.now();
    expect(engineSelfTest()).toBeUndefined();
    expect(performance.now() - t).toBeLessThan(50);
  });

  it("refuses start() with ATCA_ERR_INTERNAL, binding nothing, when net-snmp's refusal messages read differently", async () => {
    // As if a new net-snmp worded "Local community not found…" otherwise: classifyRefusal would
    // then call every bad community "below authPriv".
    const capture = Error.captureStackTrace;
    vi.spyOn(Error, 'captureStackTrace').mockImplementation((...args: Parameters<typeof capture>) => {
      const e = args[0] as { name?: string; message?: string };
      if (e.name === 'RequestFailedError') e.message = `Refused: ${e.message}`;
      capture(...args);
    });
    const { error, portFree } = await startFails();
    expect(isAtcaError(error, 'ATCA_ERR_INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(/self-test: a wrong community: is refused as one/);
    expect(portFree).toBe(true);
  });

  it('refuses start() when a key derivation no longer passes the key gate', async () => {
    const a = snmp.Authentication;
    const derive = a.passwordToKey;
    // A derivation that bypasses the gate (marked as if it were the gated one).
    a.passwordToKey = Object.assign(() => Buffer.alloc(20), { gated: true });
    try {
      const { error, portFree } = await startFails();
      expect(isAtcaError(error, 'ATCA_ERR_INTERNAL')).toBe(true);
      expect((error as Error).message).toContain('asks the key gate');
      expect(portFree).toBe(true);
    } finally {
      a.passwordToKey = derive;
    }
  });
});

describe('SnmpEngine', () => {
  it("refuses to be built on a receiver without its SNMPv3 engine (the key gate's and Reports' ID)", () => {
    const create = snmp.createReceiver.bind(snmp);
    vi.spyOn(snmp, 'createReceiver').mockImplementation((o, cb) => {
      const r = create(o, cb) as snmp.ReceiverInternals;
      delete r.engine;
      return r;
    });
    expect(() => engine([])).toThrow(/ATCA_ERR_INTERNAL|not the version.*SNMPv3 engine ID/);
    try {
      engine([]);
    } catch (e) {
      expect(isAtcaError(e, 'ATCA_ERR_INTERNAL')).toBe(true);
    }
  });

  it('takes a configured engine ID with an upper-case 0X (net-snmp strips only a lower-case one)', () => {
    const e = new SnmpEngine(
      { communities: [], v3Users: [], engineId: '0X80001F8880AABB' },
      { notification: () => {}, refused: () => {}, reply: () => {} },
    );
    expect(e.engineId).toBe('80001f8880aabb');
  });

  it('refuses to be built when the key cache is not an object any more', () => {
    const a = snmp.Authentication;
    const cache = a.authToKeyCache;
    a.authToKeyCache = undefined;
    try {
      expect(() => engine([])).toThrow(/key cache/);
    } finally {
      a.authToKeyCache = cache;
    }
  });

  it('takes a BIT STRING as its bytes while handling; elsewhere asn1-ber reads it as it always did', () => {
    const got: EngineNotification[] = [];
    const bits = Buffer.concat([Buffer.from([0]), Buffer.alloc(60_000, 0xff)]);
    const t = performance.now();
    engine(got).handle(v2cTrap('c0mmunity', tlv(0x03, bits)), RINFO);
    const ms = performance.now() - t;
    const value = got[0]?.pdu.varbinds[1]?.value;
    expect(Buffer.isBuffer(value) && value.equals(bits)).toBe(true);
    expect(ms).toBeLessThan(50);
    const reader = new asn1.Ber.Reader(tlv(0x03, Buffer.from([0, 0xa5])));
    expect(reader.readBitString()).toBe('10100101');
  });
});
