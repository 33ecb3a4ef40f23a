// atcad's invariants, as properties over random sequences (fast-check): events from the shelf
// (faults, clears, deactivations with every kind of cause, polls that see them first), the
// clock, fresh readings that confirm, refute or cannot tell, fence answers (done, failed, timed
// out with and without the fence happening, fencer unreachable, hung), an unreadable fencer
// history, nodes leaving and rejoining, a journal that fails, and restarts (the old engine
// frozen mid-fence, a new one on the same journal file).
//
// The engine runs for real over a real SQLite journal; the cluster and the shelf's fresh
// readings are simulated (test/helpers/fake-cluster.ts explains why no real peer fits: a
// thousand runs of dozens of steps, each answer chosen), and the clock is vitest's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterView } from '../../src/domain/cluster.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { DEFAULT_RULES, type FaultClass } from '../../src/domain/faults.js';
import { Engine } from '../../src/engine/engine.js';
import { AtcaError } from '../../src/errors.js';
import { type DecisionRow, type Durability, Journal } from '../../src/journal/journal.js';
import { SILENT } from '../../src/log.js';
import type { ActionResult, ClusterActuator, FenceHistoryEntry } from '../../src/pacemaker/actuator.js';
import type { PolicyConfig } from '../../src/policy/types.js';
import type { Confirmation, Verdict } from '../../src/shelf/confirm.js';

const dir = mkdtempSync(join(tmpdir(), 'engine-props-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

const NODES = ['node1', 'node2', 'node3', 'node4', 'node5'];
const WINDOW_MS = 60_000;
const MAX_QUEUED = 16;
const CFG: PolicyConfig = {
  rules: DEFAULT_RULES,
  sustainMs: 200,
  debounceMs: 50,
  recoveryMs: 5000,
  releaseStandbyOnRecovery: false,
  deadMemberGraceMs: 30_000,
  maxFences: 2,
  fenceWindowMs: WINDOW_MS,
  minVotersAfterFence: undefined,
  confirmRetryMs: 100,
  confirmRetryMaxMs: 2000,
};

type FenceMode = 'ok' | 'failed' | 'timeout-done' | 'timeout-none' | 'unreachable' | 'hang';

/** A journal whose writes can be made to fail, as a full disk does. */
class FlakyJournal extends Journal {
  failing = false;
  override commit(rows: readonly DecisionRow[], d: Durability) {
    if (this.failing) throw new AtcaError('ATCA_ERR_JOURNAL', 'database or disk is full');
    return super.commit(rows, d);
  }
  override completeAction(...a: Parameters<Journal['completeAction']>) {
    if (this.failing) throw new AtcaError('ATCA_ERR_JOURNAL', 'database or disk is full');
    super.completeAction(...a);
  }
}

interface FenceCall {
  readonly at: number;
  readonly node: string;
  /** Voting members that stay up: online, not this one, not one whose fence is under way. */
  readonly remaining: number;
  readonly needed: number;
  /** What the fencer did with it; an unreachable fencer got nothing (it does not count). */
  readonly mode: FenceMode;
}

/** The cluster and its fencer as the properties see the truth; atcad sees only what they answer. */
class World implements ClusterActuator {
  readonly online = new Set(NODES);
  /** Fences truly under way (hung). */
  readonly fencing = new Set<string>();
  history: FenceHistoryEntry[] = [];
  historyReadable = true;
  fenceMode: FenceMode = 'ok';
  verdict: Verdict = 'confirmed';
  readonly fenceCalls: FenceCall[] = [];
  readonly healthCalls: { readonly node: string; readonly value: string }[] = [];
  readonly standbyCalls: { readonly node: string; readonly on: boolean }[] = [];
  readonly violations: string[] = [];
  /** Times of 'mark' ops, to tell the parts of a sequence apart. */
  readonly marks: number[] = [];
  journal!: FlakyJournal;

  constructor(readonly now: () => number) {}

  /** No action without its journal row: the row is there, `started`, when the command runs. */
  #journaled(kind: string, node: string): void {
    const row = this.journal.read.actions(50).find((a) => a.kind === kind && a.node === node && a.status === 'started');
    if (!row) this.violations.push(`${kind} of ${node} ran without a journal row`);
  }

  #result(command: string[], ok: boolean, extra: Partial<ActionResult> = {}): ActionResult {
    return { ok, command, exitCode: ok ? 0 : 1, durationMs: 1, stdout: '', stderr: '', ...extra };
  }

  async setHealth(node: string, value: string) {
    this.#journaled('health', node);
    this.healthCalls.push({ node, value });
    return this.#result(['attrd_updater', '-U', value, '-N', node], true);
  }
  async clearHealth(node: string) {
    return this.#result(['attrd_updater', '-D', '-N', node], true);
  }
  async setStandby(node: string, on: boolean) {
    this.#journaled('standby', node);
    this.standbyCalls.push({ node, on });
    return this.#result(['crm_attribute', '-N', node, '-v', on ? 'on' : 'off'], true);
  }
  fence(node: string): Promise<ActionResult> {
    this.#journaled('fence', node);
    const at = this.now();
    const voters = [...this.online].filter((n) => n !== node && !this.fencing.has(n));
    this.fenceCalls.push({
      at,
      node,
      remaining: voters.length,
      needed: Math.floor(NODES.length / 2) + 1,
      mode: this.fenceMode,
    });
    const command = ['stonith_admin', '--reboot', node];
    const done = () => {
      this.online.delete(node);
      this.history.push({
        action: 'reboot',
        target: node,
        status: 'success',
        completed: new Date(this.now()).toISOString(),
      });
    };
    const timeout = this.#result(command, false, {
      exitCode: null,
      error: new AtcaError('ATCA_ERR_PCMK_TIMEOUT', 'timed out'),
    });
    switch (this.fenceMode) {
      case 'ok':
        done();
        return Promise.resolve(this.#result(command, true));
      case 'failed':
        this.history.push({ action: 'reboot', target: node, status: 'failed', completed: new Date(at).toISOString() });
        return Promise.resolve(
          this.#result(command, false, { error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'exit 1') }),
        );
      case 'timeout-done':
        done();
        return Promise.resolve(timeout);
      case 'timeout-none':
        return Promise.resolve(timeout);
      case 'unreachable':
        return Promise.resolve(
          this.#result(command, false, {
            exitCode: 102,
            error: new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'exit 102'),
          }),
        );
      case 'hang':
        // The fencer has it and never answers; atcad may be restarted meanwhile.
        this.fencing.add(node);
        this.history.push({ action: 'reboot', target: node, status: 'pending' });
        return new Promise(() => undefined);
    }
  }
  async fenceHistory(node: string) {
    if (!this.historyReadable) throw new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'exit 102');
    return this.history.filter((h) => h.target === node);
  }
  async nodes() {
    return NODES.map((name) => ({
      name,
      online: this.online.has(name),
      standby: false,
      unclean: false,
      type: 'member',
    }));
  }
  async cluster(): Promise<ClusterView> {
    const votersOnline = NODES.filter((n) => this.online.has(n));
    return {
      withQuorum: votersOnline.length > NODES.length / 2,
      votersOnline,
      votersTotal: NODES.length,
      quorum: Math.floor(NODES.length / 2) + 1,
    };
  }
}

