// Benchmark: the trap receiver alone, and the trap fuzzer at scale.
// Run with `npm run bench:fuzz` (builds, then `node dist/trap-fuzz.mjs`).
//   1. TrapReceiver's saturated receive rate for v1 and v2c PET traps and v3 authPriv ones: a
//      sender thread floods a receiver on loopback for BENCH_RX_MS (2 s) per version; the rate is
//      what the receiver took (datagrams read, decoded, counted, delivered), and the busy time
//      per datagram comes from the main thread's event-loop utilisation.
//   2. The fuzz harness of test/integration/trap-fuzz.test.ts with FUZZ_COUNT (1,000,000)
//      datagrams: outcome counts and rate.
// Traffic goes to 127.0.0.1–127.0.0.3 only; every loop is bounded in count and time.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import snmp from 'net-snmp';
import {
  hotSwapPet,
  hotSwapSpecific,
  PET_ENTERPRISE_OID,
  PET_VARBIND_OID,
  withPetSequence,
} from '../src/sim/pet-trap.js';
import { freePort } from '../src/sim/ports.js';
import { TRAP_OUTCOMES, TrapReceiver } from '../src/snmp/trap-receiver.js';
import { outcomeSum, runTrapFuzz } from '../test/helpers/trap-fuzz.js';

const RX_MS = Number(process.env.BENCH_RX_MS ?? 2000);
const FUZZ_COUNT = Number(process.env.FUZZ_COUNT ?? 1_000_000);
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const COMMUNITY = 'Bench-comm-7731';
const USER = 'bench';
const AUTH_KEY = 'Bench-auth-4410';
const PRIV_KEY = 'Bench-priv-9902';
/** Distinct traps per version (v1/v2c renumbered up to 65,535; v3 sent by net-snmp's own sender). */
const VARIANTS = 65_535;
const V3_VARIANTS = 20_000;
const SPECIFIC = hotSwapSpecific(7);
const TRAP_OID = `${PET_ENTERPRISE_OID}.0.${SPECIFIC}`.slice(1);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** VARIANTS distinct traps of one version: v1/v2c from snmptrap, renumbered; v3 from net-snmp's sender. */
async function variants(version: 1 | 2 | 3, home: string): Promise<Buffer[]> {
  if (version !== 3) {
    const out: Buffer[] = [];
    const pet = hotSwapPet(0xa0, 7, 4, 0xf, 1);
    const tool =
      version === 1
        ? (t: string) => [
            '-v',
            '1',
            '-c',
            COMMUNITY,
            t,
            PET_ENTERPRISE_OID,
            '127.0.0.1',
            '6',
            String(SPECIFIC),
            '0',
            PET_VARBIND_OID,
            'x',
            pet.toString('hex'),
          ]
        : (t: string) => [
            '-v',
            '2c',
            '-c',
            COMMUNITY,
            t,
            '',
            `.${TRAP_OID}`,
            PET_VARBIND_OID,
            'x',
            pet.toString('hex'),
          ];
    const d = await new Promise<Buffer>((resolve, reject) => {
      const sock = createSocket('udp4');
      sock.once('message', (m) => {
        sock.close();
        resolve(m);
      });
      sock.bind(0, '127.0.0.1', () => {
        try {
          execFileSync('snmptrap', ['-m', '', ...tool(`127.0.0.1:${sock.address().port}`)], {
            env: { PATH: process.env.PATH, HOME: home, SNMP_PERSISTENT_DIR: join(home, 'persist'), SNMPCONFPATH: home },
            stdio: 'ignore',
            timeout: 5000,
          });
        } catch (e) {
          sock.close();
          reject(e);
        }
      });
    });
    for (let i = 0; i < VARIANTS; i++) out.push(withPetSequence(d, pet, (i % 0xffff) + 1));
    return out;
  }
  // v3 authPriv: encrypted, so each variant is sent by net-snmp's own v3 sender and captured.
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(4 * 1024 * 1024);
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  const session = snmp.createV3Session(
    '127.0.0.1',
    {
      name: USER,
      level: snmp.SecurityLevel.authPriv,
      authProtocol: snmp.AuthProtocols.sha,
      authKey: AUTH_KEY,
      privProtocol: snmp.PrivProtocols.aes,
      privKey: PRIV_KEY,
    },
    { trapPort: sock.address().port, version: snmp.Version3 },
  );
  try {
    for (let i = 0; i < V3_VARIANTS; i += 100) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, j) =>
            new Promise<void>((resolve, reject) =>
              session.trap(
                TRAP_OID,
                [
                  {
                    oid: PET_VARBIND_OID.slice(1),
                    type: snmp.ObjectType.OctetString,
                    value: hotSwapPet(0xa0, 7, 4, 0xf, ((i + j) % 0xffff) + 1),
                  },
                ],
                (e) => (e ? reject(e) : resolve()),
              ),
            ),
        ),
      );
      // Each batch is read before the next is sent (a lost one just makes one variant fewer).
      const deadline = performance.now() + 1000;
      while (got.length < i + 100 && performance.now() < deadline) await sleep(1);
    }
    return got;
  } finally {
    session.close();
    sock.close();
  }
}

