// The policy is a pure function: these tests drive it with inputs and read its decisions.
// No peer is involved by design — the policy never does I/O.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, FAULT_CLASSES, type FaultClass, SILENT_UNTIL_CONFIRMED } from '../../src/domain/faults.js';
import type { HotSwapState } from '../../src/domain/hotswap.js';
import { decide, newSlotState } from '../../src/policy/decide.js';
import type {
  ActionOutcome,
  ClusterView,
  Decision,
  Evidence,
  FencerView,
  PolicyConfig,
  PolicyInput,
  PolicyState,
} from '../../src/policy/types.js';
import type { Verdict } from '../../src/shelf/confirm.js';

const CFG: PolicyConfig = {
  rules: DEFAULT_RULES,
  sustainMs: 1000,
  debounceMs: 500,
  recoveryMs: 60_000,
  releaseStandbyOnRecovery: false,
  deadMemberGraceMs: 30_000,
  maxFences: 1,
  fenceWindowMs: 900_000,
  minVotersAfterFence: undefined,
  confirmRetryMs: 500,
  confirmRetryMaxMs: 30_000,
};

const SLOT = 'shelf1/2';
/** Three voting members, all online, quorum 2. */
const CLUSTER3: ClusterView = {
  withQuorum: true,
  votersOnline: ['node1', 'node2', 'node3'],
  votersTotal: 3,
  quorum: 2,
};

function initial(over: Partial<ReturnType<typeof newSlotState>> = {}): PolicyState {
  const slots = new Map([
    [SLOT, { ...newSlotState(SLOT, 'node2', false), ...over }],
    ['shelf1/1', newSlotState('shelf1/1', 'node1', false)],
  ]);
  return { slots, fences: [] };
}

const ev = (at: number, summary = 'test', source: Evidence['source'] = 'trap'): Evidence => ({ source, at, summary });
/** A fault seen by a trap (a claim) or, with source 'poll', by atcad's own reading (evidence). */
const obs = (
  fault: FaultClass,
  at: number,
  asserted = true,
  slot = SLOT,
  source: Evidence['source'] = 'trap',
): PolicyInput => ({
  kind: 'finding',
  slot,
  finding: { kind: 'fault', fault, asserted, summary: `${fault} ${asserted ? 'asserted' : 'cleared'}` },
  evidence: ev(at, 'test', source),
});
const hotswap = (state: HotSwapState, at: number, slot = SLOT): PolicyInput => ({
  kind: 'finding',
  slot,
  finding: { kind: 'hotswap', state },
  evidence: { source: 'poll', at, summary: `M${state}` },
});
const confirmation = (
  fault: FaultClass,
  at: number,
  verdict: Verdict = 'confirmed',
  cluster: ClusterView | 'unreadable' = CLUSTER3,
  fencer: FencerView = 'none',
  slot = SLOT,
): PolicyInput => ({
  kind: 'confirmation',
  slot,
  fault,
  // Filled in by run(): the token of the last confirm decision for the slot.
  token: 'auto',
  verdict,
  at,
  cluster: cluster === 'unreadable' ? undefined : cluster,
  fencer,
  evidence: [{ source: 'confirm', at, summary: 'fresh read' }],
});
const done = (
  action: 'standby' | 'fence' | 'health',
  outcome: ActionOutcome,
  at: number,
  slot = SLOT,
): PolicyInput => ({
  kind: 'action-done',
  slot,
  action,
  outcome,
  evidence: { source: 'action', at, summary: outcome },
});

/** Feeds inputs in order; returns the final state and every decision. */
function run(state: PolicyState, inputs: PolicyInput[], cfg = CFG): { state: PolicyState; decisions: Decision[] } {
  const decisions: Decision[] = [];
  for (const given of inputs) {
    let i = given;
    if (given.kind === 'confirmation' && given.token === 'auto') {
      const asked = [...decisions].reverse().find((d) => d.kind === 'confirm' && d.slot === given.slot);
      const p = state.slots.get(given.slot)?.pending;
      i = { ...given, token: asked?.kind === 'confirm' ? asked.token : p ? `${p.id}#${p.attempts + 1}` : 'none' };
    }
    const r = decide(state, i, cfg);
    state = r.state;
    decisions.push(...r.decisions);
  }
  return { state, decisions };
}

const toFenceAt = (at: number): PolicyInput[] => [
  obs('processor-ierr', at),
  { kind: 'tick', at: at + 1000 },
  confirmation('processor-ierr', at + 1001),
];

const kinds = (ds: Decision[]) => ds.filter((d) => d.kind !== 'record').map((d) => d.kind);

describe('policy: fault classes map to the configured rung of the ladder', () => {
  it.each(FAULT_CLASSES)('%s', (fault) => {
    const action = DEFAULT_RULES[fault];
    const { decisions, state } = run(initial(), [obs(fault, 0), { kind: 'tick', at: 1000 }, confirmation(fault, 1001)]);
    // A trap is a claim: yellow at most (nothing for a claimed power loss) until the fresh
    // reading confirms it; then the rule's health, and its standby or fence.
    const values = decisions.flatMap((d) => (d.kind === 'set-health' ? [d.value] : []));
    const claimed = SILENT_UNTIL_CONFIRMED.has(fault) ? [] : ['set-health'];
    switch (action) {
      case 'record':
        expect(kinds(decisions)).toEqual([]);
        break;
      case 'health-yellow':
        expect(decisions.find((d) => d.kind === 'set-health')).toMatchObject({ node: 'node2', value: 'yellow' });
        expect(kinds(decisions)).toEqual(['set-health']);
        break;
      case 'health-red':
        expect(kinds(decisions)).toEqual([...claimed, 'confirm', 'set-health']);
        expect(values).toEqual(claimed.length ? ['yellow', 'red'] : ['red']);
        break;
      case 'standby':
        expect(kinds(decisions)).toEqual([...claimed, 'confirm', 'set-health', 'set-standby']);
        expect(values.at(-1)).toBe('red');
        expect(state.slots.get(SLOT)?.standby).toBe(true);
        break;
      case 'fence':
        expect(kinds(decisions)).toEqual([...claimed, 'confirm', 'set-health', 'fence']);
        expect(values).toEqual(claimed.length ? ['yellow', 'red'] : ['red']);
        expect(decisions.find((d) => d.kind === 'fence')).toMatchObject({ node: 'node2' });
        break;
    }
    // Every decision carries its evidence chain.
    for (const d of decisions) expect(d.evidence.length).toBeGreaterThan(0);
  });
});