type Kind =
  | 'ierr'
  | 'ierr-clear'
  | 'm7'
  | 'active'
  | 'commanded'
  | 'unexpected'
  | 'poll-off'
  | 'temp'
  | 'temp-clear'
  | 'swept';

type Op =
  | { readonly op: 'event'; readonly slot: number; readonly kind: Kind }
  | { readonly op: 'burst'; readonly slot: number; readonly n: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'fence-mode'; readonly mode: FenceMode }
  | { readonly op: 'verdict'; readonly verdict: Verdict }
  | { readonly op: 'history'; readonly readable: boolean }
  | { readonly op: 'journal'; readonly failing: boolean }
  | { readonly op: 'node-back'; readonly slot: number }
  | { readonly op: 'restart' }
  | { readonly op: 'mark' };

const slotKey = (i: number) => `s1/${i + 1}`;
const ipmbOf = (i: number) => 0x82 + 2 * i;

function events(slot: number, kind: Kind, at: number): DomainEvent[] {
  const base = { shelf: 's1', at, ipmb: ipmbOf(slot) } as const;
  const hs = (
    state: number,
    previous: number | undefined,
    cause: number | undefined,
    source: 'trap' | 'poll' = 'trap',
  ) =>
    ({
      ...base,
      kind: 'hotswap',
      source,
      fru: 0,
      state,
      ...(previous === undefined ? {} : { previous }),
      ...(cause === undefined ? {} : { cause }),
    }) as DomainEvent;
  const cpu = (asserted: boolean) =>
    ({
      ...base,
      kind: 'discrete',
      source: 'trap',
      sensorNumber: 4,
      sensorType: 0x07,
      offset: 0,
      asserted,
      severity: 'critical',
    }) as DomainEvent;
  switch (kind) {
    case 'ierr':
      return [cpu(true)];
    case 'ierr-clear':
      return [cpu(false)];
    case 'm7':
      return [hs(7, 4, 0xf)];
    case 'active':
      return [hs(4, undefined, undefined, 'poll')];
    case 'commanded':
      return [hs(6, 4, 1), hs(1, 6, 0)];
    case 'unexpected':
      return [hs(1, 4, 9)];
    case 'poll-off':
      return [hs(1, undefined, undefined, 'poll')];
    case 'swept':
      return [{ ...base, kind: 'swept', source: 'poll' } as DomainEvent];
    case 'temp-clear':
      return [
        {
          ...base,
          kind: 'threshold',
          source: 'poll',
          sensorNumber: 1,
          sensorType: 0x01,
          offset: 0x09,
          asserted: false,
          severity: 'noncritical',
        } as DomainEvent,
      ];
    case 'temp':
      return [
        {
          ...base,
          kind: 'threshold',
          source: 'trap',
          sensorNumber: 1,
          sensorType: 0x01,
          offset: 0x09,
          asserted: true,
          severity: 'critical',
        } as DomainEvent,
      ];
  }
}

