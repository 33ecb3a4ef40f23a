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
import { configure } from '../test/helpers/failover-lab.js';
import { DEBIAN_TOTEM, NODES, ThreeNodeCluster } from '../test/helpers/three-node.js';
import { envInt, printTable } from './lib/stats.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = envInt('BENCH_STRESS_SEC', 600);
const SHAPER = (process.env.BENCH_SHAPER || 'tbf rate 20mbit burst 32kbit latency 50ms').split(' ');
const CANDIDATES = (process.env.BENCH_STRESS_TOTEMS || 'token=1000,token_coefficient=0,consensus=1200').split(';');

type Totem = Record<string, string | number>;

function parseTotem(s: string): Totem {
  return Object.fromEntries(
    s.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      if (!k || !v || !/^[a-z_]+$/.test(k) || !/^\d+$/.test(v)) throw new Error(`not key=number: ${kv}`);
      return [k, v] as const;
    }),
  );
}

interface Outcome {
  readonly label: string;
  readonly membershipLosses: number;
  readonly tokenWarnings: number;
  readonly linkDowns: number;
  readonly fences: number;
  readonly deaths: number;
}

/** Counts in a node's corosync log. */
function corosyncCounts(dir: string): { losses: number; warnings: number; linkDowns: number } {
  const log = readFileSync(join(dir, 'log-corosync/corosync.log'), 'utf8');
  return {
    losses: (log.match(/A new membership .* Members left/g) ?? []).length,
    warnings: (log.match(/Token has not been received/g) ?? []).length,
    linkDowns: (log.match(/link: \d+ is down/g) ?? []).length,
  };
}

async function series(label: string, totem: Totem): Promise<Outcome> {
  const c = await ThreeNodeCluster.start({ totem });
  const stressors: { stop(): Promise<void> }[] = [];
  try {
    await configure(c);
    const before = NODES.map((_, i) => corosyncCounts(c.node(i).dir));
    for (let i = 0; i < NODES.length; i++) {
      const n = c.node(i);
      const r = await n.run(['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...SHAPER], 10_000);
      if (r.code !== 0) throw new Error(`tc ${SHAPER.join(' ')} on ${NODES[i]}: ${r.stderr}`);
      const next = `10.99.0.${((i + 1) % NODES.length) + 1}`;
      stressors.push(await n.spawn('flood', ['ping', '-f', '-q', '-s', '1400', next], {}));
      // Every core busy in each node: 3 nodes × all cores of the host, as a busy blade's payload.
      stressors.push(await n.spawn('stress', ['stress-ng', '--cpu', '0', '--cpu-method', 'matrixprod', '--quiet'], {}));
    }
    console.log(`${label}: ${SECONDS} s under stress-ng --cpu 0, ${SHAPER.join(' ')} and a flood ping`);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    for (const s of stressors.splice(0)) await s.stop();
    const after = NODES.map((_, i) =>
      c.nodes[i] && !c.deaths.has(NODES[i]!) ? corosyncCounts(c.node(i).dir) : undefined,
    );
    const sum = (f: (x: { losses: number; warnings: number; linkDowns: number }) => number) =>
      after.reduce((acc, a, i) => acc + (a ? f(a) - f(before[i]!) : 0), 0);
    const history = await c.node(2).run(['stonith_admin', '--history', '*', '--output-as=xml'], 30_000);
    return {
      label,
      membershipLosses: sum((x) => x.losses),
      tokenWarnings: sum((x) => x.warnings),
      linkDowns: sum((x) => x.linkDowns),
      fences: (history.stdout.match(/<fence_event /g) ?? []).length,
      deaths: c.deaths.size,
    };
  } finally {
    for (const s of stressors) await s.stop().catch(() => undefined);
    await c.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the harness makes namespaces and a bridge');
  execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
  const rows: Outcome[] = [];
  rows.push(await series('Debian corosync (token 3000)', DEBIAN_TOTEM));
  for (const t of CANDIDATES) rows.push(await series(t.replaceAll(',', ' '), parseTotem(t)));
  console.log(`\nFalse-fence run: ${SECONDS} s each, no fault; every count below is a false alarm`);
  printTable(
    ['corosync', 'membership losses', 'token warnings', 'knet link downs', 'fences', 'nodes killed'],
    rows.map((r) => [
      r.label,
      String(r.membershipLosses),
      String(r.tokenWarnings),
      String(r.linkDowns),
      String(r.fences),
      String(r.deaths),
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
