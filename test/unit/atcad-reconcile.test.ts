// Restart after a crash mid-fence: the journal's unfinished fence is reconciled with the
// fencer's history and never repeated. The actuator here is a recording stand-in because the
// point is what atcad asks and decides on restart; the real tools are exercised in
// test/integration (pacemaker-actuator-*, pacemaker-fenced, atcad-e2e).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/daemon/app.js';
import { Journal } from '../../src/journal/journal.js';
import { SILENT as quiet } from '../../src/log.js';
import type { FenceHistoryEntry } from '../../src/pacemaker/actuator.js';
import { fakeCluster } from '../helpers/fake-cluster.js';
import { until } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function actuator(history: FenceHistoryEntry[]) {
  const f = fakeCluster();
  f.history = history;
  return f;
}

/** A fence whose start was journaled, as a crash mid-fence leaves it. */
function startedFence(path: string, slot: string, node: string, at: number): number {
  const j = new Journal(path).open();
  const id = j.commit(
    [{ at, slot, kind: 'fence', node, reason: 'test', evidence: [], body: {}, action: { kind: 'fence', node } }],
    'fsync',
  ).actionIds[0]!;
  j.close();
  return id;
}

function setup(): { cfgText: string; journalPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'atcad-reconcile-'));
  dirs.push(dir);
  const journalPath = join(dir, 'j.sqlite');
  const cfgText = `
shelves:
  - name: s1
    # Nothing listens here: the poller's failures must not matter to reconciliation.
    shelfManagers: [{ host: 127.0.0.1, port: 9 }]
    ipmi: { username: admin, password: { env: PW } }
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { enabled: false }
journal: { path: ${journalPath} }
api: { port: 0 }
`;
  return { cfgText, journalPath };
}

async function restart(cfgText: string, history: FenceHistoryEntry[], settled: (j: Journal) => boolean = () => true) {
  const act = actuator(history);
  const app = buildApp(parseConfig(cfgText), { log: quiet, env: { PW: 'x' }, actuator: act });
  await app.start();
  await until('reconciliation', () => settled(app.journal));
  await app.stop();
  return act;
}

describe('atcad restart reconciliation', () => {
  it('a fence the fencer completed is marked done, never repeated, and still counts for the rate limit', async () => {
    const { cfgText, journalPath } = setup();
    const started = Date.now() - 5000;
    startedFence(journalPath, 's1/2', 'node2', started);
    const act = await restart(
      cfgText,
      [{ action: 'reboot', target: 'node2', status: 'success', completed: new Date(started + 1000).toISOString() }],
      (j) => j.read.unfinishedActions().length === 0,
    );
    expect(act.fenced).toEqual([]);
    const after = new Journal(journalPath).open();
    expect(after.read.actions()[0]).toMatchObject({
      status: 'reconciled-done',
      note: "the fencer's history shows the fence completed",
    });
    expect(after.read.fencesSince(0).map((a) => a.startedAt)).toEqual([started]);
    after.close();
  });

  it('a fence with no record in the fencer stays uncertain (and counts) until the fencer settles it; an interrupted health change is applied again', async () => {
    const { cfgText, journalPath } = setup();
    startedFence(journalPath, 's1/3', 'node3', Date.now() - 1000);
    const j = new Journal(journalPath).open();
    j.commit(
      [
        {
          at: Date.now() - 1000,
          slot: 's1/1',
          kind: 'set-health',
          node: 'node1',
          reason: 't',
          evidence: [],
          body: {},
          action: { kind: 'health', node: 'node1', value: 'red' },
        },
      ],
      'os',
    );
    j.close();
    const act = await restart(cfgText, [], (jj) => jj.read.actions().every((a) => a.status !== 'started'));
    expect(act.fenced).toEqual([]);
    const after = new Journal(journalPath).open();
    // The health change the restart cut short may have taken effect: it is applied again.
    expect(after.read.actions().map((a) => [a.kind, a.status, a.value])).toEqual([
      ['health', 'succeeded', 'red'],
      ['health', 'abandoned', 'red'],
      ['fence', 'uncertain', null],
    ]);
    expect(after.read.actions().find((a) => a.kind === 'fence')?.note).toMatch(/not repeated/);
    expect(after.read.fencesSince(Date.now()).length).toBe(1);
    after.close();
  });

  it('applies journal retention at start: events older than retentionDays go, recent ones stay', async () => {
    const { cfgText, journalPath } = setup();
    const j = new Journal(journalPath).open();
    const old = Date.now() - 100 * 86_400_000;
    j.appendEvent({ at: old, source: 'poll', kind: 'hotswap', understood: true, body: {} });
    j.appendEvent({ at: Date.now(), source: 'poll', kind: 'hotswap', understood: true, body: {} });
    j.close();
    await restart(`${cfgText.replace(`path: ${journalPath} }`, `path: ${journalPath}, retentionDays: 90 }`)}`, []);
    const after = new Journal(journalPath).open();
    const ats = after.read.events().map((e) => e.at);
    expect(ats).not.toContain(old);
    expect(ats.length).toBeGreaterThanOrEqual(1);
    after.close();
  });
});

describe("atcad and the cluster's membership", () => {
  it('warns about a configured node the cluster does not know (attrd_updater would accept it silently)', async () => {
    const { cfgText } = setup();
    const warned: string[] = [];
    const app = buildApp(parseConfig(cfgText.replace('node: node3', 'node: nodee3')), {
      log: { ...quiet, warn: (m) => warned.push(m) },
      env: { PW: 'x' },
      actuator: actuator([]),
    });
    await app.start();
    const model = app.model();
    await app.stop();
    expect(warned.filter((w) => /not a node of this cluster/.test(w))).toEqual([
      "node 'nodee3' (in the configuration) is not a node of this cluster: health and standby for it have no effect",
    ]);
    expect(model.shelves[0]!.slots.map((s) => [s.node, s.clusterMember])).toEqual([
      ['node1', true],
      ['node2', true],
      ['nodee3', false],
    ]);
  });
});
