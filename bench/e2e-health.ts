// Benchmark: PET trap → `#health-atca` in a live cluster's CIB, end to end, side by side with
// what admins script by hand. Run with `npm run bench:e2e` (as root: it makes namespaces).
//
// One real one-node cluster (corosync + Pacemaker, test/helpers/cluster.ts) with the simulated
// shelf in its network namespace, and two contenders in there, both running for the whole run
// and both setting the same attribute on the same node the same way (attrd_updater -U):
//   atcad      node dist/atcad.mjs --config … (pacemaker.mode live)
//   snmptrapd  snmptrapd + `traphandle default pet-to-health.sh` (bench/lib/snmptrapd.ts)
// Each sample sends one temperature "upper critical going high" PET (DEFAULT_RULES:
// temperature-critical → health-red) for slot 1 (node1) to one contender, and times it from
// just before `send` to the moment the new value is visible in the CIB (a CIB client's change
// notification, bench/lib/attribute-watch.ts); then the deassertion brings node1 back to green
// (atcad: policy.recoveryMs 0) before the next sample. Contenders take turns sample by
// sample in a shuffled order, so that whatever else the machine does hits all alike.
// With background traffic, 1000 valid PETs/s that lead to no action go to the contender being
// measured, in blocks of a few samples each.
import { execFileSync } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/sim/ports.js';
import { SimulatedShelf } from '../src/sim/shelf.js';
import { boardIpmb, DEFAULT_SHELF, temperatureSensor } from '../src/sim/shelf-spec.js';
import {
  captureTrap,
  m3Pet,
  Sequence,
  stamp,
  type TrapTemplate,
  temperaturePet,
  temperatureSpecific,
  UPPER_CRITICAL_HIGH,
  unmappedPet,
} from '../src/sim/trap-datagram.js';
import { CLUSTER_TOOLS, LiveCluster, type NsProcess } from '../test/helpers/cluster.js';
import { ATCAD_BUNDLE, atcadYaml, JournalReader, REPO } from './lib/atcad.js';
import { AttributeLog, alertLineParser, cibDiffParser, writeAlertAgent } from './lib/attribute-watch.js';
import { cleanupAll, cleanupOnSignals, interrupted, onCleanup } from './lib/cleanup.js';
import { calibrateWallClock, wallUs } from './lib/clock.js';
import { childrenOf, udpSocket } from './lib/procfs.js';
import { TrapSender } from './lib/sender.js';
import { writeSnmptrapd } from './lib/snmptrapd.js';
import { envInt, ms, printTable, quantile, sleep, summarize } from './lib/stats.js';

const RUNS = envInt('BENCH_E2E_RUNS', 200);
const WARMUP = envInt('BENCH_E2E_WARMUP', 5);
const BG_RATE = envInt('BENCH_E2E_BG_RATE', 1000);
const BG_BLOCK = Math.max(1, envInt('BENCH_E2E_BG_BLOCK', 10));
const BG_LEAD_MS = envInt('BENCH_E2E_BG_LEAD_MS', 500);
const GAP_MS = envInt('BENCH_E2E_GAP_MS', 150);
const TIMEOUT_MS = envInt('BENCH_E2E_TIMEOUT_MS', 3000);
const VERIFY = envInt('BENCH_E2E_VERIFY', 0) !== 0;
const ALERT = envInt('BENCH_E2E_ALERT', 0) !== 0;
const PHASES = (process.env.BENCH_E2E_PHASES ?? 'idle,bg').split(',').map((s) => s.trim());
const BG_KIND = process.env.BENCH_E2E_BG ?? 'm3';
const ALL_CONTENDERS = ['atcad', 'snmptrapd'] as const;
type ContenderName = (typeof ALL_CONTENDERS)[number];
const CONTENDERS = (process.env.BENCH_E2E_CONTENDERS ?? ALL_CONTENDERS.join(','))
  .split(',')
  .map((s) => s.trim()) as ContenderName[];
for (const c of CONTENDERS)
  if (!ALL_CONTENDERS.includes(c)) throw new Error(`BENCH_E2E_CONTENDERS: unknown contender ${c}`);
for (const p of PHASES) if (p !== 'idle' && p !== 'bg') throw new Error(`BENCH_E2E_PHASES: unknown phase ${p}`);
if (BG_KIND !== 'm3' && BG_KIND !== 'unmapped') throw new Error('BENCH_E2E_BG: m3 or unmapped');

