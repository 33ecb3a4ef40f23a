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
import type { Logger } from '../../src/log.js';
import type { ActionResult, ClusterActuator, FenceHistoryEntry } from '../../src/pacemaker/actuator.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const quiet: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

function actuator(history: FenceHistoryEntry[]): ClusterActuator & { fences: string[] } {
  const ok = (command: string[]): Promise<ActionResult> =>
    Promise.resolve({ ok: true, command, exitCode: 0, durationMs: 1, stdout: '', stderr: '' });
  const fences: string[] = [];
  return {
    fences,
    setHealth: (n, v) => ok(['attrd_updater', n, v]),
    clearHealth: (n) => ok(['attrd_updater', '-D', n]),
    setStandby: (n, on) => ok(['crm_attribute', n, String(on)]),
    fence: (n) => {
      fences.push(n);
      return ok(['stonith_admin', '--reboot', n]);
    },
    fenceHistory: () => Promise.resolve(history),
    nodes: () =>
      Promise.resolve([1, 2, 3].map((i) => ({ name: `node${i}`, online: true, standby: false, unclean: false }))),
  };
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
`;
  return { cfgText, journalPath };
}

async function restart(cfgText: string, history: FenceHistoryEntry[]) {
  const act = actuator(history);
  const app = buildApp(parseConfig(cfgText), { log: quiet, env: { PW: 'x' }, actuator: act });
  await app.start();
  await app.stop();
  return act;
}

describe('atcad restart reconciliation', () => {
  it('a fence the fencer completed is marked done, never repeated, and still counts for the rate limit', async () => {
    const { cfgText, journalPath } = setup();
    const started = Date.now() - 5000;
    const j = new Journal(journalPath);
    j.startAction({
      decisionId: null,
      slot: 's1/2',
      node: 'node2',
      kind: 'fence',
      at: started,
      command: ['stonith_admin', '--reboot', 'node2'],
    });
    j.close();
    const act = await restart(cfgText, [
      { action: 'reboot', target: 'node2', status: 'success', completed: new Date(started + 1000).toISOString() },
    ]);
    expect(act.fences).toEqual([]);
    const after = new Journal(journalPath);
    expect(after.actions()[0]).toMatchObject({
      status: 'reconciled-done',
      note: 'the fencer reports the fence completed',
    });
    expect(after.fenceTimesSince(0)).toEqual([started]);
    after.close();
  });

  it('a fence with no record in the fencer is abandoned with a reason, not retried blindly', async () => {
    const { cfgText, journalPath } = setup();
    const j = new Journal(journalPath);
    j.startAction({ decisionId: null, slot: 's1/3', node: 'node3', kind: 'fence', at: Date.now() - 1000, command: [] });
    j.startAction({
      decisionId: null,
      slot: 's1/1',
      node: 'node1',
      kind: 'health',
      at: Date.now() - 1000,
      command: [],
    });
    j.close();
    const act = await restart(cfgText, []);
    expect(act.fences).toEqual([]);
    const after = new Journal(journalPath);
    expect(after.unfinishedActions()).toEqual([]);
    expect(after.actions().map((a) => a.status)).toEqual(['abandoned', 'abandoned']);
    expect(after.actions().find((a) => a.kind === 'fence')?.note).toMatch(/not repeated/);
    after.close();
  });

  it('applies journal retention at start: events older than retentionDays go, recent ones stay', async () => {
    const { cfgText, journalPath } = setup();
    const j = new Journal(journalPath);
    const old = Date.now() - 100 * 86_400_000;
    j.recordEvent({ at: old, source: 'poll', kind: 'hotswap', understood: true, body: {} });
    j.recordEvent({ at: Date.now(), source: 'poll', kind: 'hotswap', understood: true, body: {} });
    j.close();
    await restart(`${cfgText.replace(`path: ${journalPath} }`, `path: ${journalPath}, retentionDays: 90 }`)}`, []);
    const after = new Journal(journalPath);
    const ats = after.events().map((e) => e.at);
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
