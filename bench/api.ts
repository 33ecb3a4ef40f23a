// Benchmark: what the operators' view costs, and what it must not cost. Run with
// `npm run bench:api` (two cores; root is not needed).
//
// atcad runs as deployed (`node dist/atcad.mjs --config FILE`, dry-run) pinned to one core,
// watching 16 shelves × 14 slots: one simulated shelf (ipmi_sim, 14 blades with sensors) that
// all 16 shelf entries poll, so every slot has a state and sensors. The load (autocannon, this
// process) and the trap sender run on the other core. Figures:
//   a. GET /api/v1/shelves and GET /metrics: p50/p99 latency and requests/s at full speed;
//   b. 50 open event streams: atcad's CPU and memory with and without them;
//   c. trap → decision (atcad's receipt of a trap to its decision journaled, from the
//      journal's own timestamps): p50/p99 alone, and with 200 API requests/s and 50 streams;
//   d. side by side, what ipmi_exporter-style scraping costs on the same shelf: one
//      `ipmitool sdr` bridged to each blade per scrape.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { freePort } from '../src/sim/ports.js';
import { SimulatedShelf } from '../src/sim/shelf.js';
import { boardIpmb, boardSensors, type ShelfSpec } from '../src/sim/shelf-spec.js';
import {
  captureTrap,
  Sequence,
  stamp,
  type TrapTemplate,
  temperaturePet,
  temperatureSpecific,
  UPPER_CRITICAL_HIGH,
} from '../src/sim/trap-datagram.js';
import { JournalReader, spawnAtcad, tail, waitReady } from './lib/atcad.js';
import { cleanupAll, cleanupOnSignals, onCleanup } from './lib/cleanup.js';
import { rssKb } from './lib/procfs.js';
import { envInt, printTable, quantile, sleep } from './lib/stats.js';

const SHELVES = envInt('BENCH_API_SHELVES', 16);
const SLOTS = 14;
const ATCAD_CPU = envInt('BENCH_ATCAD_CPU', 1);
const LOAD_S = envInt('BENCH_API_LOAD_S', 10);
const TRAPS = envInt('BENCH_API_TRAPS', 400);
const TRAP_RATE = envInt('BENCH_API_TRAP_RATE', 10);
const STREAMS = envInt('BENCH_API_STREAMS', 50);
const COMMUNITY = 'Bench-api-5521';

const SPEC: ShelfSpec = {
  name: 'bench-shelf',
  username: 'admin',
  password: 'bench-secret',
  sites: Array.from({ length: SLOTS }, (_, i) => i + 1),
  boards: Array.from({ length: SLOTS }, (_, i) => ({ slot: i + 1 })),
  shelfManagers: 1,
};

function yaml(o: { shmPort: number; trapPort: number; apiPort: number; journal: string }): string {
  const slots = (s: number) =>
    Array.from({ length: SLOTS }, (_, i) => `"${i + 1}": { node: s${s}n${i + 1} }`).join(', ');
  const shelves = Array.from(
    { length: SHELVES },
    (_, k) => `  - name: s${k + 1}
    shelfManagers: [{ host: 127.0.0.1, port: ${o.shmPort} }]
    ipmi: { username: ${SPEC.username}, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.${k + 1}]
    slots: { ${slots(k + 1)} }`,
  ).join('\n');
  return `shelves:
${shelves}
traps: { address: 127.0.0.1, port: ${o.trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 5000, sensorIntervalMs: 15000, selIntervalMs: 15000, concurrency: 4 }
pacemaker: { mode: dry-run }
journal: { path: ${o.journal} }
api: { port: ${o.apiPort} }
`;
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function cannon(url: string, opts: { duration: number; connections?: number; overallRate?: number }) {
  return autocannon({ connections: 10, ...opts, url });
}

/** Opens n event streams; resolves once all are connected. */
async function openStreams(base: string, n: number): Promise<() => void> {
  const reqs: ReturnType<typeof get>[] = [];
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const r = get(`${base}/api/v1/stream`, (res) => {
            res.on('data', () => undefined);
            resolve();
          });
          r.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
          reqs.push(r);
        }),
    ),
  );
  return () => {
    for (const r of reqs) r.destroy();
  };
}

/**
 * Sends `count` temperature-critical traps at `rate`, round-robin over shelf s1's slots (each
 * is a new fault: the fresh reading refutes it, so the next one is new too), and returns the
 * trap → decision latencies from the journal: for each trap atcad received, its first decision.
 */
