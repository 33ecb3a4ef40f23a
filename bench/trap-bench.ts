// Benchmark: atcad's trap path. Run with `node scripts/build.mjs && node dist/trap-bench.mjs`.
//   4. RSS after building (and starting) an app with 16 shelves (measured first, in a fresh process)
//   1. trap → set-health latency through atcad (buildApp, a simulated shelf, an injected actuator),
//      idle and with ~1000 traps/s of background traffic
//   2. the same job the classic way: snmptrapd + `traphandle default <sh script>`
//   3. decodePet rate on one core, and TrapReceiver's receive rate at 10k traps/s
// Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { parseConfig } from '../src/config/load.js';
import { type App, buildApp } from '../src/daemon/app.js';
import type { Logger } from '../src/log.js';
import type { ActionResult, ClusterActuator, HealthValue } from '../src/pacemaker/actuator.js';
import { LiveActuator } from '../src/pacemaker/live-actuator.js';
import { ProcessLauncher } from '../src/pacemaker/process-launcher.js';
import type { Decision } from '../src/policy/types.js';
import {
  hotSwapPet,
  hotSwapSpecific,
  nextPetSequence,
  PET_ENTERPRISE_OID,
  snmptrapV2cArgs,
  withPetSequence,
} from '../src/sim/pet-trap.js';
import { freePort } from '../src/sim/ports.js';
import { SimulatedShelf } from '../src/sim/shelf.js';
import { DEFAULT_SHELF } from '../src/sim/shelf-spec.js';
import { decodePet } from '../src/snmp/pet.js';
import { TrapReceiver } from '../src/snmp/trap-receiver.js';

/** Process launchers to close at the end. */
const runners: ProcessLauncher[] = [];

const N_LAT = Number(process.env.BENCH_TRAP_RUNS ?? 400);
const N_TRAPD = Number(process.env.BENCH_TRAPD_RUNS ?? 400);
const COMMUNITY = 'Bench-comm-5521';
const SPECIFIC_M7 = hotSwapSpecific(7);
const SPECIFIC_M4 = hotSwapSpecific(4);
/** An IPMB address no board of DEFAULT_SHELF has: decoded and journaled, maps to no slot. */
const UNMAPPED_IPMB = 0xa0;
const SLOTS = [1, 2, 3] as const;
/** When the launcher handed a command to its process, and when it saw the exec done (ms, this clock). */
interface Spawned {
  readonly handed: number;
  readonly execed: number;
}

const quiet: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Has net-snmp's snmptrap build a v2c PET trap once, and returns the datagram's bytes for resending. */
async function captureTrap(specific: number, pet: Buffer, home: string): Promise<Buffer> {
  const port = await freePort();
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', () => resolve());
  });
  try {
    const got = new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('snmptrap sent nothing within 5 s')), 5000);
      sock.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    execFileSync(
      'snmptrap',
      snmptrapV2cArgs(COMMUNITY, `127.0.0.1:${port}`, `${PET_ENTERPRISE_OID}.0.${specific}`, pet),
      {
        env: { PATH: process.env.PATH, HOME: home, SNMP_PERSISTENT_DIR: join(home, 'snmp'), SNMPCONFPATH: home },
        stdio: 'ignore',
        timeout: 5000,
      },
    );
    return await got;
  } finally {
    sock.close();
  }
}

/** A datagram snmptrap built, and the PET inside it (to renumber: atcad drops repeated PETs). */
interface Capture {
  readonly datagram: Buffer;
  readonly pet: Buffer;
}
/** The capture with the next PET sequence number: a new trap to the receiver, not a resend. */
const fresh = (c: Capture): Buffer => withPetSequence(c.datagram, c.pet, nextPetSequence());
const variants = (c: Capture, n: number): Buffer[] => Array.from({ length: n }, () => fresh(c));

async function capture(specific: number, pet: Buffer, home: string): Promise<Capture> {
  return { datagram: await captureTrap(specific, pet, home), pet };
}

