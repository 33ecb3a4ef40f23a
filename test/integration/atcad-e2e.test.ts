// atcad end to end with real peers: ipmi_sim is the shelf (polled over IPMI), net-snmp's
// snmptrap sends PET traps, and Pacemaker's own tools act on an offline CIB that
// crm_simulate then reads.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { type App, buildApp } from '../../src/daemon/app.js';
import type { Decision } from '../../src/policy/types.js';
import {
  hotSwapPet,
  hotSwapTrapOid,
  PET_ENTERPRISE_OID,
  PET_VARBIND_OID,
  snmptrapV2cArgs,
} from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { discretePet, discreteSpecific } from '../../src/sim/trap-datagram.js';
import { makeCib, tool } from '../helpers/cib.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { QUIET, until } from '../helpers/wait.js';

const run = promisify(execFile);

describe('atcad end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atcad-e2e-'));
  let shelf: SimulatedShelf;
  let app: App;
  let cib: string;
  let trapPort: number;
  const decisions: Decision[] = [];

  /** A v2c PET trap for hot-swap → M<state> (default M7, specific 0xF06F07), sent by net-snmp's snmptrap. */
  /** A PET; the trap OID is a hot-swap one for `state`, or the given specific trap number's. */
  function sendTrap(community: string, pet: Buffer, state = 7, specific?: number) {
    const oid = specific === undefined ? hotSwapTrapOid(state) : `${PET_ENTERPRISE_OID}.0.${specific}`;
    return run('snmptrap', snmptrapV2cArgs(community, `127.0.0.1:${trapPort}`, oid, pet), {
      env: { PATH: process.env.PATH, HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'snmp') },
    });
  }

  beforeAll(async () => {
    shelf = await SimulatedShelf.start({ ...TEST_SHELF, shelfManagers: 1 });
    cib = await makeCib(dir, true);
    trapPort = await freePort();
    const cfg = parseConfig(`
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${shelf.managers[0]!.port} }]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps:
  address: 127.0.0.1
  port: ${trapPort}
  communities: [{ env: COMMUNITY }]
  v3Users: [{ name: atcad, authKey: { env: V3_AUTH }, privKey: { env: V3_PRIV } }]
polling: { hotswapIntervalMs: 200, requestTimeoutMs: 3000 }
policy: { sustainMs: 300, debounceMs: 100 }
pacemaker: { mode: offline, cibFile: ${cib} }
journal: { path: ${join(dir, 'journal.sqlite')} }
api: { port: 0 }
safety: { minNodesAfterFence: 2 }
`);
    app = buildApp(cfg, {
      log: QUIET,
      env: {
        SHELF_PW: TEST_SHELF.password,
        COMMUNITY: 'Comm-e2e-71',
        V3_AUTH: 'Auth-e2e-3141',
        V3_PRIV: 'Priv-e2e-2718',
      },
      onDecision: (d) => decisions.push(d),
    });
    await app.start();
    // The first poll cycle maps every slot to its IPMC (slot 3 → 0x9a).
    await until('the first poll', () => app.journal.read.counts().events >= 3 || undefined);
  });

  afterAll(async () => {
    await app?.stop();
    await shelf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stray trap (the shelf says the blade is fine) turns health yellow at most: never red, never standby or fence', async () => {
    await sendTrap('Comm-e2e-71', hotSwapPet(0x9a, 7, 4, 0xf));
    // Polling is the truth: either the next poll reports the blade in M4 (the claim is gone
    // before the sustain time) or the fresh read disagrees. Both drop the fault.
    const dropped = await until('the fault dropped', () =>
      decisions.find((d) => d.slot === 's1/3' && /hotswap-lost (cleared|refuted)/.test(d.reason)),
    );
    expect(dropped.evidence.map((e) => e.summary).join(' | ')).toMatch(/M7→M4 \(poll\)|fresh IPMI reading: M4/);
    const kinds = decisions.filter((d) => d.slot === 's1/3').map((d) => d.kind);
    expect(kinds.slice(0, 2)).toEqual(['record', 'set-health']);
    expect(kinds).not.toContain('set-standby');
    expect(kinds).not.toContain('fence');
    expect(decisions.flatMap((d) => (d.slot === 's1/3' && d.kind === 'set-health' ? [d.value] : []))).toEqual([
      'yellow',
    ]);
    const health = await tool('crm_attribute', ['-N', 'node3', '-n', '#health-atca', '-l', 'reboot', '-G', '-q'], cib);
    expect(health.stdout.trim()).toBe('yellow');
  });

  it("a blade that really loses power is the cluster's: trap → fresh read (M1) → no fence, no health, and why, all journaled", async () => {
    await shelf.setState(2, 1);
    // What the blade's IPMC reports through the shelf manager's PEF (ipmi_sim sends no traps).
    await sendTrap('Comm-e2e-71', hotSwapPet(shelf.ipmbOfSlot(2), 1, 4, 9), 1);
    const waiting = await until('the decision to leave it to the cluster', () =>
      decisions.find((d) => d.slot === 's1/2' && /verified off and node2 is still an online member/.test(d.reason)),
    );
    const chain = waiting.evidence.map((e) => e.summary).join(' | ');
    expect(chain).toMatch(/M4→M1 cause 9 \(trap\): unexpected deactivation/);
    expect(chain).toMatch(/fresh IPMI reading: M1 → confirmed/);
    expect(chain).toMatch(/cluster: quorate, voting members online node1, node2, node3 of 3/);
    expect(waiting.reason).toMatch(/atcad adds nothing/);
    // The blade is off: nothing of atcad's reaches the cluster for node2.
    expect(
      decisions.filter((d) => d.slot === 's1/2' && ['fence', 'set-health', 'set-standby'].includes(d.kind)),
    ).toEqual([]);
    expect(app.journal.read.actions().filter((a) => a.node === 'node2')).toEqual([]);
    await shelf.setState(2, 4);
  });

  it('a zombie (IERR on a blade that still has power) is fenced: trap → yellow → fresh read → red and fence, all journaled', async () => {
    await shelf.setDiscrete(2, 'processor', 0, true);
    const cpu = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 2)!).processor;
    await sendTrap('Comm-e2e-71', discretePet(shelf.ipmbOfSlot(2), cpu, 0, true), 1, discreteSpecific(0x07, 0));
    const fence = await until('the fence decision', () =>
      decisions.find((d) => d.kind === 'fence' && d.slot === 's1/2'),
    );
    expect(fence).toMatchObject({ node: 'node2', reason: 'processor-ierr confirmed' });
    const chain = fence.evidence.map((e) => e.summary).join(' | ');
    expect(chain).toMatch(/fresh IPMI reading: M4; .* → confirmed/);
    expect(chain).toMatch(/cluster: quorate, voting members online node1, node2, node3 of 3/);
    expect(chain).toMatch(/fencer history of node2: none/);
    await until('the fence action', () =>
      app.journal.read.actions().find((a) => a.kind === 'fence' && a.status !== 'started'),
    );
    const sim = await tool('crm_simulate', ['-x', cib, '-S'], undefined);
    expect(sim.stdout).toMatch(/Fence \(reboot\) node2 'termination was requested'/);
    const actions = app.journal.read.actions();
    expect(actions.find((a) => a.kind === 'fence')).toMatchObject({ status: 'succeeded', node: 'node2', exitCode: 0 });
    // Red: at once if the poller read the IPMC first, or once the fresh reading confirmed the trap.
    expect(decisions.flatMap((d) => (d.slot === 's1/2' && d.kind === 'set-health' ? [d.value] : [])).at(-1)).toBe(
      'red',
    );
    await shelf.setDiscrete(2, 'processor', 0, false);
  });

  it('a deactivation seen only by polling (no cause) is recorded, never fenced', async () => {
    await shelf.setState(1, 1);
    const note = await until('the record', () =>
      decisions.find((d) => d.slot === 's1/1' && /deactivation of unknown cause/.test(d.reason)),
    );
    expect(note.kind).toBe('record');
    await new Promise((r) => setTimeout(r, 1000));
    // A fresh reading is asked for (it may be the cluster's fence); nothing is applied: the
    // blade reads off, and no fence follows.
    expect(decisions.filter((d) => d.slot === 's1/1' && d.kind !== 'record' && d.kind !== 'confirm')).toEqual([]);
    await shelf.setState(1, 4);
    // The next test starts from a blade the poller has seen active again.
    await until(
      'slot 1 read active again',
      () => app.model().shelves[0]?.slots.find((x) => x.slot === 1)?.hotswap === 'M4',
    );
  });

  it('the same PET twice (a resend, or a replay) is journaled as a duplicate and acted on once', async () => {
    const pet = hotSwapPet(0x9a, 3, 2, 0); // M2 → M3 on slot 3 (no fault class), sequence and timestamp set
    await sendTrap('Comm-e2e-71', pet);
    await sendTrap('Comm-e2e-71', pet);
    await until('the duplicate', () => (app.trapCounters?.duplicates ?? 0) >= 1 || undefined);
    const dup = await until('the journaled duplicate', () =>
      app.journal.read.events(200).find((e) => e.source === 'trap' && e.kind === 'duplicate'),
    );
    expect(dup.understood).toBe(true);
    const seen = app.journal.read
      .events(200)
      .filter((e) => e.source === 'trap' && e.kind === 'hotswap' && JSON.stringify(e.body).includes('"state":3'));
    expect(seen).toHaveLength(1);
  });

  it('counts and drops a trap with a wrong community, acting on nothing', async () => {
    const before = decisions.length;
    await sendTrap('wrong', hotSwapPet(0x82, 7, 4, 0xf));
    await until('the rejection', () => (app.trapCounters?.badAuth ?? 0) >= 1 || undefined);
    expect(decisions.slice(before).filter((d) => d.slot === 's1/1')).toEqual([]);
  });

  it('an SNMPv3 authPriv trap is decoded and acted on like a v2c one', async () => {
    await run(
      'snmptrap',
      [
        '-m',
        '',
        '-v',
        '3',
        '-e',
        '0x8000000001020304',
        '-u',
        'atcad',
        '-l',
        'authPriv',
        '-a',
        'SHA',
        '-A',
        'Auth-e2e-3141',
        '-x',
        'AES',
        '-X',
        'Priv-e2e-2718',
        `127.0.0.1:${trapPort}`,
        '',
        hotSwapTrapOid(7),
        PET_VARBIND_OID,
        'x',
        hotSwapPet(0x82, 7, 4, 0xf).toString('hex'),
      ],
      { env: { PATH: process.env.PATH, HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'snmp') } },
    );
    const health = await until('the v3 trap decision', () =>
      decisions.find((d) => d.slot === 's1/1' && d.kind === 'set-health'),
    );
    // A claim: yellow until a fresh reading shows it (here it refutes it: slot 1 is in M4).
    expect(health).toMatchObject({ node: 'node1', value: 'yellow' });
    expect(health.evidence[0]?.summary).toMatch(/hot-swap M4→M7 cause 15 \(trap\)/);
  });
});
