// What happens on a real site, each scenario with real peers: ipmi_sim is the shelf (one or
// two shelf managers), fence_atca and ipmitool are the operator, net-snmp's snmptrap sends what
// the shelf manager's PEF would, Pacemaker's tools act on an offline CIB that crm_simulate reads.
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { hotSwapPet, hotSwapSpecific } from '../../src/sim/pet-trap.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { captureTrap, discretePet, discreteSpecific, Sequence, stamp } from '../../src/sim/trap-datagram.js';
import { runAgent } from '../helpers/agent.js';
import { type AtcadUnderTest, COMMUNITY, startAtcad } from '../helpers/atcad.js';
import { tool } from '../helpers/cib.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);
const PROCESSOR = 0x07;
const IERR = 0x00;

let current: AtcadUnderTest | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

/** Every log line, decision and action, for a failure's message. */
function story(a: AtcadUnderTest): string {
  const ds = a.decisions.map((d) => `${d.slot} ${d.kind}: ${d.reason}`).join('\n');
  const acts = a.app.journal.isOpen
    ? a.app.journal.read
        .actions(20)
        .map((x) => `${x.kind} ${x.node} ${x.status} ${x.note ?? ''}`)
        .join('\n')
    : '';
  return `--- decisions\n${ds}\n--- actions\n${acts}\n--- log\n${a.logs.slice(-40).join('\n')}`;
}

const processorSensor = (slot: number) => boardSensors(TEST_SHELF.boards.find((b) => b.slot === slot)!).processor;

describe('an operator deactivates blades: recorded, never fenced', () => {
  it('fence_atca off, and ipmitool picmg deactivate with the shelf manager’s traps (cause 1 then 0)', async () => {
    const a = await startAtcad({ sections: 'polling: { hotswapIntervalMs: 200 }\npolicy: { sustainMs: 200 }' });
    current = a;
    await until('the first poll', () => a.app.model().shelves[0]?.slots.every((s) => s.hotswap === 'M4'));
    const sm = a.shelf.managers[0]!;
    // Slot 1: the fence agent, run by hand (an operator's `fence_atca -o off`); no trap at all.
    const off = await runAgent({
      action: 'off',
      plug: 1,
      ip: '127.0.0.1',
      ipport: sm.port,
      username: TEST_SHELF.username,
      password: TEST_SHELF.password,
      cipher: 3,
      stonith_status_sleep: '0.05',
    });
    expect(off.code, off.stderr).toBe(0);
    // Slot 2: Set FRU Activation (deactivate) straight from ipmitool, and the traps the shelf
    // manager sends for it: M4→M6 commanded (cause 1), then M6→M1 normal (cause 0).
    const ipmb = a.shelf.ipmbOfSlot(2);
    await run(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-H',
        '127.0.0.1',
        '-p',
        String(sm.port),
        '-U',
        'admin',
        '-E',
        '-C',
        '3',
        '-t',
        `0x${ipmb.toString(16)}`,
        'picmg',
        'deactivate',
        '0',
      ],
      { env: { PATH: process.env.PATH, IPMITOOL_PASSWORD: TEST_SHELF.password } },
    );
    await a.hotswapTrap(6, hotSwapPet(ipmb, 6, 4, 1));
    await until('slot 2 in M1', async () => (await a.shelf.stateOf(2)) === 1);
    await a.hotswapTrap(1, hotSwapPet(ipmb, 1, 6, 0));
    await until(
      'both deactivations seen',
      () => a.app.model().shelves[0]?.slots.filter((s) => s.hotswap === 'M1' && s.slot <= 2).length === 2,
    );
    await until('the commanded one recorded', () =>
      a.decisions.find((d) => d.slot === 's1/2' && /commanded deactivation/.test(d.reason)),
    );
    // Past the sustain time and a few polls: no standby, no fence, on either slot. A blade
    // leaving service may be made red ('deactivating') while it goes down — never more.
    await new Promise((r) => setTimeout(r, 1500));
    for (const slot of ['s1/1', 's1/2']) {
      expect(
        a.acted(slot).filter((d) => !(d.kind === 'set-health' || d.kind === 'confirm')),
        story(a),
      ).toEqual([]);
    }
    expect(
      a.decisions.some((d) => d.slot === 's1/1' && /deactivation of unknown cause .*not a fault/.test(d.reason)),
    ).toBe(true);
    expect(a.app.journal.read.actions().filter((x) => x.kind === 'fence')).toEqual([]);
    const sim = await tool('crm_simulate', ['-x', a.cib, '-S'], undefined);
    expect(sim.stdout).not.toMatch(/Fence/);
  });
});