/** A UDP sender on its own thread (the second core), so it does not share the receiver's event loop. */
const SENDER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { port, rate, durationMs, bufs } = workerData;
const buffers = bufs.map((b) => Buffer.from(b));
const s = dgram.createSocket('udp4');
let calls = 0, ok = 0, errors = 0, stop = false;
parentPort.on('message', () => { stop = true; });
const t0 = performance.now();
function tick() {
  const el = performance.now() - t0;
  if (stop || el >= durationMs) {
    const ms = el;
    setTimeout(() => s.close(() => parentPort.postMessage({ sent: ok, errors, ms })), 100);
    return;
  }
  const want = Math.floor((el * rate) / 1000);
  for (let n = 0; calls < want && n < 2000; n++, calls++) {
    s.send(buffers[calls % buffers.length], port, '127.0.0.1', (e) => { if (e) errors++; else ok++; });
  }
  setTimeout(tick, 1);
}
tick();
`;

interface SenderResult {
  sent: number;
  errors: number;
  ms: number;
}

function startSender(
  port: number,
  rate: number,
  durationMs: number,
  bufs: Buffer[],
): { done: Promise<SenderResult>; stop(): Promise<SenderResult> } {
  const w = new Worker(SENDER_JS, {
    eval: true,
    workerData: { port, rate, durationMs, bufs: bufs.map((b) => new Uint8Array(b)) },
  });
  const done = new Promise<SenderResult>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('sender did not finish')), durationMs + 10_000);
    w.once('message', (m: SenderResult) => {
      clearTimeout(t);
      resolve(m);
      void w.terminate();
    });
    w.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
  return {
    done,
    stop: async () => {
      w.postMessage('stop');
      return done;
    },
  };
}

function fakeActuator(onHealth: (node: string, value: HealthValue) => void, nodes: string[]): ClusterActuator {
  const ok = (command: string[]): ActionResult => ({
    ok: true,
    command,
    exitCode: 0,
    durationMs: 0,
    stdout: '',
    stderr: '',
  });
  return {
    setHealth: async (node, value) => {
      onHealth(node, value);
      return ok(['attrd_updater', '-U', value, '-N', node]);
    },
    clearHealth: async (node) => ok(['attrd_updater', '-D', '-N', node]),
    setStandby: async (node, on) => ok(['crm_attribute', '-N', node, '-n', 'standby', '-v', on ? 'on' : 'off']),
    fence: async (node) => ok(['stonith_admin', '--reboot', node]),
    fenceHistory: async () => [],
    nodes: async () => nodes.map((name) => ({ name, online: true, standby: false, unclean: false, type: 'member' })),
    cluster: async () => ({ withQuorum: true, votersOnline: [...nodes], votersTotal: nodes.length, quorum: undefined }),
  };
}

async function until(what: string, f: () => boolean, ms: number, stepMs = 5): Promise<void> {
  const deadline = performance.now() + ms;
  while (!f()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

const rows: [string, string, string][] = [];
const row = (what: string, value: string, target = '') => rows.push([what, value, target]);
const ms = (x: number) => `${x.toFixed(2)} ms`;
const lat = (xs: number[]) =>
  `p50 ${ms(quantile(xs, 0.5))}  p99 ${ms(quantile(xs, 0.99))}  max ${ms(Math.max(...xs))}  (n=${xs.length})`;

// --- 4. RSS with 16 shelves (first: the process holds nothing else yet) ------------------------
async function rssBench(dir: string): Promise<void> {
  const base = process.memoryUsage().rss;
  const shelves: string[] = [];
  const nodes: string[] = [];
  for (let s = 0; s < 16; s++) {
    const port = await freePort(); // nobody listens there: polls time out
    const slots: string[] = [];
    for (let k = 1; k <= 12; k++) {
      slots.push(`"${k}": { node: n${s}-${k} }`);
      nodes.push(`n${s}-${k}`);
    }
    shelves.push(`  - name: shelf${s}
    shelfManagers: [{ host: 127.0.0.1, port: ${port} }]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.${s + 10}]
    slots: { ${slots.join(', ')} }`);
  }
  const cfg = parseConfig(`shelves:
