// A fuzzer for TrapReceiver on a real UDP socket, shared by test/integration/trap-fuzz.test.ts
// (100,000 datagrams) and bench/trap-fuzz.ts (1,000,000). Seeds are what real peers send: Debian
// net-snmp's snmptrap and snmpinform (v1, v2c, v3 authPriv traps, v2c and v3 informs, and the v3
// discovery request snmpinform starts with), captured through a recording UDP proxy in front of
// the receiver, so that the informs are answered and the v3 inform carries the receiver's engine
// ID. Mutations come from a seeded PRNG: the same seed gives the same sequence of choices
// (the captured seeds themselves differ per run in request IDs, timestamps and v3 salts).
import { execFile } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/sim/ports.js';
import type { LogLevel } from '../../src/snmp/rate-limited-log.js';
import {
  NO_TRAPS,
  type ReceivedTrap,
  TRAP_OUTCOMES,
  type TrapCounters,
  TrapReceiver,
} from '../../src/snmp/trap-receiver.js';
import { encodeBer, intContent, lengthFields, nested, oidContent, parseBer, type Tlv, tlv } from './trap-fuzz-ber.js';

const run = promisify(execFile);

export const FUZZ_COMMUNITY = 'Fuzz-Comm-61937';
export const FUZZ_USER = 'fuzzer';
export const FUZZ_AUTH_KEY = 'Fuzz-Auth-28461';
export const FUZZ_PRIV_KEY = 'Fuzz-Priv-90125';
const SECRETS = [FUZZ_COMMUNITY, FUZZ_AUTH_KEY, FUZZ_PRIV_KEY];
/** atcad's engine ID in the fuzz run (authoritative for the v3 inform), and the v3 trap sender's. */
export const FUZZ_RECEIVER_ENGINE_ID = '80001f8880a1b2c3d4e5f60718';
const SENDER_ENGINE_ID = '0x8000000001020304';
export const FUZZ_SHELF = 'shelf-fuzz';
/** Configured as the shelf's trap source; the other two are not. */
export const CONFIGURED_SOURCE = '127.0.0.1';
export const UNKNOWN_SOURCES = ['127.0.0.2', '127.0.0.3'] as const;

const HOTSWAP_M6 = 15757062; // 0xF06F06
const PET_TRAP_OID = `.1.3.6.1.4.1.3183.1.1.0.${HOTSWAP_M6}`;
const PET_VARBIND = '.1.3.6.1.4.1.3183.1.1.1';
/** A 47-byte hot-swap PET (M4 → M6, IPMB 0x82, sequence 1, 2024-01-01). */
export const FUZZ_PET_HEX =
  '00112233445566778899aabbccddeeff000130e72400ffff2020108209a060a61400ffffffffff190a4000000000c1';
const PET_SEQUENCE_AT = 16;

/** A captured datagram to mutate. `pet`: where the PET sits in clear (not in v3, which is encrypted). */
export interface Seed {
  readonly name: string;
  readonly bytes: Buffer;
  readonly petAt?: number;
}

/** mulberry32: small, fast, and the same stream for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const bytes = (r: Rng, n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
};
/** Log-uniform in [1, max]: mostly small, sometimes huge. */
const logUniform = (r: Rng, max: number) => Math.max(1, Math.floor(Math.exp(r() * Math.log(max))));