/**
 * A sender on its own thread (the second core): `rate` datagrams/s in 1 ms ticks, or as fast as
 * it can (rate 0: windows of 64 sends), until told to stop.
 */
const SENDER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const s = require('node:dgram').createSocket('udp4');
const bufs = workerData.bufs.map((b) => Buffer.from(b));
const { port, rate } = workerData;
let stop = false, sent = 0, calls = 0;
parentPort.on('message', () => { stop = true; });
const done = () => s.close(() => parentPort.postMessage(sent));
s.bind(0, '127.0.0.1', () => {
  const t0 = performance.now();
  (function loop() {
    if (stop) return done();
    if (rate === 0) {
      let left = 64;
      for (let n = 0; n < 64; n++, calls++) s.send(bufs[calls % bufs.length], port, '127.0.0.1', () => { sent++; if (--left === 0) setImmediate(loop); });
      return;
    }
    const want = Math.floor(((performance.now() - t0) * rate) / 1000);
    for (let n = 0; calls < want && n < 2000; n++, calls++) s.send(bufs[calls % bufs.length], port, '127.0.0.1', () => { sent++; });
    setTimeout(loop, 1);
  })();
});
`;

/**
 * CPU time of this process's main thread (the receiver's event loop), ms, from
 * /proc/self/task/<pid>/stat (utime + stime, in USER_HZ = 100 ticks/s on Linux). Unlike the
 * event-loop utilisation, it does not count time the thread was runnable but not running: this
 * machine is shared.
 */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface RateResult {
  readonly taken: number;
  readonly accepted: number;
  readonly dropped: number;
  readonly ms: number;
  /** The main thread's busy time (event-loop utilisation) per datagram taken, µs. */
  readonly busyUs: number;
  /** The main thread's CPU time per datagram taken, µs. */
  readonly cpuUs: number;
}

/** A receiver fed by the sender thread for RX_MS after a warm-up; what it took and what that cost. */
async function receiverRun(bufs: Buffer[], rate: number): Promise<RateResult> {
  const port = await freePort();
  const r = new TrapReceiver({
    address: '127.0.0.1',
    port,
    communities: [COMMUNITY],
    v3Users: [{ name: USER, authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
    sources: new Map([['127.0.0.1', 'bench']]),
    log: () => undefined,
    onTrap: () => undefined,
  });
  await r.start();
  try {
    const w = new Worker(SENDER_JS, {
      eval: true,
      workerData: { port, rate, bufs: bufs.map((b) => new Uint8Array(b)) },
    });
    await sleep(300); // warm-up: JIT, the sender up to speed
    const c0 = r.counters;
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = mainThreadCpuMs();
    const t0 = performance.now();
    await sleep(RX_MS);
    const c1 = r.counters;
    const cpu = mainThreadCpuMs() - cpu0;
    const elu = performance.eventLoopUtilization(elu0);
    const ms = performance.now() - t0;
    await new Promise<number>((resolve) => {
      w.once('message', resolve);
      w.postMessage('stop');
    });
    await w.terminate();
    const taken = c1.received - c0.received;
    return {
      taken,
      accepted: c1.accepted - c0.accepted,
      dropped: c1.kernelDrops - c0.kernelDrops,
      ms,
      busyUs: (elu.active * 1000) / Math.max(1, taken),
      cpuUs: (cpu * 1000) / Math.max(1, taken),
    };
  } finally {
    await r.stop();
  }
}

/** Per version: the cost per datagram at a steady rate, and what it takes when flooded. */
async function receiverRate(version: 1 | 2 | 3, bufs: Buffer[]): Promise<void> {
  const v = (version === 1 ? 'v1' : version === 2 ? 'v2c' : 'v3 authPriv').padEnd(11);
  const steady = version === 3 ? 2_000 : 5_000;
  const p = await receiverRun(bufs, steady);
  console.log(
    `1. receiver, ${v} PET at ${fmt(steady)}/s: ${p.cpuUs.toFixed(1)} µs CPU per datagram ` +
      `(event loop busy ${p.busyUs.toFixed(1)} µs); ${fmt(p.taken)} taken, ${fmt(p.accepted)} accepted, ${fmt(p.dropped)} dropped`,
  );
  const f = await receiverRun(bufs, 0);
  console.log(
    `   receiver, ${v} PET flooded:    ${fmt((f.taken / f.ms) * 1000)} datagrams/s taken, ${f.cpuUs.toFixed(1)} µs CPU each ` +
      `(→ ${fmt(1e6 / f.cpuUs)}/s per core of CPU); ${fmt(f.taken)} taken, ${fmt(f.dropped)} dropped by the kernel`,
  );
}

const home = mkdtempSync(join(tmpdir(), 'trap-fuzz-bench-'));
mkdirSync(join(home, 'persist'));
try {
  for (const v of [1, 2, 3] as const) await receiverRate(v, await variants(v, home));
  if (FUZZ_COUNT > 0) await fuzz();
} finally {
  rmSync(home, { recursive: true, force: true });
}

async function fuzz(): Promise<void> {
  const t0 = performance.now();
  const r = await runTrapFuzz({
    count: FUZZ_COUNT,
    seed: FUZZ_SEED,
    progress: (n) => {
      if (n % 100_000 < 256)
        process.stderr.write(`  ${fmt(n)} sent, ${((n / (performance.now() - t0)) * 1000).toFixed(0)}/s\n`);
    },
  });
  const c = r.counters;
  console.log(
    `2. fuzz, seed ${FUZZ_SEED}: ${fmt(r.sent)} datagrams in ${(r.elapsedMs / 1000).toFixed(1)} s = ` +
      `${fmt((r.sent / r.elapsedMs) * 1000)}/s (sender, mutation and receiver on one thread)`,
  );
  console.log(`   seeds: ${r.seeds.map((s) => `${s.name} (${s.bytes.length} B)`).join(', ')}`);
  console.log(
    `   received ${fmt(c.received)} = sent − kernel drops ${fmt(c.kernelDrops)}: ${c.received === r.sent - c.kernelDrops}`,
  );
  console.log(`   outcomes: ${TRAP_OUTCOMES.map((k) => `${k} ${fmt(c[k])}`).join(', ')} (sum ${fmt(outcomeSum(c))})`);
  console.log(
    `   replies: sent ${fmt(c.repliesSent)}, failed ${fmt(c.replyErrors)}, limited ${fmt(c.repliesLimited)}, ` +
      `withheld ${fmt(c.repliesWithheld)}; ` +
      `seen by the configured sender ${fmt(r.repliesToConfigured)}, by the unconfigured ones ${fmt(r.repliesToUnknown)}`,
  );
  console.log(`   SNMPv3 messages refused a key derivation (new engine ID, budget spent): ${fmt(c.keysRefused)}`);
  console.log(
    `   from unconfigured sources: ${fmt(r.sentFromUnknown)} sent, ${fmt(c.unknownSource)} counted unknownSource`,
  );
  console.log(
    `   mutations: ${Object.entries(r.byMutation)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  );
  console.log(
    `   uncaught exceptions ${r.uncaught.length}; log lines ${r.logLines} (secrets in them: ${r.secretsLogged}, ` +
      `longest ${r.longestLogLine} chars); longest journal form of a trap ${fmt(r.longestJournal)} chars; ` +
      `afterwards delivered: ${r.after.map((t) => `v${t.version} ${t.event?.kind ?? 'no event'}`).join(', ') || 'nothing!'}`,
  );
}