const ATTR = '#health-atca';
const CIB_WATCH = join(REPO, 'bench/lib/cib-watch.py');
const NODE = 'node1';
const COMMUNITY = 'Bench-e2e-4417';
const SHELF = { ...DEFAULT_SHELF, shelfManagers: 1 as const };
const BOARD1 = SHELF.boards.find((b) => b.slot === 1)!;
const BOARD2 = SHELF.boards.find((b) => b.slot === 2)!;

interface Contender {
  readonly name: ContenderName;
  readonly port: number;
  readonly proc: NsProcess;
}

interface Samples {
  raise: number[];
  /** The same samples' attrd alert timestamps (BENCH_E2E_ALERT=1). */
  alert: number[];
  clearedEarly: number;
  clear: number[];
  lost: number;
  clearLost: number;
  verifyFailed: number;
  forcedGreen: number;
}

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('run as root: the cluster needs namespaces, mounts and its daemons');
  const missing = [...CLUSTER_TOOLS, '/usr/sbin/snmptrapd', '/usr/bin/snmptrap', '/usr/bin/ipmi_sim'].filter(
    (t) => !existsSync(t),
  );
  if (missing.length > 0) throw new Error(`missing: ${missing.join(', ')}`);
  if (!existsSync(ATCAD_BUNDLE)) throw new Error(`${ATCAD_BUNDLE} is missing: run node scripts/build.mjs`);
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

