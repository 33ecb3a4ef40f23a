import type { FaultClass, PolicyAction } from '../domain/faults.js';
import type {
  ActiveFault,
  ClusterView,
  Decision,
  Evidence,
  FenceRecord,
  Health,
  PolicyConfig,
  PolicyInput,
  PolicyState,
  SlotPolicyState,
} from './types.js';

/**
 * The policy: a pure function (state, input) → (state', decisions). No clock, no I/O: time
 * comes in with the input, actions go out as decisions, their outcome comes back as
 * `action-done`, and a fresh reading as `confirmation`. Its rules, in order of precedence:
 *   - a slot in maintenance is only recorded;
 *   - a repeat of an active fault within the debounce window is one fault;
 *   - health changes at once (reversible: Pacemaker moves resources under migrate-on-red);
 *   - standby and fence wait `sustainMs`, then need a fresh reading that agrees: refuted drops
 *     the fault, unknown keeps it (and its health and pending action) and reads again with
 *     back-off — unknown is never taken as refuted;
 *   - a fence is blocked — and the slot put in standby instead, which cannot destroy data —
 *     when it would exceed maxFences per window (every fence issued counts, whatever its
 *     outcome), when the cluster's quorum or membership is unknown or lost, when fewer voting
 *     members than the minimum would stay online counting fences in flight, or when the
 *     fencer's history cannot be read; it is not issued at all when the cluster is fencing
 *     the node already or did so in this episode;
 *   - "fenced" belongs to one fault episode, which ends when the slot reads M4 again with no
 *     fault active;
 *   - one action per slot at a time; an action already in effect is not repeated;
 *   - health goes back to green after the slot has been clear for `recoveryMs`; standby is
 *     released then only if configured.
 */
export interface DecideResult {
  readonly state: PolicyState;
  readonly decisions: readonly Decision[];
}

const HEALTH_RANK: Record<Health, number> = { green: 0, yellow: 1, red: 2 };
/** Evidence links kept per fault: the first and the latest few. */
const MAX_EVIDENCE = 6;
/** A health change that failed (attrd unreachable, say) is applied again this much later. */
export const HEALTH_RETRY_MS = 5000;

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

function allEvidence(slot: SlotPolicyState, ...extra: readonly Evidence[]): Evidence[] {
  return [...[...slot.active.values()].flatMap((f) => f.evidence), ...extra];
}

function record(slot: string, reason: string, evidence: readonly Evidence[]): Decision {
  return { kind: 'record', slot, reason, evidence };
}

/** The back-off before the n-th fresh reading after unknown answers (n ≥ 1). */
export function retryDelay(attempts: number, cfg: PolicyConfig): number {
  return Math.min(cfg.confirmRetryMaxMs, cfg.confirmRetryMs * 2 ** Math.max(0, attempts - 1));
}

/** Fences that count against the budget at `at`. */
export function fencesInWindow(fences: readonly FenceRecord[], at: number, cfg: PolicyConfig): FenceRecord[] {
  return fences.filter((f) => at - f.at < cfg.fenceWindowMs || f.status === 'in-flight' || f.status === 'uncertain');
}

/** Nodes whose fence is running or unsettled: they may be going down. */
function nodesBeingFenced(fences: readonly FenceRecord[]): Set<string> {
  return new Set(fences.filter((f) => f.status === 'in-flight' || f.status === 'uncertain').map((f) => f.node));
}

/** The voting members that would stay online after fencing `node`, and how many must. */
export function votersAfterFence(
  cluster: ClusterView,
  node: string,
  fences: readonly FenceRecord[],
  cfg: PolicyConfig,
): { readonly remaining: number; readonly needed: number } {
  const going = nodesBeingFenced(fences);
  going.add(node);
  const remaining = cluster.votersOnline.filter((n) => !going.has(n)).length;
  const needed = cfg.minVotersAfterFence ?? cluster.quorum ?? Math.floor(cluster.votersTotal / 2) + 1;
  return { remaining, needed };
}

export function decide(state: PolicyState, input: PolicyInput, cfg: PolicyConfig): DecideResult {
  switch (input.kind) {
    case 'finding':
      return endEpisode(finding(state, input, cfg), input.slot, input.evidence);
    case 'confirmation':
      return confirm(state, input, cfg);
    case 'action-done':
      return actionDone(state, input);
    case 'maintenance':
      return maintenance(state, input);
    case 'tick':
      return tick(state, input.at, cfg);
  }
}