describe('both shelf managers frozen', () => {
  it('an IERR trap meanwhile is held (health yellow: a claim, no fence), and confirmed once one shelf manager returns', async () => {
    const a = await startAtcad({
      spec: { ...TEST_SHELF, shelfManagers: 2 },
      // atcad must not see the IERR by itself before the shelf managers freeze: long intervals.
      sections:
        'polling: { hotswapIntervalMs: 60000, sensorIntervalMs: 60000, selIntervalMs: 60000, requestTimeoutMs: 800, backoffMaxMs: 1000 }\npolicy: { sustainMs: 200 }\nsafety: { minNodesAfterFence: 2 }',
    });
    current = a;
    await until('the first sensor sweep', () =>
      a.app.model().shelves[0]?.slots.every((s) => s.sensors.length > 0 && s.sensors.every((x) => x.at)),
    );
    // The processor of slot 2 fails (IERR, with its SEL entry), and both shelf managers stop
    // answering (SIGSTOP: a hung shelf manager, not a dead one).
    await a.shelf.setDiscrete(2, 'processor', IERR, true);
    const pids = a.shelf.managers.map((m) => m.pid!);
    for (const p of pids) process.kill(p, 'SIGSTOP');
    try {
      const ipmb = a.shelf.ipmbOfSlot(2);
      await a.trap(discreteSpecific(PROCESSOR, IERR), discretePet(ipmb, processorSensor(2), IERR, true));
      // A claim no reading can show yet: yellow, not red (and never forgotten).
      await until('health yellow at once', async () => (await a.health('node2')) === 'yellow');
      // The fresh reading cannot be taken: unknown, twice, and the fault is kept.
      await until(
        'two unknown answers',
        () =>
          a.decisions.filter((d) => d.slot === 's1/2' && /unknown\): the fault and its health are kept/.test(d.reason))
            .length >= 2,
        20_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story(a)}`);
      });
      expect(a.acted('s1/2').map((d) => d.kind)).not.toContain('fence');
      expect(a.app.policyState().slots.get('s1/2')?.active.has('processor-ierr')).toBe(true);
      // One shelf manager returns (the second: the first stays frozen).
      process.kill(pids[1]!, 'SIGCONT');
      const fence = await until(
        'the fence',
        () => a.decisions.find((d) => d.slot === 's1/2' && d.kind === 'fence'),
        30_000,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}\n${story(a)}`);
      });
      expect(fence.evidence.map((e) => e.summary).join(' | ')).toMatch(
        /fresh IPMI reading: M4; CPU.*states 0x1\) → confirmed/,
      );
      await until('health red once confirmed', async () => (await a.health('node2')) === 'red');
    } finally {
      for (const p of pids) process.kill(p, 'SIGCONT');
    }
  });
});

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('the journal on a filesystem that fills up', () => {
  let mount: string | undefined;
  afterEach(() => {
    if (mount) execFileSync('umount', ['-l', mount]);
    mount = undefined;
  });

  it('refuses actions loudly while full, keeps memory bounded, and acts once space returns', async () => {
    const base = join('/tmp', `atcad-fullfs-${process.pid}-${Date.now()}`);
    mkdirSync(base, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', base]);
    mount = base;
    // A reserve larger than the WAL can grow to under it (3 MiB here), as the default (64 MiB)
    // is larger than the WAL's bound in atcad (40 MiB): the checkpoint always finds room.
    const a = await startAtcad({
      sections: `journal: { path: ${join(base, 'journal.sqlite')}, minFreeMiB: 5 }
polling: { hotswapIntervalMs: 300, sensorIntervalMs: 60000, selIntervalMs: 60000 }
policy: { sustainMs: 200 }
safety: { minNodesAfterFence: 2 }`,
    });
    current = a;
    await until('the first poll', () => a.app.model().shelves[0]?.slots.every((s) => s.hotswap === 'M4'));
    // Fill the filesystem to the last byte.
    const filler = join(base, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    // A storm of traps that lead nowhere fills the WAL's room, then an IERR on slot 2.
    const ipmb2 = a.shelf.ipmbOfSlot(2);
    for (let i = 0; i < 40; i++) await a.hotswapTrap(3, hotSwapPet(a.shelf.ipmbOfSlot(3), 3, 2, 0));
    await a.shelf.setDiscrete(2, 'processor', IERR, true);
    await a.trap(discreteSpecific(PROCESSOR, IERR), discretePet(ipmb2, processorSensor(2), IERR, true));
    await until(
      'the refusal',
      () => a.logs.find((l) => /journal write failed, so nothing is carried out/.test(l)),
      20_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${story(a)}`);
    });
    const status = a.app.status();
    expect(status.engine.blockedSince).toBeDefined();
    expect(status.journal.failingSince).toBeDefined();
    // Refused means not done: no health, no fence in the CIB.
    expect(await a.health('node2')).toBe('');
    expect(a.decisions.filter((d) => d.slot === 's1/2')).toEqual([]);
    // Bounded while it waits: 12,000 more traps (each a new one: its own PET sequence number)
    // and the queues stay at their limits, the oldest events dropped and counted.
    const template = await captureTrap(
      COMMUNITY,
      hotSwapSpecific(3),
      hotSwapPet(a.shelf.ipmbOfSlot(3), 3, 2, 0),
      a.dir,
    );
    const sock = createSocket('udp4');
    const seq = new Sequence(0);
    for (let i = 0; i < 12_000; i++) {
      await new Promise<void>((r) => sock.send(stamp(template, seq.next()), a.trapPort, '127.0.0.1', () => r()));
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
    }
    sock.close();
    await until('the storm received', () => (a.app.trapCounters?.received ?? 0) >= 12_000 + 41, 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(a.app.status())}`);
    });
    const full = a.app.status();
    expect(full.journal.queuedEvents).toBeLessThanOrEqual(10_000);
    expect(full.journal.droppedEvents).toBeGreaterThan(0);
    expect(full.journal.lowSpaceSince).toBeDefined();
    expect(a.logs.some((l) => /below journal.minFreeMiB \(5\): events are not journaled/.test(l))).toBe(true);
    expect(full.engine.queued).toBeLessThanOrEqual(10_000);
    // Space returns: the same decisions go through, in order, with nothing left wedged.
    rmSync(filler);
    await until('health red', async () => (await a.health('node2')) === 'red', 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(a.app.status())}\n${story(a)}`);
    });
    const fence = await until(
      'the fence',
      () => a.decisions.find((d) => d.slot === 's1/2' && d.kind === 'fence'),
      30_000,
    );
    expect(fence.reason).toBe('processor-ierr confirmed');
    await until('the fence action done', () =>
      a.app.journal.read.actions().find((x) => x.kind === 'fence' && x.status === 'succeeded'),
    ).catch((e) => {
      const acts = a.app.journal.read.actions().map((x) => `${x.id} ${x.kind} ${x.node} ${x.status}`);
      throw new Error(
        `${(e as Error).message}: ${JSON.stringify(a.app.status())}\nactions: ${acts.join('; ')}\n${a.logs
          .filter((l) => !l.startsWith('INFO'))
          .slice(-30)
          .join('\n')}`,
      );
    });
    // Nothing stays wedged: the decision queue is unblocked (a write still refused by the nearly
    // full filesystem at that moment blocks it again only until its retry).
    await until('the decision queue unblocked', () =>
      a.app.status().engine.blockedSince === undefined ? true : undefined,
    );
    expect(a.logs.some((l) => /journal writes again: decisions resume/.test(l))).toBe(true);
  });
});