const N_SLOTS = NODES.length;
const slotArb = fc.integer({ min: 0, max: N_SLOTS - 1 });
/** Every fence that reached the fencer, and so counts against the budget, in any window of it. */
function expectWithinBudget(calls: readonly FenceCall[], maxFences: number): void {
  const counted = calls.filter((c) => c.mode !== 'unreachable');
  for (const f of counted) {
    const inWindow = counted.filter((g) => g.at > f.at - WINDOW_MS && g.at <= f.at);
    expect(inWindow.length, JSON.stringify(calls)).toBeLessThanOrEqual(maxFences);
  }
}

function ops(
  modes: readonly FenceMode[] = ['ok', 'failed', 'timeout-done', 'timeout-none', 'unreachable', 'hang'],
): fc.Arbitrary<Op[]> {
  return fc.array(opsOf(modes), { minLength: 5, maxLength: 60 });
}

function opsOf(modes: readonly FenceMode[]): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        op: fc.constant('event' as const),
        slot: slotArb,
        kind: fc.constantFrom<Kind>(
          'ierr',
          'ierr-clear',
          'm7',
          'active',
          'commanded',
          'unexpected',
          'poll-off',
          'temp',
          'temp-clear',
          'swept',
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('burst' as const), slot: slotArb, n: fc.integer({ min: 1, max: 40 }) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('advance' as const),
        ms: fc.constantFrom(10, 150, 300, 1000, 5000, 30_000, 70_000),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('fence-mode' as const),
        mode: fc.constantFrom<FenceMode>(...modes),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('verdict' as const),
        verdict: fc.constantFrom<Verdict>('confirmed', 'refuted', 'unknown'),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('history' as const), readable: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('journal' as const), failing: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('node-back' as const), slot: slotArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const) }) },
  );
}

let runs = 0;

interface Outcome {
  readonly world: World;
  readonly maxQueued: number;
  readonly unknownCleared: string[];
}