describe('policy: confirmation and sustain', () => {
  it('asks for a fresh reading only after sustainMs, and not twice', () => {
    const r = run(initial(), [obs('processor-ierr', 0), { kind: 'tick', at: 999 }]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
    const r2 = run(r.state, [
      { kind: 'tick', at: 1000 },
      { kind: 'tick', at: 1500 },
    ]);
    expect(kinds(r2.decisions)).toEqual(['confirm']);
  });

  it('with sustainMs 0 asks at once', () => {
    const r = run(initial(), [obs('processor-ierr', 0)], { ...CFG, sustainMs: 0 });
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm']);
  });

  it('an unconfirmed fault (stray or replayed trap) does nothing that cannot be undone, and says why', () => {
    const r = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'refuted'),
    ]);
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm']);
    expect(r.decisions.at(-1)).toMatchObject({
      kind: 'record',
      reason: expect.stringMatching(/refuted by a fresh reading: no fence/),
    });
    expect(r.state.slots.get(SLOT)?.active.size).toBe(0);
  });

  it('an unknown answer keeps the fault, its health and its pending fence, and reads again with back-off', () => {
    const r = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'unknown'),
    ]);
    const slot = r.state.slots.get(SLOT)!;
    expect(slot.active.has('processor-ierr')).toBe(true);
    // A claim unconfirmed stays a claim: yellow, not red — and not forgotten.
    expect(slot.health).toBe('yellow');
    expect(slot.pending).toMatchObject({ action: 'fence', attempts: 1, dueAt: 1501, confirming: false });
    expect(r.decisions.at(-1)?.reason).toMatch(/unknown.*kept/);
    // Not before the back-off; then a second reading, which may come back unknown again (1 s).
    expect(kinds(run(r.state, [{ kind: 'tick', at: 1500 }]).decisions)).toEqual([]);
    const again = run(r.state, [{ kind: 'tick', at: 1501 }, confirmation('processor-ierr', 1600, 'unknown')]);
    expect(again.state.slots.get(SLOT)?.pending).toMatchObject({ attempts: 2, dueAt: 2600 });
    // The shelf manager is back and the reading shows it: the fence goes ahead.
    const fenced = run(again.state, [{ kind: 'tick', at: 2600 }, confirmation('processor-ierr', 2700)]);
    expect(kinds(fenced.decisions)).toEqual(['confirm', 'set-health', 'fence']);
  });

  it('a health change that failed is applied again', () => {
    const r = run(initial(), [obs('temperature-critical', 0, true, SLOT, 'poll'), done('health', 'failed', 50)]);
    expect(r.state.slots.get(SLOT)?.healthRetryAt).toBe(5050);
    const later = run(r.state, [{ kind: 'tick', at: 5050 }]);
    expect(later.decisions).toMatchObject([{ kind: 'set-health', value: 'red', node: 'node2' }]);
  });

  it('a fault that clears before its sustain time is not acted on', () => {
    const r = run(initial(), [obs('hotswap-lost', 0), obs('hotswap-lost', 400, false), { kind: 'tick', at: 2000 }]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
    expect(r.decisions.some((d) => d.reason.includes('cleared before confirmation'))).toBe(true);
  });

  it('a stale confirmation is only recorded', () => {
    const r = run(initial(), [confirmation('processor-ierr', 5)]);
    expect(kinds(r.decisions)).toEqual([]);
    expect(r.decisions[0]?.reason).toMatch(/stale/);
  });
});

describe('policy: debounce and idempotence', () => {
  it('repeats within the debounce window are one fault', () => {
    const r = run(initial(), [
      obs('temperature-critical', 0),
      obs('temperature-critical', 100),
      obs('temperature-critical', 499),
    ]);
    expect(r.decisions.filter((d) => d.kind === 'record')).toHaveLength(1);
    expect(kinds(r.decisions)).toEqual(['set-health']);
  });

  it('does not re-issue a health value already applied', () => {
    const r = run(initial(), [
      obs('temperature-critical', 0, true, SLOT, 'poll'),
      obs('voltage-critical', 10_000, true, SLOT, 'poll'),
    ]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
  });

  it('escalates yellow → red but never lowers health while faults are active', () => {
    const r = run(initial(), [
      obs('temperature-noncritical', 0, true, SLOT, 'poll'),
      obs('voltage-critical', 1000, true, SLOT, 'poll'),
      obs('voltage-critical', 2000, false, SLOT, 'poll'),
    ]);
    expect(r.decisions.filter((d) => d.kind === 'set-health').map((d) => (d as { value: string }).value)).toEqual([
      'yellow',
      'red',
    ]);
  });

  it('does not put a node in standby twice', () => {
    const r = run(initial({ standby: true }), [obs('hotswap-lost', 0), { kind: 'tick', at: 1000 }]);
    // Yellow on the claim, and a reading only to prove it (for red): no second standby.
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm']);
    expect(r.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'verify' });
  });
});

