import type { FaultClass, PolicyAction } from '../domain/faults.js';
import type {
  ActiveFault,
  Decision,
  Evidence,
  Health,
  PolicyConfig,
  PolicyInput,
  PolicyState,
  SlotPolicyState,
} from './types.js';

/**
 * The policy: a pure function (state, input) → (state', decisions). No clock, no I/O: time
 * comes in with the input, actions go out as decisions, and their outcome comes back as
 * `action-done`. Its rules, in order of precedence:
 *   - a slot in maintenance is only recorded;
 *   - a repeat of an active fault within the debounce window is one fault;
 *   - health changes at once (non-destructive: Pacemaker moves resources under migrate-on-red);
 *   - standby and fence wait `sustainMs`, then need a fresh IPMI reading that agrees
 *     (`confirm` → `confirmation`); an unconfirmed fault is dropped, not acted on;
 *   - a fence is blocked — and the slot put in standby instead, which cannot destroy data —
 *     when it would exceed maxFences per window, leave fewer than minNodesAfterFence nodes
 *     online, or when the online nodes are unknown;
 *   - one action per slot at a time; an action already in effect is not repeated;
 *   - health goes back to green after the slot has been clear for `recoveryMs`; standby is
 *     released then only if configured.
 */
export interface DecideResult {
  readonly state: PolicyState;
  readonly decisions: readonly Decision[];
}

const HEALTH_RANK: Record<Health, number> = { green: 0, yellow: 1, red: 2 };

function healthFor(action: PolicyAction): Health {
  if (action === 'health-yellow') return 'yellow';
  if (action === 'health-red' || action === 'standby' || action === 'fence') return 'red';
  return 'green';
}

function worstHealth(active: ReadonlyMap<FaultClass, ActiveFault>, cfg: PolicyConfig): Health {
  let h: Health = 'green';
  for (const f of active.keys()) {
    const fh = healthFor(cfg.rules[f]);
    if (HEALTH_RANK[fh] > HEALTH_RANK[h]) h = fh;
  }
  return h;
}

function withSlot(state: PolicyState, slot: SlotPolicyState): PolicyState {
  const slots = new Map(state.slots);
  slots.set(slot.key, slot);
  return { ...state, slots };
}

function allEvidence(slot: SlotPolicyState, extra?: Evidence): Evidence[] {
  const ev = [...slot.active.values()].flatMap((f) => f.evidence);
  if (extra) ev.push(extra);
  return ev;
}

export function decide(state: PolicyState, input: PolicyInput, cfg: PolicyConfig): DecideResult {
  switch (input.kind) {
    case 'observation':
      return observe(state, input, cfg);
    case 'confirmation':
      return confirm(state, input, cfg);
    case 'action-done':
      return actionDone(state, input);
    case 'nodes-online':
      return { state: { ...state, nodesOnline: input.count }, decisions: [] };
    case 'tick':
      return tick(state, input.at, cfg);
  }
}