${shelves.join('\n')}
traps: { enabled: false }
polling: { hotswapIntervalMs: 600000, requestTimeoutMs: 1000 }
journal: { path: ${join(dir, 'rss.sqlite')} }
`);
  const app = buildApp(cfg, { log: quiet, env: { SHELF_PW: 'x' }, actuator: fakeActuator(() => undefined, nodes) });
  const built = process.memoryUsage().rss;
  let started = built;
  try {
    await app.start();
    await sleep(1500);
    started = process.memoryUsage().rss;
  } finally {
    await app.stop();
  }
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  row('4. RSS, 16 shelves × 12 slots, built', `${mb(built)} (process baseline before build ${mb(base)})`, '≤ 100 MB');
  row('   RSS, same app started, 1.5 s polling', mb(started), '≤ 100 MB');
}

// --- 1. atcad: trap → set-health ---------------------------------------------------------------
type Phase = { readonly handed: number[]; readonly execed: number[] };

async function atcadBench(dir: string, traps: Map<string, Capture>): Promise<Phase> {
  const shelf = await SimulatedShelf.start({ ...DEFAULT_SHELF, shelfManagers: 1 });
  let app: App | undefined;
  const out = createSocket('udp4');
  try {
    const trapPort = await freePort();
    const cfg = parseConfig(`
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${shelf.managers[0]!.port} }]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 600000, sensorIntervalMs: 2000, selIntervalMs: 1000, requestTimeoutMs: 3000 }
policy: { debounceMs: 0, recoveryMs: 0, rules: { hotswap-lost: health-red } }
journal: { path: ${join(dir, 'journal.sqlite')} }
`);
    let pending: { node: string; resolve: (t: Spawned) => void } | undefined;
    let decidedAt: number | undefined;
    // The real live actuator, down to the start of attrd_updater; the tool itself is a stub
    // (no cluster here).
    const stub = join(dir, 'attrd_updater');
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
    // atcad's own runner: its process launcher. spawnedAt is when atcad handed the command to a
    // spare process, execedAt when the launcher saw its exec done (both wall clock).
    const launcher = new ProcessLauncher().warm();
    runners.push(launcher);
    const live = new LiveActuator(cfg.pacemaker, {
      toolPaths: { attrd_updater: stub },
      runner: async (argv, o) => {
        const node = argv[argv.indexOf('-N') + 1];
        const p = argv.includes('red') && pending && pending.node === node ? pending : undefined;
        if (p) pending = undefined;
        const r = await launcher.run(argv, o);
        if (p && r.spawnedAt !== undefined && r.execedAt !== undefined)
          p.resolve({ handed: r.spawnedAt - performance.timeOrigin, execed: r.execedAt - performance.timeOrigin });
        return r;
      },
    });
    const actuator: ClusterActuator = {
      ...fakeActuator(() => undefined, ['node1', 'node2', 'node3']),
      setHealth: (node, value) => live.setHealth(node, value),
    };
    app = buildApp(cfg, {
      log: quiet,
      env: { SHELF_PW: DEFAULT_SHELF.password, COMMUNITY },
      actuator,
      onDecision: (d: Decision) => {
        if (d.kind === 'set-health' && d.value === 'red' && pending?.node === d.node) decidedAt = performance.now();
      },
    });
    await app.start();
    const a = app;
    await until('the first poll to map the slots', () => a.journal.read.counts().events >= SLOTS.length, 20_000, 50);

    const send = (b: Buffer) => out.send(b, trapPort, '127.0.0.1');
    const healthOf = (slot: number) => a.policyState().slots.get(`s1/${slot}`)?.health;

    const runPhase = async (label: string, n: number): Promise<Phase> => {
      const toAction: number[] = [];
      const toExec: number[] = [];
      const toDecision: number[] = [];
      let timeouts = 0;
      const phaseDeadline = performance.now() + 120_000;
      // How long the event loop was blocked during the phase: a latency tail with a matching
      // loop delay is this process being busy (or descheduled), not the trap path.
      const eld = monitorEventLoopDelay({ resolution: 1 });
      eld.enable();
      for (let i = 0; i < n && performance.now() < phaseDeadline; i++) {
        const slot = SLOTS[i % SLOTS.length]!;
        // Health is only re-set when it rises: wait for the slot to be green again (recoveryMs 0,
        // so the first 100 ms policy tick after the clear below brings it back).
        // Every slot back to green and its green attrd_updater done: a sample measures one fault
        // on a quiet daemon, not the fork of another slot's command (a spawn blocks the event
        // loop for several ms on this machine: see docs/benchmarks.md).
        await until('all slots green', () => SLOTS.every((x) => healthOf(x) === 'green'), 5000, 2);
        await until('no action running', () => a.journal.read.unfinishedActions().length === 0, 5000, 2);
        decidedAt = undefined;
        const acted = new Promise<Spawned>((resolve) => {
          pending = { node: `node${slot}`, resolve };
        });
        const t0 = performance.now();
        send(fresh(traps.get(`m7-${slot}`)!));
        const t = await Promise.race([acted, sleep(2000).then(() => undefined)]);
        if (t === undefined) {
          timeouts++;
          pending = undefined;
        } else {
          toAction.push(t.handed - t0);
          toExec.push(t.execed - t0);
          if (decidedAt !== undefined) toDecision.push(decidedAt - t0);
        }
        send(fresh(traps.get(`m4-${slot}`)!));
      }
      eld.disable();
      row(`1. atcad ${label}: send → attrd_updater process has its command`, lat(toAction), 'p99 ≤ 5 ms');
      row(`   atcad ${label}: send → its exec seen done`, lat(toExec));
      row(
        `   atcad ${label}: event-loop delay`,
        `p50 ${ms(eld.percentile(50) / 1e6)}  p99 ${ms(eld.percentile(99) / 1e6)}  max ${ms(eld.max / 1e6)}`,
      );
      row(`   atcad ${label}: send → set-health decision journaled`, lat(toDecision));
      if (timeouts > 0) row(`   atcad ${label}: raises with no action within 2 s`, String(timeouts));
      return { handed: toAction, execed: toExec };
    };

    await runPhase('idle', 10); // warm-up, reported too (small n)
    rows.splice(-4, 4);
    const idle = await runPhase('idle', N_LAT);
    const bg = startSender(trapPort, 1000, 600_000, variants(traps.get('bg')!, 30_000));
    let loaded: Phase = { handed: [], execed: [] };
    try {
      await sleep(500);
      const before = a.trapCounters?.accepted ?? 0;
      const t0 = performance.now();
      loaded = await runPhase('+1000 traps/s background', N_LAT);
      const secs = (performance.now() - t0) / 1000;
      const r = await bg.stop();
      await sleep(300);
      const acc = (a.trapCounters?.accepted ?? 0) - before;
      row(
        '   background traffic',
        `${r.sent} sent in ${(r.ms / 1000).toFixed(1)} s; ${((acc - 2 * N_LAT) / secs).toFixed(0)}/s accepted in the measured window`,
      );
    } finally {
      await bg.stop().catch(() => undefined);
    }
    const c = a.trapCounters;
    if (c)
      row(
        '   atcad trap counters',
        `received ${c.received}, accepted ${c.accepted}, rejected ${c.badAuth + c.malformed + c.unknownSource}`,
      );
    return idle.handed.length > 0 ? idle : loaded;
  } finally {
    out.close();
    await app?.stop();
    await shelf.stop();
  }
}

// --- 2. snmptrapd + traphandle -----------------------------------------------------------------
async function snmptrapdBench(dir: string, trap: Buffer): Promise<number[]> {
  const home = join(dir, 'trapd');
  rmSync(home, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', join(home, 'persist')]);
  const stamps = join(home, 'stamps');
  const script = join(home, 'handler.sh');
  writeFileSync(script, `#!/bin/sh\ncat >/dev/null\n/bin/true\ndate +%s%N >> ${stamps}\n`);
  chmodSync(script, 0o755);
  const conf = join(home, 'snmptrapd.conf');
  writeFileSync(conf, `authCommunity log,execute,net ${COMMUNITY}\ntraphandle default ${script}\n`);
  const port = await freePort();
  const child: ChildProcess = spawn(
    'snmptrapd',
    ['-f', '-Lo', '-C', '-c', conf, '-m', '', '-On', `udp:127.0.0.1:${port}`],
    {
      env: { PATH: process.env.PATH, HOME: home, SNMP_PERSISTENT_DIR: join(home, 'persist'), SNMPCONFPATH: home },
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const out: Socket = createSocket('udp4');
  const lines = () => (existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n').filter(Boolean) : []);
  try {
    // Ready once a trap makes it through the handler.
    const readyBy = performance.now() + 10_000;
    while (lines().length === 0) {
      if (performance.now() > readyBy || child.exitCode !== null) throw new Error('snmptrapd did not run its handler');
      out.send(trap, port, '127.0.0.1');
      await sleep(300);
    }
    await sleep(500);
    const wallNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const res: number[] = [];
    let timeouts = 0;
    const deadline = performance.now() + 120_000;
    for (let i = 0; i < N_TRAPD && performance.now() < deadline; i++) {
      const have = lines().length;
      const sentNs = wallNs();
      out.send(trap, port, '127.0.0.1');
      const by = performance.now() + 3000;
      let got = lines();
      while (got.length <= have && performance.now() < by) {
        await sleep(1);
        got = lines();
      }
      const last = got[got.length - 1];
      if (got.length <= have || last === undefined) {
        timeouts++;
        continue;
      }
      res.push(Number(BigInt(last) - sentNs) / 1e6);
      await sleep(10);
    }
    row('2. snmptrapd: send → handler script ran /bin/true + date', lat(res));
    if (timeouts > 0) row('   snmptrapd: traps with no handler run within 3 s', String(timeouts));
    return res;
  } finally {
    out.close();
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }
  }
}

// --- 3. decode rate and receive rate ------------------------------------------------------------
function decodeBench(): void {
  const b = hotSwapPet(0x82, 7, 4, 0xf);
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  while (n < 50_000_000) {
    sink += decodePet(b).sensorDevice;
    n++;
    if ((n & 1023) === 0 && performance.now() - t0 >= 1000) break;
  }
  const el = performance.now() - t0;
  row(
    '3. decodePet, 47-byte PET, tight loop',
    `${Math.round((n / el) * 1000).toLocaleString('en')} decodes/s (${n} in ${el.toFixed(0)} ms${sink === 0 ? '!' : ''})`,
    '≥ 20,000/s',
  );
}

async function receiveBench(traps: Buffer[]): Promise<void> {
  const port = await freePort();
  let delivered = 0;
  const r = new TrapReceiver({
    address: '127.0.0.1',
    port,
    communities: [COMMUNITY],
    v3Users: [],
    sources: new Map([['127.0.0.1', 's1']]),
    log: () => undefined,
    onTrap: () => {
      delivered++;
    },
  });
  await r.start();
  try {
    const s = startSender(port, 10_000, 2000, traps);
    const res = await s.done;
    let last = -1;
    for (let i = 0; i < 40 && delivered !== last; i++) {
      last = delivered;
      await sleep(50);
    }
    const c = r.counters;
    const loss = res.sent === 0 ? 0 : (100 * (res.sent - c.accepted)) / res.sent;
    row(
      '3. TrapReceiver alone, 10k traps/s for 2 s',
      `sent ${res.sent} (${Math.round((res.sent / res.ms) * 1000)}/s), received ${c.received}, accepted ${c.accepted}, loss ${loss.toFixed(2)}%`,
      'zero loss',
    );
  } finally {
    await r.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trap-bench-'));
try {
  await rssBench(dir);
  const traps = new Map<string, Capture>();
  for (const slot of SLOTS) {
    const ipmb = 2 * (0x40 + slot);
    traps.set(`m7-${slot}`, await capture(SPECIFIC_M7, hotSwapPet(ipmb, 7, 4, 0xf), dir));
    traps.set(`m4-${slot}`, await capture(SPECIFIC_M4, hotSwapPet(ipmb, 4, 7, 0x0), dir));
  }
  traps.set('bg', await capture(SPECIFIC_M7, hotSwapPet(UNMAPPED_IPMB, 7, 4, 0xf), dir));
  const atcad = await atcadBench(dir, traps);
  const classic = await snmptrapdBench(dir, traps.get('m7-1')!.datagram);
  for (const [what, xs] of [
    ['has its command', atcad.handed],
    ['exec seen done', atcad.execed],
  ] as const) {
    const r50 = quantile(classic, 0.5) / quantile(xs, 0.5);
    const r99 = quantile(classic, 0.99) / quantile(xs, 0.99);
    row(`   snmptrapd ÷ atcad (idle, ${what})`, `p50 ${r50.toFixed(1)}×, p99 ${r99.toFixed(1)}×`, '≥ 5×');
  }
  decodeBench();
  await receiveBench(variants(traps.get('m7-1')!, 20_000));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(runners.map((r) => r.close()));
}

const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`${'figure'.padEnd(w0)}  ${'measured'.padEnd(w1)}  target`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
console.log(`
Notes: latencies are from the moment this process hands the datagram to dgram.send (performance.now()).
atcad: the real live actuator and atcad's process launcher. "Has its command": atcad wrote the attrd_updater
command (a stub script: no cluster here) to a process the launcher forked ahead of need, which then execs it.
"Exec seen done": the launcher saw that exec succeed (an exec alone takes 1-1.5 ms on this VM). Both come after
the decision, its events and the action's start are committed (WAL; a health change is not fsynced, a standby
or fence is). Each sample raises M7 on one of slots 1–3 (round robin), waits
for attrd_updater … red to be spawned, then clears it with M4; the next sample waits until the policy's 100 ms
tick has put every slot back to green and those actions have finished (recoveryMs 0, debounceMs 0). Sensor
(every 2 s) and SEL (every 1 s) polls of the simulated shelf run meanwhile.
snmptrapd: wall-clock ns on both sides (performance.timeOrigin + now() vs date +%s%N in the handler, after
/bin/true ran); it had no background traffic. Machine: ${process.env.BENCH_MACHINE ?? '2 cores, possibly shared with other work'}.`);
