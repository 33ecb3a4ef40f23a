// Benchmark: atcad's whole trap pipeline as deployed — throughput, loss and memory. Run with
// `npm run bench:pipeline` (root is not needed; two cores are).
//
// atcad runs as `node dist/atcad.mjs --config FILE` (pacemaker.mode dry-run) pinned to one core
// (taskset -c $BENCH_ATCAD_CPU), polling a simulated shelf (ipmi_sim) over IPMI; a sender
// process pinned to the other core (with this process and the shelf) sends it valid PET v2c
// traps on loopback, each with a new sequence number and timestamp. Observed from outside only:
// the journal's `events` rows (read-only), the kernel's drop counter of atcad's trap socket
// (/proc/<pid>/net/udp), and VmRSS (/proc/<pid>/status). Each part starts a fresh atcad.
//   a. throughput: offered rates in steps; the highest with every trap journaled, no kernel
//      drops and the journal caught up within 1 s of the last send is "sustained"; then
//      one step at the sender's full speed shows what atcad does when overrun.
//   b. loss at a steady 10,000 traps/s for 30 s.
//   c. RSS at start, its peak during a 100,000-trap storm at full speed, and 30–60 s after.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/sim/ports.js';
import { SimulatedShelf } from '../src/sim/shelf.js';
import { boardIpmb, DEFAULT_SHELF } from '../src/sim/shelf-spec.js';
import { captureTrap, m3Pet, type TrapTemplate, unmappedPet } from '../src/sim/trap-datagram.js';
import { ATCAD_BUNDLE, type AtcadHandle, atcadYaml, JournalReader, spawnAtcad, tail, waitReady } from './lib/atcad.js';
import { cleanupAll, cleanupOnSignals, interrupted, onCleanup } from './lib/cleanup.js';
import { rssKb, udpSocket } from './lib/procfs.js';
import { type SendResult, TrapSender } from './lib/sender.js';
import { envInt, envInts, printTable, sleep } from './lib/stats.js';

const ATCAD_CPU = envInt('BENCH_ATCAD_CPU', 1);
const SENDER_CPU = envInt('BENCH_SENDER_CPU', 0);
const RATES = envInts('BENCH_PIPE_RATES', [5000, 10000, 15000, 17500, 20000, 22500, 25000, 30000, 40000]);
/** A rate is sustained if the journal caught up this soon after the last send (a growing backlog does not). */
const MAX_DRAIN_MS = envInt('BENCH_PIPE_MAX_DRAIN_MS', 1000);
/** The storm's rate; 0 is the sender's full speed. */
const STORM_RATE = envInt('BENCH_PIPE_STORM_RATE', 0);
const STEP_S = envInt('BENCH_PIPE_STEP_S', 10);
const FULL_S = envInt('BENCH_PIPE_FULL_S', 5);
const LOSS_RATE = envInt('BENCH_PIPE_LOSS_RATE', 10000);
const LOSS_S = envInt('BENCH_PIPE_LOSS_S', 30);
const STORM = envInt('BENCH_PIPE_STORM', 100_000);
const SETTLE_S = envInt('BENCH_PIPE_SETTLE_S', 45);
const DRAIN_MAX_S = envInt('BENCH_PIPE_DRAIN_MAX_S', 30);
const PARTS = (process.env.BENCH_PIPE_PARTS ?? 'a,b,c').split(',').map((s) => s.trim());
const TRAPS = process.env.BENCH_PIPE_TRAPS ?? 'mixed';
if (!['mixed', 'mapped', 'unmapped'].includes(TRAPS)) throw new Error('BENCH_PIPE_TRAPS: mixed, mapped or unmapped');

const COMMUNITY = 'Bench-pipe-8803';
const SHELF = { ...DEFAULT_SHELF, shelfManagers: 1 as const };
const MB = 1024;

interface Env {
  readonly dir: string;
  readonly shelf: SimulatedShelf;
  readonly sender: TrapSender;
}