/** A value TLV of a kind net-snmp may decode but not re-encode, or not decode at all. */
function oddValue(r: Rng): Buffer {
  switch (int(r, 0, 17)) {
    case 0:
      return tlv(0x03, Buffer.concat([Buffer.from([int(r, 0, 9)]), bytes(r, int(r, 0, 40))])); // BIT STRING
    case 1:
      return tlv(0x46, bytes(r, int(r, 0, 12))); // Counter64, any size
    case 2: {
      // INTEGER wider than 32 bits (or exactly at the edges)
      const bits = BigInt(int(r, 31, 90));
      const v = (1n << bits) + BigInt(int(r, -3, 3));
      return tlv(0x02, intContent(r() < 0.5 ? v : -v));
    }
    case 3:
      return tlv(0x02, Buffer.alloc(0)); // zero-length INTEGER
    case 4:
      return tlv(0x06, pick(r, [Buffer.alloc(0), Buffer.from([0x2b, 0x86]), Buffer.from([0xff]), bytes(r, 9)])); // bad OID
    case 5:
      return tlv(0x06, oidContent(`1.3.6.1.${2n ** BigInt(int(r, 33, 70))}.${int(r, 0, 9)}`)); // OID arcs > 32 bits
    case 6:
      return tlv(0x40, bytes(r, pick(r, [0, 3, 5, 16]))); // IpAddress of the wrong size
    case 7:
      return tlv(pick(r, [0x41, 0x42, 0x43]), bytes(r, int(r, 5, 10))); // Counter32/Gauge/TimeTicks too wide
    case 8:
      return tlv(0x44, bytes(r, int(r, 0, 64))); // Opaque
    case 9:
      return tlv(0x05, bytes(r, int(r, 1, 4))); // NULL with content
    case 10:
      return tlv(pick(r, [0x00, 0x1f, 0x47, 0x9f, 0xbf, 0xff, 0x07, 0x0a]), bytes(r, int(r, 0, 8))); // unknown tags
    case 11:
      return tlv(0x01, bytes(r, int(r, 0, 3))); // BOOLEAN
    case 12:
      return tlv(pick(r, [0x80, 0x81, 0x82]), bytes(r, int(r, 0, 3))); // noSuchObject/… with content
    case 13:
      return tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([1])), tlv(0x04, bytes(r, 4))])); // SEQUENCE
    case 14:
      return tlv(0x04, bytes(r, logUniform(r, 60_000))); // oversized OCTET STRING
    case 15:
      return tlv(
        0x02,
        intContent(BigInt(pick(r, [0, 1, 2, 3, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31)]))),
      );
    case 16:
      return tlv(0x04, Buffer.alloc(0));
    default:
      return tlv(0x06, oidContent(pick(r, ['1.3.6.1.4.1.3183.1.1.0.15757062', '1.3.6.1.6.3.1.1.4.1.0', '0.0'])));
  }
}

/** Every node of a tree, with how to replace it. */
function nodes(root: Tlv): { node: Tlv; replace: (t: Tlv) => Tlv }[] {
  const out: { node: Tlv; replace: (t: Tlv) => Tlv }[] = [];
  // Breadth-first with an explicit queue: a tree's depth must not become this process's stack.
  const queue: { node: Tlv; replace: (t: Tlv) => Tlv }[] = [{ node: root, replace: (n) => n }];
  while (queue.length > 0) {
    const { node: t, replace: rebuild } = queue.shift()!;
    out.push({ node: t, replace: rebuild });
    const children = t.children ?? [];
    for (const [i, c] of children.entries()) {
      queue.push({
        node: c,
        replace: (n) => rebuild({ tag: t.tag, children: children.map((x, j) => (j === i ? n : x)) }),
      });
    }
  }
  return out;
}

/** The v3 header's inner parts, when `m` is an SNMPv3 message: msgFlags and the USM parameters. */
function v3Parts(m: Tlv): { usm: Tlv; rebuild: (usm: Tlv | undefined, flags?: number) => Tlv } | undefined {
  const c = m.children;
  if (c?.length !== 4 || c[0]?.value?.[0] !== 3 || !c[1]?.children || !c[2]?.value) return undefined;
  const usm = parseBer(c[2].value);
  if (!usm?.children) return undefined;
  return {
    usm,
    rebuild: (u, flags) => {
      const header = c[1]!.children!;
      const h =
        flags === undefined
          ? c[1]!
          : {
              tag: c[1]!.tag,
              children: header.map((x, i) => (i === 2 ? { tag: 0x04, value: Buffer.from([flags]) } : x)),
            };
      return { tag: m.tag, children: [c[0]!, h, u ? { tag: 0x04, value: encodeBer(u) } : c[2]!, c[3]!] };
    },
  };
}