function observe(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'observation' }>,
  cfg: PolicyConfig,
): DecideResult {
  const slot = state.slots.get(input.slot);
  const at = input.evidence.at;
  if (!slot) {
    return {
      state,
      decisions: [
        {
          kind: 'record',
          slot: input.slot,
          reason: `${input.fault} on a slot not in the configuration`,
          evidence: [input.evidence],
        },
      ],
    };
  }
  const existing = slot.active.get(input.fault);
  if (!input.asserted) {
    if (!existing) return { state, decisions: [] };
    const active = new Map(slot.active);
    active.delete(input.fault);
    const pending = slot.pending?.fault === input.fault ? undefined : slot.pending;
    const next: SlotPolicyState = { ...slot, active, pending, clearSince: active.size === 0 ? at : slot.clearSince };
    const reason =
      slot.pending?.fault === input.fault
        ? `${input.fault} cleared before confirmation: no ${slot.pending.action}`
        : `${input.fault} cleared`;
    return {
      state: withSlot(state, next),
      decisions: [{ kind: 'record', slot: slot.key, reason, evidence: [input.evidence] }],
    };
  }

  if (existing && at - existing.lastSeen < cfg.debounceMs) {
    const active = new Map(slot.active);
    active.set(input.fault, { ...existing, lastSeen: at });
    return { state: withSlot(state, { ...slot, active }), decisions: [] };
  }
  const fault: ActiveFault = existing
    ? { ...existing, lastSeen: at, evidence: [...existing.evidence.slice(-4), input.evidence] }
    : { since: at, lastSeen: at, evidence: [input.evidence] };
  const active = new Map(slot.active);
  active.set(input.fault, fault);
  let next: SlotPolicyState = { ...slot, active, clearSince: undefined };
  const decisions: Decision[] = [];
  const action = cfg.rules[input.fault];
  const ev = allEvidence(next);

  if (slot.maintenance) {
    decisions.push({
      kind: 'record',
      slot: slot.key,
      reason: `${input.fault} (${action}): slot is in maintenance, no action`,
      evidence: ev,
    });
    return { state: withSlot(state, next), decisions };
  }
  if (input.fault === 'unexpected-deactivation' && (slot.inFlight === 'fence' || slot.fencedAt !== undefined)) {
    decisions.push({
      kind: 'record',
      slot: slot.key,
      reason: 'deactivation follows our own fence: expected',
      evidence: ev,
    });
    active.delete(input.fault);
    return { state: withSlot(state, { ...next, active }), decisions };
  }
  decisions.push({ kind: 'record', slot: slot.key, reason: `${input.fault} asserted (rule: ${action})`, evidence: ev });
  if (!slot.node) {
    decisions.push({
      kind: 'blocked',
      slot: slot.key,
      wanted: action,
      reason: 'no Pacemaker node is mapped to this slot',
      evidence: ev,
    });
    return { state: withSlot(state, next), decisions };
  }

  const health = worstHealth(active, cfg);
  if (HEALTH_RANK[health] > HEALTH_RANK[slot.health]) {
    decisions.push({
      kind: 'set-health',
      slot: slot.key,
      node: slot.node,
      value: health,
      reason: `${input.fault} → ${health}`,
      evidence: ev,
    });
    next = { ...next, health };
  }
  if (action === 'standby' || action === 'fence') {
    const stronger = next.pending && next.pending.action === 'fence' && action === 'standby';
    const done = (action === 'standby' && slot.standby) || (action === 'fence' && slot.fencedAt !== undefined);
    if (!stronger && !done) {
      next = { ...next, pending: { action, fault: input.fault, dueAt: at + cfg.sustainMs } };
      if (cfg.sustainMs === 0 && !slot.inFlight) {
        next = { ...next, pending: { action, fault: input.fault, dueAt: Number.POSITIVE_INFINITY } };
        decisions.push(confirmDecision(next, input.fault, action, ev));
      }
    }
  }
  return { state: withSlot(state, next), decisions };
}

function confirmDecision(
  slot: SlotPolicyState,
  fault: FaultClass,
  action: 'standby' | 'fence',
  ev: Evidence[],
): Decision {
  return {
    kind: 'confirm',
    slot: slot.key,
    fault,
    action,
    reason: `confirm ${fault} with a fresh reading before ${action}`,
    evidence: ev,
  };
}

