// The engine's runtime rules, one sequence each, over a real SQLite journal and the stand-in
// cluster of test/helpers/fake-cluster.ts (why no real peer: exact control of each answer and
// of the clock). The live-cluster scenarios (atcad-live-scenarios) run the same paths for real.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import { DEFAULT_RULES } from '../../src/domain/faults.js';
import { Engine } from '../../src/engine/engine.js';
import { AtcaError } from '../../src/errors.js';
import { type DecisionRow, type Durability, Journal } from '../../src/journal/journal.js';
import { SILENT } from '../../src/log.js';
import type { PolicyConfig } from '../../src/policy/types.js';
import type { Confirmation, Verdict } from '../../src/shelf/confirm.js';
import { type FakeCluster, fakeCluster } from '../helpers/fake-cluster.js';

const CFG: PolicyConfig = {
  rules: DEFAULT_RULES,
  sustainMs: 200,
  debounceMs: 50,
  recoveryMs: 5000,
  releaseStandbyOnRecovery: false,
  deadMemberGraceMs: 30_000,
  maxFences: 1,
  fenceWindowMs: 900_000,
  minVotersAfterFence: undefined,
  confirmRetryMs: 100,
  confirmRetryMaxMs: 2000,
};

class FlakyJournal extends Journal {
  failing = false;
  outcomesFailing = false;
  override completeAction(...a: Parameters<Journal['completeAction']>) {
    if (this.outcomesFailing) throw new AtcaError('ATCA_ERR_JOURNAL', 'database or disk is full');
    return super.completeAction(...a);
  }
  override commit(rows: readonly DecisionRow[], d: Durability) {
    if (this.failing) throw new AtcaError('ATCA_ERR_JOURNAL', 'database or disk is full');
    return super.commit(rows, d);
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'engine-'));
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'],
  });
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

interface Rig {
  readonly engine: Engine;
  readonly journal: FlakyJournal;
  readonly cluster: FakeCluster;
  verdict: Verdict;
  /** How long a fresh reading takes (ms of the fake clock). */
  readingMs: number;
}

function rig(path = join(dir, 'j.sqlite'), cluster = fakeCluster()): Rig {
  const journal = new FlakyJournal(path).open();
  const r: Rig = {
    journal,
    cluster,
    verdict: 'confirmed',
    readingMs: 0,
    engine: undefined as unknown as Engine,
  };
  const reader = {
    async confirm(): Promise<Confirmation> {
      if (r.readingMs > 0) await new Promise((res) => setTimeout(res, r.readingMs));
      return { verdict: r.verdict, summary: `simulated: ${r.verdict}` };
    },
  };
  (r as { engine: Engine }).engine = new Engine({
    policy: CFG,
    slots: [1, 2, 3].map((i) => ({ key: `s1/${i}`, node: `node${i}`, maintenance: false })),
    journal,
    actuator: cluster,
    reader,
    log: SILENT,
  });
  return r;
}

const ierr = (slot: number, asserted = true): DomainEvent => ({
  kind: 'discrete',
  shelf: 's1',
  at: Date.now(),
  source: 'trap',
  ipmb: 0x80 + 2 * slot,
  sensorNumber: 4,
  sensorType: 0x07,
  offset: 0,
  asserted,
  severity: 'critical',
});
const m4 = (slot: number): DomainEvent => ({
  kind: 'hotswap',
  shelf: 's1',
  at: Date.now(),
  source: 'poll',
  ipmb: 0x80 + 2 * slot,
  fru: 0,
  state: 4,
});
/** stop() waits on setImmediate, which the fake clock runs only when advanced. */
async function stop(r: Rig): Promise<void> {
  const done = r.engine.stop();
  await vi.advanceTimersByTimeAsync(1000);
  await done;
  r.journal.close();
}

const swept = (slot: number): DomainEvent => ({
  kind: 'swept',
  shelf: 's1',
  at: Date.now(),
  source: 'poll',
  ipmb: 0x80 + 2 * slot,
});
const submit = (r: Rig, slot: number, e: DomainEvent) =>
  r.engine.submit({ kind: 'event', event: e, slots: [`s1/${slot}`] });

