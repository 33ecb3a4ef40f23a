// Failover as users feel it, on the project's three-node harness (test/helpers/three-node.ts:
// three corosync + Pacemaker nodes in namespaces on a bridge, fence_atca against the simulated
// shelf, the shelf made real — a node dies the moment its slot leaves M4): from the fault on
// the shelf to the resource started on the standby blade (its state file's mtime on node2),
// one clock. Side by side in one run:
//   - over-temperature (sick but alive) with atcad — Pacemaker alone never notices it;
//   - a graceful deactivation (ejector handle) with atcad: the app leaves before the payload stops;
//   - power loss (dead) with atcad and with atcad stopped (Pacemaker alone),
// each with Debian's corosync timers (token 3000) and with the candidate tuning
// (BENCH_TUNED_TOTEM, default token 500, token_coefficient 0, consensus 600). Each fault comes
// on an idle cluster (crm_resource --wait), as on a real site.
// Run as root: `npm run bench:three-node` (BENCH_RUNS, default 5 of each).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  appOnNode1,
  configure,
  cool,
  gracefulDeactivation,
  overTemperature,
  powerLoss,
  type RunningAtcad,
  repair,
  startAtcad,
  type Timeline,
} from '../test/helpers/failover-lab.js';
import { DEBIAN_TOTEM, ThreeNodeCluster } from '../test/helpers/three-node.js';
import { envInt, printTable, quantile } from './lib/stats.js';
import { parseTotem } from './lib/totem.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUNS = envInt('BENCH_RUNS', 5);
const TUNED = parseTotem(
  process.env.BENCH_TUNED_TOTEM || 'token=500,token_coefficient=0,consensus=600',
  'BENCH_TUNED_TOTEM',
);

interface Row {
  readonly what: string;
  readonly samples: number[];
  readonly stages: Timeline[];
}

async function series(label: string, totem: Readonly<Record<string, string | number>>): Promise<Row[]> {
  const c = await ThreeNodeCluster.start({ totem });
  let atcad: RunningAtcad | undefined;
  const rows: Row[] = [];
  try {
    await configure(c);
    atcad = await startAtcad(c, REPO);
    const sick: Timeline[] = [];
    for (let i = 0; i < RUNS; i++) {
      sick.push(await overTemperature(c, atcad));
      await cool(c);
    }
    rows.push({ what: `${label}: over-temperature, atcad`, samples: sick.map((t) => t.started), stages: sick });
    // A graceful deactivation (ejector handle opened): the payload runs until M1 (PICMG), so
    // the app can leave first; Pacemaker alone notices only when the payload stops.
    const leaving: Timeline[] = [];
    for (let i = 0; i < RUNS; i++) {
      await appOnNode1(c);
      leaving.push(await gracefulDeactivation(c, atcad));
      await repair(c);
    }
    rows.push({
      what: `${label}: graceful deactivation, atcad`,
      samples: leaving.map((t) => t.started),
      stages: leaving,
    });
    for (const withAtcad of [true, false]) {
      if (!withAtcad) {
        await atcad?.proc.stop();
        atcad = undefined;
      }
      const dead: Timeline[] = [];
      for (let i = 0; i < RUNS; i++) {
        await appOnNode1(c);
        dead.push(await powerLoss(c));
        await repair(c);
      }
      rows.push({
        what: `${label}: power loss, ${withAtcad ? 'atcad' : 'Pacemaker alone'}`,
        samples: dead.map((t) => t.started),
        stages: dead,
      });
    }
  } finally {
    await atcad?.proc.stop();
    await c.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the harness makes namespaces and a bridge');
  execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
  // BENCH_ONLY=debian or tuned: one of the two series (to read its logs, say).
  const only = process.env.BENCH_ONLY;
  if (only !== undefined && only !== '' && only !== 'debian' && only !== 'tuned')
    throw new Error(`BENCH_ONLY: debian or tuned, not ${only}`);
  const rows = [
    ...(only === 'tuned' ? [] : await series('Debian corosync (token 3000)', DEBIAN_TOTEM)),
    ...(only === 'debian'
      ? []
      : await series(
          `tuned (${Object.entries(TUNED)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`,
          TUNED,
        )),
  ];
  console.log(`\nFault on the shelf → resource started on node2, ms (${RUNS} runs each)`);
  printTable(
    ['scenario', 'p50', 'p90', 'min', 'max'],
    rows.map((r) => [
      r.what,
      quantile(r.samples, 0.5).toFixed(0),
      quantile(r.samples, 0.9).toFixed(0),
      Math.min(...r.samples).toFixed(0),
      Math.max(...r.samples).toFixed(0),
    ]),
  );
  console.log('\nEach run, ms to started (in order)');
  for (const r of rows) console.log(`${r.what}: ${r.samples.join(', ')}`);
  console.log('\nWhere the time goes (p50 of each stage, ms from the fault)');
  printTable(
    ['scenario', 'trap sent', 'decided', 'applied', 'node killed', 'membership', 'fenced', 'started'],
    rows.map((r) => {
      const at = (k: keyof Timeline) => {
        const xs = r.stages.map((t) => t[k]).filter((x): x is number => typeof x === 'number');
        return xs.length ? quantile(xs, 0.5).toFixed(0) : '–';
      };
      return [
        r.what,
        at('trap'),
        at('decided'),
        at('applied'),
        at('killed'),
        at('membership'),
        at('fenced'),
        at('started'),
      ];
    }),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`three-node: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