function confirm(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'confirmation' }>,
  cfg: PolicyConfig,
): DecideResult {
  const slot = state.slots.get(input.slot);
  const at = input.evidence.at;
  if (!slot?.pending || slot.pending.fault !== input.fault) {
    return {
      state,
      decisions: [
        {
          kind: 'record',
          slot: input.slot,
          reason: `stale confirmation of ${input.fault}: nothing pending`,
          evidence: [input.evidence],
        },
      ],
    };
  }
  const pending = slot.pending;
  const ev = allEvidence(slot, input.evidence);
  if (!input.confirmed) {
    // The fresh reading disagrees: the trap was stale, replayed or wrong. Do nothing that
    // cannot be undone; forget the fault.
    const active = new Map(slot.active);
    active.delete(input.fault);
    const next: SlotPolicyState = {
      ...slot,
      active,
      pending: undefined,
      clearSince: active.size === 0 ? at : slot.clearSince,
    };
    return {
      state: withSlot(state, next),
      decisions: [
        {
          kind: 'record',
          slot: slot.key,
          reason: `${input.fault} not confirmed by a fresh reading: no ${pending.action}`,
          evidence: ev,
        },
      ],
    };
  }
  const node = slot.node!;
  if (slot.inFlight) {
    return {
      state: withSlot(state, { ...slot, pending: { ...pending, dueAt: at } }),
      decisions: [
        {
          kind: 'blocked',
          slot: slot.key,
          wanted: pending.action,
          reason: `${slot.inFlight} already in progress on this slot`,
          evidence: ev,
        },
      ],
    };
  }
  if (pending.action === 'fence') {
    const recent = state.fences.filter((t) => at - t < cfg.fenceWindowMs);
    let why: string | undefined;
    if (recent.length >= cfg.maxFences) {
      why = `${recent.length} fence(s) in the last ${Math.round(cfg.fenceWindowMs / 1000)} s (limit ${cfg.maxFences})`;
    } else if (state.nodesOnline === undefined) {
      why = 'the nodes online are unknown, so quorum after the fence cannot be checked';
    } else if (state.nodesOnline - 1 < cfg.minNodesAfterFence) {
      why = `only ${state.nodesOnline - 1} node(s) would stay online (need ${cfg.minNodesAfterFence})`;
    }
    if (why) {
      const decisions: Decision[] = [
        { kind: 'blocked', slot: slot.key, wanted: 'fence', reason: `fence blocked: ${why}`, evidence: ev },
      ];
      let next: SlotPolicyState = { ...slot, pending: undefined };
      if (!slot.standby) {
        decisions.push({
          kind: 'set-standby',
          slot: slot.key,
          node,
          on: true,
          reason: 'standby instead of a blocked fence: it cannot destroy data',
          evidence: ev,
        });
        next = { ...next, standby: true, inFlight: 'standby' };
      }
      return { state: withSlot(state, next), decisions };
    }
    const next: SlotPolicyState = { ...slot, pending: undefined, inFlight: 'fence' };
    return {
      state: { ...withSlot(state, next), fences: [...recent, at] },
      decisions: [{ kind: 'fence', slot: slot.key, node, reason: `${input.fault} confirmed`, evidence: ev }],
    };
  }
  if (slot.standby) {
    return {
      state: withSlot(state, { ...slot, pending: undefined }),
      decisions: [
        { kind: 'record', slot: slot.key, reason: `${input.fault} confirmed; node already in standby`, evidence: ev },
      ],
    };
  }
  const next: SlotPolicyState = { ...slot, pending: undefined, standby: true, inFlight: 'standby' };
  return {
    state: withSlot(state, next),
    decisions: [
      { kind: 'set-standby', slot: slot.key, node, on: true, reason: `${input.fault} confirmed`, evidence: ev },
    ],
  };
}

function actionDone(state: PolicyState, input: Extract<PolicyInput, { kind: 'action-done' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  if (!slot) return { state, decisions: [] };
  let next: SlotPolicyState = { ...slot, inFlight: slot.inFlight === input.action ? undefined : slot.inFlight };
  const decisions: Decision[] = [];
  if (input.action === 'fence' && input.ok) next = { ...next, fencedAt: input.evidence.at };
  if (!input.ok) {
    if (input.action === 'standby') next = { ...next, standby: !slot.standby };
    decisions.push({ kind: 'record', slot: slot.key, reason: `${input.action} failed`, evidence: [input.evidence] });
  }
  return { state: withSlot(state, next), decisions };
}

function tick(state: PolicyState, at: number, cfg: PolicyConfig): DecideResult {
  let next = state;
  const decisions: Decision[] = [];
  for (const slot of state.slots.values()) {
    let s = slot;
    if (s.pending && at >= s.pending.dueAt && !s.inFlight && !s.maintenance) {
      decisions.push(confirmDecision(s, s.pending.fault, s.pending.action, allEvidence(s)));
      s = { ...s, pending: { ...s.pending, dueAt: Number.POSITIVE_INFINITY } };
    }
    if (
      s.active.size === 0 &&
      s.clearSince !== undefined &&
      at - s.clearSince >= cfg.recoveryMs &&
      s.node &&
      !s.maintenance
    ) {
      const node = s.node;
      const ev: Evidence = { source: 'timer', at, summary: `clear since ${new Date(s.clearSince).toISOString()}` };
      if (s.health !== 'green') {
        decisions.push({
          kind: 'set-health',
          slot: s.key,
          node,
          value: 'green',
          reason: 'recovered',
          evidence: [ev],
        });
        s = { ...s, health: 'green' };
      }
      if (s.standby && cfg.releaseStandbyOnRecovery && !s.inFlight) {
        decisions.push({
          kind: 'set-standby',
          slot: s.key,
          node,
          on: false,
          reason: 'recovered: standby released',
          evidence: [ev],
        });
        s = { ...s, standby: false, inFlight: 'standby' };
      }
      s = { ...s, clearSince: undefined };
    }
    if (s !== slot) next = withSlot(next, s);
  }
  return { state: next, decisions };
}

export function newSlotState(key: string, node: string | undefined, maintenance: boolean): SlotPolicyState {
  return {
    key,
    node,
    maintenance,
    active: new Map(),
    health: 'green',
    standby: false,
    clearSince: undefined,
    pending: undefined,
    inFlight: undefined,
    fencedAt: undefined,
  };
}