let atcadCount = 0;
/** How the last journal counted trap rows (JournalReader.trapFilter), for the report. */
let trapFilter = '?';
async function startAtcad(env: Env): Promise<{ atcad: AtcadHandle; journal: JournalReader }> {
  const n = ++atcadCount;
  const trapPort = await freePort();
  const journalPath = join(env.dir, `journal-${n}.sqlite`);
  const config = join(env.dir, `atcad-${n}.yaml`);
  writeFileSync(
    config,
    atcadYaml({
      shelfManagerPort: env.shelf.managers[0]!.port,
      shelfUser: SHELF.username,
      trapPort,
      apiPort: await freePort(),
      journal: journalPath,
      mode: 'dry-run',
      slots: { 1: 'node1', 2: 'node2', 3: 'node3' },
    }),
  );
  const atcad = spawnAtcad(
    ['taskset', '-c', String(ATCAD_CPU)],
    config,
    join(env.dir, `atcad-${n}.log`),
    { SHELF_PW: SHELF.password, COMMUNITY },
    trapPort,
    journalPath,
  );
  const journal = new JournalReader(journalPath);
  await waitReady(atcad, journal, 3);
  await sleep(1000); // past start-up: the first polls done, the journal's first checkpoint taken
  return { atcad, journal };
}

async function stopAtcad(a: AtcadHandle, j: JournalReader): Promise<void> {
  trapFilter = j.trapFilter;
  j.close();
  await a.stop();
}

interface Drained {
  /** Rows journaled since `base`. */
  readonly journaled: number;
  /** From the sender's end until the count stopped growing (or reached what was sent). */
  readonly drainMs: number;
}

/** Waits until the journal has `base + expected` trap rows, or stops growing for 1 s. */
async function drain(j: JournalReader, base: number, expected: number): Promise<Drained> {
  const t0 = performance.now();
  let last = -1;
  let lastChange = t0;
  for (;;) {
    const n = (j.trapEvents() ?? base) - base;
    const now = performance.now();
    if (n !== last) {
      last = n;
      lastChange = now;
    }
    if (n >= expected) return { journaled: n, drainMs: now - t0 };
    if (now - lastChange >= 1000 || now - t0 > DRAIN_MAX_S * 1000) return { journaled: n, drainMs: lastChange - t0 };
    await sleep(25);
  }
}

interface Step {
  readonly offered: string;
  readonly send: SendResult;
  readonly journaledInWindow: number;
  readonly result: Drained;
  readonly drops: number;
  readonly maxRxQueue: number;
  readonly peakRssKb: number;
}

/** One sending job against a running atcad: what was sent, journaled and dropped. */
async function step(
  env: Env,
  a: AtcadHandle,
  j: JournalReader,
  offered: string,
  run: () => void,
  onTick?: () => void,
): Promise<Step> {
  const base = j.trapEvents() ?? 0;
  const drops0 = udpSocket(a.pid, a.trapPort)?.drops ?? 0;
  let maxRx = 0;
  let peak = rssKb(a.pid) ?? 0;
  const watch = setInterval(() => {
    maxRx = Math.max(maxRx, udpSocket(a.pid, a.trapPort)?.rxQueue ?? 0);
    peak = Math.max(peak, rssKb(a.pid) ?? 0);
    onTick?.();
  }, 50);
  try {
    run();
    const send = await env.sender.done();
    const inWindow = (j.trapEvents() ?? base) - base;
    const result = await drain(j, base, send.sent);
    if (!a.running()) throw new Error(`atcad exited during the step:\n${tail(a.logFile)}`);
    const drops = (udpSocket(a.pid, a.trapPort)?.drops ?? drops0) - drops0;
    return { offered, send, journaledInWindow: inWindow, result, drops, maxRxQueue: maxRx, peakRssKb: peak };
  } finally {
    clearInterval(watch);
  }
}

const rate = (n: number, msec: number) => (msec > 0 ? Math.round((n / msec) * 1000) : 0);
const num = (n: number) => n.toLocaleString('en');

