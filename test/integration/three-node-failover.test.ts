// Failover on the project's three-node harness (test/helpers/three-node.ts), every peer real:
// three corosync + Pacemaker nodes in namespaces of their own on a bridge, fence_atca as the
// stonith device against the simulated shelf on that bridge, atcad live on the quorum node
// (node3), and a resource (ocf:pacemaker:Dummy "app") on the active blade (node1). Each
// scenario asserts its outcome and prints its timeline from one clock: fault → trap →
// decision → Pacemaker command → the resource started on node2.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { temperaturePet, temperatureSpecific, UPPER_CRITICAL_HIGH } from '../../src/sim/trap-datagram.js';
import { CLUSTER_TOOLS, type NsProcess, until } from '../helpers/cluster.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { BRIDGE_ADDR, ThreeNodeCluster } from '../helpers/three-node.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (namespaces, a bridge, Pacemaker daemons)'
    : CLUSTER_TOOLS.filter((t) => !existsSync(t)).map((t) => `${t} is missing`)[0];

describe.skipIf(skipReason !== undefined)(
  `three nodes, one shelf: failover per kind of fault${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let c: ThreeNodeCluster | undefined;
    let atcad: NsProcess | undefined;
    let journalPath = '';
    const ours = () => {
      if (!c) throw new Error('beforeAll did not finish');
      return c;
    };
    const journal = <T>(f: (j: Journal) => T): T => {
      const j = new Journal(journalPath).open();
      try {
        return f(j);
      } finally {
        j.close();
      }
    };
    const crm = (args: string[]) => ours().node(2).run(args, 30_000);

    async function startAtcad(): Promise<void> {
      const cl = ours();
      const node3 = cl.node(2);
      cl.trapPort = 16200;
      journalPath = join(node3.dir, `journal-${Date.now()}.sqlite`);
      const config = join(node3.dir, 'atcad.yaml');
      writeFileSync(
        config,
        `shelves:
  - name: s1
    shelfManagers: [{ host: ${BRIDGE_ADDR}, port: ${cl.shelf.managers[0]!.port} }]
    ipmi: { username: ${TEST_SHELF.username}, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [${BRIDGE_ADDR}]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: 10.99.0.3, port: ${cl.trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 1000, sensorIntervalMs: 2000, selIntervalMs: 2000, requestTimeoutMs: 3000 }
policy: { recoveryMs: 2000 }
pacemaker: { mode: live, fenceTimeoutSec: 60 }
journal: { path: ${journalPath} }
safety: { maxFences: 2 }
`,
      );
      atcad = await node3.spawn('atcad', [process.execPath, join(REPO, 'dist/atcad.mjs'), '--config', config], {
        env: { SHELF_PW: TEST_SHELF.password, COMMUNITY: cl.community },
        cwd: REPO,
      });
      const me = atcad;
      await until('atcad to start', () => {
        if (!me.running) throw new Error(`atcad exited:\n${me.log()}`);
        return me.log().includes('atcad running') || undefined;
      });
      await until('the first poll', () => (journal((j) => j.read.counts().events) >= 3 ? true : undefined));
    }

    /** node1 runs the app again (node2 does not), with every node online. */
    async function appBackOnNode1(): Promise<void> {
      await until(
        'app back on node1',
        () => (ours().startedAt(0, 'app') !== undefined && ours().startedAt(1, 'app') === undefined ? true : undefined),
        60_000,
      ).catch(async (e) => {
        const decided = journal((j) =>
          j.read
            .decisions(30)
            .reverse()
            .map((d) => `${d.at} ${d.slot} ${d.kind}: ${d.reason}`)
            .join('\n'),
        );
        const mon = await crm(['crm_mon', '-1', '-A']);
        throw new Error(`${(e as Error).message}\n${decided}\n${mon.stdout}\n${atcad?.log(3000)}`);
      });
    }

    beforeAll(async () => {
      execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
      c = await ThreeNodeCluster.start();
      const sm = c.shelf.managers[0]!;
      await until(
        'three nodes online',
        async () => {
          const r = await crm(['crm_mon', '-1', '--output-as=xml', '--include=none', '--include=nodes']);
          return (r.stdout.match(/online="true"/g) ?? []).length === 3 || undefined;
        },
        120_000,
      );
      const device = `<primitive id="shelf1" class="stonith" type="fence_atca">
  <instance_attributes id="shelf1-params">
    <nvpair id="shelf1-ip" name="ip" value="${BRIDGE_ADDR}"/>
    <nvpair id="shelf1-ipport" name="ipport" value="${sm.port}"/>
    <nvpair id="shelf1-username" name="username" value="${TEST_SHELF.username}"/>
    <nvpair id="shelf1-password" name="password" value="${TEST_SHELF.password}"/>
    <nvpair id="shelf1-cipher" name="cipher" value="3"/>
    <nvpair id="shelf1-sleep" name="stonith_status_sleep" value="0.05"/>
    <nvpair id="shelf1-map" name="pcmk_host_map" value="node1:1;node2:2;node3:3"/>
    <nvpair id="shelf1-check" name="pcmk_host_check" value="static-list"/>
    <nvpair id="shelf1-reboot" name="pcmk_reboot_action" value="off"/>
  </instance_attributes>
  <operations><op id="shelf1-monitor" name="monitor" interval="60s"/></operations>
</primitive>`;
      const app = `<primitive id="app" class="ocf" provider="pacemaker" type="Dummy">
  <instance_attributes id="app-params"><nvpair id="app-state" name="state" value="/run/Dummy-app.state"/></instance_attributes>
  <operations><op id="app-monitor" name="monitor" interval="10s"/></operations>
</primitive>`;
      for (const xml of [device, app]) {
        const r = await crm(['cibadmin', '--create', '--scope', 'resources', '--xml-text', xml]);
        expect(r.code, r.stderr).toBe(0);
      }
      const constraints = `<constraints>
  <rsc_location id="app-prefers-node1" rsc="app" node="node1" score="100"/>
  <rsc_location id="app-avoids-node3" rsc="app" node="node3" score="-INFINITY"/>
</constraints>`;
      const r = await crm(['cibadmin', '--replace', '--scope', 'constraints', '--xml-text', constraints]);
      expect(r.code, r.stderr).toBe(0);
      await until('app running on node1', () => (ours().startedAt(0, 'app') !== undefined ? true : undefined), 60_000);
      await startAtcad();
    }, 300_000);

    afterAll(async () => {
      await atcad?.stop();
      await c?.stop();
    }, 120_000);

    it('sick but alive (over-temperature): trap → fresh reading → red → app started on node2', async () => {
      const cl = ours();
      const temp = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).temperature;
      const t0 = Date.now();
      await cl.shelf.setTemperature(1, 85); // above upper critical (80 °C), below non-recoverable (90 °C)
      const tFault = Date.now();
      await cl.trap(
        `.1.3.6.1.4.1.3183.1.1.0.${temperatureSpecific(UPPER_CRITICAL_HIGH, false)}`,
        temperaturePet(cl.shelf.ipmbOfSlot(1), temp, UPPER_CRITICAL_HIGH, true, 85),
      );
      const tTrap = Date.now();
      const started = await until('app started on node2', () => cl.startedAt(1, 'app'), 30_000).catch((e) => {
        throw new Error(`${(e as Error).message}\n${atcad?.log(4000)}\n${cl.logs(3000)}`);
      });
      const red = journal((j) => j.read.decisions(50).find((d) => d.kind === 'set-health' && d.node === 'node1'));
      const act = journal((j) => j.read.actions(50).find((a) => a.kind === 'health' && a.node === 'node1'));
      console.log(
        `over-temperature timeline (ms from the fault): trap sent ${tTrap - tFault}, red decided ${(red?.at ?? 0) - tFault}, ` +
          `attrd_updater done ${(act?.endedAt ?? 0) - tFault}, app started on node2 ${Math.round(started - tFault)} (setup ${tFault - t0})`,
      );
      expect(red).toMatchObject({ node: 'node1' });
      expect(journal((j) => j.read.actions(50).filter((a) => a.kind === 'fence'))).toEqual([]);
      await cl.shelf.setTemperature(1, 40);
      await appBackOnNode1();
    }, 120_000);

    it('a stray trap (the sensor reads fine) moves nothing and fences nothing', async () => {
      const cl = ours();
      const temp = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).temperature;
      const before = cl.startedAt(0, 'app');
      const sent = Date.now();
      await cl.trap(
        `.1.3.6.1.4.1.3183.1.1.0.${temperatureSpecific(UPPER_CRITICAL_HIGH, false)}`,
        temperaturePet(cl.shelf.ipmbOfSlot(1), temp, UPPER_CRITICAL_HIGH, true, 99),
      );
      const refuted = await until(
        'the claim refuted',
        () =>
          journal((j) =>
            j.read.decisions(50).find((d) => d.slot === 's1/1' && /temperature-critical (refuted|cleared before confirmation)/.test(d.reason)),
          ),
        20_000,
      ).catch((e) => {
        const decided = journal((j) =>
          j.read
            .decisions(20)
            .reverse()
            .map((d) => `${d.at} ${d.slot} ${d.kind}: ${d.reason}`)
            .join('\n'),
        );
        throw new Error(`${(e as Error).message}\n${decided}\n${atcad?.log(2000)}`);
      });
      expect(refuted).toBeDefined();
      await new Promise((r) => setTimeout(r, 3000));
      expect(cl.startedAt(0, 'app')).toBe(before);
      expect(cl.startedAt(1, 'app')).toBeUndefined();
      const values = journal((j) =>
        j.read
          .decisions(50)
          .filter((d) => d.kind === 'set-health' && d.node === 'node1' && d.at >= sent)
          .map((d) => (d.body as { value: string }).value),
      );
      expect(values).not.toContain('red');
    }, 60_000);

    for (const withAtcad of [true, false]) {
      it(`dead (power lost) ${withAtcad ? 'with atcad' : 'with atcad stopped'}: corosync loses node1, the cluster fences it (found off), app started on node2${withAtcad ? '; atcad adds nothing' : ''}`, async () => {
        const cl = ours();
        if (!withAtcad) await atcad?.stop();
        cl.nextCause.set(1, 9); // the IPMC reports an unexpected deactivation
        const tFault = Date.now();
        await cl.shelf.setState(1, 1);
        const started = await until('app started on node2', () => cl.startedAt(1, 'app'), 90_000).catch((e) => {
          throw new Error(`${(e as Error).message}\n${atcad?.log(4000)}\n${cl.logs(3000)}`);
        });
        const died = cl.deaths.get('node1');
        const hist = await crm(['stonith_admin', '--history', 'node1', '--output-as=xml']);
        console.log(
          `power loss ${withAtcad ? 'with atcad' : 'without atcad'} (ms from the fault): node1 killed ${(died ?? 0) - tFault}, app started on node2 ${Math.round(started - tFault)}`,
        );
        expect(hist.stdout).toMatch(/target="node1"[^>]*status="success"|status="success"[^>]*target="node1"/);
        if (withAtcad) {
          expect(journal((j) => j.read.actions(50).filter((a) => a.kind === 'fence'))).toEqual([]);
        }
        // The blade is repaired: back in M4, node1 boots and rejoins.
        await cl.shelf.setState(1, 4);
        await cl.boot(0);
        if (!withAtcad) await startAtcad();
        await appBackOnNode1();
      }, 240_000);
    }
  },
);