describe('engine', () => {
  it('a reading that waited for the journal is not acted on: it is read again, and the fence is counted from when it is issued', async () => {
    const r = rig();
    r.engine.start();
    submit(r, 2, m4(2));
    submit(r, 2, ierr(2));
    await vi.advanceTimersByTimeAsync(150);
    // The journal fails just as the reading comes back; twenty minutes pass.
    r.journal.failing = true;
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(20 * 60_000);
    // Meanwhile the cluster lost quorum.
    r.cluster.view = { withQuorum: false, votersOnline: ['node1'], votersTotal: 3, quorum: 2 };
    r.journal.failing = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(r.cluster.fenced).toEqual([]);
    const reasons = r.journal.read.decisions(50).map((d) => d.reason);
    expect(reasons.some((x) => /no quorum/.test(x))).toBe(true);
    await stop(r);
  });

  it("an outcome waiting for the journal never overwrites a newer one (a fence's uncertain, then reconciled)", async () => {
    const r = rig();
    r.cluster.fenceAnswer = 'timeout';
    r.engine.start();
    submit(r, 2, m4(2));
    submit(r, 2, ierr(2));
    // The outcome of the fence ("uncertain": stonith_admin timed out) cannot be written.
    r.journal.outcomesFailing = true;
    for (let i = 0; i < 100 && r.cluster.fenced.length === 0; i++) await vi.advanceTimersByTimeAsync(50);
    expect(r.cluster.fenced).toEqual(['node2']);
    await vi.advanceTimersByTimeAsync(100);
    expect(r.engine.stats.unsavedResults).toBeGreaterThan(0);
    // The journal works again just as the fencer's history settles it: done.
    r.journal.outcomesFailing = false;
    r.cluster.history = [{ action: 'reboot', target: 'node2', status: 'success', completed: new Date().toISOString() }];
    await vi.advanceTimersByTimeAsync(20_000);
    const fence = r.journal.read.actions(10).find((a) => a.kind === 'fence');
    expect(fence?.status).toBe('reconciled-done');
    expect(r.engine.stats.unsavedResults).toBe(0);
    await stop(r);
  });

  it('stop() starts no fence: a confirmation that comes back while stopping is not acted on', async () => {
    const r = rig();
    r.readingMs = 1000;
    r.engine.start();
    submit(r, 2, m4(2));
    submit(r, 2, ierr(2));
    await vi.advanceTimersByTimeAsync(300);
    const stopped = r.engine.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await stopped;
    expect(r.cluster.fenced).toEqual([]);
    r.journal.close();
  });

  it("an operator's maintenance switch survives a restart, and a zombie in maintenance is not fenced", async () => {
    const path = join(dir, 'j.sqlite');
    const a = rig(path);
    a.engine.start();
    a.engine.submit({
      kind: 'maintenance',
      slot: 's1/2',
      on: true,
      evidence: { source: 'operator', at: Date.now(), summary: 'maintenance on by ops: swap the RTM' },
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(a.engine.slot('s1/2')?.maintenance).toBe(true);
    await stop(a);
    const b = rig(path);
    b.engine.start();
    expect(b.engine.slot('s1/2')?.maintenance).toBe(true);
    submit(b, 2, m4(2));
    submit(b, 2, ierr(2));
    await vi.advanceTimersByTimeAsync(2000);
    expect(b.cluster.fenced).toEqual([]);
    // Switched off, and restarted again: off.
    b.engine.submit({
      kind: 'maintenance',
      slot: 's1/2',
      on: false,
      evidence: { source: 'operator', at: Date.now(), summary: 'maintenance off by ops: done' },
    });
    await vi.advanceTimersByTimeAsync(100);
    await stop(b);
    const c = rig(path);
    c.engine.start();
    expect(c.engine.slot('s1/2')?.maintenance).toBe(false);
    await stop(c);
  });

  it('a restart keeps the fault episode a fence left open: the same persisting fault is not fenced again', async () => {
    const path = join(dir, 'j.sqlite');
    const a = rig(path);
    a.engine.start();
    submit(a, 2, m4(2));
    submit(a, 2, ierr(2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.cluster.fenced).toEqual(['node2']);
    await stop(a);
    // An hour later (past the budget window) atcad restarts; the blade is back in M4, its IERR still there.
    await vi.advanceTimersByTimeAsync(3_600_000);
    const b = rig(path);
    b.engine.start();
    submit(b, 2, m4(2));
    submit(b, 2, ierr(2));
    submit(b, 2, swept(2));
    await vi.advanceTimersByTimeAsync(2000);
    expect(b.cluster.fenced).toEqual([]);
    expect(b.engine.slot('s1/2')?.fencedInEpisode).toBe(true);
    // Repaired: the IERR clears with the slot active and every sensor read; the next fault is a new episode.
    submit(b, 2, ierr(2, false));
    submit(b, 2, swept(2));
    await vi.advanceTimersByTimeAsync(100);
    submit(b, 2, ierr(2));
    await vi.advanceTimersByTimeAsync(2000);
    expect(b.cluster.fenced).toEqual(['node2']);
    await stop(b);
  });

  it('a restart applies again a health change the last run may have left half-done, and recovers only after a reading', async () => {
    const path = join(dir, 'j.sqlite');
    const j = new Journal(path).open();
    j.commit(
      [
        {
          at: Date.now(),
          slot: 's1/2',
          kind: 'set-health',
          node: 'node2',
          reason: 'test',
          evidence: [],
          body: {},
          action: { kind: 'health', node: 'node2', value: 'red' },
        },
      ],
      'os',
    );
    j.close();
    const r = rig(path);
    r.engine.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(r.cluster.calls).toContain('health node2 red');
    // Not read yet: red stays, however long.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.cluster.calls.filter((c) => c === 'health node2 green')).toEqual([]);
    submit(r, 2, m4(2));
    await vi.advanceTimersByTimeAsync(6000);
    expect(r.cluster.calls.filter((c) => c === 'health node2 green')).toEqual([]);
    submit(r, 2, swept(2));
    await vi.advanceTimersByTimeAsync(6000);
    expect(r.cluster.calls).toContain('health node2 green');
    await stop(r);
  });
});
