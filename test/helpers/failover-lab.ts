// What the three-node scenarios (test/integration/three-node-failover.test.ts) and their bench
// (bench/three-node.ts) share: the cluster's configuration (fence_atca against the shelf on
// the bridge, a Dummy "app" preferring node1, never on node3, node-health migrate-on-red),
// atcad live on node3, and each fault as the shelf would show it, timed from one clock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { temperaturePet, temperatureSpecific, UPPER_CRITICAL_HIGH } from '../../src/sim/trap-datagram.js';
import { type NsProcess, until } from './cluster.js';
import { TEST_SHELF } from './test-shelf.js';
import { addrOf, BRIDGE_ADDR, type ThreeNodeCluster } from './three-node.js';

export const TRAP_PORT = 16200;

export function crm(c: ThreeNodeCluster, args: string[]) {
  return c.node(2).run(args, 30_000);
}

async function mustRun(c: ThreeNodeCluster, args: string[]): Promise<void> {
  const r = await crm(c, args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** Three nodes online; the fence device, the app and its constraints; the app running on node1. */
export async function configure(c: ThreeNodeCluster): Promise<void> {
  const sm = c.shelf.managers[0]!;
  await until(
    'three nodes online',
    async () => {
      const r = await crm(c, ['crm_mon', '-1', '--output-as=xml', '--include=none', '--include=nodes']);
      return (r.stdout.match(/online="true"/g) ?? []).length === 3 || undefined;
    },
    120_000,
  );
  const nv = (id: string, name: string, value: string | number) =>
    `<nvpair id="shelf1-${id}" name="${name}" value="${value}"/>`;
  const device = `<primitive id="shelf1" class="stonith" type="fence_atca">
  <instance_attributes id="shelf1-params">${[
    nv('ip', 'ip', BRIDGE_ADDR),
    nv('ipport', 'ipport', sm.port),
    nv('username', 'username', TEST_SHELF.username),
    nv('password', 'password', TEST_SHELF.password),
    nv('cipher', 'cipher', 3),
    nv('sleep', 'stonith_status_sleep', '0.05'),
    nv('map', 'pcmk_host_map', 'node1:1;node2:2;node3:3'),
    nv('check', 'pcmk_host_check', 'static-list'),
    nv('reboot', 'pcmk_reboot_action', 'off'),
  ].join('')}</instance_attributes>
  <operations><op id="shelf1-monitor" name="monitor" interval="60s"/></operations>
</primitive>`;
  const app = `<primitive id="app" class="ocf" provider="pacemaker" type="Dummy">
  <instance_attributes id="app-params"><nvpair id="app-state" name="state" value="/run/Dummy-app.state"/></instance_attributes>
  <operations><op id="app-monitor" name="monitor" interval="10s"/></operations>
</primitive>`;
  for (const xml of [device, app])
    await mustRun(c, ['cibadmin', '--create', '--scope', 'resources', '--xml-text', xml]);
  await mustRun(c, [
    'cibadmin',
    '--replace',
    '--scope',
    'constraints',
    '--xml-text',
    `<constraints>
  <rsc_location id="app-prefers-node1" rsc="app" node="node1" score="100"/>
  <rsc_location id="app-avoids-node3" rsc="app" node="node3" score="-INFINITY"/>
</constraints>`,
  ]);
  await appOnNode1(c);
}

/** node1 runs the app (node2 does not). */
export async function appOnNode1(c: ThreeNodeCluster, ms = 120_000): Promise<void> {
  await until(
    'the app on node1',
    () => (c.startedAt(0, 'app') !== undefined && c.startedAt(1, 'app') === undefined ? true : undefined),
    ms,
  );
}

export interface RunningAtcad {
  readonly proc: NsProcess;
  readonly journalPath: string;
  journal<T>(f: (j: Journal) => T): T;
}

/** atcad live on node3, its traps on 10.99.0.3:TRAP_PORT from the bridge's address. */
export async function startAtcad(c: ThreeNodeCluster, repo: string): Promise<RunningAtcad> {
  const node3 = c.node(2);
  c.trapPort = TRAP_PORT;
  const journalPath = join(node3.dir, `journal-${Date.now()}.sqlite`);
  const config = join(node3.dir, 'atcad.yaml');
  writeFileSync(
    config,
    `shelves:
  - name: s1
    shelfManagers: [{ host: ${BRIDGE_ADDR}, port: ${c.shelf.managers[0]!.port} }]
    ipmi: { username: ${TEST_SHELF.username}, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [${BRIDGE_ADDR}]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: ${addrOf(2)}, port: ${TRAP_PORT}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 1000, sensorIntervalMs: 2000, selIntervalMs: 2000, requestTimeoutMs: 3000 }
policy: { recoveryMs: 2000 }
pacemaker: { mode: live, fenceTimeoutSec: 60 }
journal: { path: ${journalPath} }
safety: { maxFences: 2 }
`,
  );
  const proc = await node3.spawn('atcad', [process.execPath, join(repo, 'dist/atcad.mjs'), '--config', config], {
    env: { SHELF_PW: TEST_SHELF.password, COMMUNITY: c.community },
    cwd: repo,
  });
  await until('atcad to start', () => {
    if (!proc.running) throw new Error(`atcad exited:\n${proc.log()}`);
    return proc.log().includes('atcad running') || undefined;
  });
  const journal = <T>(f: (j: Journal) => T): T => {
    const j = new Journal(journalPath).open();
    try {
      return f(j);
    } finally {
      j.close();
    }
  };
  await until('the first poll', () => (journal((j) => j.read.counts().events) >= 3 ? true : undefined));
  return { proc, journalPath, journal };
}

export interface Timeline {
  /** ms from the fault: the trap sent, health decided, health applied, the app started on node2. */
  readonly trap?: number;
  readonly decided?: number;
  readonly applied?: number;
  readonly killed?: number;
  readonly started: number;
}

/** node1's blade runs hot (upper critical crossed), and the shelf manager says so. */
export async function overTemperature(c: ThreeNodeCluster, a: RunningAtcad): Promise<Timeline> {
  const sensor = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).temperature;
  const since = a.journal((j) => j.read.decisions(1)[0]?.id ?? 0);
  const tFault = Date.now();
  await c.shelf.setTemperature(1, 85); // above upper critical (80 °C), below non-recoverable (90 °C)
  await c.trap(
    `.1.3.6.1.4.1.3183.1.1.0.${temperatureSpecific(UPPER_CRITICAL_HIGH, false)}`,
    temperaturePet(c.shelf.ipmbOfSlot(1), sensor, UPPER_CRITICAL_HIGH, true, 85),
  );
  const tTrap = Date.now();
  const started = await until('the app started on node2', () => c.startedAt(1, 'app'), 30_000);
  // The decision that made node1 red: the first after the fault (decisions come newest first).
  const red = a.journal((j) =>
    j.read
      .decisions(50)
      .filter(
        (d) =>
          d.id > since &&
          d.kind === 'set-health' &&
          d.node === 'node1' &&
          (d.body as { value?: string }).value === 'red',
      )
      .at(-1),
  );
  const act = a.journal((j) =>
    j.read
      .actions(50)
      .find((x) => x.kind === 'health' && x.node === 'node1' && x.value === 'red' && x.decisionId === red?.id),
  );
  return {
    trap: tTrap - tFault,
    ...(red ? { decided: red.at - tFault } : {}),
    ...(act?.endedAt ? { applied: act.endedAt - tFault } : {}),
    started: Math.round(started - tFault),
  };
}

/** Back to normal after overTemperature: the blade cools, health recovers, the app returns. */
export async function cool(c: ThreeNodeCluster): Promise<void> {
  await c.shelf.setTemperature(1, 40);
  await appOnNode1(c);
}

/** node1's blade loses payload power (M4 → M1, the IPMC reports cause 9): the node dies at once. */
export async function powerLoss(c: ThreeNodeCluster): Promise<Timeline> {
  c.nextCause.set(1, 9);
  const tFault = Date.now();
  await c.shelf.setState(1, 1);
  const started = await until('the app started on node2', () => c.startedAt(1, 'app'), 90_000);
  const died = c.deaths.get('node1');
  return { ...(died ? { killed: died - tFault } : {}), started: Math.round(started - tFault) };
}

/** Back to normal after powerLoss: the blade back in M4, node1 boots and rejoins, the app returns. */
export async function repair(c: ThreeNodeCluster): Promise<void> {
  await c.shelf.setState(1, 4);
  await c.boot(0);
  await appOnNode1(c);
}