describe('policy: safety guards', () => {
  const toFence = (at: number): PolicyInput[] => [
    obs('processor-ierr', at),
    { kind: 'tick', at: at + 1000 },
    confirmation('processor-ierr', at + 1001),
  ];

  it('never acts on a slot in maintenance', () => {
    const r = run(initial({ maintenance: true }), toFence(0));
    expect(kinds(r.decisions)).toEqual([]);
    expect(r.decisions[0]?.reason).toMatch(/maintenance/);
  });

  it('blocks a fence beyond maxFences per window, and puts the node in standby instead', () => {
    const s: PolicyState = { ...initial(), fences: [{ slot: 'shelf1/1', node: 'node1', at: 0, status: 'done' }] };
    const r = run(s, toFence(10_000));
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm', 'set-health', 'blocked', 'set-standby']);
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/1 fence\(s\) in the last 900 s/);
  });

  it('a failed or uncertain fence counts against the budget like a done one', () => {
    for (const status of ['failed', 'uncertain', 'in-flight'] as const) {
      const s: PolicyState = { ...initial(), fences: [{ slot: 'shelf1/1', node: 'node1', at: 0, status }] };
      expect(kinds(run(s, toFence(10_000)).decisions)).not.toContain('fence');
    }
  });

  it('allows a fence again once the window has passed (an unsettled one never leaves it)', () => {
    const s: PolicyState = { ...initial(), fences: [{ slot: 'shelf1/1', node: 'node1', at: 0, status: 'done' }] };
    const r = run(s, toFence(1_000_000));
    expect(kinds(r.decisions)).toContain('fence');
    expect(r.state.fences).toEqual([{ slot: SLOT, node: 'node2', at: 1_001_001, status: 'in-flight' }]);
    const stuck: PolicyState = {
      ...initial(),
      fences: [{ slot: 'shelf1/1', node: 'node1', at: 0, status: 'uncertain' }],
    };
    expect(kinds(run(stuck, toFence(1_000_000)).decisions)).not.toContain('fence');
  });

  it('never fences when the voting members left online would be fewer than quorum', () => {
    const two: ClusterView = { withQuorum: true, votersOnline: ['node1', 'node2'], votersTotal: 3, quorum: 2 };
    const r = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', two),
    ]);
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(
      /only 1 voting member\(s\) would stay online, counting every node fenced in the window \(need 2\)/,
    );
    expect(kinds(r.decisions)).not.toContain('fence');
  });

  it('counts a fence in flight on another node as a member going down', () => {
    const s: PolicyState = { ...initial(), fences: [{ slot: 'shelf1/3', node: 'node3', at: 0, status: 'in-flight' }] };
    const r = run(s, toFence(10), { ...CFG, maxFences: 5 });
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/only 1 voting member/);
  });

  it('a remote node does not vote: quorum is of voting members', () => {
    // node4 (remote) is not among the voters the actuator reports.
    const c: ClusterView = { withQuorum: true, votersOnline: ['node1', 'node2'], votersTotal: 2, quorum: undefined };
    const r = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', c),
    ]);
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/need 2/);
  });

  it('never fences when the membership or quorum is unknown, or quorum is lost', () => {
    const unknown = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', 'unreadable'),
    ]);
    expect(unknown.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/membership and quorum cannot be read/);
    const lost = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', { ...CLUSTER3, withQuorum: false }),
    ]);
    expect(lost.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/no quorum/);
  });

  it("never fences when the fencer's history cannot be read; not again when the cluster is fencing the node", () => {
    const unreadable = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', CLUSTER3, 'unknown'),
    ]);
    expect(kinds(unreadable.decisions)).toEqual(['set-health', 'confirm', 'set-health', 'blocked', 'set-standby']);
    const recently = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', CLUSTER3, 'fenced-recently'),
    ]);
    expect(kinds(recently.decisions)).toEqual(['set-health', 'confirm', 'set-health']);
    expect(recently.decisions.at(-1)?.reason).toMatch(/not fencing it again/);
    expect(recently.state.slots.get(SLOT)?.fencedInEpisode).toBe(true);
    // A fence the cluster has under way decides: atcad reads again later (and would fence if it failed).
    const fencing = run(initial(), [
      obs('processor-ierr', 0),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'confirmed', CLUSTER3, 'fencing'),
    ]);
    expect(fencing.decisions.at(-1)?.reason).toMatch(/the cluster is fencing node2 now.*reading again/);
    expect(fencing.state.slots.get(SLOT)?.pending).toMatchObject({ action: 'fence', attempts: 1 });
    const failed = run(fencing.state, [{ kind: 'tick', at: 1501 }, confirmation('processor-ierr', 1502)]);
    expect(kinds(failed.decisions)).toEqual(['confirm', 'fence']);
  });

  it('one decision per slot at a time: nothing is confirmed while an action runs', () => {
    const r = run(initial({ inFlight: 'standby' }), toFence(0));
    expect(kinds(r.decisions)).toEqual(['set-health']);
    expect(r.decisions.at(-1)?.reason).toMatch(/stale confirmation/);
    const after = run(r.state, [done('standby', 'ok', 3000), { kind: 'tick', at: 3001 }]);
    expect(kinds(after.decisions)).toEqual(['confirm']);
  });

  it('a deactivation that follows our own fence is expected, not a new fault', () => {
    const r = run(initial({ inFlight: 'fence' }), [obs('unexpected-deactivation', 0), { kind: 'tick', at: 5000 }]);
    expect(kinds(r.decisions)).toEqual([]);
    expect(r.decisions[0]?.reason).toMatch(/our own fence/);
  });

  it('does not fence a slot twice in one fault episode', () => {
    const first = run(initial(), toFence(0));
    const fenced = run(first.state, [done('fence', 'ok', 2000)]);
    const again = run({ ...fenced.state, fences: [] }, toFence(5000));
    expect(kinds(again.decisions)).not.toContain('fence');
  });

  it('fences again in a new episode: the slot read M4 with no fault in between', () => {
    const first = run(initial({ hotswap: 4 }), toFence(0));
    const fenced = run(first.state, [
      done('fence', 'ok', 2000),
      hotswap(1, 2100),
      obs('processor-ierr', 3000, false),
      hotswap(4, 4000),
    ]);
    expect(fenced.state.slots.get(SLOT)?.fencedInEpisode).toBe(false);
    expect(fenced.decisions.at(-1)?.reason).toMatch(/episode that was fenced is over/);
    const again = run({ ...fenced.state, fences: [] }, toFence(10_000));
    expect(kinds(again.decisions)).toContain('fence');
  });

  it('a failed fence is not repeated; standby instead', () => {
    const first = run(initial(), toFence(0));
    const failed = run(first.state, [done('fence', 'failed', 2000)]);
    expect(kinds(failed.decisions)).toEqual(['blocked', 'set-standby']);
    expect(failed.state.fences.map((f) => f.status)).toEqual(['failed']);
  });

  it('an uncertain fence keeps the slot busy until settled, and does not leave the budget', () => {
    const first = run(initial(), toFence(0));
    const unsure = run(first.state, [done('fence', 'uncertain', 2000), { kind: 'tick', at: 2_000_000 }]);
    expect(unsure.state.slots.get(SLOT)?.inFlight).toBe('fence');
    expect(unsure.state.fences.map((f) => f.status)).toEqual(['uncertain']);
    const settled = run(unsure.state, [done('fence', 'ok', 2_000_001)]);
    expect(settled.state.slots.get(SLOT)?.inFlight).toBeUndefined();
    expect(settled.state.fences.map((f) => f.status)).toEqual(['done']);
  });

  it('a fence that never started does not count; standby instead', () => {
    const first = run(initial(), toFence(0));
    const r = run(first.state, [done('fence', 'not-started', 2000)]);
    expect(r.state.fences).toEqual([]);
    expect(kinds(r.decisions)).toEqual(['blocked', 'set-standby']);
  });

  it('a slot with no node mapped is blocked, not acted on', () => {
    const s = initial({ node: undefined });
    const r = run(s, [obs('processor-ierr', 0)]);
    expect(kinds(r.decisions)).toEqual(['blocked']);
  });
});