let petSequence = 1;

export const MUTATIONS = [
  'none',
  'freshPet',
  'bitFlip',
  'byteSet',
  'insert',
  'delete',
  'truncate',
  'lengthRewrite',
  'nest',
  'wrongType',
  'addVarbinds',
  'pduTag',
  'v3Header',
  'garbage',
  'stack',
] as const;
export type Mutation = (typeof MUTATIONS)[number];
const WEIGHTS: Readonly<Record<Mutation, number>> = {
  none: 3,
  freshPet: 5,
  bitFlip: 22,
  byteSet: 5,
  insert: 6,
  delete: 6,
  truncate: 6,
  lengthRewrite: 12,
  nest: 3,
  wrongType: 15,
  addVarbinds: 4,
  pduTag: 5,
  v3Header: 5,
  garbage: 1,
  stack: 2,
};
const TOTAL_WEIGHT = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);

function chooseMutation(r: Rng): Mutation {
  let x = r() * TOTAL_WEIGHT;
  for (const m of MUTATIONS) {
    x -= WEIGHTS[m];
    if (x < 0) return m;
  }
  return 'bitFlip';
}

const MAX_DATAGRAM = 65_507;

/** One mutated datagram from `seed`. */
export function mutate(seed: Seed, r: Rng, m: Mutation = chooseMutation(r)): Buffer {
  const b = seed.bytes;
  switch (m) {
    case 'none':
      return b;
    case 'freshPet': {
      if (seed.petAt === undefined) return b;
      const c = Buffer.from(b);
      petSequence = (petSequence % 0xffff) + 1;
      c.writeUInt16BE(petSequence, seed.petAt + PET_SEQUENCE_AT);
      return c;
    }
    case 'bitFlip': {
      const c = Buffer.from(b);
      for (let n = int(r, 1, 4); n > 0; n--) {
        const i = Math.floor(r() * c.length);
        c[i] = c[i]! ^ (1 << int(r, 0, 7));
      }
      return c;
    }
    case 'byteSet': {
      const c = Buffer.from(b);
      c[Math.floor(r() * c.length)] = pick(r, [0x00, 0x7f, 0x80, 0x81, 0xff, int(r, 0, 255)]);
      return c;
    }
    case 'insert': {
      const at = int(r, 0, b.length);
      return Buffer.concat([b.subarray(0, at), bytes(r, int(r, 1, 16)), b.subarray(at)]);
    }
    case 'delete': {
      const at = int(r, 0, b.length - 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + int(r, 1, 8))]);
    }
    case 'truncate':
      return b.subarray(0, int(r, 0, b.length - 1));
    case 'lengthRewrite': {
      const fields = lengthFields(b);
      if (fields.length === 0) return b;
      const f = pick(r, fields);
      const old = b.subarray(f.at, f.at + f.size);
      const value = f.size === 1 ? old[0]! : old.subarray(1).reduce((a, x) => a * 256 + x, 0);
      const form = pick(r, [
        Buffer.from([0x81, value & 0xff]), // long form (value mod 256)
        Buffer.from([0x82, (value >> 8) & 0xff, value & 0xff]), // long form, 2 bytes
        Buffer.from([0x84, 0, 0, (value >> 8) & 0xff, value & 0xff]), // long form, 4 bytes
        Buffer.from([0x80]), // indefinite
        Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]), // huge
        Buffer.from([0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // huger than a JS integer
        Buffer.from([0xff]), // 127 length bytes follow
        Buffer.from([Math.max(0, Math.min(0x7f, value + int(r, -3, 3)))]), // off by a little
        Buffer.from([0]),
      ]);
      return Buffer.concat([b.subarray(0, f.at), form, b.subarray(f.at + f.size)]);
    }
    case 'nest': {
      const t = parseBer(b);
      const depth = logUniform(r, 5_000);
      if (!t) return nested(b, depth);
      const all = nodes(t);
      const target = pick(r, all);
      return encodeBer(
        target.replace({
          tag: 0,
          raw: nested(encodeBer(target.node), depth, pick(r, [0x30, 0x30, 0xa7, 0x04 | 0x20])),
        }),
      );
    }
    case 'wrongType': {
      const t = parseBer(b);
      if (!t) return b;
      const prims = nodes(t).filter((n) => n.node.value !== undefined);
      return encodeBer(pick(r, prims).replace({ tag: 0, raw: oddValue(r) }));
    }
    case 'addVarbinds': {
      // Extra varbinds of odd types (or a great many) appended to the varbind list, if visible.
      const t = parseBer(b);
      if (!t) return b;
      const lists = nodes(t).filter((n) => n.node.tag === 0x30 && n.node.children?.every((c) => c.tag === 0x30));
      if (lists.length === 0) return b;
      const list = lists[lists.length - 1]!;
      const extra: Tlv[] = [];
      const n = r() < 0.1 ? int(r, 100, 2_000) : int(r, 1, 4);
      for (let i = 0; i < n; i++) {
        extra.push({
          tag: 0,
          raw: tlv(0x30, Buffer.concat([tlv(0x06, oidContent(`1.3.6.1.2.1.1.${int(r, 1, 9)}.0`)), oddValue(r)])),
        });
      }
      const out = encodeBer(list.replace({ tag: 0x30, children: [...(list.node.children ?? []), ...extra] }));
      return out.length > MAX_DATAGRAM ? out.subarray(0, MAX_DATAGRAM) : out;
    }
    case 'pduTag': {
      const t = parseBer(b);
      if (!t) return b;
      const pdus = nodes(t).filter((n) => n.node.tag >= 0xa0 && n.node.tag <= 0xa8);
      if (pdus.length === 0) return b;
      const p = pick(r, pdus);
      const tag = pick(r, [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa6, 0xa7, 0xa8, 0xa9, 0xbf, 0x30]);
      return encodeBer(p.replace({ tag, children: p.node.children ?? [] }));
    }
    case 'v3Header': {
      const t = parseBer(b);
      const v3 = t && v3Parts(t);
      if (!v3) return mutate(seed, r, 'wrongType');
      const usm = v3.usm.children!;
      const i = int(r, 0, usm.length); // usm.length: the flags instead
      if (i === usm.length) return encodeBer(v3.rebuild(undefined, int(r, 0, 7)));
      const replacement =
        i === 3 && r() < 0.5
          ? tlv(0x04, Buffer.from(pick(r, ['', 'nobody', FUZZ_USER.toUpperCase(), `${FUZZ_USER}x`])))
          : i === 0 && r() < 0.5
            ? tlv(0x04, bytes(r, pick(r, [0, 1, 4, 5, 17, 32, 33, 200])))
            : oddValue(r);
      return encodeBer(
        v3.rebuild({ tag: 0x30, children: usm.map((x, j) => (j === i ? { tag: 0, raw: replacement } : x)) }),
      );
    }
    case 'garbage':
      return bytes(r, logUniform(r, 1_500) - 1);
    case 'stack': {
      let out = b;
      for (let n = int(r, 2, 3); n > 0; n--) {
        const next = chooseMutation(r);
        out = mutate({ name: seed.name, bytes: out }, r, next === 'stack' ? 'bitFlip' : next);
      }
      return out;
    }
  }
}

