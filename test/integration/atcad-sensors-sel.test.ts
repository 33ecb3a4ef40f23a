// atcad's sensor and SEL polling with real peers: ipmi_sim is the shelf (its blades' IPMCs hold
// temperature, watchdog and processor sensors; the shelf manager holds their SDRs and the SEL),
// no traps at all, and Pacemaker's tools act on an offline CIB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { type App, buildApp } from '../../src/daemon/app.js';
import type { Decision } from '../../src/policy/types.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { makeCib, tool } from '../helpers/cib.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { QUIET, until } from '../helpers/wait.js';

/** Until the CIB holds `value` for the node's health: the decision is journaled before the command runs. */
async function untilHealth(health: (node: string) => Promise<string>, node: string, value: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const now = await health(node);
    if (now === value) return;
    if (Date.now() > deadline) throw new Error(`#health-atca of ${node} is ${now}, not ${value}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('atcad: sensors and SEL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atcad-sensors-'));
  let shelf: SimulatedShelf;
  let app: App;
  let cib: string;
  const decisions: Decision[] = [];
  const health = async (node: string) =>
    (await tool('crm_attribute', ['-N', node, '-n', '#health-atca', '-l', 'reboot', '-G', '-q'], cib)).stdout.trim();

  beforeAll(async () => {
    shelf = await SimulatedShelf.start({ ...TEST_SHELF, shelfManagers: 1 });
    cib = await makeCib(dir, true);
    const cfg = parseConfig(`
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${shelf.managers[0]!.port} }]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { enabled: false }
polling: { hotswapIntervalMs: 300, sensorIntervalMs: 500, selIntervalMs: 500, requestTimeoutMs: 3000 }
policy: { sustainMs: 300, debounceMs: 100, recoveryMs: 1000 }
pacemaker: { mode: offline, cibFile: ${cib} }
journal: { path: ${join(dir, 'journal.sqlite')} }
api: { port: 0 }
safety: { minNodesAfterFence: 2 }
`);
    app = buildApp(cfg, { log: QUIET, env: { SHELF_PW: TEST_SHELF.password }, onDecision: (d) => decisions.push(d) });
    await app.start();
    // Every slot mapped to its IPMC and every one of its sensors read once (slot 3's IPMC is
    // 0x9a). A sweep reads one sensor at a time: "some" could catch it half-way.
    await until('the first sensor sweep', () =>
      app.model().shelves[0]?.slots.every((s) => s.sensors.length > 0 && s.sensors.every((x) => x.at)),
    );
  });

  afterAll(async () => {
    await app?.stop();
    await shelf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every blade sensor the shelf manager describes, with values in units', () => {
    const slot3 = app.model().shelves[0]!.slots.find((s) => s.slot === 3)!;
    expect(slot3).toMatchObject({ node: 'node3', ipmb: 0x9a, hotswap: 'M4', health: 'green', reasons: [] });
    expect(slot3.sensors.map((s) => [s.name, s.value, s.unit])).toEqual([
      ['Temp Slot3', 40, '°C'],
      ['Watchdog Slot3', 0, undefined],
      ['CPU Slot3', 0, undefined],
    ]);
  });

  it('a blade running hot (85 °C, past UC) is seen without any trap (sensor poll, SEL): health red, with the reason; then green', async () => {
    await shelf.setTemperature(1, 85);
    const red = await until('health red for node1', () =>
      decisions.find((d) => d.kind === 'set-health' && d.slot === 's1/1' && d.value === 'red'),
    );
    expect(red.evidence.map((e) => e.summary).join(' | ')).toMatch(/temperature threshold offset 0x9 asserted/);
    await untilHealth(health, 'node1', 'red');
    const slot1 = app.model().shelves[0]!.slots.find((s) => s.slot === 1)!;
    expect(slot1.health).toBe('red');
    expect(slot1.reasons.map((r) => r.fault)).toEqual(['temperature-noncritical', 'temperature-critical']);
    expect(slot1.sensors.find((s) => s.name === 'Temp Slot1')).toMatchObject({ value: 85, status: ['UNC', 'UC'] });
    expect(decisions.some((d) => d.slot === 's1/1' && (d.kind === 'fence' || d.kind === 'set-standby'))).toBe(false);

    await shelf.setTemperature(1, 40);
    await until('health green for node1', () =>
      decisions.find((d) => d.kind === 'set-health' && d.slot === 's1/1' && d.value === 'green'),
    );
    await untilHealth(health, 'node1', 'green');
  });

  it('a watchdog that reset the blade (SEL + sensor) is confirmed by a fresh sensor read and fenced', async () => {
    await shelf.setDiscrete(2, 'watchdog', 1, true);
    const fence = await until('the fence of node2', () =>
      decisions.find((d) => d.kind === 'fence' && d.slot === 's1/2'),
    );
    expect(fence).toMatchObject({ node: 'node2', reason: 'watchdog-expired confirmed' });
    expect(fence.evidence.map((e) => e.summary).join(' | ')).toMatch(
      /sensor type 0x23 offset 1 asserted.*fresh IPMI reading: M4; Watchdog Slot2 = 0 \(states 0x2\)/,
    );
    await until('the fence action', () =>
      app.journal.read.actions().find((a) => a.kind === 'fence' && a.status !== 'started'),
    );
    const sim = await tool('crm_simulate', ['-x', cib, '-S'], undefined);
    expect(sim.stdout).toMatch(/Fence \(reboot\) node2 'termination was requested'/);
  });

  it('a stray SEL entry (IERR that no sensor holds) turns nothing irreversible: refuted, recorded', async () => {
    // Processor IERR for slot 3's IPMC (0x9a), logged as if the IPMC had sent it.
    await shelf.addSelEntry(0x02, [0, 0, 0, 0, 0x9a, 0x00, 0x04, 0x07, 0x04, 0x6f, 0x00, 0xff, 0xff]);
    const dropped = await until('the unconfirmed verdict', () =>
      decisions.find((d) => d.slot === 's1/3' && /processor-ierr refuted by a fresh reading/.test(d.reason)),
    );
    expect(dropped.evidence.map((e) => e.summary).join(' | ')).toMatch(
      /fresh IPMI reading: M4; CPU Slot3 = 0 \(states 0x0\)/,
    );
    expect(decisions.filter((d) => d.slot === 's1/3').map((d) => d.kind)).not.toContain('fence');
    expect(app.journal.read.events(200).some((e) => e.source === 'sel' && e.kind === 'discrete')).toBe(true);
  });

  it('a SEL record nobody understands is kept in the journal, not dropped', async () => {
    await shelf.addSelEntry(0xe1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const kept = await until('the journaled OEM record', () =>
      app.journal.read.events(200).find((e) => e.source === 'sel' && e.kind === 'not-understood'),
    );
    expect(kept.body).toMatchObject({ type: 0xe1, record: expect.stringMatching(/ e1 01 02 03 04 05/) });
  });
});