/**
 * After a finding: a slot active (M4) with no fault is healthy as of now, and if it was fenced,
 * that fault episode is over.
 */
function endEpisode(r: DecideResult, key: string, ev: Evidence): DecideResult {
  const slot = r.state.slots.get(key);
  if (slot === undefined || slot.hotswap !== 4 || slot.active.size > 0 || slot.inFlight === 'fence') return r;
  const healthy = { ...slot, healthyAt: Math.max(slot.healthyAt ?? ev.at, ev.at) };
  if (!slot.fencedInEpisode) return { ...r, state: withSlot(r.state, healthy) };
  return {
    state: withSlot(r.state, { ...healthy, fencedInEpisode: false }),
    decisions: [
      ...r.decisions,
      record(key, 'slot active again (M4) with no fault: the fault episode that was fenced is over', [ev]),
    ],
  };
}

function finding(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'finding' }>,
  cfg: PolicyConfig,
): DecideResult {
  const slot = state.slots.get(input.slot);
  const f = input.finding;
  if (!slot) {
    if (f.kind === 'hotswap') return { state, decisions: [] };
    const what = f.kind === 'fault' ? `${f.fault} ${f.asserted ? 'asserted' : 'cleared'}` : f.summary;
    return { state, decisions: [record(input.slot, `${what} on a slot not in the configuration`, [input.evidence])] };
  }
  switch (f.kind) {
    case 'hotswap':
      return f.state === slot.hotswap
        ? { state, decisions: [] }
        : { state: withSlot(state, { ...slot, hotswap: f.state }), decisions: [] };
    case 'note':
      return { state, decisions: [record(slot.key, f.summary, [input.evidence])] };
    case 'fault':
      return f.asserted
        ? raise(state, slot, f.fault, input.evidence, cfg)
        : clear(state, slot, f.fault, input.evidence);
  }
}

function clear(state: PolicyState, slot: SlotPolicyState, fault: FaultClass, ev: Evidence): DecideResult {
  if (!slot.active.has(fault)) return { state, decisions: [] };
  const active = new Map(slot.active);
  active.delete(fault);
  const pendingHere = slot.pending?.fault === fault ? slot.pending : undefined;
  const next: SlotPolicyState = {
    ...slot,
    active,
    pending: pendingHere ? undefined : slot.pending,
    clearSince: active.size === 0 ? ev.at : slot.clearSince,
  };
  const reason = pendingHere ? `${fault} cleared before confirmation: no ${pendingHere.action}` : `${fault} cleared`;
  return { state: withSlot(state, next), decisions: [record(slot.key, reason, [ev])] };
}

function raise(
  state: PolicyState,
  slot: SlotPolicyState,
  fault: FaultClass,
  ev: Evidence,
  cfg: PolicyConfig,
): DecideResult {
  const at = ev.at;
  const existing = slot.active.get(fault);
  if (existing && at - existing.lastSeen < cfg.debounceMs) {
    const active = new Map(slot.active);
    active.set(fault, { ...existing, lastSeen: Math.max(existing.lastSeen, at) });
    return { state: withSlot(state, { ...slot, active }), decisions: [] };
  }
  const action = cfg.rules[fault];
  if (fault === 'unexpected-deactivation' && slot.inFlight === 'fence') {
    return { state, decisions: [record(slot.key, 'deactivation during our own fence of this slot: expected', [ev])] };
  }
  const af: ActiveFault = existing
    ? { ...existing, lastSeen: Math.max(existing.lastSeen, at), evidence: keepEvidence(existing.evidence, ev) }
    : { since: at, lastSeen: at, evidence: [ev] };
  const active = new Map(slot.active);
  active.set(fault, af);
  let next: SlotPolicyState = { ...slot, active, clearSince: undefined };
  const evs = allEvidence(next);
  const decisions: Decision[] = [];

  if (slot.maintenance) {
    decisions.push(record(slot.key, `${fault} (${action}): slot is in maintenance, no action`, evs));
    return { state: withSlot(state, next), decisions };
  }
  decisions.push(record(slot.key, `${fault} asserted (rule: ${action})`, evs));
  if (!slot.node) {
    decisions.push({
      kind: 'blocked',
      slot: slot.key,
      wanted: action,
      reason: 'no Pacemaker node is mapped to this slot',
      evidence: evs,
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
      reason: `${fault} → ${health}`,
      evidence: evs,
    });
    next = { ...next, health };
  }
  if (action === 'standby' || action === 'fence') {
    const stronger = next.pending?.action === 'fence' && action === 'standby';
    const same = next.pending?.fault === fault;
    const done = (action === 'standby' && slot.standby) || (action === 'fence' && slot.fencedInEpisode);
    if (action === 'fence' && slot.fencedInEpisode) {
      decisions.push(
        record(
          slot.key,
          `${fault}: the slot was fenced in this fault episode already; not again until it is active and clear`,
          evs,
        ),
      );
    }
    if (!stronger && !done && !same) {
      next = { ...next, pending: { action, fault, dueAt: at + cfg.sustainMs, attempts: 0, confirming: false } };
      if (cfg.sustainMs === 0 && !slot.inFlight) {
        next = { ...next, pending: { ...next.pending!, confirming: true } };
        decisions.push(confirmDecision(next, evs));
      }
    }
  }
  return { state: withSlot(state, next), decisions };
}

