// TrapReceiver against a real peer: Debian's net-snmp `snmptrap` sends v1, v2c and v3 (authPriv
// SHA/AES) PET traps over loopback UDP to a receiver on a free port. Also sent for real: wrong
// credentials, a trap from an address of no shelf (snmptrap --clientaddr=127.0.0.2), a truncated
// PET, raw garbage (node:dgram) and an unauthenticated empty-user v3 trap (net-snmp's own sender,
// since snmptrap refuses an empty user name). snmptrap's state and config go to a temp folder
// (SNMP_PERSISTENT_DIR, SNMPCONFPATH, HOME), never /var/lib/snmp or ~/.snmp.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HotSwapEvent } from '../../src/domain/events.js';
import { isAtcaError } from '../../src/errors.js';
import { freePort } from '../../src/sim/ports.js';
import { PET_ENTERPRISE, PET_VARBIND_OID } from '../../src/snmp/pet.js';
import type { LogLevel } from '../../src/snmp/rate-limited-log.js';
import { SnmpEngine } from '../../src/snmp/snmp-engine.js';
import {
  NO_TRAPS,
  type ReceivedTrap,
  TRAP_OUTCOMES,
  type TrapCounters,
  TrapReceiver,
} from '../../src/snmp/trap-receiver.js';
import { intContent, oidContent, tlv } from '../helpers/trap-fuzz-ber.js';

const run = promisify(execFile);

// Secrets are distinctive so that the log check below cannot pass by accident.
const COMMUNITY = 'Comm-Tst-48213';
const WRONG_COMMUNITY = 'Wrong-Comm-90317';
const USER = 'atcad';
const AUTH_KEY = 'Auth-Tst-55193';
const PRIV_KEY = 'Priv-Tst-77210';
const WRONG_AUTH_KEY = 'Auth-Bad-31876';
const WRONG_PRIV_KEY = 'Priv-Bad-64402';
const SECRETS = [COMMUNITY, WRONG_COMMUNITY, AUTH_KEY, PRIV_KEY, WRONG_AUTH_KEY, WRONG_PRIV_KEY];
const ENGINE_ID = '0x8000000001020304';
/** atcad's own engine ID (authoritative for informs): fixed, so that a Report can be checked. */
const RECEIVER_ENGINE_ID = '80001f8880aabbccddeeff0011';
const SHELF = 'shelf-a';

const HOTSWAP_M6 = '15757062'; // 0xF06F06: FRU hot swap, sensor-specific, asserted, offset 6 (→ M6)
const PET_TRAP_OID = `.1.3.6.1.4.1.3183.1.1.0.${HOTSWAP_M6}`;
/**
 * A 47-byte hot-swap PET as a Pigeon Point shelf manager sends it: GUID, sequence 1,
 * 2024-01-01T00:00:00Z, UTC offset unspecified, trap/event source 0x20, severity critical,
 * generator IPMB 0x82, sensor 9, entity 0xA0/0x60, ED1–ED8 = A6 14 00 FF…, i.e. M4 → M6 with
 * cause 1 (commanded by the shelf manager) for FRU 0, language 0x19, manufacturer 16394 LSB first,
 * system ID 0, and the 0xC1 terminator.
 */
const PET_HEX = '00112233445566778899aabbccddeeff000130e72400ffff2020108209a060a61400ffffffffff190a4000000000c1';

/** PET_HEX with another sequence number (bytes 16–17): another trap, not a repeat of the first. */
const petWithSequence = (n: number) => `${PET_HEX.slice(0, 32)}${n.toString(16).padStart(4, '0')}${PET_HEX.slice(36)}`;

const EXPECTED_EVENT: Omit<HotSwapEvent, 'at'> = {
  kind: 'hotswap',
  shelf: SHELF,
  source: 'trap',
  ipmb: 0x82,
  fru: 0,
  state: 6,
  previous: 4,
  cause: 1,
};

let dir: string;
let port: number;
let receiver: TrapReceiver;
const traps: ReceivedTrap[] = [];
const logs: [LogLevel, string][] = [];

function snmptrap(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('snmptrap', ['-m', '', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      SNMP_PERSISTENT_DIR: join(dir, 'persist'),
      SNMPCONFPATH: join(dir, 'conf'),
    },
    timeout: 10_000,
  });
}

function snmpinform(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('snmpinform', ['-m', '', '-t', '3', '-r', '0', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      SNMP_PERSISTENT_DIR: join(dir, 'persist'),
      SNMPCONFPATH: join(dir, 'conf'),
    },
    timeout: 10_000,
  });
}

const target = () => `127.0.0.1:${port}`;
const v1 = (community: string, hex = PET_HEX) => [
  '-v',
  '1',
  '-c',
  community,
  target(),
  '.1.3.6.1.4.1.3183.1.1',
  '127.0.0.1',
  '6',
  HOTSWAP_M6,
  '0',
  '.1.3.6.1.4.1.3183.1.1.1',
  'x',
  hex,
];
const v2c = (community: string, hex = PET_HEX, trapOid = PET_TRAP_OID) => [
  '-v',
  '2c',
  '-c',
  community,
  target(),
  '',
  trapOid,
  '.1.3.6.1.4.1.3183.1.1.1',
  'x',
  hex,
];
const v3 = (authKey: string, privKey: string, hex = PET_HEX) => [
  '-v',
  '3',
  '-e',
  ENGINE_ID,
  '-u',
  USER,
  '-l',
  'authPriv',
  '-a',
  'SHA',
  '-A',
  authKey,
  '-x',
  'AES',
  '-X',
  privKey,
  target(),
  '',
  PET_TRAP_OID,
  '.1.3.6.1.4.1.3183.1.1.1',
  'x',
  hex,
];

