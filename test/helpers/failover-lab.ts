// What the three-node scenarios (test/integration/three-node-failover.test.ts) and their bench
// (bench/three-node.ts) share: the cluster's configuration (fence_atca against the shelf on
// the bridge, a Dummy "app" preferring node1, never on node3, node-health migrate-on-red),
// atcad live on node3, and each fault as the shelf would show it, timed from one clock.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { parseFenceHistoryXml } from '../../src/pacemaker/actuator.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { temperaturePet, temperatureSpecific, UPPER_CRITICAL_HIGH } from '../../src/sim/trap-datagram.js';
import { type NsProcess, until } from './cluster.js';
import { TEST_SHELF } from './test-shelf.js';
import { addrOf, BRIDGE_ADDR, type ThreeNodeCluster } from './three-node.js';

export const TRAP_PORT = 16200;

export function crm(c: ThreeNodeCluster, args: string[], ms = 30_000) {
  return c.node(2).run(args, ms);
}

/**
 * Whether the fencer's history holds a successful `action` on `node` completed at or after
 * `since` (ms). The history keeps only the latest of each kind, so an earlier run's entry is
 * told apart by its time (which has whole seconds: a second's slack).
 */
export async function fencedSince(
  c: ThreeNodeCluster,
  node: string,
  action: 'reboot' | 'off',
  since: number,
): Promise<boolean> {
  const r = await crm(c, ['stonith_admin', '--history', node, '--verbose', '--output-as=xml']);
  if (r.code !== 0) throw new Error(`stonith_admin --history ${node}: ${r.stderr}`);
  return parseFenceHistoryXml(r.stdout).some(
    (e) =>
      e.target === node &&
      e.action === action &&
      e.status === 'success' &&
      e.completed !== undefined &&
      Date.parse(e.completed) >= since - 1000,
  );
}

/**
 * Waits until the cluster has dealt with node1's death: offline and not unclean (fenced). A
 * blade booted before that would be powered off by the cluster's late fence.
 */
export async function node1Settled(c: ThreeNodeCluster, ms = 120_000): Promise<void> {
  await until(
    'node1 offline and fenced',
    async () => {
      const r = await crm(c, ['crm_mon', '-1', '--output-as=xml', '--include=none', '--include=nodes']);
      const n = /<node name="node1"[^>]*>/.exec(r.stdout)?.[0] ?? '';
      return (/online="false"/.test(n) && /unclean="false"/.test(n)) || undefined;
    },
    ms,
  );
}