async function trapToDecision(
  templates: readonly TrapTemplate[],
  port: number,
  journalPath: string,
  count: number,
  rate: number,
): Promise<number[]> {
  const db = new Database(journalPath, { readonly: true });
  const since = (db.prepare('SELECT coalesce(max(id), 0) AS n FROM decisions').get() as { n: number }).n;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const seq = new Sequence();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sock.send(stamp(templates[i % templates.length]!, seq.next()), port, '127.0.0.1');
  }
  await sleep(2000);
  sock.close();
  const rows = db.prepare('SELECT at, evidence FROM decisions WHERE id > ? ORDER BY id').all(since) as {
    at: number;
    evidence: string;
  }[];
  db.close();
  const first = new Map<string, number>();
  for (const r of rows) {
    const ev = (JSON.parse(r.evidence) as { source: string; at: number; summary: string }[]).filter(
      (e) => e.source === 'trap',
    );
    const last = ev.at(-1);
    if (!last) continue;
    const key = `${last.at} ${last.summary}`;
    if (!first.has(key)) first.set(key, r.at - last.at);
  }
  return [...first.values()];
}

/**
 * ipmi_exporter's way: every scrape reads every sensor afresh over IPMI. ipmi_exporter runs one
 * SDR read per target; on an ATCA shelf the records live in the shelf manager's repository
 * (the simulated blades' IPMCs keep no device SDR, so `ipmitool -t <IPMC> sdr` is refused), so
 * one `ipmitool sdr elist` against the shelf manager — which bridges each reading to its
 * blade's IPMC — is one shelf's scrape.
 */