describe('policy: recovery', () => {
  it('returns health to green once clear for recoveryMs, and not before', () => {
    const r = run(initial(), [
      obs('temperature-critical', 0),
      obs('temperature-critical', 1000, false),
      { kind: 'tick', at: 60_999 },
    ]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
    const later = run(r.state, [
      { kind: 'tick', at: 61_000 },
      { kind: 'tick', at: 200_000 },
    ]);
    expect(later.decisions).toMatchObject([{ kind: 'set-health', value: 'green', reason: 'recovered' }]);
  });

  it('keeps standby after recovery unless releaseStandbyOnRecovery', () => {
    const seq: PolicyInput[] = [
      obs('hotswap-lost', 0),
      { kind: 'tick', at: 1000 },
      confirmation('hotswap-lost', 1001),
      done('standby', 'ok', 1100),
      obs('hotswap-lost', 2000, false),
      { kind: 'tick', at: 70_000 },
    ];
    expect(kinds(run(initial(), seq).decisions)).toEqual([
      'set-health',
      'confirm',
      'set-health',
      'set-standby',
      'set-health',
    ]);
    const released = run(initial(), seq, { ...CFG, releaseStandbyOnRecovery: true });
    expect(released.decisions.at(-1)).toMatchObject({ kind: 'set-standby', on: false });
  });

  it('a new fault restarts the recovery clock', () => {
    const r = run(initial(), [
      obs('temperature-critical', 0),
      obs('temperature-critical', 1000, false),
      obs('voltage-noncritical', 30_000),
      obs('voltage-noncritical', 31_000, false),
      { kind: 'tick', at: 61_500 },
    ]);
    expect(r.decisions.filter((d) => d.kind === 'set-health' && d.value === 'green')).toHaveLength(0);
  });
});

describe('policy: purity', () => {
  it('does not mutate the state it is given', () => {
    const s = initial();
    const snapshot = JSON.stringify([...s.slots.entries()].map(([k, v]) => [k, { ...v, active: [...v.active] }]));
    run(s, [obs('processor-ierr', 0), { kind: 'tick', at: 1000 }, confirmation('processor-ierr', 1001)]);
    expect(JSON.stringify([...s.slots.entries()].map(([k, v]) => [k, { ...v, active: [...v.active] }]))).toBe(snapshot);
  });
});

describe('policy: what a hostile review found (each a sequence that used to go wrong)', () => {
  it('a reboot fence whose blade is back in M4 and clear before the fence returns ends its episode', () => {
    const first = run(initial({ hotswap: 4 }), [
      obs('unexpected-deactivation', 0),
      { kind: 'tick', at: 1000 },
      confirmation('unexpected-deactivation', 1001),
    ]);
    expect(kinds(first.decisions)).toContain('fence');
    // fence_atca verifies ON before it exits: M1, then M4 (which clears the fault), then the result.
    const back = run(first.state, [hotswap(1, 1500), hotswap(4, 2500), obs('unexpected-deactivation', 2500, false)]);
    const settled = run(back.state, [done('fence', 'ok', 3000)]);
    expect(settled.state.slots.get(SLOT)?.fencedInEpisode).toBe(false);
    expect(settled.decisions.map((d) => d.kind)).toContain('episode-end');
    // Days later an IERR is a new episode: fenced (the budget allowing).
    const later = run({ ...settled.state, fences: [] }, toFenceAt(300_000_000));
    expect(kinds(later.decisions)).toContain('fence');
  });

  it('a second fault that needs a fence is pended once the first one is refuted', () => {
    const r = run(initial(), [
      obs('processor-ierr', 0),
      obs('watchdog-expired', 100),
      { kind: 'tick', at: 1000 },
      confirmation('processor-ierr', 1001, 'refuted'),
      { kind: 'tick', at: 1100 },
    ]);
    expect(r.decisions.filter((d) => d.kind === 'confirm').map((d) => (d as { fault: string }).fault)).toEqual([
      'processor-ierr',
      'watchdog-expired',
    ]);
    const fenced = run(r.state, [confirmation('watchdog-expired', 1101)]);
    expect(kinds(fenced.decisions)).toEqual(['set-health', 'fence']);
  });

  it('a standby fault a fence displaced gets its standby after the fence is decided', () => {
    const r = run(initial(), [
      obs('hotswap-lost', 0),
      obs('processor-ierr', 100),
      { kind: 'tick', at: 1100 },
      confirmation('processor-ierr', 1101, 'refuted'),
      { kind: 'tick', at: 1200 },
      confirmation('hotswap-lost', 1201),
    ]);
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm', 'confirm', 'set-health', 'set-standby']);
  });

  it('a node fenced in the window counts as going down even when its fence is done', () => {
    const s: PolicyState = { ...initial(), fences: [{ slot: 'shelf1/1', node: 'node1', at: 0, status: 'done' }] };
    // The view was read before node1's fence finished: it still lists node1 online.
    const r = run(s, toFenceAt(10), { ...CFG, maxFences: 5 });
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/only 1 voting member/);
  });

  it('a standby that failed is asked for again, and so is a release', () => {
    const on = run(initial(), [
      obs('hotswap-lost', 0),
      { kind: 'tick', at: 1000 },
      confirmation('hotswap-lost', 1001),
      done('standby', 'failed', 1100),
    ]);
    expect(on.state.slots.get(SLOT)).toMatchObject({ standby: false, standbyRetry: { on: true, at: 6100 } });
    const again = run(on.state, [{ kind: 'tick', at: 6100 }]);
    expect(again.decisions).toMatchObject([{ kind: 'set-standby', on: true }]);
    const release = run(initial({ standby: true, clearSince: 0, health: 'red' }), [{ kind: 'tick', at: 60_000 }], {
      ...CFG,
      releaseStandbyOnRecovery: true,
    });
    const failed = run(release.state, [done('standby', 'failed', 60_100), { kind: 'tick', at: 65_100 }]);
    expect(failed.decisions.filter((d) => d.kind === 'set-standby')).toMatchObject([{ on: false }]);
  });

  it('a confirmation asked for an earlier pending action (cleared and raised since) is stale', () => {
    const asked = run(initial(), [obs('processor-ierr', 0), { kind: 'tick', at: 1000 }]);
    const token = (asked.decisions.find((d) => d.kind === 'confirm') as { token: string }).token;
    const again = run(asked.state, [obs('processor-ierr', 1100, false), obs('processor-ierr', 1200)]);
    const late: PolicyInput = { ...confirmation('processor-ierr', 1250), token } as PolicyInput;
    const r = run(again.state, [late]);
    expect(kinds(r.decisions)).toEqual([]);
    expect(r.decisions[0]?.reason).toMatch(/stale confirmation/);
  });

  it('an outcome for a fence of a slot no longer configured still settles its record', () => {
    const s: PolicyState = { ...initial(), fences: [{ slot: 'gone/9', node: 'node9', at: 0, status: 'uncertain' }] };
    const r = run(s, [done('fence', 'ok', 10, 'gone/9')]);
    expect(r.state.fences).toEqual([{ slot: 'gone/9', node: 'node9', at: 0, status: 'done' }]);
  });

  it('after a restart, nothing recovers to green before the slot was read again', () => {
    const restored = initial({ health: 'red', unread: true });
    expect(kinds(run(restored, [{ kind: 'tick', at: 10_000_000 }]).decisions)).toEqual([]);
    // The state alone is not enough: every sensor must have been read too.
    expect(kinds(run(restored, [hotswap(4, 100), { kind: 'tick', at: 60_100 }]).decisions)).toEqual([]);
    const swept: PolicyInput = {
      kind: 'finding',
      slot: SLOT,
      finding: { kind: 'swept' },
      evidence: { source: 'poll', at: 200, summary: 'sensors read' },
    };
    const read = run(restored, [hotswap(4, 100), swept, { kind: 'tick', at: 60_200 }]);
    expect(read.decisions).toMatchObject([{ kind: 'set-health', value: 'green' }]);
  });
});