/** Polls until `pred` holds; a deadline instead of a fixed sleep. */
async function until(what: string, pred: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `send` and waits until counter `key` has grown by `n`; returns the counters' change. */
async function expectCounted(key: keyof TrapCounters, send: () => Promise<unknown>, n = 1): Promise<TrapCounters> {
  const before = receiver.counters;
  await send();
  await until(`counters.${key} + ${n}`, () => receiver.counters[key] >= before[key] + n);
  const after = receiver.counters;
  const delta = Object.fromEntries(
    Object.keys(after).map((k) => [k, after[k as keyof TrapCounters] - before[k as keyof TrapCounters]]),
  );
  return delta as unknown as TrapCounters;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atca-snmptrap-'));
  mkdirSync(join(dir, 'persist'));
  mkdirSync(join(dir, 'conf'));
  port = await freePort();
  receiver = new TrapReceiver({
    address: '127.0.0.1',
    port,
    communities: [COMMUNITY],
    v3Users: [{ name: USER, authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
    sources: new Map([['127.0.0.1', SHELF]]),
    engineId: RECEIVER_ENGINE_ID,
    log: (level, msg) => logs.push([level, msg]),
    onTrap: (t) => traps.push(t),
  });
  await receiver.start();
});

// --- Hand-built datagrams (for what no tool sends) --------------------------------------------

const int = (n: bigint | number) => tlv(0x02, intContent(BigInt(n)));
const str = (b: string | Buffer) => tlv(0x04, typeof b === 'string' ? Buffer.from(b) : b);
const oid = (o: string) => tlv(0x06, oidContent(o));
const seq = (...xs: Buffer[]) => tlv(0x30, Buffer.concat(xs));
const varbind = (o: string, value: Buffer) => seq(oid(o), value);

/** A v2c (version 1) or v1 (version 0) message: PDU `tag` with the PET varbinds plus `extra`. */
function communityMessage(
  o: { tag?: number; version?: number; community?: string; requestId?: Buffer; hex?: string },
  ...extra: Buffer[]
): Buffer {
  const vbs = seq(
    varbind('1.3.6.1.2.1.1.3.0', tlv(0x43, intContent(12345n))),
    varbind('1.3.6.1.6.3.1.1.4.1.0', oid(PET_TRAP_OID.slice(1))),
    varbind(PET_VARBIND_OID, str(Buffer.from(o.hex ?? PET_HEX, 'hex'))),
    ...extra,
  );
  const pdu = tlv(o.tag ?? 0xa6, Buffer.concat([o.requestId ?? int(4242), int(0), int(0), vbs]));
  return seq(int(o.version ?? 1), str(o.community ?? COMMUNITY), pdu);
}

/** An SNMPv3 discovery request: noAuthNoPriv, reportable, empty engine ID and user, empty GetRequest. */
function v3Discovery(): Buffer {
  const header = seq(int(777), int(65507), str(Buffer.from([0x04])), int(3));
  const usm = str(seq(str(''), int(0), int(0), str(''), str(''), str('')));
  const scoped = seq(str(''), str(''), tlv(0xa0, Buffer.concat([int(778), int(0), int(0), seq()])));
  return seq(int(3), header, usm, scoped);
}

interface Peer {
  readonly replies: Buffer[];
  send(b: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A UDP socket on `address` that sends to the receiver and keeps whatever comes back. */
function peer(address = '127.0.0.1', toPort = () => port): Promise<Peer> {
  return peerOnPort(0, toPort, address);
}

/** A peer on local port `local` (0: any). */
async function peerOnPort(local: number, toPort = () => port, address = '127.0.0.1'): Promise<Peer> {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(local, address, () => resolve());
  });
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  return {
    replies,
    send: (b) =>
      new Promise<void>((resolve, reject) => s.send(b, toPort(), '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

/** Lets pending socket events run (a reply already sent would be read by now). */
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
};

afterAll(async () => {
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TrapReceiver with snmptrap as the peer', () => {
  const events: Omit<HotSwapEvent, 'at'>[] = [];

  it.each([
    ['v1', 1, PET_HEX, () => v1(COMMUNITY)],
    ['v2c', 2, petWithSequence(2), () => v2c(COMMUNITY, petWithSequence(2))],
    ['v3 authPriv SHA/AES', 3, petWithSequence(3), () => v3(AUTH_KEY, PRIV_KEY, petWithSequence(3))],
  ] as const)('decodes a %s PET into the hot-swap M4 → M6 event', async (_name, version, hex, args) => {
    const sentAt = performance.now();
    const delta = await expectCounted('accepted', () => snmptrap(args()));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, accepted: 1 });
    const t = traps.at(-1)!;
    expect(t).toMatchObject({
      shelf: SHELF,
      from: '127.0.0.1',
      version,
      specific: 15757062,
      trapOid: `1.3.6.1.4.1.3183.1.1.0.${HOTSWAP_M6}`,
    });
    if (version === 1) expect(t.enterprise).toBe(PET_ENTERPRISE);
    expect(t.receivedAt).toBeGreaterThanOrEqual(sentAt);
    expect(t.receivedAt).toBeLessThanOrEqual(performance.now());
    expect(t.pet).toMatchObject({
      sensorDevice: 0x82,
      sensorNumber: 9,
      manufacturerId: 16394,
      manufacturerByteOrder: 'lsb-first',
      timestamp: new Date('2024-01-01T00:00:00Z'),
    });
    expect(t.varbinds).toContainEqual({ oid: PET_VARBIND_OID, type: 'OctetString', value: hex });
    // The journal stores JSON.stringify(trap): varbinds (built on first read) are in it.
    const json = JSON.parse(JSON.stringify(t));
    expect(json.varbinds).toEqual(t.varbinds);
    expect(json).toMatchObject({ shelf: SHELF, version, specific: 15757062 });
    const { at, ...event } = t.event as HotSwapEvent;
    expect(at).toBeGreaterThan(Date.now() - 60_000);
    expect(event).toEqual(EXPECTED_EVENT);
    events.push(event);
  });

  it('asks for a large receive buffer, so a burst during a pause is not dropped', () => {
    // Linux caps the request at net.core.rmem_max and reports twice what it granted. (With a
    // stock rmem_max, equal to the default, this cannot tell asking from not asking.)
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    expect(receiver.receiveBufferSize).toBe(2 * Math.min(4 * 1024 * 1024, max));
  });

  it('got the same event from all three versions', () => {
    expect(events).toHaveLength(3);
    expect(events[1]).toEqual(events[0]);
    expect(events[2]).toEqual(events[0]);
  });

  it('flags the same PET again (same sequence and timestamp) as a duplicate: delivered, counted', async () => {
    const hex = petWithSequence(0x77);
    await expectCounted('accepted', () => snmptrap(v2c(COMMUNITY, hex)));
    expect(traps.at(-1)?.duplicate).toBeUndefined();
    const delta = await expectCounted('duplicates', () => snmptrap(v1(COMMUNITY, hex)));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, duplicates: 1 });
    expect(traps.at(-1)).toMatchObject({ duplicate: true, version: 1 });
  });

  // In the rejection tests, "no onTrap" is checked right after the counter moved: the receiver
  // counts and delivers in the same synchronous step, so a delivery would already be visible.

  it('rejects a wrong community (three times, logged once) without calling onTrap', async () => {
    const n = traps.length;
    const logged = logs.length;
    const delta = await expectCounted(
      'badAuth',
      async () => {
        await snmptrap(v2c(WRONG_COMMUNITY));
        await snmptrap(v1(WRONG_COMMUNITY));
        await snmptrap(v2c(WRONG_COMMUNITY));
      },
      3,
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 3, badAuth: 3 });
    expect(traps).toHaveLength(n);
    const lines = logs.slice(logged).filter(([, m]) => m.includes('ATCA_ERR_TRAP_AUTH'));
    expect(lines).toEqual([
      [
        'warn',
        expect.stringMatching(/^ATCA_ERR_TRAP_AUTH: .*from 127\.0\.0\.1:\d+ \(shelf shelf-a\): unknown community$/),
      ],
    ]);
    expect(receiver.suppressedLogLines).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['auth key', WRONG_AUTH_KEY, PRIV_KEY],
    ['priv key', AUTH_KEY, WRONG_PRIV_KEY],
  ])('rejects a v3 trap with the wrong %s', async (_what, authKey, privKey) => {
    const n = traps.length;
    const delta = await expectCounted('badAuth', () => snmptrap(v3(authKey, privKey)));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, badAuth: 1 });
    expect(traps).toHaveLength(n);
  });

  it('rejects an unauthenticated v3 trap with an empty user name, which net-snmp itself lets through', async () => {
    const n = traps.length;
    const session = snmp.createV3Session(
      '127.0.0.1',
      { name: '', level: snmp.SecurityLevel.noAuthNoPriv },
      {
        trapPort: port,
        version: snmp.Version3,
      },
    );
    try {
      const delta = await expectCounted(
        'badAuth',
        () =>
          new Promise<void>((resolve, reject) =>
            session.trap(
              PET_TRAP_OID.slice(1),
              [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: Buffer.from(PET_HEX, 'hex') }],
              (e) => (e ? reject(e) : resolve()),
            ),
          ),
      );
      expect(delta).toEqual({ ...NO_TRAPS, received: 1, badAuth: 1 });
      expect(traps).toHaveLength(n);
    } finally {
      session.close();
    }
  });

  it('drops a good trap from an address of no configured shelf (snmptrap --clientaddr=127.0.0.2)', async () => {
    const n = traps.length;
    const delta = await expectCounted('unknownSource', () => snmptrap(['--clientaddr=127.0.0.2', ...v2c(COMMUNITY)]));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, unknownSource: 1 });
    expect(traps).toHaveLength(n);
    expect(logs.some(([, m]) => /^ATCA_ERR_TRAP_UNKNOWN_SOURCE: .*: from 127\.0\.0\.2:\d+$/.test(m))).toBe(true);
  });

  it('drops a bad-community trap from an unknown address as an unknown source (source is checked first)', async () => {
    const delta = await expectCounted('unknownSource', () =>
      snmptrap(['--clientaddr=127.0.0.2', ...v2c(WRONG_COMMUNITY)]),
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, unknownSource: 1 });
  });

  it('counts an authenticated PET truncated to 20 bytes as malformed, and does not deliver it', async () => {
    const n = traps.length;
    const delta = await expectCounted('malformed', () => snmptrap(v2c(COMMUNITY, PET_HEX.slice(0, 40))));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, malformed: 1 });
    expect(traps).toHaveLength(n);
    expect(logs.some(([, m]) => m.includes('PET varbind has 20 bytes'))).toBe(true);
  });

  it('counts a garbage UDP datagram as malformed', async () => {
    const sock = createSocket('udp4');
    try {
      const delta = await expectCounted(
        'malformed',
        () =>
          new Promise<void>((resolve, reject) =>
            sock.send(Buffer.from('definitely not BER'), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
          ),
      );
      expect(delta).toEqual({ ...NO_TRAPS, received: 1, malformed: 1 });
    } finally {
      sock.close();
    }
  });

  it('delivers a valid PET it does not understand (chassis intrusion) with no event, as notUnderstood', async () => {
    const delta = await expectCounted('notUnderstood', () =>
      snmptrap(v2c(COMMUNITY, PET_HEX, '.1.3.6.1.4.1.3183.1.1.0.356096')),
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, notUnderstood: 1 });
    const t = traps.at(-1)!;
    expect(t.specific).toBe(356096);
    expect(t.pet?.sensorDevice).toBe(0x82);
    expect(t.event).toBeUndefined();
  });

  it('delivers a non-PET trap (coldStart) raw, as notUnderstood', async () => {
    const delta = await expectCounted('notUnderstood', () =>
      snmptrap(['-v', '2c', '-c', COMMUNITY, target(), '', '.1.3.6.1.6.3.1.1.5.1']),
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, notUnderstood: 1 });
    const t = traps.at(-1)!;
    expect(t).toMatchObject({ version: 2, trapOid: '1.3.6.1.6.3.1.1.5.1' });
    expect(t.pet).toBeUndefined();
    expect(t.specific).toBeUndefined();
  });

  it('answers a v2c inform (snmpinform exits 0 only on our Response) and delivers it', async () => {
    const delta = await expectCounted('repliesSent', () =>
      snmpinform(['-v', '2c', '-c', COMMUNITY, target(), '', PET_TRAP_OID, PET_VARBIND_OID, 'x', petWithSequence(5)]),
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, accepted: 1, repliesSent: 1 });
    expect(traps.at(-1)).toMatchObject({ version: 2, event: EXPECTED_EVENT });
  });

  it('answers SNMPv3 discovery and a v3 authPriv inform from snmpinform, and delivers the inform', async () => {
    const args = ['-v', '3', '-u', USER, '-l', 'authPriv', '-a', 'SHA', '-A', AUTH_KEY, '-x', 'AES', '-X', PRIV_KEY];
    const delta = await expectCounted(
      'repliesSent',
      () => snmpinform([...args, target(), '', PET_TRAP_OID, PET_VARBIND_OID, 'x', petWithSequence(6)]),
      2,
    );
    expect(delta).toEqual({ ...NO_TRAPS, received: 2, discovery: 1, accepted: 1, repliesSent: 2 });
    expect(traps.at(-1)).toMatchObject({ version: 3, event: EXPECTED_EVENT });
  });

  it('answers a hand-built discovery request with a Report carrying its own engine ID', async () => {
    const p = await peer();
    try {
      const delta = await expectCounted('repliesSent', () => p.send(v3Discovery()));
      expect(delta).toEqual({ ...NO_TRAPS, received: 1, discovery: 1, repliesSent: 1 });
      await until('the Report', () => p.replies.length === 1);
      const report = p.replies[0]!;
      expect(report.includes(Buffer.from(RECEIVER_ENGINE_ID, 'hex'))).toBe(true);
      expect(report.includes(oidContent('1.3.6.1.6.3.15.1.1.4.0'))).toBe(true); // usmStatsUnknownEngineIDs
    } finally {
      await p.close();
    }
  });

  // The defect this receiver was rebuilt for: net-snmp decodes these values but throws while
  // encoding the inform's Response, which used to happen outside any try and kill atcad.
  it.each([
    [
      'a BIT STRING varbind',
      (n: number) =>
        communityMessage({ hex: petWithSequence(n) }, varbind('1.3.6.1.2.1.1.5.0', tlv(0x03, Buffer.from([0, 0xff])))),
    ],
    [
      'an INTEGER wider than 32 bits',
      (n: number) => communityMessage({ hex: petWithSequence(n) }, varbind('1.3.6.1.2.1.1.5.0', int(2n ** 40n))),
    ],
    [
      'an empty OID value',
      (n: number) =>
        communityMessage({ hex: petWithSequence(n) }, varbind('1.3.6.1.2.1.1.5.0', tlv(0x06, Buffer.alloc(0)))),
    ],
    [
      'a request ID wider than 32 bits',
      (n: number) => communityMessage({ hex: petWithSequence(n), requestId: int(2n ** 35n) }),
    ],
  ])(
    'survives a v2c inform with %s: delivered, the reply that cannot be encoded is counted, nothing sent',
    async (_what, build) => {
      const p = await peer();
      // net-snmp's own Listener#send printed send errors with console.error: nothing may print now.
      const printed = (['error', 'warn', 'log', 'debug'] as const).map((k) => vi.spyOn(console, k));
      try {
        const n = 0x100 + traps.length;
        const delta = await expectCounted('replyErrors', () => p.send(build(n)));
        expect(delta).toEqual({ ...NO_TRAPS, received: 1, accepted: 1, replyErrors: 1 });
        for (const spy of printed) expect(spy).not.toHaveBeenCalled();
        expect(traps.at(-1)).toMatchObject({ version: 2, event: EXPECTED_EVENT });
        await settle();
        expect(p.replies).toHaveLength(0);
        expect(logs.some(([, m]) => m.startsWith('ATCA_ERR_TRAP_REPLY: ') && m.includes('does not encode'))).toBe(true);
      } finally {
        for (const spy of printed) spy.mockRestore();
        await p.close();
      }
    },
  );

  it.each([
    ['a valid v2c inform', () => communityMessage({ hex: petWithSequence(0x200) })],
    [
      'an inform with a BIT STRING',
      () => communityMessage({}, varbind('1.3.6.1.2.1.1.5.0', tlv(0x03, Buffer.from([0, 1])))),
    ],
    ['an SNMPv3 discovery request', () => v3Discovery()],
  ])(
    'answers nothing to %s from an unconfigured address (127.0.0.2): unknownSource, unparsed',
    async (_what, build) => {
      const stranger = await peer('127.0.0.2');
      const friend = await peer();
      try {
        const delta = await expectCounted('unknownSource', () => stranger.send(build()));
        expect(delta).toEqual({ ...NO_TRAPS, received: 1, unknownSource: 1 });
        // A reply would have been sent in the same step as the count; let it arrive if it was.
        await friend.send(v3Discovery());
        await until('the configured peer to get its Report', () => friend.replies.length === 1);
        await settle();
        expect(stranger.replies).toHaveLength(0);
      } finally {
        await stranger.close();
        await friend.close();
      }
    },
  );

  it('counts a v2c GetRequest as notNotification and answers nothing (atcad is no agent)', async () => {
    const p = await peer();
    try {
      const delta = await expectCounted('notNotification', () => p.send(communityMessage({ tag: 0xa0 })));
      expect(delta).toEqual({ ...NO_TRAPS, received: 1, notNotification: 1 });
      await settle();
      expect(p.replies).toHaveLength(0);
    } finally {
      await p.close();
    }
  });

  it('counts a v1 message carrying an SNMPv2 trap PDU as malformed (RFC 3584 §2.1)', async () => {
    const p = await peer();
    try {
      const delta = await expectCounted('malformed', () => p.send(communityMessage({ version: 0, tag: 0xa7 })));
      expect(delta).toEqual({ ...NO_TRAPS, received: 1, malformed: 1 });
      // (Its log line falls within the "malformed" rate limit of the truncated PET above.)
    } finally {
      await p.close();
    }
  });

  it('still accepts a good trap after all of that, and every datagram is accounted for', async () => {
    const delta = await expectCounted('accepted', () => snmptrap(v1(COMMUNITY, petWithSequence(4))));
    expect(delta).toEqual({ ...NO_TRAPS, received: 1, accepted: 1 });
    expect(traps.at(-1)!.event).toMatchObject(EXPECTED_EVENT);
    const c = receiver.counters;
    expect(c.received).toBe(TRAP_OUTCOMES.reduce((n, k) => n + c[k], 0));
    expect(c).toEqual({
      ...NO_TRAPS,
      received: 34,
      accepted: 11,
      notUnderstood: 2,
      duplicates: 1,
      unknownSource: 5,
      badAuth: 6,
      malformed: 3,
      notNotification: 1,
      discovery: 5,
      repliesSent: 7,
      replyErrors: 4,
    });
  });

  it('logged each reason with its error code and never a community or key', () => {
    const text = logs.map(([, m]) => m).join('\n');
    for (const code of [
      'ATCA_ERR_TRAP_AUTH',
      'ATCA_ERR_TRAP_UNKNOWN_SOURCE',
      'ATCA_ERR_TRAP_MALFORMED',
      'ATCA_ERR_TRAP_NOT_NOTIFICATION',
      'ATCA_ERR_TRAP_REPLY',
    ]) {
      expect(text).toContain(code);
    }
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('stop() closes the socket (the port binds again) and reports suppressed log lines; stopping twice is harmless', async () => {
    const logged = logs.length;
    await receiver.stop();
    await receiver.stop();
    expect(logs.slice(logged).some(([, m]) => /^\d+ more "badAuth" line\(s\) were suppressed/.test(m))).toBe(true);
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    for (const secret of SECRETS) expect(logs.map(([, m]) => m).join('\n')).not.toContain(secret);
  });
});

