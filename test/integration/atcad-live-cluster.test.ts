// atcad in `pacemaker.mode: live` against a real one-node Pacemaker cluster (corosync +
// pacemakerd in namespaces of its own, see test/helpers/cluster.ts). The simulated shelf runs
// in the cluster's network namespace, so that the fencer's fence_atca reaches it; atcad runs
// there too, as deployed: `node dist/atcad.mjs --config FILE`, its tools talking to this
// cluster only. The cluster node is node1; slot 2's blade is "node2", which no member is, so
// that fencing it is not the cluster fencing itself.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { parseFenceHistoryXml } from '../../src/pacemaker/actuator.js';
import { hotSwapPet, hotSwapTrapOid, snmptrapV2cArgs } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { CLUSTER_TOOLS, LiveCluster, type NsProcess, until } from '../helpers/cluster.js';
import { TEST_SHELF } from '../helpers/shelf.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ATTR = '#health-atca';

const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (namespaces, mounts, Pacemaker daemons)'
    : CLUSTER_TOOLS.filter((t) => !existsSync(t)).map((t) => `${t} is missing`)[0];

/** The fence device as `pcs stonith create` would write it: fence_atca on the simulated shelf. */
function deviceXml(params: Record<string, string | number>): string {
  const nvpairs = Object.entries(params)
    .map(([k, v]) => `<nvpair id="atca-shelf-${k}" name="${k}" value="${v}"/>`)
    .join('');
  return `<primitive id="atca-shelf" class="stonith" type="fence_atca">
  <instance_attributes id="atca-shelf-params">${nvpairs}</instance_attributes>
  <operations><op id="atca-shelf-monitor" name="monitor" interval="60s"/></operations>
</primitive>`;
}