describe('policy: the fastest safe path per kind of fault (issue 9)', () => {
  const fresh = { ...CFG, sustainMs: 0 };
  const off = (input: PolicyInput): PolicyInput =>
    input.kind === 'confirmation' ? { ...input, payloadOff: true } : input;
  const healthOf = (ds: Decision[]) => ds.flatMap((d) => (d.kind === 'set-health' ? [d.value] : []));

  it('sick but alive: a trap makes the node yellow and asks for a fresh reading at once; red only when it shows it', () => {
    const claimed = run(initial(), [obs('temperature-critical', 0)], fresh);
    expect(healthOf(claimed.decisions)).toEqual(['yellow']);
    expect(claimed.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'verify', readCluster: false });
    const shown = run(claimed.state, [confirmation('temperature-critical', 30)], fresh);
    expect(healthOf(shown.decisions)).toEqual(['red']);
  });

  it('a stray trap moves nothing: refuted, the node never goes red and the fault is gone', () => {
    const r = run(
      initial(),
      [obs('temperature-critical', 0), confirmation('temperature-critical', 30, 'refuted')],
      fresh,
    );
    expect(healthOf(r.decisions)).toEqual(['yellow']);
    expect(r.state.slots.get(SLOT)?.active.size).toBe(0);
    const later = run(r.state, [{ kind: 'tick', at: 60_100 }], fresh);
    expect(healthOf(later.decisions)).toEqual(['green']);
  });

  it("atcad's own reading (a poll) is evidence: red at once, no second reading", () => {
    const r = run(initial(), [obs('temperature-critical', 0, true, SLOT, 'poll')], fresh);
    expect(kinds(r.decisions)).toEqual(['set-health']);
    expect(healthOf(r.decisions)).toEqual(['red']);
  });

  it('dead: a blade verified off is not fenced by atcad, and its health is left alone, while corosync loses the node', () => {
    const r = run(
      initial(),
      [obs('unexpected-deactivation', 0), off(confirmation('unexpected-deactivation', 30))],
      fresh,
    );
    expect(kinds(r.decisions)).toEqual(['confirm']);
    expect(r.decisions.at(-1)?.reason).toMatch(/verified off and node2 is still an online member.*adds nothing/);
    // Nothing is read again while corosync has yet to lose the node: the membership reading settles it.
    const waiting = run(
      r.state,
      [
        { kind: 'tick', at: 600 },
        { kind: 'tick', at: 1600 },
      ],
      fresh,
    );
    expect(waiting.decisions).toEqual([]);
    const after = run(waiting.state, [{ kind: 'membership', at: 2000, online: ['node1', 'node3'] }], fresh);
    expect(after.decisions.map((d) => d.kind)).toEqual(['record']);
    expect(after.decisions.at(-1)?.reason).toMatch(/out of the cluster: the cluster fences it itself/);
    expect(after.state.fences).toEqual([]);
    expect(after.state.slots.get(SLOT)?.pending).toBeUndefined();
    expect(kinds(run(after.state, [{ kind: 'tick', at: 40_000 }], fresh).decisions)).toEqual([]);
  });

  it('dead: the node gone in the fresh reading itself settles it at once', () => {
    const gone: ClusterView = { ...CLUSTER3, votersOnline: ['node1', 'node3'] };
    const r = run(
      initial(),
      [obs('unexpected-deactivation', 0), off(confirmation('unexpected-deactivation', 30, 'confirmed', gone))],
      fresh,
    );
    expect(kinds(r.decisions)).toEqual(['confirm']);
    expect(r.decisions.at(-1)?.reason).toMatch(/out of the cluster: the cluster fences it itself/);
    expect(r.state.slots.get(SLOT)?.pending).toBeUndefined();
  });

  it('dead, then powered again before corosync lost the node: read again at once, and a zombie is fenced', () => {
    const r = run(initial(), [obs('processor-ierr', 0), off(confirmation('processor-ierr', 30, 'unknown'))], fresh);
    expect(r.state.slots.get(SLOT)?.pending?.offSince).toBe(30);
    const up = run(r.state, [hotswap(1, 400), hotswap(4, 500)], fresh);
    expect(up.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'fence', fault: 'processor-ierr' });
    expect(up.state.slots.get(SLOT)?.pending?.offSince).toBeUndefined();
    // The membership reading no longer settles it: the blade is powered.
    const m = run(up.state, [{ kind: 'membership', at: 600, online: ['node1', 'node3'] }], fresh);
    expect(m.decisions.some((d) => /the cluster fences it itself/.test(d.reason))).toBe(false);
    const fenced = run(up.state, [confirmation('processor-ierr', 530)], fresh);
    expect(kinds(fenced.decisions)).toContain('fence');
  });

  it('dead: a membership reading while a fresh reading is out leaves the answer to it', () => {
    const r = run(initial(), [obs('processor-ierr', 0), off(confirmation('processor-ierr', 30, 'unknown'))], fresh);
    const asked = run(r.state, [{ kind: 'tick', at: 30_030 }], fresh);
    expect(asked.state.slots.get(SLOT)?.pending?.confirming).toBe(true);
    const m = run(asked.state, [{ kind: 'membership', at: 30_040, online: ['node1', 'node3'] }], fresh);
    expect(m.decisions.some((d) => /the cluster fences it itself/.test(d.reason))).toBe(false);
    expect(m.state.slots.get(SLOT)?.pending?.confirming).toBe(true);
  });

  it('dead, but the node stays an online member past the grace: the mapping is suspect, and nothing is fenced', () => {
    let state = run(initial(), [obs('processor-ierr', 0)], fresh).state;
    const decisions: Decision[] = [];
    for (let at = 30; at < 40_000; at += 1000) {
      const r = run(state, [{ kind: 'tick', at }, off(confirmation('processor-ierr', at + 1, 'unknown'))], fresh);
      state = r.state;
      decisions.push(...r.decisions);
    }
    expect(kinds(decisions)).not.toContain('fence');
    expect(decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/mapping .* is suspect/);
  });

  it('a zombie (IERR on a blade still powered) is fenced as before', () => {
    const r = run(initial(), [obs('processor-ierr', 0), confirmation('processor-ierr', 30)], fresh);
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm', 'set-health', 'fence']);
  });

  it("a graceful deactivation makes the node red before its payload stops — unless it is the cluster's own fence", () => {
    const r = run(initial(), [obs('deactivating', 0)], fresh);
    expect(r.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'verify', readFencer: true });
    const operator = run(r.state, [confirmation('deactivating', 30, 'confirmed', CLUSTER3, 'none')], fresh);
    expect(healthOf(operator.decisions)).toEqual(['red']);
    const fence = run(r.state, [confirmation('deactivating', 30, 'confirmed', CLUSTER3, 'fencing')], fresh);
    expect(healthOf(fence.decisions)).toEqual([]);
    expect(fence.decisions.at(-1)?.reason).toMatch(/this deactivation is its fence/);
    expect(fence.state.slots.get(SLOT)?.active.has('deactivating')).toBe(false);
  });

  it('a node that rejoins the cluster gets its health again; a green one or one in maintenance does not', () => {
    const red = initial({ health: 'red', nodeOnline: true });
    const lost = run(red, [{ kind: 'membership', at: 10, online: ['node1', 'node3'] }]);
    expect(kinds(lost.decisions)).toEqual([]);
    const back = run(lost.state, [{ kind: 'membership', at: 20, online: ['node1', 'node2', 'node3'] }]);
    expect(back.decisions).toMatchObject([{ kind: 'set-health', node: 'node2', value: 'red' }]);
    expect(kinds(run(back.state, [{ kind: 'membership', at: 30, online: ['node1', 'node2'] }]).decisions)).toEqual([]);
    // After atcad's own restart, the first reading applies it too.
    expect(
      kinds(run(initial({ health: 'yellow' }), [{ kind: 'membership', at: 5, online: ['node2'] }]).decisions),
    ).toEqual(['set-health']);
    expect(
      kinds(run(initial({ nodeOnline: false }), [{ kind: 'membership', at: 5, online: ['node2'] }]).decisions),
    ).toEqual([]);
    expect(
      kinds(
        run(initial({ health: 'red', maintenance: true }), [{ kind: 'membership', at: 5, online: ['node2'] }])
          .decisions,
      ),
    ).toEqual([]);
  });
});

