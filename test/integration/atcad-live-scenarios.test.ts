// What a real cluster does around atcad, with every peer real: a one-node corosync + Pacemaker
// cluster in namespaces of its own (test/helpers/cluster.ts), its fencer running fence_atca
// against the simulated shelf, net-snmp's snmptrap sending what the shelf manager would, and
// atcad run as deployed (`node dist/atcad.mjs --config FILE`, pacemaker.mode live) — killed
// with SIGKILL where the scenario says so. node1 is the cluster; the blades of slots 2 and 3
// are "node2" and "node3", which no member runs on, so that fencing them never fences the
// cluster itself.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { type FenceHistoryEntry, parseFenceHistoryXml } from '../../src/pacemaker/actuator.js';
import { hotSwapPet, hotSwapSpecific } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { discretePet, discreteSpecific } from '../../src/sim/trap-datagram.js';
import { CLUSTER_TOOLS, LiveCluster, type NsProcess, until } from '../helpers/cluster.js';
import { TEST_SHELF } from '../helpers/shelf.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const COMMUNITY = 'Comm-live-9';
const PROCESSOR = 0x07;
const IERR = 0;

const skipReason =
  process.getuid?.() !== 0
    ? 'needs root (namespaces, mounts, Pacemaker daemons)'
    : CLUSTER_TOOLS.filter((t) => !existsSync(t)).map((t) => `${t} is missing`)[0];

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
  `atcad and a live cluster's own fencing${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let cluster: LiveCluster | undefined;
    let shelf: SimulatedShelf | undefined;
    let atcad: NsProcess | undefined;
    let trapPort = 0;
    let run = 0;
    let journalPath = '';

    function ours<T>(v: T | undefined): T {
      if (v === undefined) throw new Error('beforeAll did not finish');
      return v;
    }

    /** Reads atcad's journal (a second connection: atcad keeps writing it). */
    function journal<T>(f: (j: Journal) => T): T {
      const j = new Journal(journalPath).open();
      try {
        return f(j);
      } finally {
        j.close();
      }
    }

    function story(): string {
      const decided = existsSync(journalPath)
        ? journal((j) =>
            j.read
              .decisions(40)
              .reverse()
              .map(
                (d) =>
                  `${d.slot} ${d.kind} ${d.node ?? ''}: ${d.reason}${d.kind === 'fence' || d.kind === 'blocked' ? ` ${JSON.stringify(d.evidence)}` : ''}`,
              )
              .join('\n'),
          )
        : '';
      const acted = existsSync(journalPath)
        ? journal((j) =>
            j.read
              .actions(10)
              .map((a) => `${a.kind} ${a.node} ${a.status} ${a.note ?? ''}`)
              .join('\n'),
          )
        : '';
      return `--- decisions\n${decided}\n--- actions\n${acted}\n--- atcad\n${atcad?.log(4000) ?? ''}\n${cluster?.logs(2000) ?? ''}`;
    }

    async function history(node: string): Promise<FenceHistoryEntry[]> {
      const r = await ours(cluster).run(['stonith_admin', '--history', node, '--verbose', '--output-as=xml']);
      return parseFenceHistoryXml(r.stdout);
    }

    async function sendTrap(specific: number, pet: Buffer): Promise<void> {
      const c = ours(cluster);
      const r = await c.run(
        [
          'snmptrap',
          '-m',
          '',
          '-v',
          '2c',
          '-c',
          COMMUNITY,
          `127.0.0.1:${trapPort}`,
          '',
          `.1.3.6.1.4.1.3183.1.1.0.${specific}`,
          '.1.3.6.1.4.1.3183.1.1.1',
          'x',
          pet.toString('hex'),
        ],
        10_000,
        { HOME: c.dir, SNMP_PERSISTENT_DIR: join(c.dir, 'snmp') },
      );
      expect(r.code, r.stderr).toBe(0);
    }

    /** Starts atcad with a journal and safety settings of its own (a new "site"). */
    async function startAtcad(safety: string, fresh: boolean): Promise<void> {
      const c = ours(cluster);
      // One atcad at a time (a scenario that failed may have left its own running).
      if (atcad?.running) await atcad.stop();
      const sm = ours(shelf).managers[0]!;
      if (fresh) journalPath = join(c.dir, `journal-${++run}.sqlite`);
      const config = join(c.dir, `atcad-${run}.yaml`);
      writeFileSync(
        config,
        `shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${sm.port} }]
    ipmi: { username: ${TEST_SHELF.username}, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 300, sensorIntervalMs: 500, selIntervalMs: 1000, requestTimeoutMs: 3000 }