function stepRow(s: Step): string[] {
  const lost = s.send.sent - s.result.journaled;
  return [
    s.offered,
    num(s.send.sent),
    num(rate(s.send.sent, s.send.ms)),
    num(s.result.journaled),
    num(rate(s.result.journaled, s.send.ms + s.result.drainMs)),
    num(lost),
    num(s.drops),
    s.result.drainMs.toFixed(0),
    num(s.maxRxQueue),
  ];
}
const STEP_HEADER = [
  'offered/s',
  'sent',
  'sent/s',
  'journaled',
  'journaled/s',
  'lost',
  'kernel drops',
  'drain ms',
  'max rx queue B',
];

async function partA(env: Env): Promise<string> {
  const { atcad, journal } = await startAtcad(env);
  try {
    const rows: string[][] = [];
    let best = 0;
    let failures = 0;
    for (const r of RATES) {
      const s = await step(env, atcad, journal, num(r), () =>
        env.sender.begin(atcad.trapPort, r, { durationMs: STEP_S * 1000 }),
      );
      rows.push(stepRow(s));
      const ok = s.result.journaled >= s.send.sent && s.drops === 0 && s.result.drainMs <= MAX_DRAIN_MS;
      console.error(`  a. ${r}/s: ${ok ? 'sustained' : 'NOT sustained'}`);
      if (ok) {
        best = Math.max(best, rate(s.send.sent, s.send.ms));
        failures = 0;
      } else if (++failures >= 2) break; // two in a row: past the knee
      await sleep(1000);
    }
    const full = await step(env, atcad, journal, 'full speed', () =>
      env.sender.begin(atcad.trapPort, 0, { durationMs: FULL_S * 1000 }),
    );
    rows.push(stepRow(full));
    console.log(`\na. Throughput, ${STEP_S} s per step (atcad on CPU ${ATCAD_CPU}, sender on CPU ${SENDER_CPU})`);
    printTable(STEP_HEADER, rows);
    const overrun = rate(full.result.journaled, full.send.ms + full.result.drainMs);
    console.log(
      `Highest sustained: ${num(best)} traps/s (target ≥ 20,000/s); overrun at full speed: ${num(overrun)} journaled/s.`,
    );
    return `a. max sustained ${num(best)}/s; overrun ${num(overrun)}/s journaled`;
  } finally {
    await stopAtcad(atcad, journal);
  }
}

async function partB(env: Env): Promise<string> {
  const { atcad, journal } = await startAtcad(env);
  try {
    const s = await step(env, atcad, journal, num(LOSS_RATE), () =>
      env.sender.begin(atcad.trapPort, LOSS_RATE, { durationMs: LOSS_S * 1000 }),
    );
    const lost = s.send.sent - s.result.journaled;
    console.log(`\nb. Loss at ${num(LOSS_RATE)} traps/s for ${LOSS_S} s`);
    printTable(STEP_HEADER, [stepRow(s)]);
    console.log(
      `Lost ${num(lost)} of ${num(s.send.sent)} (${((100 * lost) / Math.max(1, s.send.sent)).toFixed(3)} %), ` +
        `${num(s.drops)} of them dropped by the kernel at atcad's socket (target: zero loss).`,
    );
    return `b. ${num(lost)} lost of ${num(s.send.sent)}, ${num(s.drops)} kernel drops`;
  } finally {
    await stopAtcad(atcad, journal);
  }
}