// --- Seeds from real peers -----------------------------------------------------------------------

function bindUdp(address: string, port = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

const closeUdp = (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()));

async function waitFor(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Runs net-snmp's `snmptrap`/`snmpinform` against a recording proxy that forwards to the
 * receiver (from the configured source) and relays its answers back; returns what the tool sent.
 */
async function captureFrom(
  tool: string,
  args: (target: string) => string[],
  dir: string,
  port: number,
): Promise<Buffer[]> {
  const proxy = await bindUdp(CONFIGURED_SOURCE);
  const forward = await bindUdp(CONFIGURED_SOURCE);
  const got: Buffer[] = [];
  let client: RemoteInfo | undefined;
  proxy.on('message', (m, ri) => {
    got.push(Buffer.from(m));
    client = ri;
    forward.send(m, port, CONFIGURED_SOURCE);
  });
  forward.on('message', (m) => {
    if (client) proxy.send(m, client.port, client.address);
  });
  try {
    await run(tool, ['-m', '', ...args(`${CONFIGURED_SOURCE}:${proxy.address().port}`)], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        SNMP_PERSISTENT_DIR: join(dir, 'persist'),
        SNMPCONFPATH: join(dir, 'conf'),
      },
      timeout: 15_000,
    });
    await waitFor(`${tool} to send`, () => got.length > 0);
    return got;
  } finally {
    await closeUdp(proxy);
    await closeUdp(forward);
  }
}