describe('TrapReceiver.start', () => {
  it('rejects when the port is taken, and leaves nothing open', async () => {
    const busy = await freePort();
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(busy, '127.0.0.1', () => resolve()));
    const r = new TrapReceiver({
      address: '127.0.0.1',
      port: busy,
      communities: [COMMUNITY],
      v3Users: [],
      sources: new Map(),
      log: () => {},
      onTrap: () => {},
    });
    try {
      const e = await r.start().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isAtcaError(e, 'ATCA_ERR_INTERNAL')).toBe(true);
      expect((e as Error).message).toContain('EADDRINUSE');
      await r.stop();
    } finally {
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    }
  });

  it.each([
    ['an empty community', { communities: [''] }],
    [
      'a short v3 key',
      { v3Users: [{ name: 'u', authProtocol: 'sha', authKey: 'short', privProtocol: 'aes', privKey: 'long-enough' }] },
    ],
    ['a host name as a trap source', { sources: new Map([['shmm.example', 'x']]) }],
    ['engine IDs pinned for an address of no shelf', { engineIds: new Map([['127.0.0.9', ['8000000001']]]) }],
    ['a pinned engine ID that is not hex', { engineIds: new Map([['127.0.0.1', ['80000000zz']]]) }],
    ['a reportLimit below zero', { reportLimit: { perSecond: -1, burst: 1 } }],
  ] as const)('refuses %s as ATCA_ERR_CONFIG_INVALID, without echoing secrets', (_what, over) => {
    const base = {
      address: '127.0.0.1',
      port: 16200,
      communities: [COMMUNITY],
      v3Users: [],
      sources: new Map<string, string>([['127.0.0.1', 'shelf-a']]),
      log: () => {},
      onTrap: () => {},
    };
    let err: unknown;
    try {
      new TrapReceiver({ ...base, ...over });
    } catch (e) {
      err = e;
    }
    expect(isAtcaError(err, 'ATCA_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).not.toContain('short');
  });
});