describe('policy: a dead blade left to the cluster (what the review of the wait found)', () => {
  const fresh = { ...CFG, sustainMs: 0 };
  const off = (input: PolicyInput): PolicyInput =>
    input.kind === 'confirmation' ? { ...input, payloadOff: true } : input;

  it('two fence-worthy faults on a dead blade: one wait, no re-reads taking turns, and the grace ends', () => {
    let r = run(initial(), [obs('processor-ierr', 0), obs('watchdog-expired', 10)], fresh);
    let state = r.state;
    const decisions: Decision[] = [...r.decisions];
    const readAt: number[] = [];
    for (let at = 100; at < 80_000; at += 100) {
      r = run(state, [{ kind: 'tick', at }], fresh);
      state = r.state;
      decisions.push(...r.decisions);
      if (r.decisions.some((d) => d.kind === 'confirm' && d.action === 'fence')) readAt.push(at);
      const p = state.slots.get(SLOT)?.pending;
      if (p?.confirming) {
        r = run(state, [off(confirmation(p.fault, at + 50, 'unknown'))], fresh);
        state = r.state;
        decisions.push(...r.decisions);
      }
    }
    // Per fault, its first reading and one at its grace's end: no re-reads taking turns.
    const fenceReads = decisions.filter((d) => d.kind === 'confirm' && d.action === 'fence');
    expect(fenceReads.length).toBeLessThanOrEqual(4);
    expect(readAt.filter((t) => t > 200 && t < 30_000)).toEqual([]);
    expect(decisions.some((d) => d.kind === 'blocked' && /mapping .* is suspect/.test(d.reason))).toBe(true);
    expect(kinds(decisions)).not.toContain('fence');
  });

  it('a reading that showed the blade off, answered after a poll showed it powered again, is read again soon', () => {
    const r = run(
      initial({ hotswap: 4 }),
      [obs('processor-ierr', 0), hotswap(1, 150), hotswap(2, 400), hotswap(4, 600)],
      fresh,
    );
    const after = run(r.state, [off(confirmation('processor-ierr', 700, 'unknown'))], fresh);
    const p = after.state.slots.get(SLOT)?.pending;
    expect(p?.dueAt).toBeLessThanOrEqual(700 + CFG.confirmRetryMaxMs / 10);
    const again = run(after.state, [{ kind: 'tick', at: 2000 }], fresh);
    expect(again.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'fence' });
  });
});

