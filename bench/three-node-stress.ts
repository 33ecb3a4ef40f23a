// The false-fence run: the three-node harness (test/helpers/three-node.ts) with fence_atca
// armed and no fault at all, under CPU stress (stress-ng on every core, in each node's
// namespaces) and network stress (each node's link shaped by tc tbf and saturated by a flood
// ping of full-size packets to the next node: queueing delay up to the shaper's latency and
// tail drops, as a congested backplane; this kernel has no netem),
// for BENCH_STRESS_SEC (default 600). Any membership loss, fence or node death is false.
// Side by side in one run: Debian's corosync timers and each candidate in BENCH_STRESS_TOTEMS
// (';'-separated sets of key=number, default the reference tuning).
// Run as root: `npm run bench:three-node-stress`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NsProcess } from '../test/helpers/cluster.js';
import { configure } from '../test/helpers/failover-lab.js';
import { DEBIAN_TOTEM, NODES, ThreeNodeCluster } from '../test/helpers/three-node.js';
import { envInt, printTable } from './lib/stats.js';
import { parseTotem, type Totem } from './lib/totem.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = envInt('BENCH_STRESS_SEC', 600);
const SHAPER = (process.env.BENCH_SHAPER || 'tbf rate 20mbit burst 32kbit latency 50ms').split(' ');
const CANDIDATES = (process.env.BENCH_STRESS_TOTEMS || 'token=500,token_coefficient=0,consensus=600').split(';');

interface Outcome {
  readonly label: string;
  readonly membershipLosses: number;
  readonly tokenWarnings: number;
  readonly linkDowns: number;
  /** undefined: no node's fencer answered. */
  readonly fences: number | undefined;
  readonly deaths: number;
  /** Packets the shaper dropped (the network stress was real). */
  readonly shaperDrops: number;
}

interface Counts {
  readonly losses: number;
  readonly warnings: number;
  readonly linkDowns: number;
}

/** Counts in a node's corosync log. */
function corosyncCounts(dir: string): Counts {
  const log = readFileSync(join(dir, 'log-corosync/corosync.log'), 'utf8');
  return {
    losses: (log.match(/A new membership .* Members left/g) ?? []).length,
    warnings: (log.match(/Token has not been received/g) ?? []).length,
    linkDowns: (log.match(/link: \d+ is down/g) ?? []).length,
  };
}

/** Completed fence events in the fencer's history, asked of each live node in turn; undefined if none answered. */
async function fenceEvents(c: ThreeNodeCluster): Promise<number | undefined> {
  for (const i of [2, 1, 0]) {
    if (!c.nodes[i] || c.deaths.has(NODES[i]!)) continue;
    const r = await c.node(i).run(['stonith_admin', '--history', '*', '--output-as=xml'], 30_000);
    if (r.code === 0) return (r.stdout.match(/<fence_event /g) ?? []).length;
  }
  return undefined;
}

async function series(label: string, totem: Totem): Promise<Outcome> {
  const c = await ThreeNodeCluster.start({ totem });
  const stressors: NsProcess[] = [];
  try {
    await configure(c);
    // What the run is compared with: counts before the stress (boot and configure included).
    const before = NODES.map((_, i) => corosyncCounts(c.node(i).dir));
    const fencesBefore = await fenceEvents(c);
    const deathsBefore = c.deaths.size;
    for (let i = 0; i < NODES.length; i++) {
      const n = c.node(i);
      // corosync must run SCHED_RR (as on a real node), or the figures say nothing.
      const cls = await n.run(['ps', '-o', 'cls=', '-C', 'corosync'], 10_000);
      if (cls.stdout.trim() !== 'RR') throw new Error(`corosync on ${NODES[i]} is not SCHED_RR: ${cls.stdout}`);
      const r = await n.run(['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...SHAPER], 10_000);
      if (r.code !== 0) throw new Error(`tc ${SHAPER.join(' ')} on ${NODES[i]}: ${r.stderr}`);
      const next = `10.99.0.${((i + 1) % NODES.length) + 1}`;
      stressors.push(await n.spawn('flood', ['ping', '-f', '-q', '-s', '1400', next], {}));
      // Every core busy in each node: 3 nodes × all cores of the host, as a busy blade's payload.
      stressors.push(await n.spawn('stress', ['stress-ng', '--cpu', '0', '--cpu-method', 'matrixprod', '--quiet'], {}));
    }
    console.log(`${label}: ${SECONDS} s under stress-ng --cpu 0, ${SHAPER.join(' ')} and a flood ping`);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const quit = stressors.find((s) => !s.running);
    if (quit) throw new Error(`${quit.name} ended before the run did: ${quit.log(500)}`);
    let shaperDrops = 0;
    for (let i = 0; i < NODES.length; i++) {
      if (c.deaths.has(NODES[i]!)) continue;
      const q = await c.node(i).run(['tc', '-s', 'qdisc', 'show', 'dev', 'eth0'], 10_000);
      shaperDrops += Number(/dropped (\d+)/.exec(q.stdout)?.[1] ?? 0);
    }
    for (const s of stressors.splice(0)) await s.stop();
    // Every node's log, a node that died included (its folder stays until the cluster stops).
    const after = NODES.map((_, i) => corosyncCounts(c.nodes[i]!.dir));
    const delta = (i: number, f: (x: Counts) => number) => f(after[i]!) - f(before[i]!);
    // Losses as node3 (the quorum node) saw them: one partition is one loss, not one per node.
    const fencesAfter = await fenceEvents(c);
    return {
      label,
      membershipLosses: delta(2, (x) => x.losses),
      tokenWarnings: NODES.reduce((acc, _, i) => acc + delta(i, (x) => x.warnings), 0),
      linkDowns: NODES.reduce((acc, _, i) => acc + delta(i, (x) => x.linkDowns), 0),
      fences: fencesBefore === undefined || fencesAfter === undefined ? undefined : fencesAfter - fencesBefore,
      deaths: c.deaths.size - deathsBefore,
      shaperDrops,
    };
  } finally {
    for (const s of stressors) await s.stop().catch(() => undefined);
    await c.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the harness makes namespaces and a bridge');
  execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
  execFileSync('sh', ['-c', 'command -v stress-ng'], { stdio: 'pipe' }); // scripts/ensure-deps.sh installs it
  const rows: Outcome[] = [];
  rows.push(await series('Debian corosync (token 3000)', DEBIAN_TOTEM));
  for (const t of CANDIDATES) rows.push(await series(t.replaceAll(',', ' '), parseTotem(t, 'BENCH_STRESS_TOTEMS')));
  console.log(`\nFalse-fence run: ${SECONDS} s each, no fault; every count below is a false alarm`);
  printTable(
    [
      'corosync',
      "membership losses (node3's view)",
      'token warnings (all nodes)',
      'knet link downs (all nodes)',
      'fences',
      'nodes killed',
      'shaper drops',
    ],
    rows.map((r) => [
      r.label,
      String(r.membershipLosses),
      String(r.tokenWarnings),
      String(r.linkDowns),
      r.fences === undefined ? '? (no fencer answered)' : String(r.fences),
      String(r.deaths),
      String(r.shaperDrops),
    ]),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`three-node-stress: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