async function partC(env: Env): Promise<string> {
  const { atcad, journal } = await startAtcad(env);
  try {
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(rssKb(atcad.pid) ?? 0);
      await sleep(100);
    }
    const start = samples.sort((x, y) => x - y)[5]!;
    const s = await step(
      env,
      atcad,
      journal,
      `${num(STORM)} at ${STORM_RATE ? `${num(STORM_RATE)}/s` : 'full speed'}`,
      () => env.sender.begin(atcad.trapPort, STORM_RATE, { count: STORM }),
    );
    const after: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < SETTLE_S * 1000) {
      after.push(rssKb(atcad.pid) ?? 0);
      await sleep(1000);
    }
    const end = after.at(-1) ?? Number.NaN;
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${atcad.pid}/status`, 'utf8'));
    console.log('\nc. Memory (VmRSS) around a storm');
    printTable(STEP_HEADER, [stepRow(s)]);
    printTable(
      ['RSS at start', 'peak during storm + drain', `${SETTLE_S} s after`, 'lowest after', 'after − start', 'VmHWM'],
      [
        [
          `${(start / MB).toFixed(1)} MB`,
          `${(s.peakRssKb / MB).toFixed(1)} MB`,
          `${(end / MB).toFixed(1)} MB`,
          `${(Math.min(...after) / MB).toFixed(1)} MB`,
          `${((end - start) / MB).toFixed(1)} MB`,
          hwm ? `${(Number(hwm[1]) / MB).toFixed(1)} MB` : '?',
        ],
      ],
    );
    console.log('Target: back within 20 MB of the start.');
    return `c. RSS ${(start / MB).toFixed(1)} → peak ${(s.peakRssKb / MB).toFixed(1)} → ${(end / MB).toFixed(1)} MB`;
  } finally {
    await stopAtcad(atcad, journal);
  }
}

async function main(): Promise<void> {
  if (availableParallelism() < 2) throw new Error('needs two CPUs: atcad on one, the sender on the other');
  if (!existsSync(ATCAD_BUNDLE)) throw new Error(`${ATCAD_BUNDLE} is missing: run node scripts/build.mjs`);
  cleanupOnSignals();
  const dir = mkdtempSync(join(tmpdir(), 'atca-bench-pipe-'));
  onCleanup(`folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // This process (its journal reads) and the shelf share the sender's core: atcad's is its own.
  execFileSync('taskset', ['-a', '-p', '-c', String(SENDER_CPU), String(process.pid)], { stdio: 'ignore' });

  const templates: TrapTemplate[] = [];
  const kinds =
    TRAPS === 'mixed'
      ? [m3Pet(boardIpmb(SHELF.boards[1]!)), unmappedPet()]
      : TRAPS === 'mapped'
        ? [m3Pet(boardIpmb(SHELF.boards[1]!))]
        : [unmappedPet()];
  for (const k of kinds) templates.push(await captureTrap(COMMUNITY, k.specific, k.pet, dir));

  const shelf = await SimulatedShelf.start(SHELF);
  onCleanup('the simulated shelf', () => shelf.stop());
  const smPid = shelf.managers[0]!.pid;
  if (smPid !== undefined)
    execFileSync('taskset', ['-p', '-c', String(SENDER_CPU), String(smPid)], { stdio: 'ignore' });
  const sender = await TrapSender.start(['taskset', '-c', String(SENDER_CPU)], templates);
  onCleanup('the trap sender', () => sender.close());
  const env: Env = { dir, shelf, sender };

  const summary: string[] = [];
  if (PARTS.includes('a')) summary.push(await partA(env));
  if (PARTS.includes('b')) summary.push(await partB(env));
  if (PARTS.includes('c')) summary.push(await partC(env));
  console.log(`
Traps: ${TRAPS} (${templates.length === 2 ? 'hot-swap M2→M3 on slot 2 and M4→M7 from an IPMB address no slot has, alternately' : TRAPS === 'mapped' ? 'hot-swap M2→M3 on slot 2' : 'M4→M7 from an IPMB address no slot has'}),
v2c, encoded once by snmptrap and restamped (sequence, timestamp) per send. "journaled": ${trapFilter}.
"lost" = sent − journaled; "kernel drops": the drops column of atcad's trap socket in /proc/net/udp.
Machine: ${process.env.BENCH_MACHINE ?? 'not stated (BENCH_MACHINE)'}.
${summary.join('\n')}`);
}

try {
  await main();
} catch (e) {
  if (!interrupted()) console.error(`pipeline: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