const v3Args = [
  '-v',
  '3',
  '-u',
  FUZZ_USER,
  '-l',
  'authPriv',
  '-a',
  'SHA',
  '-A',
  FUZZ_AUTH_KEY,
  '-x',
  'AES',
  '-X',
  FUZZ_PRIV_KEY,
];
const petArgs = [PET_TRAP_OID, PET_VARBIND, 'x', FUZZ_PET_HEX];

/** Captures the seeds through the running receiver on `port`; the informs are answered by it. */
export async function captureSeeds(port: number, dir: string): Promise<Seed[]> {
  mkdirSync(join(dir, 'persist'), { recursive: true });
  mkdirSync(join(dir, 'conf'), { recursive: true });
  const seeds: Seed[] = [];
  const add = (name: string, datagrams: Buffer[]) => {
    for (const [i, d] of datagrams.entries()) {
      const at = d.indexOf(Buffer.from(FUZZ_PET_HEX, 'hex'));
      seeds.push({ name: datagrams.length > 1 ? `${name}#${i}` : name, bytes: d, ...(at >= 0 ? { petAt: at } : {}) });
    }
  };
  const c = ['-c', FUZZ_COMMUNITY];
  add(
    'v1-trap',
    await captureFrom(
      'snmptrap',
      (t) => [
        '-v',
        '1',
        ...c,
        t,
        '.1.3.6.1.4.1.3183.1.1',
        '127.0.0.1',
        '6',
        String(HOTSWAP_M6),
        '0',
        PET_VARBIND,
        'x',
        FUZZ_PET_HEX,
      ],
      dir,
      port,
    ),
  );
  add('v2c-trap', await captureFrom('snmptrap', (t) => ['-v', '2c', ...c, t, '', ...petArgs], dir, port));
  add(
    'v2c-coldstart',
    await captureFrom('snmptrap', (t) => ['-v', '2c', ...c, t, '', '.1.3.6.1.6.3.1.1.5.1'], dir, port),
  );
  add(
    'v3-trap',
    await captureFrom('snmptrap', (t) => [...v3Args, '-e', SENDER_ENGINE_ID, t, '', ...petArgs], dir, port),
  );
  add(
    'v2c-inform',
    await captureFrom('snmpinform', (t) => ['-v', '2c', ...c, '-t', '3', '-r', '1', t, '', ...petArgs], dir, port),
  );
  // snmpinform v3 first discovers the receiver's engine ID (a Report), then informs.
  add(
    'v3-inform',
    await captureFrom('snmpinform', (t) => [...v3Args, '-t', '3', '-r', '1', t, '', ...petArgs], dir, port),
  );
  return seeds;
}