async function mustRun(c: ThreeNodeCluster, args: string[]): Promise<void> {
  const r = await crm(c, args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** The fence device: fence_atca against the shelf on the bridge, as the scenarios use it. */
function deviceXml(c: ThreeNodeCluster): string {
  const sm = c.shelf.managers[0]!;
  const nv = (id: string, name: string, value: string | number) =>
    `<nvpair id="shelf1-${id}" name="${name}" value="${value}"/>`;
  return `<primitive id="shelf1" class="stonith" type="fence_atca">
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
}

/**
 * The fence device exactly as configure() made it, whatever a scenario did to it (changed a
 * parameter, deleted it, made another with pcs): replaced if there, created if not.
 */
export async function replaceDevice(c: ThreeNodeCluster): Promise<void> {
  const xml = deviceXml(c);
  const there = await crm(c, ['cibadmin', '--query', '--xpath', "//primitive[@id='shelf1']"]);
  if (there.code === 0) await mustRun(c, ['cibadmin', '--delete', '--xpath', "//primitive[@id='shelf1']"]);
  await mustRun(c, ['cibadmin', '--create', '--scope', 'resources', '--xml-text', xml]);
  const r = await crm(c, ['crm_resource', '--resource', 'shelf1', '--get-parameter', 'pcmk_reboot_action']);
  if (r.stdout.trim() !== 'off') throw new Error(`the fence device was not restored: ${r.stdout}${r.stderr}`);
}

/** Three nodes online; the fence device, the app and its constraints; the app running on node1. */
export async function configure(c: ThreeNodeCluster): Promise<void> {
  await until(
    'three nodes online',
    async () => {
      const r = await crm(c, ['crm_mon', '-1', '--output-as=xml', '--include=none', '--include=nodes']);
      return (r.stdout.match(/online="true"/g) ?? []).length === 3 || undefined;
    },
    120_000,
  );
  const device = deviceXml(c);
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

/**
 * node1 runs the app (node2 does not), and the cluster is idle: a fault on a real site comes
 * when nothing else is under way, and one that comes while the DC still writes the last
 * transition's results costs Pacemaker a fixed second (the controller asks the CIB again
 * 1 s later while its own updates are pending), which is the harness's, not the fault's.
 */
export async function appOnNode1(c: ThreeNodeCluster, ms = 120_000): Promise<void> {
  await until(
    'the app on node1',
    () => (c.startedAt(0, 'app') !== undefined && c.startedAt(1, 'app') === undefined ? true : undefined),
    ms,
  );
  await idle(c, ms);
}

/** No transition under way, no action pending anywhere (crm_resource --wait). */
export async function idle(c: ThreeNodeCluster, ms = 120_000): Promise<void> {
  const r = await c.node(1).run(['crm_resource', '--wait', `--timeout=${Math.ceil(ms / 1000)}s`], ms + 5000);
  if (r.code !== 0) throw new Error(`the cluster did not settle: crm_resource --wait: ${r.stderr.trim()}`);
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
api: { port: 0 }
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
  /** node2's corosync formed the membership without node1 (its log, ms timestamps). */
  readonly membership?: number;
  /** node2's fencer saw node1's fence complete. */
  readonly fenced?: number;
  readonly started: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * "Dec 01 14:30:34.418" (corosync hires, Pacemaker) → ms since the epoch, in this process's
 * time zone (the nodes' daemons inherit the host's), in whichever year puts it nearest `now`
 * (a run across New Year).
 */
export function logTime(line: string, now = Date.now()): number | undefined {
  const m = /^([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})/.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const y = new Date(now).getFullYear();
  const at = (year: number) =>
    new Date(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
  return [y - 1, y, y + 1].map(at).reduce((a, b) => (Math.abs(b - now) < Math.abs(a - now) ? b : a));
}

/** Where a node's log is, and how far it went: what is written after is the run's. */
interface LogMark {
  readonly file: string;
  readonly offset: number;
}

function mark(c: ThreeNodeCluster, i: number, which: 'corosync' | 'pacemaker'): LogMark {
  const file = join(c.node(i).dir, `log-${which}/${which}.log`);
  let offset = 0;
  try {
    offset = statSync(file).size;
  } catch {
    // Not written yet: from the start.
  }
  return { file, offset };
}

/** The time of the first line matching `re` written since the mark. */
function firstSince(m: LogMark, re: RegExp): number | undefined {
  let text: string;
  try {
    text = readFileSync(m.file).subarray(m.offset).toString('utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => re.test(l));
  return line === undefined ? undefined : logTime(line);
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
  // The decision that made node1 red: the first after the fault.
  const { red, act } = redOf(a, 'node1', since);
  return {
    trap: tTrap - tFault,
    ...(red ? { decided: red.at - tFault } : {}),
    ...(act?.endedAt ? { applied: act.endedAt - tFault } : {}),
    started: Math.round(started - tFault),
  };
}

/** The first decision after decision `since` that made `node` red, and the action that applied it (decisions come newest first). */
function redOf(a: RunningAtcad, node: string, since: number) {
  const red = a.journal((j) =>
    j.read
      .decisions(200)
      .filter(
        (d) =>
          d.id > since && d.kind === 'set-health' && d.node === node && (d.body as { value?: string }).value === 'red',
      )
      .at(-1),
  );
  const act = a.journal((j) =>
    j.read
      .actions(200)
      .find((x) => x.kind === 'health' && x.node === node && x.value === 'red' && x.decisionId === red?.id),
  );
  return { red, act };
}

/**
 * node1's ejector handle is opened (M4 → M5, cause 2): the IPMC asks to deactivate while the
 * payload still runs (the harness keeps node1 alive until M1, as PICMG has it). The app must
 * be on node2 before the payload stops; then the deactivation completes (M6, M1) and node1 dies.
 */
export async function gracefulDeactivation(c: ThreeNodeCluster, a: RunningAtcad): Promise<Timeline> {
  const since = a.journal((j) => j.read.decisions(1)[0]?.id ?? 0);
  c.gracefulPayload.add(1);
  c.nextCause.set(1, 2);
  const tFault = Date.now();
  await c.shelf.setState(1, 5);
  const started = await until('the app started on node2', () => c.startedAt(1, 'app'), 30_000);
  const aliveWhenStarted = !c.deaths.has('node1');
  // Stopped cleanly on node1 (the Dummy's stop removes its state file) while node1 still ran.
  const stoppedOnNode1 = c.startedAt(0, 'app') === undefined && aliveWhenStarted;
  const { red, act } = redOf(a, 'node1', since);
  await c.shelf.setState(1, 6);
  await c.shelf.setState(1, 1);
  await until('node1 stopped', () => c.deaths.has('node1') || undefined, 10_000);
  if (!aliveWhenStarted) throw new Error('node1 died before the app was started on node2');
  if (!stoppedOnNode1) throw new Error('the app was not stopped on node1 before it started on node2');
  // The cluster fences the node it lost (fence_atca finds it off): done before what follows.
  await node1Settled(c);
  const died = c.deaths.get('node1');
  return {
    ...(red ? { decided: red.at - tFault } : {}),
    ...(act?.endedAt ? { applied: act.endedAt - tFault } : {}),
    ...(died ? { killed: died - tFault } : {}),
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
  const corosync = mark(c, 1, 'corosync');
  const pacemaker = mark(c, 1, 'pacemaker');
  const tFault = Date.now();
  await c.shelf.setState(1, 1);
  const started = await until('the app started on node2', () => c.startedAt(1, 'app'), 90_000);
  const died = c.deaths.get('node1');
  const membership = firstSince(corosync, /A new membership .* Members left: 1\b/);
  const fenced = firstSince(pacemaker, /Operation '(reboot|off)' targeting node1 .*: OK/);
  return {
    ...(died ? { killed: died - tFault } : {}),
    ...(membership ? { membership: membership - tFault } : {}),
    ...(fenced ? { fenced: fenced - tFault } : {}),
    started: Math.round(started - tFault),
  };
}

/** Back to normal after powerLoss: the blade back in M4, node1 boots and rejoins, the app returns. */
export async function repair(c: ThreeNodeCluster): Promise<void> {
  c.gracefulPayload.delete(1);
  c.nextCause.delete(1);
  if (c.deaths.has('node1')) await node1Settled(c);
  await c.shelf.setState(1, 4);
  await c.boot(0);
  await appOnNode1(c);
}