describe.skipIf(skipReason !== undefined)(
  `atcad against a live one-node cluster${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let cluster: LiveCluster | undefined;
    let shelf: SimulatedShelf | undefined;
    let atcad: NsProcess | undefined;
    let journal: Journal | undefined;
    /** atcad's trap port, inside the cluster's network namespace. */
    let trapPort = 0;

    function ours<T>(v: T | undefined): T {
      if (v === undefined) throw new Error('beforeAll did not finish');
      return v;
    }

    /** What atcad decided and did, and what it and the cluster logged, for a failure's message. */
    function logs(): string {
      const decided = journal?.read
        .decisions(20)
        .reverse()
        .map((d) => `${d.slot} ${d.kind} ${d.node ?? ''}: ${d.reason}`)
        .join('\n');
      const done = journal?.read
        .actions(10)
        .map((a) => `${a.kind} ${a.node}: ${a.status} exit ${a.exitCode} ${a.note ?? ''}`)
        .join('\n');
      return `--- decisions\n${decided}\n--- actions\n${done}\n--- atcad\n${atcad?.log() ?? ''}\n${cluster?.logs() ?? ''}`;
    }

    async function health(node: string): Promise<string | undefined> {
      const r = await ours(cluster).run(['attrd_updater', '-Q', '-n', ATTR, '-N', node]);
      return /value="([^"]*)"/.exec(r.stdout)?.[1];
    }

    beforeAll(async () => {
      // Pacemaker's fencer runs agents from /usr/sbin only.
      execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
      cluster = await LiveCluster.start({ node: 'node1', properties: { 'stonith-enabled': 'true' } });
      shelf = await SimulatedShelf.start({ ...TEST_SHELF, shelfManagers: 1 }, { commandPrefix: cluster.enter('net') });
      const sm = shelf.managers[0]!;
      await cluster.forwardTcp(sm.consolePort);

      // node2 only: a device that could fence node1 would let a mistake fence the cluster itself.
      // atcad asks for a reboot; pcmk_reboot_action=off keeps the faulty blade down (M1).
      const device = deviceXml({
        ip: '127.0.0.1',
        ipport: sm.port,
        username: TEST_SHELF.username,
        password: TEST_SHELF.password,
        cipher: 3,
        stonith_status_sleep: '0.05',
        pcmk_host_map: 'node2:2',
        pcmk_reboot_action: 'off',
      });
      const created = await cluster.run(['cibadmin', '--create', '--scope', 'resources', '--xml-text', device]);
      expect(created.code, created.stderr).toBe(0);
      await until(
        'the fencer to register atca-shelf for node2',
        async () =>
          (await ours(cluster).run(['stonith_admin', '--list', 'node2'])).stdout.includes('atca-shelf') || undefined,
        120_000,
      );

      const journalPath = join(cluster.dir, 'journal.sqlite');
      // Free here is free there too: the namespace has nothing of its own listening.
      trapPort = await freePort();
      const config = join(cluster.dir, 'atcad.yaml');
      writeFileSync(
        config,
        `shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${sm.port} }]
    ipmi: { username: ${TEST_SHELF.username}, password: { env: SHELF_PW }, cipher: "3" }
    slots: { "1": { node: node1 }, "2": { node: node2 } }
    trapSources: [127.0.0.1]
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 500, requestTimeoutMs: 3000 }
policy: { sustainMs: 300, debounceMs: 100 }
pacemaker: { mode: live, fenceTimeoutSec: 60 }
journal: { path: ${journalPath} }
api: { port: 0 }
# One cluster node, and the fenced "node" is a blade no member runs on: nothing to keep quorate.
safety: { minNodesAfterFence: 0 }
`,
      );
      atcad = await cluster.spawn('atcad', [process.execPath, join(REPO, 'dist/atcad.mjs'), '--config', config], {
        env: { SHELF_PW: TEST_SHELF.password, COMMUNITY: 'Comm-live-3' },
        cwd: REPO,
      });
      await until('atcad to start', () => {
        if (!atcad?.running) throw new Error(`atcad exited:\n${logs()}`);
        return atcad.log().includes('atcad running') || undefined;
      });
      journal = new Journal(journalPath).open();
      // The first poll cycle reads both slots (M4): the baseline.
      await until('the first poll', () => (ours(journal).read.counts().events >= 2 ? true : undefined));
    }, 240_000);

    afterAll(async () => {
      journal?.close();
      await atcad?.stop();
      await cluster?.stop();
      await shelf?.stop();
    }, 180_000);

    it('a blade whose IPMC stops answering sets #health-atca on node1 through attrd', async () => {
      expect(await health('node1')).toBeUndefined();
      await ours(shelf).setIpmcPresent(1, false);
      const value = await until('node1 health', () => health('node1')).catch((e) => {
        throw new Error(`${(e as Error).message}\n${logs()}`);
      });
      expect(value).toBe('yellow');

      const action = ours(journal)
        .read.actions()
        .find((a) => a.kind === 'health' && a.node === 'node1');
      expect(action).toMatchObject({
        status: 'succeeded',
        exitCode: 0,
        command: ['/usr/sbin/attrd_updater', '-n', ATTR, '-U', 'yellow', '-N', 'node1'],
      });
      // attrd wrote it into the CIB's status section, where the scheduler reads node health.
      const cib = await until('the attribute in the CIB', async () => {
        const r = await ours(cluster).run(['cibadmin', '--query', '--scope', 'status']);
        return r.stdout.includes(`name="${ATTR}" value="yellow"`) ? r.stdout : undefined;
      });
      expect(cib).toMatch(/<node_state [^>]*uname="node1"/);
    }, 120_000);

    /** A v2c PET to atcad, sent from inside the cluster's namespaces by net-snmp's snmptrap. */
    async function sendTrap(pet: Buffer): Promise<void> {
      const c = ours(cluster);
      const state = pet[31]! & 0x0f;
      const r = await c.run(
        ['snmptrap', ...snmptrapV2cArgs('Comm-live-3', `127.0.0.1:${trapPort}`, hotSwapTrapOid(state), pet)],
        10_000,
        {
          HOME: c.dir,
          SNMP_PERSISTENT_DIR: join(c.dir, 'snmp'),
        },
      );
      expect(r.code, r.stderr).toBe(0);
    }

    it('an uncommanded deactivation is fenced: stonith_admin → fencer → fence_atca → slot 2 in M1', async () => {
      const s = ours(shelf);
      const ipmb = s.ipmbOfSlot(2);
      const before = s.picmgCommands().length;
      // M4 → M5 that nobody commanded: the IPMC reports an unexpected deactivation (cause 9),
      // which the default rule fences.
      await s.setState(2, 5);
      await sendTrap(hotSwapPet(ipmb, 5, 4, 9));
      const fence = await until(
        'the fence to finish',
        () =>
          ours(journal)
            .read.actions()
            .find((a) => a.kind === 'fence' && a.status !== 'started'),
        150_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${logs()}`);
      });
      expect(fence, `${fence.stderr}\n${logs()}`).toMatchObject({
        status: 'succeeded',
        node: 'node2',
        exitCode: 0,
        command: ['/usr/sbin/stonith_admin', '--reboot', 'node2', '--timeout', '60'],
      });

      // The policy's ladder on slot 2: a claimed power loss changes no health; a fresh reading (M5: powered, going down), then red and the fence.
      const decided = ours(journal)
        .read.decisions()
        .filter((d) => d.slot === 's1/2')
        .reverse();
      expect(decided.map((d) => d.kind).filter((k) => k !== 'record')).toEqual(['confirm', 'set-health', 'fence']);
      // The guard read the live cluster afresh: corosync's votes and the fencer's history.
      const chain = JSON.stringify(decided.find((d) => d.kind === 'fence')?.evidence);
      expect(chain).toMatch(/cluster: quorate, voting members online node1 of 1, quorum 1 votes/);
      expect(chain).toMatch(/fencer history of node2: none/);
      // attrd holds it, but cannot write it to the CIB: node2 is no member, so it has no UUID
      // ("peer UUID not known (will retry if learned)" in pacemaker.log).
      expect(await health('node2')).toBe('red');

      // The shelf: a real deactivate from fence_atca, and the blade off.
      const log = s
        .picmgCommands()
        .slice(before)
        .filter((c) => c.mc === ipmb);
      expect(log.some((c) => c.kind === 'picmg' && c.cmd === 0x0c && c.data?.[2] === 0)).toBe(true);
      expect(
        log
          .filter((c) => c.kind === 'state')
          .map((c) => c.to)
          .slice(-2),
      ).toEqual([6, 1]);
      expect(await s.stateOf(2)).toBe(1);

      // The cluster's fencer did it, and remembers it.
      const h = await ours(cluster).run(['stonith_admin', '--history', 'node2', '--verbose', '--output-as=xml']);
      const history = parseFenceHistoryXml(h.stdout);
      expect(history[0]).toMatchObject({ target: 'node2', status: 'success', delegate: 'node1' });
    }, 180_000);
  },
);