/** The first link and the latest ones: bounded, and the chain still shows how it began. */
function keepEvidence(prior: readonly Evidence[], ev: Evidence): Evidence[] {
  if (prior.length < MAX_EVIDENCE) return [...prior, ev];
  return [prior[0]!, ...prior.slice(prior.length - (MAX_EVIDENCE - 2)), ev];
}

function confirmDecision(slot: SlotPolicyState, ev: readonly Evidence[]): Decision {
  const p = slot.pending!;
  return {
    kind: 'confirm',
    slot: slot.key,
    node: slot.node!,
    fault: p.fault,
    action: p.action,
    attempt: p.attempts + 1,
    since: slot.active.get(p.fault)?.since ?? 0,
    healthyAt: slot.healthyAt,
    reason: `confirm ${p.fault} with a fresh reading before ${p.action}${p.attempts > 0 ? ` (attempt ${p.attempts + 1})` : ''}`,
    evidence: ev,
  };
}

function standbyInstead(
  slot: SlotPolicyState,
  why: string,
  ev: readonly Evidence[],
): { slot: SlotPolicyState; decisions: Decision[] } {
  const decisions: Decision[] = [
    { kind: 'blocked', slot: slot.key, wanted: 'fence', reason: `fence blocked: ${why}`, evidence: ev },
  ];
  let next: SlotPolicyState = { ...slot, pending: undefined };
  if (!slot.standby && !slot.inFlight && slot.node) {
    decisions.push({
      kind: 'set-standby',
      slot: slot.key,
      node: slot.node,
      on: true,
      reason: 'standby instead of a fence: it cannot destroy data',
      evidence: ev,
    });
    next = { ...next, standby: true, inFlight: 'standby' };
  }
  return { slot: next, decisions };
}