async function main(): Promise<void> {
  preflight();
  cleanupOnSignals();
  const dir = mkdtempSync(join(tmpdir(), 'atca-bench-e2e-'));
  chmodSync(dir, 0o755); // the alert agent runs as hacluster
  onCleanup(`folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));

  // --- the traps, encoded once by snmptrap ---
  const ipmb1 = boardIpmb(BOARD1);
  const sensor1 = temperatureSensor(BOARD1);
  const raiseSpecific = temperatureSpecific(UPPER_CRITICAL_HIGH, false);
  const clearSpecific = temperatureSpecific(UPPER_CRITICAL_HIGH, true);
  const raise = await captureTrap(
    COMMUNITY,
    raiseSpecific,
    temperaturePet(ipmb1, sensor1, UPPER_CRITICAL_HIGH, true, 95),
    dir,
  );
  const clear = await captureTrap(
    COMMUNITY,
    clearSpecific,
    temperaturePet(ipmb1, sensor1, UPPER_CRITICAL_HIGH, false, 70),
    dir,
  );
  const bgPet = BG_KIND === 'm3' ? m3Pet(boardIpmb(BOARD2)) : unmappedPet();
  const bg: TrapTemplate = await captureTrap(COMMUNITY, bgPet.specific, bgPet.pet, dir);

  // --- the cluster, the shelf, the CIB observation ---
  console.error('starting a one-node cluster…');
  const cluster = await LiveCluster.start({ node: NODE, properties: { 'stonith-enabled': 'false' } });
  onCleanup('the cluster', () => cluster.stop());
  const shelf = await SimulatedShelf.start(SHELF, { commandPrefix: cluster.enter('net') });
  onCleanup('the simulated shelf', () => shelf.stop());
  const sm = shelf.managers[0]!;

  // The moment of truth: a CIB client subscribed to change notifications (bench/lib/cib-watch.py).
  const watcher = await cluster.spawn('cib-watch', ['python3', CIB_WATCH]);
  onCleanup('the CIB watcher', () => watcher.stop());
  await waitFor('the CIB watcher to connect', 60_000, () => {
    if (!watcher.running) throw new Error(`cib-watch.py exited:\n${watcher.log()}`);
    return watcher.log().includes('ready');
  });
  const cib = new AttributeLog(watcher.logFile, cibDiffParser(ATTR, new Map([['1', NODE]])));
  let alerts: AttributeLog | undefined;
  if (ALERT) {
    const alert = writeAlertAgent(dir, ATTR);
    const created = await cluster.run(['cibadmin', '--create', '--scope', 'configuration', '--xml-text', alert.xml]);
    if (created.code !== 0) throw new Error(`adding the alert: ${created.stderr}`);
    alerts = new AttributeLog(alert.logFile, alertLineParser);
  }
  const attrd = (args: string[]) => cluster.run(['attrd_updater', '-n', ATTR, ...args, '-N', NODE], 30_000);
  // Both observers see a change made by hand before anything is measured.
  for (const v of ['yellow', 'green']) {
    await attrd(['-U', v]);
    const seen = await cib.next((c) => c.node === NODE && c.value === v, 20_000);
    if (!seen) throw new Error(`the CIB watcher did not see ${ATTR}=${v}:\n${watcher.log()}\n${cluster.logs()}`);
    if (alerts && !(await alerts.next((c) => c.node === NODE && c.value === v, 30_000)))
      throw new Error(`no attribute alert for ${ATTR}=${v} within 30 s\n${cluster.logs()}`);
  }

  // --- the contenders ---
  const contenders = new Map<ContenderName, Contender>();
  const journals: JournalReader[] = [];
  for (const name of CONTENDERS) {
    const port = await freePort();
    let proc: NsProcess;
    if (name === 'snmptrapd') {
      const home = join(dir, 'snmptrapd');
      const setup = writeSnmptrapd(home, COMMUNITY, port, { [ipmb1]: NODE }, [
        { specific: raiseSpecific, value: 'red' },
        { specific: clearSpecific, value: 'green' },
      ]);
      proc = await cluster.spawn('snmptrapd', setup.argv, { env: setup.env });
    } else {
      const journal = join(dir, `${name}.sqlite`);
      const config = join(dir, `${name}.yaml`);
      writeFileSync(
        config,
        atcadYaml({
          shelfManagerPort: sm.port,
          shelfUser: SHELF.username,
          trapPort: port,
          apiPort: await freePort(),
          journal,
          mode: 'live',
          slots: { 1: NODE, 2: 'node2' },
          // Back to green at the next policy tick after the clear, and no debounce: each sample
          // is one fresh raise. Everything else is atcad's default (rules, polling intervals).
          policy: ['recoveryMs: 0', 'debounceMs: 0'],
        }),
      );
      const env: Record<string, string> = { SHELF_PW: SHELF.password, COMMUNITY };
      proc = await cluster.spawn(name, [process.execPath, ATCAD_BUNDLE, '--config', config], { env, cwd: REPO });
      const reader = new JournalReader(journal);
      journals.push(reader);
      await waitFor(`${name} to start and poll the shelf`, 60_000, () => {
        if (!proc.running) throw new Error(`${name} exited:\n${proc.log()}`);
        return udpSocket(proc.pid, port) !== undefined && (reader.events() ?? 0) >= 2;
      });
    }
    onCleanup(name, () => proc.stop());
    await waitFor(`${name} to open its trap port`, 20_000, () => {
      if (!proc.running) throw new Error(`${name} exited:\n${proc.log()}`);
      return udpSocket(proc.pid, port) !== undefined;
    });
    contenders.set(name, { name, port, proc });
  }
  for (const j of journals) j.close();

  const sock: Socket = await cluster.udpSocket();
  onCleanup('the trap socket', () => sock.close());
  const sender = await TrapSender.start([...cluster.enter('net'), '--'], [bg]);
  onCleanup('the background sender', () => sender.close());
  const seq = new Sequence();

  // --- one sample ---
  const cibValue = async (): Promise<string | undefined> => {
    const r = await cluster.run([
      'cibadmin',
      '--query',
      '--xpath',
      `//node_state[@uname='${NODE}']//nvpair[@name='${ATTR}']`,
    ]);
    return /value="([^"]*)"/.exec(r.stdout)?.[1];
  };

  const ensureGreen = async (s: Samples): Promise<void> => {
    if (cib.lastValue(NODE) === 'green') return;
    const seen = await cib.next((c) => c.node === NODE && c.value === 'green', TIMEOUT_MS);
    if (seen) return;
    // Something was lost (a contender dropped its clear): put it back by hand, untimed.
    s.forcedGreen++;
    await attrd(['-U', 'green']);
    const forced = await cib.next((c) => c.node === NODE && c.value === 'green', 10_000);
    if (!forced) throw new Error(`node1 does not go back to green\n${cluster.logs()}`);
  };

  const sample = async (c: Contender, s: Samples | undefined): Promise<void> => {
    const into = s ?? emptySamples();
    await ensureGreen(into);
    await sleep(GAP_MS + Math.random() * 50);
    cib.poll();
    alerts?.poll();
    calibrateWallClock();
    const t0 = wallUs();
    sock.send(stamp(raise, seq.next()), c.port, '127.0.0.1');
    // The alert's coarse clock may read up to 4 ms early; the watcher's is exact.
    const isRed = (slackUs: number) => (x: { node: string; value: string; atUs: number }) =>
      x.node === NODE && x.value === 'red' && x.atUs >= t0 - slackUs;
    const red = await cib.next(isRed(0), TIMEOUT_MS);
    if (red) {
      into.raise.push((red.atUs - t0) / 1000);
      if (alerts) {
        const a = await alerts.next(isRed(5000), 2000);
        if (a) into.alert.push((a.atUs - t0) / 1000);
      }
      if (VERIFY && (await cibValue()) !== 'red') into.verifyFailed++;
    } else into.lost++;
    if (red && cib.lastValue(NODE) === 'green') {
      into.clearedEarly++; // the contender cleared it by itself (atcad: a poll read the sensor) before our clear
      return;
    }
    // The clear goes out even when the raise was lost, so that a raise still queued somewhere is
    // followed by its clear; it then changes nothing (already green), so it is not waited for long.
    calibrateWallClock();
    const t1 = wallUs();
    sock.send(stamp(clear, seq.next()), c.port, '127.0.0.1');
    const green = await cib.next(
      (x) => x.node === NODE && x.value === 'green' && x.atUs >= t1,
      red ? TIMEOUT_MS : Math.min(500, TIMEOUT_MS),
    );
    if (green) into.clear.push((green.atUs - t1) / 1000);
    else if (red) into.clearLost++;
  };

  /** A contender with nothing queued: its socket empty and no handler running. */
  const drained = async (c: Contender, timeoutMs = 30_000): Promise<void> => {
    const by = Date.now() + timeoutMs;
    let quietSince = Date.now();
    while (Date.now() < by) {
      const busy =
        (udpSocket(c.proc.pid, c.port)?.rxQueue ?? 0) > 0 ||
        (c.name === 'snmptrapd' && childrenOf(c.proc.pid).length > 0);
      if (busy) quietSince = Date.now();
      else if (Date.now() - quietSince >= 200) return;
      await sleep(20);
    }
    console.error(`warning: ${c.name} still busy after ${timeoutMs} ms`);
  };

  const results = new Map<string, Samples>();
  const key = (phase: string, c: ContenderName) => `${phase}|${c}`;
  const list = [...contenders.values()];

  console.error(`warm-up: ${WARMUP} samples each…`);
  for (let i = 0; i < WARMUP; i++) for (const c of shuffled(list)) await sample(c, undefined);

  const dropsBefore = new Map(list.map((c) => [c.name, udpSocket(c.proc.pid, c.port)?.drops ?? 0]));
  let bgSent = 0;
  let bgMs = 0;
  for (const phase of PHASES) {
    for (const c of list) results.set(key(phase, c.name), emptySamples());
    const t0 = Date.now();
    if (phase === 'idle') {
      console.error(`idle: ${RUNS} samples each, interleaved…`);
      for (let i = 0; i < RUNS; i++) {
        for (const c of shuffled(list)) await sample(c, results.get(key(phase, c.name)));
        if ((i + 1) % 50 === 0) console.error(`  ${i + 1}/${RUNS}`);
      }
    } else {
      console.error(`background ${BG_RATE} traps/s: ${RUNS} samples each, in blocks of ${BG_BLOCK}…`);
      const done = new Map(list.map((c) => [c.name, 0]));
      while ([...done.values()].some((n) => n < RUNS)) {
        for (const c of shuffled(list)) {
          const n = Math.min(BG_BLOCK, RUNS - done.get(c.name)!);
          if (n <= 0) continue;
          sender.begin(c.port, BG_RATE);
          await sleep(BG_LEAD_MS);
          for (let i = 0; i < n; i++) await sample(c, results.get(key(phase, c.name)));
          const r = await sender.stop();
          bgSent += r.sent;
          bgMs += r.ms;
          done.set(c.name, done.get(c.name)! + n);
          // What it still had queued is its own: let it finish and put node1 back, on its account.
          await drained(c);
          await ensureGreen(results.get(key(phase, c.name))!);
        }
      }
    }
    console.error(`  ${phase} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  // --- report ---
  const rows: string[][] = [];
  for (const phase of PHASES) {
    for (const c of CONTENDERS) {
      const s = results.get(key(phase, c))!;
      const x = summarize(s.raise);
      rows.push([
        label(phase),
        c,
        String(x.n),
        ms(mean(s.raise)),
        ms(x.p50),
        ms(x.p90),
        ms(x.p99),
        ms(x.max),
        String(s.lost),
        [
          s.verifyFailed ? `${s.verifyFailed} not in CIB` : '',
          s.clearLost ? `${s.clearLost} clears lost` : '',
          s.forcedGreen ? `${s.forcedGreen} forced green` : '',
          s.clearedEarly ? `${s.clearedEarly} cleared before the clear trap` : '',
        ]
          .filter(Boolean)
          .join(', '),
      ]);
    }
  }
  console.log(`\nPET trap sent → ${ATTR}=red on ${NODE} visible in the CIB (its change notification), ms`);
  printTable(['load', 'contender', 'n', 'mean', 'p50', 'p90', 'p99', 'max', 'lost', 'notes'], rows);
  if (ALERT) {
    const arows: string[][] = [];
    for (const phase of PHASES)
      for (const c of CONTENDERS) {
        const xs = results.get(key(phase, c))!.alert;
        const x = summarize(xs);
        arows.push([label(phase), c, String(x.n), ms(mean(xs)), ms(x.p50), ms(x.p99), ms(x.max)]);
      }
    console.log('\nCross-check: the same samples to attrd sending the CIB request (alert timestamp: 1–4 ms steps), ms');
    printTable(['load', 'contender', 'n', 'mean', 'p50', 'p99', 'max'], arows);
  }

  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN);
  const cmp: string[][] = [];
  for (const phase of PHASES) {
    const get = (c: ContenderName) => results.get(key(phase, c))?.raise ?? [];
    const atcad = get('atcad');
    const trapd = get('snmptrapd');
    for (const q of ['mean', 0.5, 0.9, 0.99] as const) {
      const at = (xs: number[]) => (q === 'mean' ? mean(xs) : quantile(xs, q));
      cmp.push([label(phase), q === 'mean' ? 'mean' : `p${Math.round(q * 100)}`, times(ratio(at(trapd), at(atcad)))]);
    }
  }
  console.log('\nRatios (same load, same quantile)');
  printTable(['load', 'q', 'snmptrapd ÷ atcad'], cmp);

  const crows: string[][] = [];
  for (const phase of PHASES)
    for (const c of CONTENDERS) {
      const x = summarize(results.get(key(phase, c))!.clear);
      crows.push([label(phase), c, String(x.n), ms(x.p50), ms(x.p99), ms(x.max)]);
    }
  console.log('\nClear trap sent → green visible in the CIB, ms (atcad: includes its policy tick, recoveryMs 0)');
  printTable(['load', 'contender', 'n', 'p50', 'p99', 'max'], crows);

  const drows = list.map((c) => {
    const d = udpSocket(c.proc.pid, c.port)?.drops;
    return [c.name, d === undefined ? '?' : String(d - (dropsBefore.get(c.name) ?? 0)), c.proc.running ? 'yes' : 'NO'];
  });
  console.log(
    `\nBackground: ${bgSent} sent in ${(bgMs / 1000).toFixed(1)} s of blocks (${bgMs > 0 ? Math.round((bgSent / bgMs) * 1000) : 0}/s), kind ${BG_KIND}`,
  );
  printTable(['contender', 'kernel drops on its trap socket (measured phases)', 'still running'], drows);
  const pacemaker = execFileSync('pacemakerd', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`
Method: each sample sends one PET (temperature upper-critical going high, slot 1 → ${NODE}) from a socket
inside the cluster's network namespace, t0 taken just before send() on the wall clock (re-aligned to a
Date.now() tick before each sample, ±1 µs). The end is when a CIB client (bench/lib/cib-watch.py, ${pacemaker})
received the CIB manager's change notification carrying ${ATTR}=red for ${NODE}: the value is in the CIB and the
controller is being told. Its clock: CLOCK_REALTIME read first thing in the callback (sub-µs); it includes the
notification's delivery to that client, as for any CIB client.${VERIFY ? ' After each, cibadmin --query had to show red ("not in CIB" otherwise).' : ''}
Samples per contender and load: ${RUNS} (warm-up ${WARMUP} each, not counted), contenders shuffled per round;
quiet gap ${GAP_MS}–${GAP_MS + 50} ms before each; "lost": not in the CIB within ${TIMEOUT_MS} ms.
Background: ${BG_KIND === 'm3' ? 'hot-swap M2→M3 on slot 2 (node2)' : 'hot-swap M4→M7 from an IPMB address no slot has'}, to the contender measured, from ${BG_LEAD_MS} ms before its block.
Machine: ${process.env.BENCH_MACHINE ?? 'not stated (BENCH_MACHINE)'}.`);
}

const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(1)}×` : '–');
const label = (phase: string) => (phase === 'idle' ? 'idle' : `+${BG_RATE}/s`);
const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

function emptySamples(): Samples {
  return { raise: [], alert: [], clear: [], lost: 0, clearLost: 0, verifyFailed: 0, forcedGreen: 0, clearedEarly: 0 };
}

async function waitFor(what: string, timeoutMs: number, f: () => boolean | Promise<boolean>): Promise<void> {
  const by = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > by) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

try {
  await main();
} catch (e) {
  if (!interrupted()) console.error(`e2e-health: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