// --- The run -------------------------------------------------------------------------------------

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  /** Datagrams sent before waiting for the receiver to take them all (no kernel drops). */
  readonly window?: number;
  /** Fraction sent from the unconfigured sources. */
  readonly unknownShare?: number;
  readonly progress?: (sent: number) => void;
  /**
   * A receiver already running elsewhere (atcad itself), configured with FUZZ_COMMUNITY,
   * FUZZ_USER and its keys for FUZZ_SHELF from 127.0.0.1: fuzzed instead of a receiver of the
   * harness's own. Then logs and the fresh traps afterwards are the caller's to check.
   */
  readonly target?: { readonly port: number; readonly counters: TrapCounters };
}

export interface FuzzResult {
  readonly seeds: readonly Seed[];
  readonly sent: number;
  readonly sentFromUnknown: number;
  readonly byMutation: Readonly<Record<Mutation, number>>;
  /** The receiver's counters for the fuzzed datagrams only (after seed capture). */
  readonly counters: TrapCounters;
  readonly repliesToConfigured: number;
  readonly repliesToUnknown: number;
  readonly uncaught: readonly unknown[];
  readonly logLines: number;
  readonly secretsLogged: number;
  /** The longest log line written (a peer's values are cut in log lines). */
  readonly longestLogLine: number;
  /** The longest journal form (JSON.stringify) of a trap delivered by the harness's own receiver. */
  readonly longestJournal: number;
  readonly elapsedMs: number;
  /** After the run: a fresh PET trap from snmptrap v2c and v3, as delivered. */
  readonly after: readonly ReceivedTrap[];
}

export function outcomeSum(c: TrapCounters): number {
  return TRAP_OUTCOMES.reduce((n, k) => n + c[k], 0);
}

function minus(a: TrapCounters, b: TrapCounters): TrapCounters {
  return Object.fromEntries(
    Object.keys(NO_TRAPS).map((k) => [k, a[k as keyof TrapCounters] - b[k as keyof TrapCounters]]),
  ) as unknown as TrapCounters;
}