async function play(
  ops: readonly Op[],
  only?: { slot: number; kinds: readonly Kind[] },
  cfg = CFG,
  firstVerdict: Verdict = 'confirmed',
): Promise<Outcome> {
  const now = () => Date.now();
  const world = new World(now);
  world.verdict = firstVerdict;
  const journal = new FlakyJournal(join(dir, `j${runs++}.sqlite`)).open();
  world.journal = journal;
  /** Faults of each slot whose last fresh reading was unknown, and whether a clear came since. */
  const unknownCleared: string[] = [];
  const lastUnknown = new Map<string, Set<FaultClass>>();
  const reader = {
    async confirm(slot: string, fault: FaultClass): Promise<Confirmation> {
      if (world.verdict === 'unknown') {
        lastUnknown.set(slot, new Set([...(lastUnknown.get(slot) ?? []), fault]));
      }
      return { verdict: world.verdict, summary: `simulated: ${world.verdict}` };
    },
  };
  let maxQueued = 0;
  const make = () =>
    new Engine({
      policy: cfg,
      slots: NODES.map((node, i) => ({ key: slotKey(i), node, maintenance: false })),
      journal,
      actuator: world,
      reader,
      log: SILENT,
      maxQueued: MAX_QUEUED,
      reconcileMs: 500,
      giveUpMs: 20_000,
      recentFenceMs: 30_000,
      tickMs: 250,
    });
  let engine = make();
  engine.start();
  const settle = async (ms = 0) => {
    await vi.advanceTimersByTimeAsync(ms);
    // An unknown answer never clears a fault: it stays active until a clear or a refutation.
    for (const [slot, faults] of lastUnknown) {
      const s = engine.slot(slot);
      for (const f of faults) if (!s?.active.has(f)) unknownCleared.push(`${slot} ${f}`);
    }
  };
  for (const o of ops) {
    switch (o.op) {
      case 'event':
      case 'burst': {
        if (only && o.slot === only.slot && o.op === 'event' && !only.kinds.includes(o.kind)) break;
        const kind: Kind = o.op === 'burst' ? 'temp' : o.kind;
        const n = o.op === 'burst' ? o.n : 1;
        for (let k = 0; k < n; k++) {
          for (const e of events(o.slot, kind, now())) {
            // A clear, a refutation or an active slot may legitimately end a fault: only
            // faults last answered "unknown" with no such event since are watched.
            if (kind === 'ierr-clear' || kind === 'active') lastUnknown.delete(slotKey(o.slot));
            engine.submit({ kind: 'event', event: e, slots: [slotKey(o.slot)] });
            maxQueued = Math.max(maxQueued, engine.stats.queued);
          }
        }
        await settle();
        break;
      }
      case 'advance':
        await settle(o.ms);
        break;
      case 'fence-mode':
        world.fenceMode = o.mode;
        break;
      case 'verdict':
        world.verdict = o.verdict;
        if (o.verdict === 'refuted') lastUnknown.clear();
        break;
      case 'history':
        world.historyReadable = o.readable;
        break;
      case 'journal':
        journal.failing = o.failing;
        break;
      case 'node-back': {
        const node = NODES[o.slot]!;
        if (!world.fencing.has(node)) world.online.add(node);
        break;
      }
      case 'mark':
        world.marks.push(now());
        break;
      case 'restart': {
        // kill -9: the old engine is frozen (timers gone, a hung fence never answers), and a
        // new one starts on the same journal — which must be writable to start at all.
        vi.clearAllTimers();
        lastUnknown.clear();
        const was = journal.failing;
        journal.failing = false;
        engine = make();
        engine.start();
        journal.failing = was;
        await settle();
        break;
      }
    }
  }
  await settle(1000);
  STATS.runs++;
  STATS.fences += world.fenceCalls.length;
  if (world.fenceCalls.length > 0) STATS.withFence++;
  if (world.fenceCalls.length > 1) STATS.withTwo++;
  vi.clearAllTimers();
  journal.close();
  return { world, maxQueued, unknownCleared };
}

const sequences = ops();
const RUNS = { numRuns: 250, seed: 0x5afe, endOnFailure: true };
const STATS = { runs: 0, withFence: 0, withTwo: 0, fences: 0 };