describe('policy: a fresh reading of "off" that is older than a poll showing power (the second review)', () => {
  const fresh = { ...CFG, sustainMs: 0 };
  const off = (input: PolicyInput): PolicyInput =>
    input.kind === 'confirmation' ? { ...input, payloadOff: true } : input;
  const trapState = (st: HotSwapState, at: number): PolicyInput => ({
    kind: 'finding',
    slot: SLOT,
    finding: { kind: 'hotswap', state: st },
    evidence: { source: 'trap', at, summary: `M${st} (trap)` },
  });

  it('a zombie whose reading said "off" after a poll showed it powered is fenced, not left to corosync', () => {
    const r = run(initial({ hotswap: 4 }), [obs('processor-ierr', 0), hotswap(1, 100), hotswap(4, 300)], fresh);
    const fenced = run(r.state, [off(confirmation('processor-ierr', 400))], fresh);
    expect(kinds(fenced.decisions)).toContain('fence');
    expect(fenced.state.slots.get(SLOT)?.polledOff).toBe(false);
  });

  it("a trap claiming M4 on a dead blade does not end the quiet wait (only atcad's own poll does)", () => {
    let r = run(initial(), [obs('processor-ierr', 0), off(confirmation('processor-ierr', 30, 'unknown'))], fresh);
    r = run(r.state, [trapState(4, 100)], fresh);
    for (let at = 200; at < 29_000; at += 500) {
      const t = run(r.state, [{ kind: 'tick', at }], fresh);
      expect(
        t.decisions.filter((d) => d.kind === 'confirm'),
        `at ${at}`,
      ).toEqual([]);
      r = t;
    }
  });
});

describe('policy: what the hostile review of issue 9 found (each a sequence that went wrong)', () => {
  const fresh = { ...CFG, sustainMs: 0 };
  const trapState = (state: HotSwapState, at: number): PolicyInput => ({
    kind: 'finding',
    slot: SLOT,
    finding: { kind: 'hotswap', state },
    evidence: { source: 'trap', at, summary: `M${state} (trap)` },
  });
  const off = (input: PolicyInput): PolicyInput =>
    input.kind === 'confirmation' ? { ...input, payloadOff: true } : input;
  const healthOf = (ds: Decision[]) => ds.flatMap((d) => (d.kind === 'set-health' ? [d.value] : []));

  it('a trap claiming M1 does not silence a real fault: the fresh reading (M4) decides, and the zombie is fenced', () => {
    const r = run(initial(), [trapState(1, 0), obs('processor-ierr', 10), confirmation('processor-ierr', 40)], fresh);
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm', 'set-health', 'fence']);
    expect(healthOf(r.decisions)).toEqual(['yellow', 'red']);
  });

  it('a verification that keeps coming back unknown does not hold up a fence', () => {
    let r = run(
      initial(),
      [obs('temperature-critical', 0), confirmation('temperature-critical', 30, 'unknown')],
      fresh,
    );
    expect(r.state.slots.get(SLOT)?.pending).toMatchObject({ action: 'verify', attempts: 1 });
    r = run(r.state, [obs('processor-ierr', 100, true, SLOT, 'poll')], fresh);
    expect(r.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ action: 'fence', fault: 'processor-ierr' });
    const fenced = run(r.state, [confirmation('processor-ierr', 130)], fresh);
    expect(kinds(fenced.decisions)).toContain('fence');
  });

  it('a verification whose fault a poll has shown meanwhile gives way', () => {
    const r = run(
      initial(),
      [
        obs('temperature-critical', 0),
        confirmation('temperature-critical', 30, 'unknown'),
        obs('temperature-critical', 1000, true, SLOT, 'poll'),
      ],
      fresh,
    );
    expect(healthOf(r.decisions)).toEqual(['yellow', 'red']);
    expect(r.state.slots.get(SLOT)?.pending).toBeUndefined();
  });

  it('a blade read off and left to the cluster, back in M4 with its fault still there, goes red again', () => {
    const gone: ClusterView = { ...CLUSTER3, votersOnline: ['node1', 'node3'] };
    const r = run(
      initial(),
      [
        obs('processor-ierr', 0),
        off(confirmation('processor-ierr', 30, 'unknown', gone)),
        hotswap(1, 40),
        { kind: 'membership', at: 50, online: ['node1', 'node3'] },
      ],
      fresh,
    );
    expect(r.decisions.some((d) => /the cluster fences it itself/.test(d.reason))).toBe(true);
    expect(healthOf(r.decisions)).toEqual(['yellow']);
    // Back in M4: what was shown before the power cycle is a claim again; the reading decides.
    const back = run(r.state, [hotswap(4, 60_000), confirmation('processor-ierr', 60_030)], fresh);
    expect(healthOf(back.decisions)).toEqual(['red']);
  });

  it('the grace before "mapping suspect" counts from the first reading that showed the blade off', () => {
    let state = run(initial(), [obs('processor-ierr', 0)], fresh).state;
    for (let at = 30; at < 40_000; at += 5000) {
      state = run(state, [{ kind: 'tick', at }, confirmation('processor-ierr', at + 1, 'unknown')], fresh).state;
    }
    const r = run(state, [{ kind: 'tick', at: 60_000 }, off(confirmation('processor-ierr', 60_001, 'unknown'))], fresh);
    expect(kinds(r.decisions)).not.toContain('blocked');
    expect(r.decisions.at(-1)?.reason).toMatch(/still an online member/);
  });

  it('a cluster view with no voter at all (a dry run) is no reading: the blade is not taken as out of the cluster', () => {
    const none: ClusterView = { withQuorum: false, votersOnline: [], votersTotal: 0, quorum: undefined };
    const r = run(
      initial(),
      [obs('processor-ierr', 0), off(confirmation('processor-ierr', 30, 'confirmed', none))],
      fresh,
    );
    expect(r.decisions.at(-1)?.reason).toMatch(/membership cannot be read/);
  });

  it('membership changes during maintenance are kept for when it ends', () => {
    const r = run(initial({ health: 'red', nodeOnline: false, maintenance: true }), [
      { kind: 'membership', at: 5, online: ['node2'] },
    ]);
    expect(r.state.slots.get(SLOT)?.nodeOnline).toBe(false);
  });

  it('health the cluster showed and then lost is applied again, once per loss; never shown (strategy none): never', () => {
    const red = initial({ health: 'red', nodeOnline: true });
    const m = (at: number, shown: 'green' | 'yellow' | 'red') =>
      ({ kind: 'membership', at, online: ['node2'], health: { node2: shown } }) as const;
    // Not yet shown (attrd has not written it, or the strategy is none and every node shows green).
    const unseen = run(red, [m(1000, 'green'), m(2000, 'green'), m(3000, 'green')]);
    expect(kinds(unseen.decisions)).toEqual([]);
    // Shown, then lost: applied again, once.
    const lost = run(red, [m(1000, 'red'), m(2000, 'green'), m(3000, 'green'), m(4000, 'green')]);
    expect(lost.decisions).toMatchObject([
      { kind: 'set-health', value: 'red', reason: expect.stringMatching(/dropped/) },
    ]);
    // Shown as it is (or worse, by another #health attribute): nothing to do.
    expect(kinds(run(red, [m(1000, 'red'), m(2000, 'red')]).decisions)).toEqual([]);
  });
});

