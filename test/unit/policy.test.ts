// The policy is a pure function: these tests drive it with inputs and read its decisions.
// No peer is involved by design — the policy never does I/O.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, FAULT_CLASSES, type FaultClass } from '../../src/domain/faults.js';
import { decide, newSlotState } from '../../src/policy/decide.js';
import type { Decision, Evidence, PolicyConfig, PolicyInput, PolicyState } from '../../src/policy/types.js';

const CFG: PolicyConfig = {
  rules: DEFAULT_RULES,
  sustainMs: 1000,
  debounceMs: 500,
  recoveryMs: 60_000,
  releaseStandbyOnRecovery: false,
  maxFences: 1,
  fenceWindowMs: 900_000,
  minNodesAfterFence: 2,
};

const SLOT = 'shelf1/2';

function initial(
  over: Partial<ReturnType<typeof newSlotState>> = {},
  nodesOnline: number | undefined = 3,
): PolicyState {
  const slots = new Map([
    [SLOT, { ...newSlotState(SLOT, 'node2', false), ...over }],
    ['shelf1/1', newSlotState('shelf1/1', 'node1', false)],
  ]);
  return { slots, fences: [], nodesOnline };
}

const ev = (at: number, summary = 'test'): Evidence => ({ source: 'trap', at, summary });
const obs = (fault: FaultClass, at: number, asserted = true): PolicyInput => ({
  kind: 'observation',
  slot: SLOT,
  fault,
  asserted,
  evidence: ev(at),
});
const confirmation = (fault: FaultClass, at: number, confirmed = true): PolicyInput => ({
  kind: 'confirmation',
  slot: SLOT,
  fault,
  confirmed,
  evidence: { source: 'confirm', at, summary: 'fresh read' },
});

/** Feeds inputs in order; returns the final state and every decision. */
function run(state: PolicyState, inputs: PolicyInput[], cfg = CFG): { state: PolicyState; decisions: Decision[] } {
  const decisions: Decision[] = [];
  for (const i of inputs) {
    const r = decide(state, i, cfg);
    state = r.state;
    decisions.push(...r.decisions);
  }
  return { state, decisions };
}

const kinds = (ds: Decision[]) => ds.filter((d) => d.kind !== 'record').map((d) => d.kind);

describe('policy: fault classes map to the configured rung of the ladder', () => {
  it.each(FAULT_CLASSES)('%s', (fault) => {
    const action = DEFAULT_RULES[fault];
    const { decisions, state } = run(initial(), [obs(fault, 0), { kind: 'tick', at: 1000 }, confirmation(fault, 1001)]);
    const health = decisions.find((d) => d.kind === 'set-health');
    switch (action) {
      case 'record':
        expect(kinds(decisions)).toEqual([]);
        break;
      case 'health-yellow':
        expect(health).toMatchObject({ node: 'node2', value: 'yellow' });
        expect(kinds(decisions)).toEqual(['set-health']);
        break;
      case 'health-red':
        expect(health).toMatchObject({ value: 'red' });
        expect(kinds(decisions)).toEqual(['set-health']);
        break;
      case 'standby':
        expect(kinds(decisions)).toEqual(['set-health', 'confirm', 'set-standby']);
        expect(state.slots.get(SLOT)?.standby).toBe(true);
        break;
      case 'fence':
        expect(kinds(decisions)).toEqual(['set-health', 'confirm', 'fence']);
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
      confirmation('processor-ierr', 1001, false),
    ]);
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm']);
    expect(r.decisions.at(-1)).toMatchObject({
      kind: 'record',
      reason: expect.stringMatching(/not confirmed by a fresh reading: no fence/),
    });
    expect(r.state.slots.get(SLOT)?.active.size).toBe(0);
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
    const r = run(initial(), [obs('temperature-critical', 0), obs('voltage-critical', 10_000)]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
  });

  it('escalates yellow → red but never lowers health while faults are active', () => {
    const r = run(initial(), [
      obs('temperature-noncritical', 0),
      obs('voltage-critical', 1000),
      obs('voltage-critical', 2000, false),
    ]);
    expect(r.decisions.filter((d) => d.kind === 'set-health').map((d) => (d as { value: string }).value)).toEqual([
      'yellow',
      'red',
    ]);
  });

  it('does not put a node in standby twice', () => {
    const r = run(initial({ standby: true }), [obs('hotswap-lost', 0), { kind: 'tick', at: 1000 }]);
    expect(kinds(r.decisions)).toEqual(['set-health']);
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
    const s = { ...initial(), fences: [0] };
    const r = run(s, toFence(10_000));
    expect(kinds(r.decisions)).toEqual(['set-health', 'confirm', 'blocked', 'set-standby']);
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/1 fence\(s\) in the last 900 s/);
  });

  it('allows a fence again once the window has passed', () => {
    const s = { ...initial(), fences: [0] };
    const r = run(s, toFence(1_000_000));
    expect(kinds(r.decisions)).toContain('fence');
    expect(r.state.fences).toEqual([1_001_001]);
  });

  it('never fences when the nodes left online would lose quorum', () => {
    const r = run(initial({}, 2), toFence(0));
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(
      /only 1 node\(s\) would stay online \(need 2\)/,
    );
    expect(kinds(r.decisions)).not.toContain('fence');
  });

  it('never fences when the online nodes are unknown', () => {
    const r = run({ ...initial(), nodesOnline: undefined }, toFence(0));
    expect(r.decisions.find((d) => d.kind === 'blocked')?.reason).toMatch(/unknown/);
  });

  it('one decision per slot at a time: a confirmed fault waits while an action runs', () => {
    const r = run(initial({ inFlight: 'standby' }), toFence(0));
    expect(kinds(r.decisions)).toEqual(['set-health', 'blocked']);
    const done = run(r.state, [
      { kind: 'action-done', slot: SLOT, action: 'standby', ok: true, evidence: ev(3000) },
      { kind: 'tick', at: 3001 },
    ]);
    expect(kinds(done.decisions)).toEqual(['confirm']);
  });

  it('a deactivation that follows our own fence is expected, not a new fault', () => {
    const r = run(initial({ inFlight: 'fence' }), [obs('unexpected-deactivation', 0), { kind: 'tick', at: 5000 }]);
    expect(kinds(r.decisions)).toEqual([]);
    expect(r.decisions[0]?.reason).toMatch(/our own fence/);
  });

  it('does not fence a slot twice', () => {
    const first = run(initial(), toFence(0));
    const done = run(first.state, [{ kind: 'action-done', slot: SLOT, action: 'fence', ok: true, evidence: ev(2000) }]);
    const again = run({ ...done.state, fences: [] }, toFence(5000));
    expect(kinds(again.decisions)).not.toContain('fence');
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
      { kind: 'action-done', slot: SLOT, action: 'standby', ok: true, evidence: ev(1100) },
      obs('hotswap-lost', 2000, false),
      { kind: 'tick', at: 70_000 },
    ];
    expect(kinds(run(initial(), seq).decisions)).toEqual(['set-health', 'confirm', 'set-standby', 'set-health']);
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