function confirm(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'confirmation' }>,
  cfg: PolicyConfig,
): DecideResult {
  const slot = state.slots.get(input.slot);
  const at = input.at;
  if (!slot?.pending || slot.pending.fault !== input.fault) {
    return {
      state,
      decisions: [record(input.slot, `stale confirmation of ${input.fault}: nothing pending`, input.evidence)],
    };
  }
  const pending = { ...slot.pending, confirming: false };
  const ev = allEvidence(slot, ...input.evidence);
  if (slot.maintenance) {
    return {
      state: withSlot(state, { ...slot, pending: undefined }),
      decisions: [record(slot.key, `${input.fault}: slot is in maintenance, no ${pending.action}`, ev)],
    };
  }
  if (input.verdict === 'unknown') {
    const attempts = pending.attempts + 1;
    const wait = retryDelay(attempts, cfg);
    return {
      state: withSlot(state, { ...slot, pending: { ...pending, attempts, dueAt: at + wait } }),
      decisions: [
        record(
          slot.key,
          `${input.fault}: the fresh reading could not show it either way (unknown): the fault and its health are kept, no ${pending.action} yet; reading again in ${Math.round(wait / 1000)} s`,
          ev,
        ),
      ],
    };
  }
  if (input.verdict === 'refuted') {
    // The fresh reading disagrees: the claim was stale, replayed or wrong. Do nothing that
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
      decisions: [record(slot.key, `${input.fault} refuted by a fresh reading: no ${pending.action}`, ev)],
    };
  }
  const node = slot.node!;
  if (slot.inFlight) {
    return {
      state: withSlot(state, { ...slot, pending: { ...pending, dueAt: at + cfg.confirmRetryMs } }),
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
  if (pending.action === 'standby') {
    if (slot.standby) {
      return {
        state: withSlot(state, { ...slot, pending: undefined }),
        decisions: [record(slot.key, `${input.fault} confirmed; node already in standby`, ev)],
      };
    }
    return {
      state: withSlot(state, { ...slot, pending: undefined, standby: true, inFlight: 'standby' }),
      decisions: [
        { kind: 'set-standby', slot: slot.key, node, on: true, reason: `${input.fault} confirmed`, evidence: ev },
      ],
    };
  }
  return fenceIfSafe(state, { ...slot, pending }, input, ev, cfg);
}

function fenceIfSafe(
  state: PolicyState,
  slot: SlotPolicyState,
  input: Extract<PolicyInput, { kind: 'confirmation' }>,
  ev: readonly Evidence[],
  cfg: PolicyConfig,
): DecideResult {
  const node = slot.node!;
  const at = input.at;
  if (slot.fencedInEpisode) {
    return {
      state: withSlot(state, { ...slot, pending: undefined }),
      decisions: [record(slot.key, `${input.fault} confirmed; already fenced in this fault episode`, ev)],
    };
  }
  if (input.fencer === 'fencing' || input.fencer === 'fenced-recently') {
    const what = input.fencer === 'fencing' ? 'is fencing' : 'has just fenced';
    return {
      state: withSlot(state, { ...slot, pending: undefined, fencedInEpisode: true }),
      decisions: [
        record(slot.key, `${input.fault} confirmed, but the cluster ${what} ${node}: not fencing it again`, ev),
      ],
    };
  }
  const counted = fencesInWindow(state.fences, at, cfg);
  let why: string | undefined;
  if (counted.length >= cfg.maxFences) {
    why = `${counted.length} fence(s) in the last ${Math.round(cfg.fenceWindowMs / 1000)} s or still unsettled (limit ${cfg.maxFences})`;
  } else if (input.fencer !== 'none') {
    why = "the fencer's history of the node cannot be read, so a fence already under way cannot be ruled out";
  } else if (!input.cluster) {
    why = "the cluster's membership and quorum cannot be read";
  } else if (!input.cluster.withQuorum) {
    why = 'the cluster partition atcad sees has no quorum';
  } else {
    const { remaining, needed } = votersAfterFence(input.cluster, node, state.fences, cfg);
    if (remaining < needed) {
      why = `only ${remaining} voting member(s) would stay online, counting fences in flight (need ${needed})`;
    }
  }
  if (why) {
    const r = standbyInstead(slot, why, ev);
    return { state: withSlot(state, r.slot), decisions: r.decisions };
  }
  const fence: FenceRecord = { slot: slot.key, node, at, status: 'in-flight' };
  return {
    state: { ...withSlot(state, { ...slot, pending: undefined, inFlight: 'fence' }), fences: [...counted, fence] },
    decisions: [{ kind: 'fence', slot: slot.key, node, reason: `${input.fault} confirmed`, evidence: ev }],
  };
}

function settleFence(
  fences: readonly FenceRecord[],
  slot: string,
  status: FenceRecord['status'] | 'not-started',
): FenceRecord[] {
  // The slot's unsettled fence (there is at most one: one action per slot at a time).
  const i = fences.findIndex((f) => f.slot === slot && (f.status === 'in-flight' || f.status === 'uncertain'));
  if (i < 0) return [...fences];
  if (status === 'not-started') return fences.filter((_, k) => k !== i);
  return fences.map((f, k) => (k === i ? { ...f, status } : f));
}

function actionDone(state: PolicyState, input: Extract<PolicyInput, { kind: 'action-done' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  if (!slot) return { state, decisions: [] };
  const ev = [input.evidence];
  if (input.action === 'health') {
    if (input.outcome === 'ok') return { state, decisions: [] };
    return {
      state: withSlot(state, { ...slot, healthRetryAt: input.evidence.at + HEALTH_RETRY_MS }),
      decisions: [record(slot.key, `health change ${input.outcome}: applied again in ${HEALTH_RETRY_MS / 1000} s`, ev)],
    };
  }
  if (input.action === 'standby') {
    const next: SlotPolicyState = {
      ...slot,
      inFlight: slot.inFlight === 'standby' ? undefined : slot.inFlight,
      ...(input.outcome === 'ok' ? {} : { standby: !slot.standby }),
    };
    const decisions = input.outcome === 'ok' ? [] : [record(slot.key, `standby change ${input.outcome}`, ev)];
    return { state: withSlot(state, next), decisions };
  }
  if (input.outcome === 'uncertain') {
    return {
      state: {
        ...withSlot(state, { ...slot, inFlight: 'fence' }),
        fences: settleFence(state.fences, slot.key, 'uncertain'),
      },
      decisions: [
        record(
          slot.key,
          "fence outcome uncertain: it counts against the budget until the fencer's history settles it",
          ev,
        ),
      ],
    };
  }
  const fences = settleFence(state.fences, slot.key, input.outcome === 'ok' ? 'done' : input.outcome);
  const cleared: SlotPolicyState = { ...slot, inFlight: slot.inFlight === 'fence' ? undefined : slot.inFlight };
  if (input.outcome === 'ok') {
    return {
      state: { ...withSlot(state, { ...cleared, fencedInEpisode: true }), fences },
      decisions: [record(slot.key, 'fence done', ev)],
    };
  }
  // Failed or never started: the fault is still there, the fence is not repeated (the budget
  // counts a failed one); standby at least moves the resources.
  const r = standbyInstead(
    cleared,
    input.outcome === 'failed' ? 'the fence failed' : 'the fence command could not be started',
    allEvidence(cleared, ...ev),
  );
  return { state: { ...withSlot(state, r.slot), fences }, decisions: r.decisions };
}

function maintenance(state: PolicyState, input: Extract<PolicyInput, { kind: 'maintenance' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  if (!slot || slot.maintenance === input.on) return { state, decisions: [] };
  const next: SlotPolicyState = { ...slot, maintenance: input.on, pending: input.on ? undefined : slot.pending };
  const why = input.on ? 'maintenance on: faults are recorded, nothing is done' : 'maintenance off';
  return { state: withSlot(state, next), decisions: [record(slot.key, why, [input.evidence])] };
}

function tick(state: PolicyState, at: number, cfg: PolicyConfig): DecideResult {
  let next = state;
  const decisions: Decision[] = [];
  for (const slot of state.slots.values()) {
    let s = slot;
    const p = s.pending;
    if (p && !p.confirming && at >= p.dueAt && !s.inFlight && !s.maintenance && s.node) {
      s = { ...s, pending: { ...p, confirming: true } };
      decisions.push(confirmDecision(s, allEvidence(s)));
    }
    if (s.healthRetryAt !== undefined && at >= s.healthRetryAt && s.node && !s.maintenance) {
      const ev: Evidence = { source: 'timer', at, summary: 'the last health change failed' };
      decisions.push({
        kind: 'set-health',
        slot: s.key,
        node: s.node,
        value: s.health,
        reason: 'health applied again',
        evidence: [ev],
      });
      s = { ...s, healthRetryAt: undefined };
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
        decisions.push({ kind: 'set-health', slot: s.key, node, value: 'green', reason: 'recovered', evidence: [ev] });
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
      // A standby release that had to wait for a running action is tried again next tick.
      if (!(s.standby && cfg.releaseStandbyOnRecovery)) s = { ...s, clearSince: undefined };
    }
    if (s !== slot) next = withSlot(next, s);
  }
  // Settled fences leave the record once out of the window.
  const kept = fencesInWindow(next.fences, at, cfg);
  if (kept.length !== next.fences.length) next = { ...next, fences: kept };
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
    hotswap: undefined,
    fencedInEpisode: false,
    healthRetryAt: undefined,
    healthyAt: undefined,
  };
}
