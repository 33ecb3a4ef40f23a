// The journal against a real SQLite (better-sqlite3) file in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { until } from '../helpers/wait.js';

const dirs: string[] = [];
function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  dirs.push(dir);
  return join(dir, 'sub', 'j.sqlite');
}
function open(opts: ConstructorParameters<typeof Journal>[1] = {}): Journal {
  return new Journal(path(), opts).open();
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const decision = (over: Partial<Parameters<Journal['commit']>[0][number]> = {}) => ({
  at: 3,
  slot: 's1/2',
  kind: 'fence',
  node: 'node2',
  reason: 'confirmed',
  evidence: [{ source: 'trap', at: 1, summary: 'M7' }],
  body: {},
  ...over,
});

/** Makes every insert into `table` fail, as a full disk would, through a second connection. */
function breakWrites(file: string, table: string): () => void {
  const db = new Database(file);
  db.exec(
    `CREATE TRIGGER fail_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`,
  );
  return () => {
    db.exec(`DROP TRIGGER fail_${table}`);
    db.close();
  };
}

describe('journal: pruning keeps what cursors and restarts rely on', () => {
  it("keeps each table's newest row, so ids never go back, and each slot's last maintenance switch", () => {
    const j = open();
    for (let i = 0; i < 3; i++)
      j.appendEvent({ at: i, shelf: 's', source: 'poll', kind: 'x', understood: true, body: {} });
    j.flush();
    j.commit(
      [
        decision({ at: 1, slot: 's/1', kind: 'maintenance', body: { on: true } }),
        decision({ at: 2, slot: 's/2', kind: 'maintenance', body: { on: true } }),
        decision({ at: 3, slot: 's/2', kind: 'maintenance', body: { on: false } }),
        decision({ at: 4, slot: 's/3', kind: 'record' }),
        decision({ at: 5, slot: 's/3', kind: 'record' }),
      ],
      'os',
    );
    j.prune(1, 10 * 86_400_000);
    expect(j.read.events(10).map((e) => e.at)).toEqual([2]);
    expect(j.read.decisions(10).map((d) => d.at)).toEqual([5, 3, 1]);
    expect(j.read.lastMaintenance('s/1')).toBe(true);
    expect(j.read.lastMaintenance('s/2')).toBe(false);
    j.appendEvent({ at: 11, shelf: 's', source: 'poll', kind: 'x', understood: true, body: {} });
    j.flush();
    expect(j.read.events(1)[0]?.id).toBe(4);
    j.close();
  });
});

describe('journal', () => {
  it('opens nothing at construction', () => {
    const p = path();
    const j = new Journal(p);
    expect(j.isOpen).toBe(false);
    expect(() => j.read).toThrow(/not open/);
    j.open();
    expect(j.isOpen).toBe(true);
    j.close();
  });

  it('records events, decisions with evidence and the action they start, then the outcome', () => {
    const j = open();
    j.appendEvent({
      at: 1,
      shelf: 's1',
      slot: 2,
      source: 'trap',
      kind: 'hotswap',
      understood: true,
      body: { state: 7 },
    });
    j.appendEvent({ at: 2, source: 'trap', kind: 'pet', understood: false, body: { raw: 'ab' } });
    const { decisionIds, actionIds } = j.commit(
      [decision({ action: { kind: 'fence', node: 'node2' } }), decision({ kind: 'record', node: undefined })],
      'fsync',
    );
    expect(decisionIds).toHaveLength(2);
    expect(actionIds[1]).toBeUndefined();
    const a = actionIds[0]!;
    expect(j.read.unfinishedActions().map((r) => r.id)).toEqual([a]);
    j.completeAction(
      a,
      {
        status: 'succeeded',
        at: 5,
        exitCode: 0,
        durationMs: 30.5,
        stdout: 'ok',
        stderr: '',
        command: ['stonith_admin', '--reboot', 'node2'],
      },
      'fsync',
    );
    expect(j.read.unfinishedActions()).toEqual([]);
    expect(j.read.actions()[0]).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      command: ['stonith_admin', '--reboot', 'node2'],
    });
    expect(j.read.events().map((e) => e.understood)).toEqual([false, true]);
    expect(j.read.decisions()[1]?.evidence).toEqual([{ source: 'trap', at: 1, summary: 'M7' }]);
    j.close();
  });

  it('the budget counts every fence but one that never started, and every unsettled one whatever its age', () => {
    const j = open();
    const ids = ['succeeded', 'failed', 'uncertain', 'not-started', 'reconciled-done', 'started'].map((status, i) => {
      const id = j.commit([decision({ at: 1000 + i, action: { kind: 'fence', node: `n${i}` } })], 'fsync')
        .actionIds[0]!;
      if (status !== 'started') j.completeAction(id, { status: status as 'failed', at: 2000 }, 'fsync');
      return id;
    });
    expect(j.read.fencesSince(0).map((a) => a.status)).toEqual([
      'succeeded',
      'failed',
      'uncertain',
      'reconciled-done',
      'started',
    ]);
    // Past the window, only the unsettled ones still count.
    expect(j.read.fencesSince(10_000).map((a) => a.id)).toEqual([ids[2], ids[5]]);
    j.close();
  });

  it('remembers the last health and standby value applied per node', () => {
    const j = open();
    const h = j.commit(
      [decision({ kind: 'set-health', action: { kind: 'health', node: 'node2', value: 'red' } })],
      'os',
    ).actionIds[0]!;
    j.completeAction(h, { status: 'succeeded', at: 4 }, 'os');
    const g = j.commit(
      [decision({ kind: 'set-health', action: { kind: 'health', node: 'node2', value: 'green' } })],
      'os',
    ).actionIds[0]!;
    j.completeAction(g, { status: 'failed', at: 5 }, 'os');
    expect(j.read.lastValue('health', 'node2')).toBe('red');
    expect(j.read.lastValue('standby', 'node2')).toBeUndefined();
    j.close();
  });

  it('queued events are written together, at the latest with the next decision, in order', async () => {
    const j = open();
    j.appendEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    j.appendEvent({ at: 2, source: 'trap', kind: 'b', understood: true, body: {} });
    expect(j.read.counts().events).toBe(0);
    j.commit([decision({ kind: 'set-health', action: { kind: 'health', node: 'n', value: 'red' } })], 'os');
    expect(j.read.counts()).toEqual({ events: 2, decisions: 1, actions: 1 });
    j.appendEvent({ at: 4, source: 'poll', kind: 'c', understood: true, body: {} });
    expect(j.read.counts().events).toBe(2);
    // Alone, an event is committed within a few ms (group commit), without anyone flushing.
    await until('the queued event to be committed', () => j.read.counts().events === 3, 2000, 1);
    expect(j.read.events().map((e) => e.kind)).toEqual(['c', 'b', 'a']);
    j.close();
  });

  it('the event queue is bounded: the oldest go first, and they are counted', () => {
    const j = open({ maxQueuedEvents: 3 });
    for (let i = 0; i < 5; i++) j.appendEvent({ at: i, source: 'trap', kind: `e${i}`, understood: true, body: {} });
    expect(j.health).toMatchObject({ queuedEvents: 3, droppedEvents: 2 });
    j.flush();
    expect(j.read.events().map((e) => e.kind)).toEqual(['e4', 'e3', 'e2']);
    j.close();
  });

  it('a failed commit writes nothing, keeps the queued events, and says so; once writes work again all is written', () => {
    const p = path();
    const j = new Journal(p).open();
    j.appendEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    const restore = breakWrites(p, 'decisions');
    expect(() => j.commit([decision({ action: { kind: 'fence', node: 'node2' } })], 'fsync')).toThrow(
      /journal cannot be written.*disk is full/,
    );
    // Tried with the queued event, then alone: both refused.
    expect(j.health).toMatchObject({ queuedEvents: 1, writeErrors: 2 });
    expect(j.health.failingSince).toBeDefined();
    expect(j.read.counts()).toEqual({ events: 0, decisions: 0, actions: 0 });
    restore();
    j.commit([decision({ action: { kind: 'fence', node: 'node2' } })], 'fsync');
    expect(j.read.counts()).toEqual({ events: 1, decisions: 1, actions: 1 });
    expect(j.health.failingSince).toBeUndefined();
    j.close();
  });

  it('a decision that does not fit with the queued events goes alone; the events wait', () => {
    const p = path();
    const j = new Journal(p).open();
    j.appendEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    const restore = breakWrites(p, 'events');
    const { actionIds } = j.commit([decision({ action: { kind: 'fence', node: 'node2' } })], 'fsync');
    expect(actionIds[0]).toBeGreaterThan(0);
    expect(j.read.counts()).toEqual({ events: 0, decisions: 1, actions: 1 });
    expect(j.health.queuedEvents).toBe(1);
    restore();
    j.flush();
    expect(j.read.counts().events).toBe(1);
    j.close();
  });

  it('close() writes what is still queued', () => {
    const p = path();
    const j = new Journal(p).open();
    j.appendEvent({ at: 1, source: 'trap', kind: 'a', understood: true, body: {} });
    j.close();
    const again = new Journal(p).open();
    expect(again.read.counts().events).toBe(1);
    again.close();
  });

  describe('the free-space reserve (minFreeBytes)', () => {
    const MIN = 8 * 1024 * 1024;
    const ev = (i: number) => ({ at: i, source: 'trap' as const, kind: `e${i}`, understood: true, body: {} });

    it('below it events are held (and at close dropped, counted); decisions still go in', () => {
      const spaces: boolean[] = [];
      const lost: number[] = [];
      const j = open({
        minFreeBytes: MIN,
        freeBytes: () => MIN - 1,
        onSpace: (low) => spaces.push(low),
        onLost: (n) => lost.push(n),
      });
      j.appendEvent(ev(1));
      j.flush();
      const { decisionIds } = j.commit([decision()], 'fsync');
      expect(decisionIds).toHaveLength(1);
      expect(j.read.events()).toEqual([]);
      expect(j.health).toMatchObject({ queuedEvents: 1, writeErrors: 0 });
      expect(j.health.lowSpaceSince).toBeDefined();
      expect(spaces).toEqual([true]);
      const p = j.path;
      j.close();
      expect(lost).toEqual([1]);
      const again = new Journal(p).open();
      expect(again.read.counts()).toMatchObject({ events: 0, decisions: 1 });
      again.close();
    });

    it('events are written again only above it plus a margin (no flapping at the line)', () => {
      let free = MIN - 1;
      const spaces: boolean[] = [];
      const j = open({ minFreeBytes: MIN, freeBytes: () => free, onSpace: (low) => spaces.push(low) });
      j.appendEvent(ev(1));
      j.flush();
      free = MIN + 1; // back above the line, but within the margin
      j.flush();
      expect(j.read.events()).toEqual([]);
      free = MIN + MIN / 8;
      j.flush();
      expect(j.read.events()).toHaveLength(1);
      expect(spaces).toEqual([true, false]);
      expect(j.health.lowSpaceSince).toBeUndefined();
      j.close();
    });

    it('the room is asked before each chunk: a long queue does not take the reserve at once', () => {
      let calls = 0;
      // Room for the first chunk only.
      const j = open({ minFreeBytes: MIN, freeBytes: () => (calls++ === 0 ? MIN * 2 : 0) });
      for (let i = 0; i < 2500; i++) j.appendEvent(ev(i));
      j.flush();
      expect(j.read.counts().events).toBe(1000);
      expect(j.health.queuedEvents).toBe(1500);
      j.close();
    });

    it('while held, the queue keeps its bound and counts what it drops', () => {
      const j = open({ minFreeBytes: MIN, freeBytes: () => 0, maxQueuedEvents: 3 });
      for (let i = 0; i < 5; i++) j.appendEvent(ev(i));
      j.flush();
      expect(j.health).toMatchObject({ queuedEvents: 3, droppedEvents: 2 });
      j.close();
      expect(j.health.droppedEvents).toBe(5);
    });

    it('close() while held leaves no retry behind', () => {
      vi.useFakeTimers();
      try {
        const j = open({ minFreeBytes: MIN, freeBytes: () => 0 });
        j.appendEvent(ev(1));
        j.flush();
        expect(vi.getTimerCount()).toBe(1);
        j.close();
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });

    it("counts the pages SQLite already owns (pruned rows) as room, but never the WAL's own half", () => {
      const p = path();
      const seed = new Journal(p).open();
      for (let i = 0; i < 2000; i++) seed.appendEvent({ ...ev(i), body: { pad: 'x'.repeat(200) } });
      seed.flush();
      // Pruned: the rows go (all but the newest, which keeps ids from going back), their pages
      // stay in the file for reuse (statfs does not see them).
      expect(seed.prune(1, Date.now())).toBe(1999);
      seed.close();
      const min = 64 * 1024;
      let fs = min / 2;
      const j = new Journal(p, { minFreeBytes: min, freeBytes: () => fs }).open();
      j.appendEvent(ev(1));
      j.flush();
      // The pruned journal's newest row, and the one just written.
      expect(j.read.events()).toHaveLength(2);
      // Below half the reserve on the filesystem itself: held, whatever the file owns.
      fs = min / 2 - 1;
      j.appendEvent(ev(2));
      j.flush();
      expect(j.read.events()).toHaveLength(2);
      j.close();
      // A fresh journal owns no free pages: half the reserve is not enough for it.
      const fresh = open({ minFreeBytes: min, freeBytes: () => min / 2 });
      fresh.appendEvent(ev(1));
      fresh.flush();
      expect(fresh.read.events()).toEqual([]);
      fresh.close();
    });

    it('a statfs that fails says nothing about the room: events are written, and it is said once', () => {
      const errors: string[] = [];
      const j = open({
        minFreeBytes: MIN,
        freeBytes: () => {
          throw new Error('EACCES');
        },
        onError: (e) => errors.push(e.message),
      });
      j.appendEvent(ev(1));
      j.flush();
      j.appendEvent(ev(2));
      j.flush();
      expect(j.read.events()).toHaveLength(2);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/cannot tell the filesystem's free space \(EACCES\)/);
      j.close();
    });

    it('with room, events are written as usual', () => {
      const j = open({ minFreeBytes: MIN, freeBytes: () => MIN * 4 });
      j.appendEvent(ev(1));
      j.flush();
      expect(j.read.events()).toHaveLength(1);
      expect(j.health.lowSpaceSince).toBeUndefined();
      j.close();
    });
  });

  it('an older journal file gains the actions.value column', () => {
    const p = path();
    new Journal(p).open().close();
    const db = new Database(p);
    db.exec('ALTER TABLE actions DROP COLUMN value');
    db.close();
    const j = new Journal(p).open();
    j.commit([decision({ kind: 'set-health', action: { kind: 'health', node: 'n', value: 'red' } })], 'os');
    expect(j.read.actions()[0]?.value).toBe('red');
    j.close();
  });

  it('prunes by retention but keeps unsettled actions and the decisions they point to', () => {
    const j = open();
    const day = 86_400_000;
    j.appendEvent({ at: 0, source: 'poll', kind: 'x', understood: true, body: {} });
    j.commit([decision({ at: 0, action: { kind: 'fence', node: 'n' } })], 'fsync');
    j.appendEvent({ at: 10 * day, source: 'poll', kind: 'x', understood: true, body: {} });
    j.flush();
    const removed = j.prune(5, 10 * day);
    expect(removed).toBe(1);
    expect(j.read.counts()).toEqual({ events: 1, decisions: 1, actions: 1 });
    j.close();
  });

  it('a journal that cannot be opened is a clear error', () => {
    expect(() => new Journal('/etc/hostname/atcad/j.sqlite').open()).toThrow(/journal cannot be written/);
  });
});

describe('journal size', () => {
  it('keeps at most maxEvents events, pruning the oldest down to 90 % of it; decisions are not pruned by it', () => {
    const j = open({ maxQueuedEvents: 50_000 });
    for (let i = 0; i < 12_000; i++)
      j.appendEvent({ at: 1000 + i, source: 'trap', kind: `e${i}`, understood: true, body: {} });
    j.flush();
    j.commit([{ at: 5, slot: 's/1', kind: 'record', reason: 'r', evidence: [], body: {} }], 'os');
    const n = j.prune(90, 1000 + 12_000, 10_000);
    expect(n).toBe(3000);
    expect(j.read.counts()).toMatchObject({ events: 9000, decisions: 1 });
    expect(j.read.events(1)[0]?.kind).toBe('e11999');
    j.close();
  });
});