describe('policy: what the second hostile review of issue 9 found', () => {
  const fresh = { ...CFG, sustainMs: 0 };
  const withPower = (input: PolicyInput, off: boolean): PolicyInput =>
    input.kind === 'confirmation' ? { ...input, payloadOff: off } : input;
  const healthOf = (ds: Decision[]) => ds.flatMap((d) => (d.kind === 'set-health' ? [d.value] : []));

  it('a fresh reading that shows the blade powered clears "off": a poll over-temperature then goes red', () => {
    const gone: ClusterView = { ...CLUSTER3, votersOnline: ['node1', 'node3'] };
    const r = run(
      initial(),
      [
        obs('processor-ierr', 0),
        withPower(confirmation('processor-ierr', 30, 'unknown', gone), true),
        obs('processor-ierr', 1000, false),
        // The blade is reactivated; the claim-fed poller reports nothing new; the next reading shows power.
        obs('temperature-critical', 5000),
        withPower(confirmation('temperature-critical', 5030), false),
      ],
      fresh,
    );
    expect(healthOf(r.decisions).at(-1)).toBe('red');
  });

  it('an unknown reading of a dead blade proves nothing: the fault is no evidence when the blade is back', () => {
    const gone: ClusterView = { ...CLUSTER3, votersOnline: ['node1', 'node3'] };
    const r = run(
      initial(),
      [obs('processor-ierr', 0), withPower(confirmation('processor-ierr', 30, 'unknown', gone), true)],
      fresh,
    );
    expect(r.state.slots.get(SLOT)?.active.get('processor-ierr')?.confirmed).toBe(false);
    const back = run(r.state, [hotswap(4, 60_000)], fresh);
    expect(healthOf(back.decisions)).not.toContain('red');
    // The verification asked for meanwhile answers: unknown keeps it yellow, shown makes it red.
    expect(r.state.slots.get(SLOT)?.pending).toMatchObject({ action: 'verify', fault: 'processor-ierr' });
    expect(healthOf(run(back.state, [confirmation('processor-ierr', 60_030, 'unknown')], fresh).decisions)).toEqual([]);
    expect(healthOf(run(back.state, [confirmation('processor-ierr', 60_030)], fresh).decisions)).toEqual(['red']);
  });

  it('a fence that keeps reading unknown takes turns: another fault to fence for is read too', () => {
    let r = run(initial(), [obs('processor-ierr', 0), confirmation('processor-ierr', 30, 'unknown')], fresh);
    r = run(r.state, [obs('watchdog-expired', 100, true, SLOT, 'poll')], fresh);
    expect(r.decisions.find((d) => d.kind === 'confirm')).toMatchObject({ fault: 'watchdog-expired', action: 'fence' });
    const fenced = run(r.state, [confirmation('watchdog-expired', 130)], fresh);
    expect(kinds(fenced.decisions)).toContain('fence');
  });

  it("a deactivation is not acted on while the fencer's history cannot be read", () => {
    const r = run(
      initial(),
      [obs('deactivating', 0), confirmation('deactivating', 30, 'confirmed', CLUSTER3, 'unknown')],
      fresh,
    );
    expect(healthOf(r.decisions)).toEqual([]);
    expect(r.decisions.at(-1)?.reason).toMatch(/cannot be read, so this may be the cluster's own fence/);
  });

  it('the off-since mark ends when a reading shows the blade powered: a later loss gets its full grace', () => {
    let state = run(
      initial(),
      [obs('processor-ierr', 0), withPower(confirmation('processor-ierr', 1000, 'unknown'), true)],
      fresh,
    ).state;
    state = run(
      state,
      [{ kind: 'tick', at: 31_000 }, withPower(confirmation('processor-ierr', 31_001, 'unknown'), false)],
      fresh,
    ).state;
    expect(state.slots.get(SLOT)?.pending?.offSince).toBeUndefined();
    const r = run(
      state,
      [{ kind: 'tick', at: 40_000 }, withPower(confirmation('processor-ierr', 40_001, 'unknown'), true)],
      fresh,
    );
    expect(kinds(r.decisions)).not.toContain('blocked');
  });
});