// Not vacuous: a good share of the runs fence at all, and some twice.
afterAll(() => {
  expect(STATS.withFence).toBeGreaterThan(STATS.runs / 10);
  expect(STATS.withTwo).toBeGreaterThan(0);
});
describe('atcad engine: invariants over random sequences', () => {
  it('never more than maxFences fences in any window, across any number of restarts', async () => {
    await fc.assert(
      fc.asyncProperty(sequences, fc.constantFrom(1, 2), async (seq, maxFences) => {
        const { world } = await play(seq, undefined, { ...CFG, maxFences });
        expectWithinBudget(world.fenceCalls, maxFences);
      }),
      RUNS,
    );
  });

  it('killed twice during a fence (it hangs in the fencer), with maxFences 1: no second fence in the window', async () => {
    const killedMidFence = fc
      .tuple(
        ops(),
        slotArb,
        slotArb,
        ops(['ok', 'timeout-done', 'failed']),
        fc.constantFrom<FenceMode>('hang', 'timeout-none', 'timeout-done'),
      )
      .map(([before, a, b, after, mode]): Op[] => [
        ...before,
        { op: 'journal', failing: false },
        { op: 'verdict', verdict: 'confirmed' },
        { op: 'history', readable: true },
        { op: 'fence-mode', mode },
        { op: 'event', slot: a, kind: 'ierr' },
        { op: 'advance', ms: 1000 },
        { op: 'restart' },
        { op: 'restart' },
        { op: 'fence-mode', mode: 'ok' },
        { op: 'event', slot: b, kind: 'ierr' },
        { op: 'advance', ms: 1000 },
        ...after,
      ]);
    await fc.assert(
      fc.asyncProperty(killedMidFence, async (seq) => {
        const { world } = await play(seq, undefined, { ...CFG, maxFences: 1 });
        expectWithinBudget(world.fenceCalls, 1);
      }),
      RUNS,
    );
  });

  it('never fences when fewer voting members than quorum would stay up, counting fences under way', async () => {
    await fc.assert(
      // The budget out of the way, fences that hang (the fencer has them and never answers) pile up.
      fc.asyncProperty(ops(['hang', 'hang', 'ok', 'timeout-none']), async (seq) => {
        const { world } = await play(seq, undefined, { ...CFG, maxFences: 5 });
        for (const f of world.fenceCalls) expect(f.remaining, JSON.stringify(f)).toBeGreaterThanOrEqual(f.needed);
      }),
      RUNS,
    );
  });

  it('nothing is acted on without its journal row, and the input queue never exceeds its bound', async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async (seq) => {
        const { world, maxQueued } = await play(seq);
        expect(world.violations).toEqual([]);
        expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
      }),
      RUNS,
    );
  });

  it('a slot that only ever sees commanded deactivations (trap or poll first) is never fenced', async () => {
    await fc.assert(
      fc.asyncProperty(sequences, slotArb, async (seq, slot) => {
        const { world } = await play(seq, { slot, kinds: ['commanded', 'poll-off', 'active'] });
        expect(world.fenceCalls.filter((f) => f.node === NODES[slot])).toEqual([]);
      }),
      RUNS,
    );
  });

  it('a slot that recovered (M4, fault clear) can be fenced again in a new episode', async () => {
    const recovered = fc
      .tuple(ops(['ok', 'failed', 'timeout-done', 'timeout-none', 'unreachable']), slotArb)
      .map(([before, x]): Op[] => [
        ...before,
        { op: 'journal', failing: false },
        { op: 'history', readable: true },
        { op: 'verdict', verdict: 'confirmed' },
        { op: 'fence-mode', mode: 'ok' },
        ...NODES.map((_, i): Op => ({ op: 'node-back', slot: i })),
        // Long enough for the budget and the cluster's own recent fences to be history.
        { op: 'advance', ms: 70_000 },
        { op: 'mark' },
        { op: 'event', slot: x, kind: 'ierr' },
        { op: 'advance', ms: 1000 },
        { op: 'mark' },
        // Repaired: back in M4, the fault clear, the node a member again.
        ...NODES.map((_, i): Op => ({ op: 'node-back', slot: i })),
        { op: 'event', slot: x, kind: 'active' },
        { op: 'event', slot: x, kind: 'ierr-clear' },
        { op: 'event', slot: x, kind: 'temp-clear' },
        { op: 'event', slot: x, kind: 'swept' },
        { op: 'advance', ms: 70_000 },
        { op: 'mark' },
        { op: 'event', slot: x, kind: 'ierr' },
        { op: 'advance', ms: 1000 },
      ]);
    let kept = 0;
    await fc.assert(
      fc.asyncProperty(recovered, async (seq) => {
        const { world } = await play(seq);
        const x = NODES[(seq.at(-2) as { slot: number }).slot]!;
        const [m1, m2, m3] = world.marks.slice(-3) as [number, number, number];
        const of = world.fenceCalls.filter((f) => f.node === x);
        // Given a first episode that was fenced (the prefix can leave the slot busy with an
        // action, or its fault debounced), the second one is fenced too.
        if (!of.some((f) => f.at >= m1 && f.at < m2)) return;
        kept++;
        expect(
          of.filter((f) => f.at >= m3),
          JSON.stringify(world.fenceCalls),
        ).toHaveLength(1);
      }),
      { ...RUNS, numRuns: 100 },
    );
    expect(kept).toBeGreaterThan(50);
  });

  it('a claim no fresh reading shows (a stray trap) moves nothing: no red, no standby, no fence', async () => {
    // Every fresh reading refutes or cannot tell; the faults come only from traps.
    const claims = sequences.map((seq) =>
      seq
        .filter((o) => !(o.op === 'event' && o.kind === 'poll-off'))
        .map((o): Op => (o.op === 'verdict' && o.verdict === 'confirmed' ? { ...o, verdict: 'unknown' } : o)),
    );
    await fc.assert(
      fc.asyncProperty(claims, fc.constantFrom<Verdict>('unknown', 'refuted'), async (seq, first) => {
        const { world } = await play(seq, undefined, CFG, first);
        expect(world.healthCalls.filter((h) => h.value === 'red')).toEqual([]);
        expect(world.standbyCalls.filter((c) => c.on)).toEqual([]);
        expect(world.fenceCalls).toEqual([]);
      }),
      { ...RUNS, numRuns: 150 },
    );
  });

  it('an unknown fresh reading never clears a fault', async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async (seq) => {
        const { unknownCleared } = await play(seq);
        expect(unknownCleared).toEqual([]);
      }),
      RUNS,
    );
  });
});