policy: { sustainMs: 200, debounceMs: 100, recoveryMs: 1000 }
pacemaker: { mode: live, fenceTimeoutSec: 90 }
journal: { path: ${journalPath} }
api: { port: 0 }
safety: ${safety}
`,
      );
      atcad = await c.spawn(
        `atcad-${run}-${Date.now()}`,
        [process.execPath, join(REPO, 'dist/atcad.mjs'), '--config', config],
        {
          env: { SHELF_PW: TEST_SHELF.password, COMMUNITY },
          cwd: REPO,
        },
      );
      const me = atcad;
      await until('atcad to start', () => {
        if (!me.running) throw new Error(`atcad exited:\n${story()}`);
        return me.log().includes('atcad running') || undefined;
      });
      await until('the first poll', () => (journal((j) => j.read.counts().events) >= 3 ? true : undefined));
    }

    const decisionsOf = (slot: string) => journal((j) => j.read.decisions(500).filter((d) => d.slot === slot));
    const processor = (slot: number) => boardSensors(TEST_SHELF.boards.find((b) => b.slot === slot)!).processor;

    beforeAll(async () => {
      execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
      cluster = await LiveCluster.start({ node: 'node1', properties: { 'stonith-enabled': 'true' } });
      shelf = await SimulatedShelf.start({ ...TEST_SHELF, shelfManagers: 1 }, { commandPrefix: cluster.enter('net') });
      const sm = shelf.managers[0]!;
      await cluster.forwardTcp(sm.consolePort);
      // A reboot is off, then on; a stalled payload is given 15 s before its power is removed.
      const created = await cluster.run([
        'cibadmin',
        '--create',
        '--scope',
        'resources',
        '--xml-text',
        deviceXml({
          ip: '127.0.0.1',
          ipport: sm.port,
          username: TEST_SHELF.username,
          password: TEST_SHELF.password,
          cipher: 3,
          stonith_status_sleep: '0.05',
          graceful_timeout: 15,
          pcmk_host_map: 'node2:2;node3:3',
        }),
      ]);
      expect(created.code, created.stderr).toBe(0);
      await until(
        'the fencer to register atca-shelf',
        async () =>
          (await ours(cluster).run(['stonith_admin', '--list', 'node3'])).stdout.includes('atca-shelf') || undefined,
        120_000,
      );
      trapPort = await freePort();
    }, 240_000);

    afterAll(async () => {
      await atcad?.stop();
      await cluster?.stop();
      await shelf?.stop();
    }, 180_000);

    it('the cluster fences node2 (off) and node3 (reboot) itself: atcad records it, and does not fence again', async () => {
      await startAtcad('{ maxFences: 2 }', true);
      const s = ours(shelf);
      for (const [node, slot, verb] of [
        ['node2', 2, '--fence'],
        ['node3', 3, '--reboot'],
      ] as const) {
        const ipmb = s.ipmbOfSlot(slot);
        const fencing = ours(cluster).run(['stonith_admin', verb, node, '--timeout', '60']);
        // What the shelf manager sends while fence_atca works: the deactivation it commanded,
        // its completion — and, as a stalled payload's IPMC may when power goes, an unexpected one.
        await until(`slot ${slot} deactivating`, async () => ((await s.stateOf(slot)) !== 4 ? true : undefined));
        await sendTrap(hotSwapSpecific(6), hotSwapPet(ipmb, 6, 4, 1));
        await sendTrap(hotSwapSpecific(1), hotSwapPet(ipmb, 1, 6, 9));
        const done = await fencing;
        expect(done.code, `${done.stderr}\n${story()}`).toBe(0);
        // Off: atcad sees the fencer's record and declines. Reboot: the blade may be back in M4
        // first, which clears the fault before anything is confirmed. Either way, no fence.
        const settled = await until(
          `atcad to settle the fault of ${node}`,
          () =>
            decisionsOf(`s1/${slot}`).find((d) =>
              /the cluster (is fencing|has just fenced) .*(not fencing it again|this deactivation is its fence)|out of the cluster: the cluster fences it itself|cleared before confirmation: no fence|refuted/.test(
                d.reason,
              ),
            ),
          30_000,
        ).catch((e) => {
          throw new Error(`${(e as Error).message}\n${story()}`);
        });
        expect(settled.kind).toBe('record');
        if (verb === '--fence') {
          expect(settled.reason).toMatch(
            /not fencing it again|this deactivation is its fence|the cluster fences it itself/,
          );
        }
      }
      expect(decisionsOf('s1/2').some((d) => /commanded deactivation/.test(d.reason))).toBe(true);
      // Nothing of atcad's reached the fencer, nor the CIB: one fence each, the cluster's own.
      for (const slot of ['s1/2', 's1/3']) {
        expect(decisionsOf(slot).filter((d) => ['fence', 'set-standby'].includes(d.kind))).toEqual([]);
      }
      expect(journal((j) => j.read.actions(100).filter((a) => a.kind === 'fence'))).toEqual([]);
      expect((await history('node2')).filter((h) => h.status === 'success')).toHaveLength(1);
      expect((await history('node3')).filter((h) => h.status === 'success')).toHaveLength(1);
      expect(await ours(shelf).stateOf(3)).toBe(4);
      await ours(atcad).stop();
    }, 180_000);

    it('a blade fenced by atcad, repaired and back in M4, that faults again is fenced again', async () => {
      const s = ours(shelf);
      // node2 is off since the last scenario: the operator brings it back (unfencing: on).
      const on = await ours(cluster).run(['stonith_admin', '--unfence', 'node2', '--timeout', '60']);
      expect(on.code, on.stderr).toBe(0);
      await until('slot 2 in M4', async () => ((await s.stateOf(2)) === 4 ? true : undefined));
      await startAtcad('{ maxFences: 2 }', true);
      const ipmb = s.ipmbOfSlot(2);
      // A failure here must not leave slot 2's processor faulty for the scenarios after it.
      onTestFinished(() => s.setDiscrete(2, 'processor', IERR, false));
      for (const round of [1, 2]) {
        await s.setDiscrete(2, 'processor', IERR, true);
        await sendTrap(discreteSpecific(PROCESSOR, IERR), discretePet(ipmb, processor(2), IERR, true));
        await until(
          `atcad's fence ${round}`,
          () =>
            journal(
              (j) =>
                j.read.actions(50).filter((a) => a.kind === 'fence' && a.status === 'succeeded').length >= round ||
                undefined,
            ),
          90_000,
        ).catch((e) => {
          throw new Error(`${(e as Error).message}\n${story()}`);
        });
        // Rebooted (off, then on) and repaired: the processor is fine again, the slot active.
        await until('slot 2 back in M4', async () => ((await s.stateOf(2)) === 4 ? true : undefined), 30_000);
        await s.setDiscrete(2, 'processor', IERR, false);
        if (round === 1) {
          await until(
            'the episode over',
            () => decisionsOf('s1/2').find((d) => /episode that was fenced is over/.test(d.reason)),
            30_000,
          ).catch((e) => {
            throw new Error(`${(e as Error).message}\n${story()}`);
          });
        }
      }
      expect(decisionsOf('s1/2').filter((d) => d.kind === 'fence')).toHaveLength(2);
      await ours(atcad).stop();
    }, 240_000);

    it('killed with SIGKILL during a fence, twice, with maxFences 1: no second fence in the window', async () => {
      const s = ours(shelf);
      await startAtcad('{ maxFences: 1, fenceWindowSec: 900 }', true);
      // Slot 3's payload will not shut down by itself: the fence takes graceful_timeout (15 s).
      onTestFinished(async () => {
        await s.setStall(3, false);
        await s.setDiscrete(3, 'processor', IERR, false);
        await s.setDiscrete(2, 'processor', IERR, false);
      });
      await s.setStall(3, true);
      await s.setDiscrete(3, 'processor', IERR, true);
      await sendTrap(discreteSpecific(PROCESSOR, IERR), discretePet(s.ipmbOfSlot(3), processor(3), IERR, true));
      await until(
        'the fence started',
        () => journal((j) => j.read.unfinishedActions().find((a) => a.kind === 'fence')),
        30_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      for (let kill = 0; kill < 2; kill++) {
        const a = ours(atcad);
        process.kill(a.pid, 'SIGKILL');
        await a.waitExit(10_000);
        await startAtcad('{ maxFences: 1, fenceWindowSec: 900 }', false);
      }
      // Another blade faults while the first fence's outcome is not settled (or just settled):
      // the budget holds, and the node goes to standby instead. If an earlier scenario fenced
      // node2 moments ago, atcad would rightly say "the cluster has just fenced node2" before
      // any budget is consulted (the fence would be of the same episode): the fault is raised
      // once that fence is out of the 30 s it counts for.
      const node2Fenced = (await history('node2'))
        .filter((h) => h.status === 'success' && h.completed !== undefined)
        .map((h) => Date.parse(h.completed!));
      const wait = Math.max(0, ...node2Fenced.map((t) => t + 32_000 - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
      await s.setDiscrete(2, 'processor', IERR, true);
      await sendTrap(discreteSpecific(PROCESSOR, IERR), discretePet(s.ipmbOfSlot(2), processor(2), IERR, true));
      const blocked = await until(
        'the second fence blocked',
        () =>
          decisionsOf('s1/2').find(
            (d) => d.kind === 'blocked' && /fence\(s\) in the last 900 s or still unsettled \(limit 1\)/.test(d.reason),
          ),
        30_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      expect(blocked.reason).toMatch(/fence blocked/);
      // The first fence completes in the fencer (the stalled payload's power removed); the
      // restarted atcad settles it from the history, never repeating it.
      await until(
        'the interrupted fence settled',
        () => journal((j) => j.read.actions(50).find((a) => a.kind === 'fence' && a.status === 'reconciled-done')),
        60_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story()}`);
      });
      const fences = journal((j) => j.read.actions(100).filter((a) => a.kind === 'fence'));
      expect(fences.map((f) => f.node)).toEqual(['node3']);
      expect((await history('node3')).filter((h) => h.status === 'success').length).toBeGreaterThanOrEqual(1);
      expect(await history('node2')).not.toContainEqual(expect.objectContaining({ status: 'pending' }));
      await s.setStall(3, false);
    }, 240_000);
  },
);
