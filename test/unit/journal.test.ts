// The journal against a real SQLite (better-sqlite3) file in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { until } from '../helpers/wait.js';

const dirs: string[] = [];
function open(): Journal {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  dirs.push(dir);
  return new Journal(join(dir, 'sub', 'j.sqlite'));
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('journal', () => {
  it('records events (understood or not), decisions with evidence, and actions start → finish', () => {
    const j = open();
    j.recordEvent({
      at: 1,
      shelf: 's1',
      slot: 2,
      source: 'trap',
      kind: 'hotswap',
      understood: true,
      body: { state: 7 },
    });
    j.recordEvent({ at: 2, source: 'trap', kind: 'pet', understood: false, body: { raw: 'ab' } });
    const { decisionId: d } = j.recordDecision({
      at: 3,
      slot: 's1/2',
      kind: 'fence',
      node: 'node2',
      reason: 'confirmed',
      evidence: [{ source: 'trap', at: 1, summary: 'M7' }],
      body: {},
    });
    const a = j.startAction({
      decisionId: d,
      slot: 's1/2',
      node: 'node2',
      kind: 'fence',
      at: 4,
      command: ['stonith_admin', '--reboot', 'node2'],
    });
    expect(j.unfinishedActions().map((r) => r.id)).toEqual([a]);
    j.finishAction(a, { status: 'succeeded', at: 5, exitCode: 0, durationMs: 30.5, stdout: 'ok', stderr: '' });
    expect(j.unfinishedActions()).toEqual([]);
    expect(j.actions()[0]).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      command: ['stonith_admin', '--reboot', 'node2'],
    });
    expect(j.events().map((e) => e.understood)).toEqual([false, true]);
    expect(j.decisions()[0]?.evidence).toEqual([{ source: 'trap', at: 1, summary: 'M7' }]);
    expect(j.fenceTimesSince(0)).toEqual([4]);
    j.close();
  });

  it('queued events are written together, at the latest with the next decision, in order', async () => {
    const j = open();
    j.queueEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    j.queueEvent({ at: 2, source: 'trap', kind: 'b', understood: true, body: {} });
    expect(j.counts().events).toBe(0);
    const { decisionId, actionId } = j.recordDecision(
      { at: 3, slot: 's/1', kind: 'set-health', node: 'n', reason: 'r', evidence: [], body: {} },
      { kind: 'health', node: 'n', at: 3, command: [] },
    );
    expect(j.counts()).toEqual({ events: 2, decisions: 1, actions: 1 });
    expect(j.unfinishedActions()[0]).toMatchObject({ id: actionId, kind: 'health', node: 'n' });
    expect(decisionId).toBeGreaterThan(0);
    j.queueEvent({ at: 4, source: 'poll', kind: 'c', understood: true, body: {} });
    expect(j.counts().events).toBe(2);
    // Alone, an event is committed within a few ms (group commit), without anyone flushing.
    await until('the queued event to be committed', () => j.counts().events === 3, 2000, 1);
    expect(j.events().map((e) => e.kind)).toEqual(['c', 'b', 'a']);
    j.finishAction(actionId!, { status: 'succeeded', at: 5, command: ['attrd_updater', '-U', 'red'] });
    expect(j.actions()[0]?.command).toEqual(['attrd_updater', '-U', 'red']);
    j.close();
  });

  it('close() writes what is still queued', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-q-')), 'j.sqlite');
    const j = new Journal(path);
    j.queueEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    j.close();
    const again = new Journal(path);
    expect(again.counts().events).toBe(1);
    again.close();
  });

  it('prunes by retention but keeps unfinished actions and the decisions they point to', () => {
    const j = open();
    const day = 86_400_000;
    j.recordEvent({ at: 0, source: 'poll', kind: 'x', understood: true, body: {} });
    const { decisionId: d } = j.recordDecision({
      at: 0,
      slot: 's/1',
      kind: 'fence',
      reason: 'r',
      evidence: [],
      body: {},
    });
    j.startAction({ decisionId: d, slot: 's/1', node: 'n', kind: 'fence', at: 0, command: [] });
    j.recordEvent({ at: 10 * day, source: 'poll', kind: 'x', understood: true, body: {} });
    const removed = j.prune(5, 10 * day);
    expect(removed).toBe(1);
    expect(j.counts()).toEqual({ events: 1, decisions: 1, actions: 1 });
    j.close();
  });

  it('a journal that cannot be opened is a clear error', () => {
    expect(() => new Journal('/etc/hostname/atcad/j.sqlite')).toThrow(/journal cannot be written/);
  });
});
