// Failover on the project's three-node harness (test/helpers/three-node.ts), every peer real:
// three corosync + Pacemaker nodes in namespaces of their own on a bridge, fence_atca as the
// stonith device against the simulated shelf on that bridge, atcad live on the quorum node
// (node3), and a resource (ocf:pacemaker:Dummy "app") on the active blade (node1). Each
// scenario asserts its outcome and prints its timeline from one clock (ms from the fault).
// bench/three-node.ts runs the same scenarios many times and side by side.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import {
  discretePet,
  discreteSpecific,
  temperaturePet,
  temperatureSpecific,
  UPPER_CRITICAL_HIGH,
} from '../../src/sim/trap-datagram.js';
import { CLUSTER_TOOLS, until } from '../helpers/cluster.js';
import {
  appOnNode1,
  configure,
  cool,
  crm,
  fencedSince,
  gracefulDeactivation,
  idle,
  overTemperature,
  powerLoss,
  type RunningAtcad,
  repair,
  replaceDevice,
  startAtcad,
} from '../helpers/failover-lab.js';
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
    let atcad: RunningAtcad | undefined;
    const ours = () => {
      if (!c) throw new Error('beforeAll did not finish');
      return c;
    };
    const running = () => {
      if (!atcad) throw new Error('atcad is not running');
      return atcad;
    };
    const story = () => `${atcad?.proc.log(3000) ?? ''}\n${c?.logs(2000) ?? ''}`;

    beforeAll(async () => {
      execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
      c = await ThreeNodeCluster.start();
      await configure(c);
      atcad = await startAtcad(c, REPO);
    }, 300_000);

    afterAll(async () => {
      await atcad?.proc.stop();
      await c?.stop();
    }, 120_000);

    it('sick but alive (over-temperature): trap → fresh reading → red → app started on node2', async () => {
      const t = await overTemperature(ours(), running()).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      console.log(`over-temperature timeline (ms from the fault): ${JSON.stringify(t)}`);
      expect(t.decided).toBeDefined();
      expect(running().journal((j) => j.read.actions(50).filter((a) => a.kind === 'fence'))).toEqual([]);
      await cool(ours());
    }, 180_000);

    it('a stray trap (the sensor reads fine) moves nothing and fences nothing', async () => {
      const cl = ours();
      const a = running();
      const sensor = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).temperature;
      const before = cl.startedAt(0, 'app');
      const sent = Date.now();
      await cl.trap(
        `.1.3.6.1.4.1.3183.1.1.0.${temperatureSpecific(UPPER_CRITICAL_HIGH, false)}`,
        temperaturePet(cl.shelf.ipmbOfSlot(1), sensor, UPPER_CRITICAL_HIGH, true, 99),
      );
      await until(
        'the claim dropped',
        () =>
          a.journal((j) =>
            j.read
              .decisions(50)
              .find(
                (d) =>
                  d.at >= sent &&
                  d.slot === 's1/1' &&
                  /temperature-critical (refuted|cleared before confirmation)/.test(d.reason),
              ),
          ),
        20_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      await new Promise((r) => setTimeout(r, 3000));
      expect(cl.startedAt(0, 'app')).toBe(before);
      expect(cl.startedAt(1, 'app')).toBeUndefined();
      const values = a.journal((j) =>
        j.read
          .decisions(50)
          .filter((d) => d.kind === 'set-health' && d.node === 'node1' && d.at >= sent)
          .map((d) => (d.body as { value: string }).value),
      );
      expect(values).not.toContain('red');
      expect(a.journal((j) => j.read.actions(50).filter((x) => x.kind === 'fence'))).toEqual([]);
    }, 60_000);

    for (const withAtcad of [true, false]) {
      it(`dead (power lost) ${withAtcad ? 'with atcad' : 'with atcad stopped'}: corosync loses node1, the cluster fences it (found off), app started on node2${withAtcad ? '; atcad adds nothing' : ''}`, async () => {
        const cl = ours();
        if (!withAtcad) await atcad?.proc.stop();
        await appOnNode1(cl);
        // Pass or fail, the blade is repaired for what follows: back in M4, node1 boots and rejoins.
        onTestFinished(async () => {
          try {
            await repair(cl);
          } finally {
            if (!atcad?.proc.running) atcad = await startAtcad(cl, REPO);
          }
        }, 300_000);
        const sent = Date.now();
        const t = await powerLoss(cl).catch((e) => {
          throw new Error(`${(e as Error).message}\n${story()}`);
        });
        console.log(
          `power loss ${withAtcad ? 'with atcad' : 'without atcad'} (ms from the fault): ${JSON.stringify(t)}`,
        );
        // The cluster's own fence of the node it lost, this time (not an earlier one).
        expect(await fencedSince(cl, 'node1', 'reboot', sent)).toBe(true);
        if (withAtcad) {
          // atcad saw it, said why it leaves it to the cluster, and sent nothing to the fencer.
          expect(
            running().journal((j) => j.read.actions(50).filter((a) => a.kind === 'fence' && a.startedAt >= sent)),
          ).toEqual([]);
          // Nor anything to the CIB: no health, no standby for node1 (whether or not its readings
          // got through: the simulated shelf keeps a killed node's IPMI sessions for a while).
          expect(
            running().journal((j) =>
              j.read
                .actions(200)
                .filter(
                  (a) => a.node === 'node1' && a.startedAt >= sent && (a.kind === 'standby' || a.value === 'red'),
                ),
            ),
          ).toEqual([]);
        }
      }, 300_000);
    }

    it('graceful deactivation (ejector handle opened): red while the blade still runs, the app on node2 before its payload stops', async () => {
      const cl = ours();
      const a = running();
      await appOnNode1(cl);
      onTestFinished(async () => {
        await repair(cl);
      }, 180_000);
      const sent = Date.now();
      const t = await gracefulDeactivation(cl, a).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      console.log(`graceful deactivation timeline (ms from the handle): ${JSON.stringify(t)}`);
      expect(t.decided).toBeDefined();
      expect(t.applied).toBeDefined();
      expect(t.applied!).toBeLessThan(t.started);
      // A commanded deactivation is never a fault: atcad fences nothing.
      expect(a.journal((j) => j.read.actions(50).filter((x) => x.kind === 'fence' && x.startedAt >= sent))).toEqual([]);
    }, 300_000);

    for (const action of ['off', 'reboot'] as const) {
      it(`Pacemaker fences node1 itself (${action}): atcad records it and does nothing else`, async () => {
        const cl = ours();
        const a = running();
        await appOnNode1(cl);
        // Pass or fail, each step on its own: the device as configure() made it, the blade's
        // timing back to the simulator's, then the blade repaired.
        onTestFinished(async () => {
          try {
            if (action === 'reboot') await replaceDevice(cl);
          } finally {
            try {
              await cl.shelf.setDelays(1, 150, 150);
            } finally {
              await repair(cl);
            }
          }
        }, 300_000);
        if (action === 'reboot') {
          // The device's pcmk_reboot_action=off would turn the reboot into an off.
          const d = await crm(cl, ['crm_resource', '--resource', 'shelf1', '--delete-parameter', 'pcmk_reboot_action']);
          expect(d.code, d.stderr).toBe(0);
          await idle(cl);
        }
        // The payload takes 3 s to stop: atcad's fresh reading finds the blade deactivating, not
        // yet off, and must take it as the cluster's own fence from the fencer's history.
        await cl.shelf.setDelays(1, 3000, 150);
        const sent = Date.now();
        // stonith_admin --fence is an off; --reboot is a reboot.
        const r = await crm(
          cl,
          ['stonith_admin', action === 'off' ? '--fence' : '--reboot', 'node1', '--timeout', '60'],
          90_000,
        );
        expect(r.code, `${r.stdout}${r.stderr}\n${story()}`).toBe(0);
        expect(await fencedSince(cl, 'node1', action, sent)).toBe(true);
        expect(cl.deaths.has('node1')).toBe(true);
        await until('the app on node2', () => cl.startedAt(1, 'app'), 60_000);
        // The slot as the fence left it: off, or back on for a reboot.
        await until(
          `slot 1 ${action === 'off' ? 'off' : 'on again'}`,
          () => cl.transitions.some((x) => x.at >= sent && x.to === (action === 'off' ? 1 : 4)) || undefined,
        );
        // atcad saw the deactivation, read the fencer's history, and left it to the fencer.
        const guard = await until(
          "atcad's reading of it as the cluster's fence",
          () =>
            a.journal((j) =>
              j.read
                .decisions(200)
                .find((d) => d.slot === 's1/1' && d.at >= sent && /this deactivation is its fence/.test(d.reason)),
            ),
          30_000,
        ).catch((e) => {
          throw new Error(`${(e as Error).message}\n${story()}`);
        });
        expect(guard.reason).toMatch(/the cluster (is fencing|has just fenced) node1/);
        const acted = a.journal((j) =>
          j.read
            .actions(200)
            .filter(
              (x) =>
                x.startedAt >= sent &&
                (x.kind === 'fence' || (x.node === 'node1' && (x.kind === 'standby' || x.value === 'red'))),
            ),
        );
        expect(acted, story()).toEqual([]);
      }, 360_000);
    }

    it.skipIf(!existsSync('/usr/sbin/pcs'))(
      "the README's pcs example on a blade that lost power: the cluster's reboot completes (off verified, then on)",
      async () => {
        const cl = ours();
        await appOnNode1(cl);
        // The README's device as written, but for this shelf's address and port (ip2 goes nowhere).
        const script = join(cl.dir, 'shelf1-password');
        writeFileSync(script, `#!/bin/sh\necho '${TEST_SHELF.password}'\n`, { mode: 0o700 });
        const create = (args: string[]) => crm(cl, ['pcs', 'stonith', ...args]);
        // Pass or fail: the scenarios' device back first (a repair may need a fence), then the blade.
        onTestFinished(async () => {
          try {
            await replaceDevice(cl);
            await idle(cl);
          } finally {
            rmSync(script, { force: true });
            await repair(cl);
          }
        }, 300_000);
        const removed = await create(['delete', 'shelf1']);
        expect(removed.code, removed.stderr).toBe(0);
        const made = await create([
          'create',
          'shelf1',
          'fence_atca',
          `ip=${BRIDGE_ADDR}`,
          `ipport=${cl.shelf.managers[0]!.port}`,
          'ip2=10.99.0.253',
          `username=${TEST_SHELF.username}`,
          `password_script=${script}`,
          'cipher=3',
          'pcmk_host_map=node1:1;node2:2;node3:3',
        ]);
        expect(made.code, `${made.stdout}${made.stderr}`).toBe(0);
        await idle(cl);
        const sent = Date.now();
        const t = await powerLoss(cl).catch((e) => {
          throw new Error(`${(e as Error).message}\n${story()}`);
        });
        console.log(`power loss, README device (ms from the fault): ${JSON.stringify(t)}`);
        // A new successful reboot of node1: off (found off at once), then on, both verified.
        expect(await fencedSince(cl, 'node1', 'reboot', sent)).toBe(true);
        // The reboot's "on" half brought the slot back to M4 (verified by fence_atca).
        expect(cl.transitions.some((x) => x.at >= sent && x.to === 4)).toBe(true);
      },
      300_000,
    );

    it('a zombie (IERR, powered) is fenced by atcad through fence_atca; back with its fault still there, it stays red and takes nothing back', async () => {
      const cl = ours();
      const a = running();
      await appOnNode1(cl);
      const cpu = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).processor;
      onTestFinished(async () => {
        await cl.shelf.setDiscrete(1, 'processor', 0, false);
        if (cl.deaths.has('node1')) await repair(cl);
        else await appOnNode1(cl);
      }, 300_000);
      const sent = Date.now();
      await cl.shelf.setDiscrete(1, 'processor', 0, true);
      await cl.trap(
        `.1.3.6.1.4.1.3183.1.1.0.${discreteSpecific(0x07, 0)}`,
        discretePet(cl.shelf.ipmbOfSlot(1), cpu, 0, true),
      );
      const fenced = await until(
        "atcad's fence done",
        () =>
          a.journal((j) =>
            j.read.actions(50).find((x) => x.kind === 'fence' && x.startedAt >= sent && x.status === 'succeeded'),
          ),
        120_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      expect(fenced.node).toBe('node1');
      await until('the app on node2', () => cl.startedAt(1, 'app'), 60_000);
      expect(cl.deaths.has('node1')).toBe(true);
      // Repaired enough to boot, but the processor still reports IERR.
      await cl.shelf.setState(1, 4);
      await cl.boot(0);
      await until(
        'node1 online and red again',
        async () => {
          const r = await crm(cl, ['crm_mon', '-1', '--output-as=xml', '--include=none', '--include=nodes']);
          return /name="node1"[^>]*online="true"[^>]*health="red"/.test(r.stdout) || undefined;
        },
        90_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      await new Promise((r) => setTimeout(r, 5000));
      expect(cl.startedAt(0, 'app')).toBeUndefined();
      expect(cl.startedAt(1, 'app')).toBeDefined();
      // One fence only: the episode goes on until the slot is M4 with no fault.
      expect(
        a.journal((j) => j.read.actions(50).filter((x) => x.kind === 'fence' && x.startedAt >= sent)),
      ).toHaveLength(1);
    }, 300_000);
  },
);