describe('TrapReceiver reply budget', () => {
  it('sends at most `burst` replies when the budget does not refill; the informs are still delivered', async () => {
    const budgetPort = await freePort();
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({
      address: '127.0.0.1',
      port: budgetPort,
      communities: [COMMUNITY],
      v3Users: [],
      sources: new Map([['127.0.0.1', SHELF]]),
      replyLimit: { perSecond: 0, burst: 2 },
      log: () => {},
      onTrap: (t) => got.push(t),
    });
    await r.start();
    const p = await peer('127.0.0.1', () => budgetPort);
    try {
      for (let i = 0; i < 4; i++) await p.send(communityMessage({ hex: petWithSequence(0x300 + i) }));
      await until('four informs', () => r.counters.received === 4);
      await until('two replies', () => p.replies.length === 2);
      await settle();
      expect(p.replies).toHaveLength(2);
      expect(r.counters).toEqual({ ...NO_TRAPS, received: 4, accepted: 4, repliesSent: 2, repliesLimited: 2 });
      expect(got).toHaveLength(4);
    } finally {
      await p.close();
      await r.stop();
    }
  });
});

describe('TrapReceiver SNMPv3 key budget', () => {
  it('derives keys for at most 4 new engine IDs at once per source; known ones keep working', async () => {
    const keyPort = await freePort();
    const got: ReceivedTrap[] = [];
    const r = new TrapReceiver({
      address: '127.0.0.1',
      port: keyPort,
      communities: [],
      v3Users: [{ name: USER, authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
      sources: new Map([['127.0.0.1', SHELF]]),
      log: () => {},
      onTrap: (t) => got.push(t),
    });
    await r.start();
    // Six senders, each its own engine ID, as a spoofer would send. snmptrap, not net-snmp's own
    // sender: that one would share (and warm) this process's key cache.
    const trap = (i: number, seq: number) => {
      const args = v3(AUTH_KEY, PRIV_KEY, petWithSequence(seq)).map((a) =>
        a === target() ? `127.0.0.1:${keyPort}` : a,
      );
      args[args.indexOf(ENGINE_ID)] = `0x80000000aa55${(0x10 + i).toString(16)}`;
      return snmptrap(args);
    };
    try {
      for (let i = 0; i < 6; i++) {
        await trap(i, 0x400 + i);
        await until(`trap ${i}`, () => r.counters.received === i + 1);
      }
      expect(r.counters).toMatchObject({ received: 6, accepted: 4, badAuth: 2, keysRefused: 2 });
      expect(got.map((t) => t.pet?.sequence)).toEqual([0x400, 0x401, 0x402, 0x403]);
      // A sender whose engine ID authenticated before is not charged again.
      await trap(0, 0x410);
      await until('the known sender', () => r.counters.received === 7);
      expect(r.counters).toMatchObject({ accepted: 5, keysRefused: 2 });
    } finally {
      await r.stop();
    }
  });
});

describe('TrapReceiver kernel drops', () => {
  it('counts exactly the datagrams the kernel dropped while the event loop was blocked, and logs it', async () => {
    const dropPort = await freePort();
    const lines: string[] = [];
    const r = new TrapReceiver({
      address: '127.0.0.1',
      port: dropPort,
      communities: [COMMUNITY],
      v3Users: [],
      sources: new Map([['127.0.0.1', SHELF]]),
      log: (_l, m) => lines.push(m),
      onTrap: () => {},
    });
    await r.start();
    try {
      expect(r.kernelDropsAvailable).toBe(true);
      // Enough small datagrams to overflow the receive buffer several times over (each costs the
      // kernel far more than 64 bytes of buffer), sent by a child process while spawnSync keeps
      // this process's event loop from reading any of them.
      const n = Math.ceil((r.receiveBufferSize ?? 0) / 64) + 20_000;
      const sender = `
        const s = require('node:dgram').createSocket('udp4');
        const b = Buffer.from('not even BER');
        let left = ${n};
        s.bind(0, '127.0.0.1', () => { for (let i = 0; i < ${n}; i++) s.send(b, ${dropPort}, '127.0.0.1', () => { if (--left === 0) s.close(); }); });
      `;
      const res = spawnSync(process.execPath, ['-e', sender], { timeout: 60_000 });
      expect(res.status).toBe(0);
      await until('every datagram read or dropped', () => r.counters.received + r.counters.kernelDrops === n, 20_000);
      const c = r.counters;
      expect(c.kernelDrops).toBeGreaterThan(0);
      expect(c.received).toBeGreaterThan(0);
      expect(c.received + c.kernelDrops).toBe(n);
      expect(c.malformed).toBe(c.received);
      await until('the drop to be logged', () => lines.some((m) => m.startsWith('ATCA_ERR_TRAP_DROPPED: ')), 5_000);
      expect(lines.find((m) => m.startsWith('ATCA_ERR_TRAP_DROPPED: '))).toContain(`${c.kernelDrops} since start`);
    } finally {
      await r.stop();
    }
  });
});

// --- The review's findings: each a test that failed before its fix ----------------------------

/** A v2c message of `tag` (TrapV2 by default) with snmpTrapOID `trapOid` and `extra` varbinds. */
function v2cMessage(trapOid: string, extra: Buffer[] = [], tag = 0xa7): Buffer {
  const vbs = seq(
    varbind('1.3.6.1.2.1.1.3.0', tlv(0x43, intContent(12345n))),
    varbind('1.3.6.1.6.3.1.1.4.1.0', oid(trapOid)),
    ...extra,
  );
  return seq(int(1), str(COMMUNITY), tlv(tag, Buffer.concat([int(4343), int(0), int(0), vbs])));
}

/** An SNMPv3 message: msgFlags `flags` (1 auth, 2 priv, 4 reportable), no digest or salt, scoped PDU in clear. */
function v3Message(
  flags: number,
  user: string,
  pdu: Buffer,
  engineId = Buffer.from(RECEIVER_ENGINE_ID, 'hex'),
): Buffer {
  const header = seq(int(779), int(65507), str(Buffer.from([flags])), int(3));
  const usm = str(seq(str(engineId), int(0), int(0), str(user), str(''), str('')));
  return seq(int(3), header, usm, seq(str(engineId), str(''), pdu));
}

const petInformPdu = (n: number) =>
  tlv(
    0xa6,
    Buffer.concat([
      int(5000 + n),
      int(0),
      int(0),
      seq(
        varbind('1.3.6.1.2.1.1.3.0', tlv(0x43, intContent(1n))),
        varbind('1.3.6.1.6.3.1.1.4.1.0', oid(PET_TRAP_OID.slice(1))),
        varbind(PET_VARBIND_OID, str(Buffer.from(petWithSequence(n), 'hex'))),
      ),
    ]),
  );

interface Isolated {
  readonly r: TrapReceiver;
  readonly port: number;
  readonly got: ReceivedTrap[];
  readonly lines: string[];
  /** Counters' change while `send` ran, once `key` grew by `n`. */
  counted(key: keyof TrapCounters, send: () => Promise<unknown>, n?: number): Promise<TrapCounters>;
}

/** A receiver of its own (its log's rate limits and budgets untouched by the tests above). */
async function isolated<T>(
  over: Partial<ConstructorParameters<typeof TrapReceiver>[0]>,
  f: (x: Isolated) => Promise<T>,
): Promise<T> {
  const p = await freePort();
  const got: ReceivedTrap[] = [];
  const lines: string[] = [];
  const r = new TrapReceiver({
    address: '127.0.0.1',
    port: p,
    communities: [COMMUNITY],
    v3Users: [{ name: USER, authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
    sources: new Map([['127.0.0.1', SHELF]]),
    engineId: RECEIVER_ENGINE_ID,
    log: (_l, m) => lines.push(m),
    onTrap: (t) => got.push(t),
    ...over,
  });
  await r.start();
  const counted = async (key: keyof TrapCounters, send: () => Promise<unknown>, n = 1) => {
    const before = r.counters;
    await send();
    await until(`counters.${key} + ${n}`, () => r.counters[key] >= before[key] + n);
    await settle();
    const after = r.counters;
    return Object.fromEntries(
      Object.keys(after).map((k) => [k, after[k as keyof TrapCounters] - before[k as keyof TrapCounters]]),
    ) as unknown as TrapCounters;
  };
  try {
    return await f({ r, port: p, got, lines, counted });
  } finally {
    await r.stop();
  }
}

/** `m` grown to exactly `size` bytes by the length of one OCTET STRING varbind of `build`. */
function sized(size: number, build: (filler: Buffer) => Buffer): Buffer {
  let n = size;
  for (;;) {
    const m = build(Buffer.alloc(Math.max(0, n), 0x41));
    if (m.length === size) return m;
    n += size - m.length;
  }
}

describe('finding 1: a large trap costs a bounded journal, and one larger than any trap is not parsed', () => {
  const NOT_PET = '1.3.6.1.4.1.99999.0.1';

  it('refuses a valid v2c trap with a 60 KB OCTET STRING before net-snmp sees it (oversize); 4096 bytes pass', async () => {
    await isolated({}, async ({ port: p, got, lines, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      const handle = vi.spyOn(SnmpEngine.prototype, 'handle');
      try {
        const huge = v2cMessage(NOT_PET, [varbind('1.3.6.1.4.1.99999.1', str(Buffer.alloc(60_000, 0x41)))]);
        expect(await counted('oversize', () => s.send(huge))).toEqual({ ...NO_TRAPS, received: 1, oversize: 1 });
        expect(handle).not.toHaveBeenCalled();
        expect(got).toHaveLength(0);
        expect(lines.some((m) => /^ATCA_ERR_TRAP_OVERSIZE: .*: 60\d{3} bytes, more than the 4096/.test(m))).toBe(true);
        const build = (f: Buffer) => v2cMessage(NOT_PET, [varbind('1.3.6.1.4.1.99999.1', str(f))]);
        expect(await counted('notUnderstood', () => s.send(sized(4096, build)))).toMatchObject({ notUnderstood: 1 });
        expect(await counted('oversize', () => s.send(sized(4097, build)))).toMatchObject({ oversize: 1 });
        expect(handle).toHaveBeenCalledTimes(1);
      } finally {
        handle.mockRestore();
        await s.close();
      }
    });
  });

  it('journals at most ~2 KB of varbinds: a long value cut with its length and SHA-256, the rest summarised', async () => {
    await isolated({}, async ({ port: p, got, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      try {
        const long = Buffer.alloc(3000, 0xab);
        const many = Array.from({ length: 50 }, (_, i) => varbind(`1.3.6.1.4.1.99999.2.${i}`, int(i)));
        const m = v2cMessage(NOT_PET, [varbind('1.3.6.1.4.1.99999.1', str(long)), ...many]);
        expect(m.length).toBeLessThanOrEqual(4096);
        await counted('notUnderstood', () => s.send(m));
        const t = got.at(-1)!;
        const json = JSON.stringify(t);
        expect(json.length).toBeLessThan(3000); // was 6,000 for this one, 121,000 for a 60 KB value
        expect(JSON.stringify(t.varbinds).length).toBeLessThanOrEqual(2048);
        expect(t.varbinds[2]).toEqual({
          oid: '1.3.6.1.4.1.99999.1',
          type: 'OctetString',
          value: 'ab'.repeat(256),
          length: 3000,
          sha256: createHash('sha256').update(long).digest('hex'),
        });
        const listed = t.varbinds.length;
        expect(t.varbindsOmitted).toEqual({
          count: 53 - listed,
          bytes: expect.any(Number),
          sha256: expect.any(String),
        });
        expect(JSON.parse(json)).toMatchObject({ varbinds: t.varbinds, varbindsOmitted: t.varbindsOmitted });
      } finally {
        await s.close();
      }
    });
  });

  it("takes a BIT STRING as its bytes: net-snmp's reader does not expand it into a '0101…' string", async () => {
    await isolated({}, async ({ port: p, got, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      try {
        const bits = Buffer.concat([Buffer.from([0]), Buffer.alloc(3000, 0xff)]);
        await counted('notUnderstood', () =>
          s.send(v2cMessage(NOT_PET, [varbind('1.3.6.1.4.1.99999.1', tlv(0x03, bits))])),
        );
        const v = got.at(-1)!.varbinds[2]!;
        expect(v).toMatchObject({ type: 'BitString', value: `00${'ff'.repeat(255)}`, length: 3001 });
        expect(JSON.stringify(got.at(-1)).length).toBeLessThan(2000);
      } finally {
        await s.close();
      }
    });
  });
});

describe('finding 2: a reply is sent only for an authenticated notification or a discovery request', () => {
  it('does not acknowledge an unauthenticated SNMPv3 inform (empty user, noAuthNoPriv)', async () => {
    await isolated({}, async ({ port: p, got, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      try {
        const delta = await counted('badAuth', () => s.send(v3Message(0x04, '', petInformPdu(0x500))));
        expect(delta).toEqual({ ...NO_TRAPS, received: 1, badAuth: 1, repliesWithheld: 1 });
        expect(s.replies).toHaveLength(0);
        expect(got).toHaveLength(0);
      } finally {
        await s.close();
      }
    });
  });

  it('sends no Report to an unknown SNMPv3 user, and no Response to an inform it could not decode', async () => {
    await isolated({}, async ({ port: p, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      try {
        expect(await counted('badAuth', () => s.send(v3Message(0x04, 'nobody', petInformPdu(0x501))))).toEqual({
          ...NO_TRAPS,
          received: 1,
          badAuth: 1,
          repliesWithheld: 1,
        });
        // The right community, a PET cut to 20 bytes: malformed, so not acknowledged.
        const truncated = communityMessage({ hex: PET_HEX.slice(0, 40) });
        expect(await counted('malformed', () => s.send(truncated))).toEqual({
          ...NO_TRAPS,
          received: 1,
          malformed: 1,
          repliesWithheld: 1,
        });
        expect(s.replies).toHaveLength(0);
        // An authenticated inform still is (after it was delivered).
        expect(await counted('repliesSent', () => s.send(communityMessage({ hex: petWithSequence(0x502) })))).toEqual({
          ...NO_TRAPS,
          received: 1,
          accepted: 1,
          repliesSent: 1,
        });
        await until('the Response', () => s.replies.length === 1);
      } finally {
        await s.close();
      }
    });
  });

  it('sends no reply to a well-known port other than 161 and 162 (echo, chargen, RMCP…)', async (ctx) => {
    await isolated({}, async ({ port: p, got, lines, counted }) => {
      let s: Peer;
      try {
        s = await peerOnPort(19, () => p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          ctx.skip();
        }
        throw e;
      }
      try {
        const delta = await counted('accepted', () => s.send(communityMessage({ hex: petWithSequence(0x503) })));
        expect(delta).toEqual({ ...NO_TRAPS, received: 1, accepted: 1, repliesWithheld: 1 });
        expect(got).toHaveLength(1); // the inform itself is taken
        expect(s.replies).toHaveLength(0);
        expect(lines.some((m) => /^ATCA_ERR_TRAP_REPLY: .*:19 .*well-known port/.test(m))).toBe(true);
      } finally {
        await s.close();
      }
    });
  });
});

describe('finding 3: spoofers of a source cannot starve its genuine replies or keys', () => {
  it('gives discovery Reports a budget of their own: a discovery flood leaves inform Responses alone', async () => {
    await isolated(
      { replyLimit: { perSecond: 0, burst: 2 }, reportLimit: { perSecond: 0, burst: 3 } },
      async ({ port: p, counted }) => {
        const s = await peer('127.0.0.1', () => p);
        try {
          const flood = async () => {
            for (let i = 0; i < 6; i++) await s.send(v3Discovery());
          };
          expect(await counted('discovery', flood, 6)).toEqual({
            ...NO_TRAPS,
            received: 6,
            discovery: 6,
            repliesSent: 3,
            repliesLimited: 3,
          });
          const informs = async () => {
            for (let i = 0; i < 2; i++) await s.send(communityMessage({ hex: petWithSequence(0x600 + i) }));
          };
          expect(await counted('accepted', informs, 2)).toEqual({
            ...NO_TRAPS,
            received: 2,
            accepted: 2,
            repliesSent: 2,
          });
        } finally {
          await s.close();
        }
      },
    );
  });

  it('derives keys for a pinned engine ID without a token, while spoofed new engine IDs spend the budget', async () => {
    const PINNED = '0x80000000AA55FF';
    await isolated({ communities: [], engineIds: new Map([['127.0.0.1', [PINNED]]]) }, async ({ port: p, r, got }) => {
      const trap = (engine: string, seq: number) => {
        const args = v3(AUTH_KEY, PRIV_KEY, petWithSequence(seq)).map((a) => (a === target() ? `127.0.0.1:${p}` : a));
        args[args.indexOf(ENGINE_ID)] = engine;
        return snmptrap(args);
      };
      // A spoofer's fresh engine IDs (with the right keys, the worst case) spend the budget,
      // until one is refused; the pinned sender comes right after it.
      let sent = 0;
      while (r.counters.keysRefused === 0 && sent < 12) {
        await trap(`0x80000000bb66${(0x10 + sent).toString(16)}`, 0x700 + sent);
        sent++;
        await until(`trap ${sent}`, () => r.counters.received === sent);
      }
      expect(r.counters).toMatchObject({ received: sent, accepted: sent - 1, keysRefused: 1 });
      await trap(PINNED, 0x710);
      await until('the pinned sender', () => r.counters.received === sent + 1);
      expect(r.counters).toMatchObject({ accepted: sent, keysRefused: 1 });
      expect(got.at(-1)?.pet?.sequence).toBe(0x710);
    });
  });
});

describe('finding 5: log lines quote what a peer chose cut short', () => {
  it('cuts an attacker-chosen trap OID to 128 characters in the not-understood line and the journal', async () => {
    await isolated({}, async ({ port: p, got, lines, counted }) => {
      const s = await peer('127.0.0.1', () => p);
      try {
        const long = `1.3.6.1.4.1.99999.${'7.'.repeat(1500)}7`;
        await counted('notUnderstood', () => s.send(v2cMessage(long)));
        expect(got.at(-1)?.trapOid).toBe(long);
        const line = lines.find((m) => m.includes('not understood'))!;
        expect(line.length).toBeLessThan(400);
        expect(line).toContain(`${long.slice(0, 128)}…(${long.length} chars)`);
        expect(JSON.parse(JSON.stringify(got.at(-1))).trapOid).toBe(`${long.slice(0, 128)}…(${long.length} chars)`);
        // A malformed PET trap OID is quoted in the refusal's detail: cut too.
        const pet = `1.3.6.1.4.1.3183.1.1.0.${'9.'.repeat(1000)}9`;
        await counted('malformed', () => s.send(v2cMessage(pet)));
        const refusal = lines.find((m) => m.startsWith('ATCA_ERR_TRAP_MALFORMED'))!;
        expect(refusal.length).toBeLessThan(500);
        expect(refusal).toContain('…(');
      } finally {
        await s.close();
      }
    });
  });
});