function exporterScrape(shmPort: number, env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(
    'ipmitool',
    ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(shmPort), '-U', SPEC.username, '-E', '-C', '3', 'sdr', 'elist'],
    { env, encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`ipmitool sdr elist: ${r.stderr}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  cleanupOnSignals();
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  onCleanup('folder', () => rmSync(dir, { recursive: true, force: true }));
  const shelf = await SimulatedShelf.start(SPEC);
  onCleanup('shelf', () => shelf.stop());
  const shmPort = shelf.managers[0]!.port;
  const trapPort = await freePort();
  const apiPort = await freePort();
  const journal = join(dir, 'journal.sqlite');
  const config = join(dir, 'atcad.yaml');
  writeFileSync(config, yaml({ shmPort, trapPort, apiPort, journal }));
  const atcad = spawnAtcad(
    ['taskset', '-c', String(ATCAD_CPU)],
    config,
    join(dir, 'atcad.log'),
    { SHELF_PW: SPEC.password, COMMUNITY },
    trapPort,
    journal,
  );
  onCleanup('atcad', () => atcad.stop());
  const reader = new JournalReader(journal);
  await waitReady(atcad, reader, 1);
  reader.close();
  const base = `http://127.0.0.1:${apiPort}`;
  // Every slot read once, sensors too, before measuring.
  for (;;) {
    const shelves = (await (await fetch(`${base}/api/v1/shelves`)).json()) as { slots: { hotswap: string }[] }[];
    const m4 = shelves.flatMap((s) => s.slots).filter((s) => s.hotswap === 'M4').length;
    if (m4 === SHELVES * SLOTS) break;
    if (!atcad.running()) throw new Error(`atcad exited:\n${tail(atcad.logFile)}`);
    await sleep(500);
  }
  await sleep(16_000);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  console.log(
    `\natcad: ${SHELVES} shelves × ${SLOTS} slots, ${metrics.split('\n').filter((l) => l && !l.startsWith('#')).length} metric samples, /api/v1/shelves ${(await (await fetch(`${base}/api/v1/shelves`)).text()).length} bytes`,
  );

  console.log(`\na. Requests at full speed (${LOAD_S} s each, 10 connections, atcad on one core)`);
  const rows: string[][] = [];
  for (const path of ['/api/v1/shelves', '/metrics', '/api/v1/shelves/s1/slots/1', '/api/v1/decisions?limit=50']) {
    const r = await cannon(`${base}${path}`, { duration: LOAD_S });
    rows.push([
      path,
      String(r.latency.p50),
      String(r.latency.p99),
      String(Math.round(r.requests.average)),
      String(r.non2xx + r.errors),
    ]);
  }
  printTable(['route', 'p50 ms', 'p99 ms', 'req/s', 'errors'], rows);

  console.log(`\nb. ${STREAMS} open event streams (10 s each way)`);
  const measureIdle = async () => {
    const c0 = cpuSeconds(atcad.pid);
    await sleep(10_000);
    return { cpu: ((cpuSeconds(atcad.pid) - c0) / 10) * 100, rss: (rssKb(atcad.pid) ?? 0) / 1024 };
  };
  const idle = await measureIdle();
  const close = await openStreams(base, STREAMS);
  const streaming = await measureIdle();
  close();
  printTable(
    ['', 'atcad CPU %', 'RSS MiB'],
    [
      ['no stream', idle.cpu.toFixed(1), idle.rss.toFixed(0)],
      [`${STREAMS} streams`, streaming.cpu.toFixed(1), streaming.rss.toFixed(0)],
    ],
  );

  console.log(`\nc. Trap → decision journaled (${TRAPS} traps at ${TRAP_RATE}/s, ms, atcad's own clock)`);
  const home = join(dir, 'snmp-home');
  const templates: TrapTemplate[] = [];
  for (const b of SPEC.boards) {
    const sensor = boardSensors(b).temperature;
    templates.push(
      await captureTrap(
        COMMUNITY,
        temperatureSpecific(UPPER_CRITICAL_HIGH, false),
        temperaturePet(boardIpmb(b), sensor, UPPER_CRITICAL_HIGH, true, 85),
        home,
      ),
    );
  }
  // s1's traps come from 127.0.0.1. Three runs: alone; operators' load (200 API requests/s
  // over the read routes, 50 streams, Prometheus scraping every second); and a harsher one
  // (100 /api/v1/shelves and 100 /metrics a second, 50 streams).
  const seconds = Math.ceil(TRAPS / TRAP_RATE) + 4;
  const under = async (load: () => Promise<autocannon.Result>[]) => {
    const closeStreams = await openStreams(base, STREAMS);
    const running = load();
    await sleep(500);
    const xs = await trapToDecision(templates, trapPort, journal, TRAPS, TRAP_RATE);
    const done = await Promise.all(running);
    closeStreams();
    return { xs, rate: done.reduce((n, r) => n + r.requests.average, 0) };
  };
  const alone = await trapToDecision(templates, trapPort, journal, TRAPS, TRAP_RATE);
  const operators = await under(() => [
    autocannon({
      url: base,
      connections: 8,
      duration: seconds,
      overallRate: 200,
      requests: [
        { path: '/api/v1/shelves' },
        { path: '/api/v1/shelves/s1/slots/3' },
        { path: '/api/v1/decisions?limit=50' },
        { path: '/api/v1/events?limit=50&shelf=s1' },
      ],
    }),
    autocannon({ url: `${base}/metrics`, connections: 1, duration: seconds, overallRate: 1 }),
  ]);
  const harsh = await under(() => [
    cannon(`${base}/api/v1/shelves`, { duration: seconds, connections: 4, overallRate: 100 }),
    cannon(`${base}/metrics`, { duration: seconds, connections: 4, overallRate: 100 }),
  ]);
  const row = (name: string, xs: number[]) => [
    name,
    String(xs.length),
    String(quantile(xs, 0.5)),
    String(quantile(xs, 0.99)),
    String(Math.max(...xs)),
  ];
  printTable(
    ['', 'traps decided', 'p50', 'p99', 'max'],
    [
      row('no API load', alone),
      row(
        `${Math.round(operators.rate)} req/s over the API routes + ${STREAMS} streams + a scrape a second`,
        operators.xs,
      ),
      row(`${Math.round(harsh.rate)} req/s, half of them /metrics, + ${STREAMS} streams`, harsh.xs),
    ],
  );

  console.log(`\nd. One scrape, side by side (the same shelf, ${SLOTS} blades)`);
  const env = { PATH: process.env.PATH, IPMI_PASSWORD: SPEC.password, HOME: dir };
  const exporter = [exporterScrape(shmPort, env), exporterScrape(shmPort, env), exporterScrape(shmPort, env)];
  const ours: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await (await fetch(`${base}/metrics`)).text();
    ours.push(performance.now() - t);
  }
  printTable(
    ['scrape', 'one shelf, ms', `${SHELVES} shelves, ms (scaled)`],
    [
      [
        'ipmi_exporter-style: ipmitool sdr elist per shelf',
        quantile(exporter, 0.5).toFixed(0),
        (quantile(exporter, 0.5) * SHELVES).toFixed(0),
      ],
      [`atcad /metrics (all ${SHELVES} shelves, p50 of 20)`, '–', quantile(ours, 0.5).toFixed(1)],
    ],
  );
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