/** Starts a receiver on a free port, captures seeds, fuzzes it, checks it still works, stops it. */
export async function runTrapFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const dir = mkdtempSync(join(tmpdir(), 'atca-trap-fuzz-'));
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  let collecting = false;
  const after: ReceivedTrap[] = [];
  let logLines = 0;
  let secretsLogged = 0;
  let longestLogLine = 0;
  let longestJournal = 0;
  const port = o.target?.port ?? (await freePort());
  const own = new TrapReceiver({
    address: '127.0.0.1',
    port,
    communities: [FUZZ_COMMUNITY],
    v3Users: [
      { name: FUZZ_USER, authProtocol: 'sha', authKey: FUZZ_AUTH_KEY, privProtocol: 'aes', privKey: FUZZ_PRIV_KEY },
    ],
    sources: new Map([[CONFIGURED_SOURCE, FUZZ_SHELF]]),
    engineId: FUZZ_RECEIVER_ENGINE_ID,
    log: (_level: LogLevel, msg: string) => {
      logLines++;
      longestLogLine = Math.max(longestLogLine, msg.length);
      if (SECRETS.some((s) => msg.includes(s))) secretsLogged++;
    },
    onTrap: (t) => {
      // What atcad journals for a duplicate or a trap it does not understand.
      longestJournal = Math.max(longestJournal, JSON.stringify(t).length);
      if (collecting) after.push(t);
    },
  });
  const receiver = o.target ?? own;
  const senders: Socket[] = [];
  try {
    if (!o.target) await own.start();
    const seeds = await captureSeeds(port, dir);
    const configured = await bindUdp(CONFIGURED_SOURCE);
    const unknown = await Promise.all(UNKNOWN_SOURCES.map((a) => bindUdp(a)));
    senders.push(configured, ...unknown);
    configured.setRecvBufferSize(4 * 1024 * 1024);
    let repliesToConfigured = 0;
    let repliesToUnknown = 0;
    configured.on('message', () => repliesToConfigured++);
    for (const s of unknown) s.on('message', () => repliesToUnknown++);

    const r = prng(o.seed);
    const window = o.window ?? 256;
    const unknownShare = o.unknownShare ?? 0.15;
    const byMutation = Object.fromEntries(MUTATIONS.map((m) => [m, 0])) as Record<Mutation, number>;
    const before = receiver.counters;
    const t0 = performance.now();
    let sent = 0;
    let sentFromUnknown = 0;
    let sendErrors = 0;
    while (sent < o.count) {
      const n = Math.min(window, o.count - sent);
      let pending = n;
      const done = new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++) {
          const seed = pick(r, seeds);
          const m = chooseMutation(r);
          byMutation[m]++;
          let d = mutate(seed, r, m);
          if (d.length > MAX_DATAGRAM) d = d.subarray(0, MAX_DATAGRAM);
          const fromUnknown = r() < unknownShare;
          if (fromUnknown) sentFromUnknown++;
          const s = fromUnknown ? pick(r, unknown) : configured;
          s.send(d, port, '127.0.0.1', (e) => {
            if (e) sendErrors++;
            if (--pending === 0) resolve();
          });
        }
      });
      await done;
      sent += n;
      if (sendErrors > 0) throw new Error(`${sendErrors} datagram(s) could not be sent`);
      // Loopback delivery is done when send completes: each datagram is queued or dropped.
      await waitFor('the receiver to take every datagram', () => {
        const c = receiver.counters;
        return c.received - before.received + (c.kernelDrops - before.kernelDrops) >= sent;
      });
      o.progress?.(sent);
    }
    const elapsedMs = performance.now() - t0;
    // Replies in flight: every one sent must reach its (configured) sender.
    await waitFor(
      'replies in flight',
      () => repliesToConfigured >= receiver.counters.repliesSent - before.repliesSent,
      5_000,
    ).catch(() => undefined);
    const counters = minus(receiver.counters, before);

    if (o.target) {
      return {
        seeds,
        sent,
        sentFromUnknown,
        byMutation,
        counters,
        repliesToConfigured,
        repliesToUnknown,
        uncaught,
        logLines,
        secretsLogged,
        longestLogLine,
        longestJournal,
        elapsedMs,
        after,
      };
    }
    // Still working: a fresh PET from each of snmptrap v2c and v3 is delivered with its event.
    collecting = true;
    const fresh = (n: number) =>
      `${FUZZ_PET_HEX.slice(0, PET_SEQUENCE_AT * 2)}${n.toString(16).padStart(4, '0')}${FUZZ_PET_HEX.slice(PET_SEQUENCE_AT * 2 + 4)}`;
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      SNMP_PERSISTENT_DIR: join(dir, 'persist'),
      SNMPCONFPATH: join(dir, 'conf'),
    };
    const target = `127.0.0.1:${port}`;
    const accepted = receiver.counters.accepted;
    await run(
      'snmptrap',
      ['-m', '', '-v', '2c', '-c', FUZZ_COMMUNITY, target, '', PET_TRAP_OID, PET_VARBIND, 'x', fresh(0xfffe)],
      { env, timeout: 10_000 },
    );
    await run(
      'snmptrap',
      ['-m', '', ...v3Args, '-e', SENDER_ENGINE_ID, target, '', PET_TRAP_OID, PET_VARBIND, 'x', fresh(0xfffd)],
      { env, timeout: 10_000 },
    );
    await waitFor('the two fresh traps', () => receiver.counters.accepted >= accepted + 2, 10_000).catch(
      () => undefined,
    );

    return {
      seeds,
      sent,
      sentFromUnknown,
      byMutation,
      counters,
      repliesToConfigured,
      repliesToUnknown,
      uncaught,
      logLines,
      secretsLogged,
      longestLogLine,
      longestJournal,
      elapsedMs,
      after,
    };
  } finally {
    await own.stop();
    await Promise.all(senders.map(closeUdp));
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    rmSync(dir, { recursive: true, force: true });
  }
}
