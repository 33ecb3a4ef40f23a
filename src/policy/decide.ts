import { type FaultClass, GRACEFUL_FAULTS, type PolicyAction, SILENT_UNTIL_CONFIRMED } from '../domain/faults.js';
import type {
  ActiveFault,
  ClusterView,
  Decision,
  Evidence,
  FenceRecord,
  Health,
  PendingAction,
  PendingKind,
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
 *   - health changes at once on evidence of atcad's own (a poll); a claim (a trap, a SEL entry)
 *     moves it to yellow at most — none at all for a claim that the payload lost power — and
 *     a fresh reading, asked for at once, decides: red only on confirmed evidence, so a stray
 *     trap moves no resource;
 *   - standby and fence wait `sustainMs` (default none), then need a fresh reading that
 *     agrees: refuted drops the fault, unknown keeps it (and its health and pending action)
 *     and reads again with back-off — unknown is never taken as refuted;
 *   - a blade the fresh reading shows without payload power is dead, not sick: atcad neither
 *     fences it nor sets its health — corosync loses the node and the cluster fences it itself,
 *     and fence_atca finds it off at once; atcad reads nothing more meanwhile (the membership
 *     reading settles it, a blade powered again is read at once), and a node still an online
 *     member after `deadMemberGraceMs` means the slot-to-node mapping is suspect, and is reported;
 *   - a deactivation nobody calls a fault (commanded, or of unreported cause) makes the node
 *     red so that its resources leave before its payload stops — unless the cluster's own fence
 *     is what deactivates it;
 *   - a node that (re)joins the cluster gets its health again (attrd drops a lost node's);
 *   - every active fault whose rule is standby or fence gets its action decided in turn: a
 *     fault whose pending action a stronger one displaced is pended again once that one is
 *     done with;
 *   - a fence is blocked — and the slot put in standby instead, which cannot destroy data —
 *     when it would exceed maxFences per window (every fence issued counts, whatever its
 *     outcome), when the cluster's quorum or membership is unknown or lost, when fewer voting
 *     members than the minimum would stay online counting every fence in the window as a member
 *     going down, or when the fencer's history cannot be read; it waits while the cluster is
 *     fencing the node, and is not issued when the cluster fenced it in this episode;
 *   - "fenced" belongs to one fault episode, which ends when the slot reads M4 again with no
 *     fault active;
 *   - one action per slot at a time; an action already in effect is not repeated; a health or
 *     standby change that failed is asked for again;
 *   - health goes back to green after the slot has been clear for `recoveryMs` — and, after a
 *     restart, only once it has been read afresh; standby is released then only if configured.
 */
export interface DecideResult {
  readonly state: PolicyState;
  readonly decisions: readonly Decision[];
}

const HEALTH_RANK: Record<Health, number> = { green: 0, yellow: 1, red: 2 };
/** Evidence links kept per fault: the first and the latest few. */
const MAX_EVIDENCE = 6;
/** A health or standby change that failed (attrd or the CIB unreachable) is asked for again this much later. */
export const HEALTH_RETRY_MS = 5000;

function healthFor(action: PolicyAction): Health {
  if (action === 'health-yellow') return 'yellow';
  if (action === 'health-red' || action === 'standby' || action === 'fence') return 'red';
  return 'green';
}

/** The health one active fault asks for: its rule's once confirmed; a claim's at most yellow. */
function faultHealth(fault: FaultClass, a: ActiveFault, cfg: PolicyConfig): Health {
  const h = healthFor(cfg.rules[fault]);
  if (a.confirmed) return h;
  if (SILENT_UNTIL_CONFIRMED.has(fault)) return 'green';
  return HEALTH_RANK[h] > HEALTH_RANK.yellow ? 'yellow' : h;
}

function worstHealth(active: ReadonlyMap<FaultClass, ActiveFault>, cfg: PolicyConfig): Health {
  let h: Health = 'green';
  for (const [f, a] of active) {
    const fh = faultHealth(f, a, cfg);
    if (HEALTH_RANK[fh] > HEALTH_RANK[h]) h = fh;
  }
  return h;
}

/**
 * atcad's own reading shows the payload without power (M0/M1): its node runs nothing, and is
 * or will be lost. A trap's claim of M1 does not count: it must not silence a real fault.
 */
function isOff(slot: SlotPolicyState): boolean {
  return slot.polledOff;
}

/**
 * Raises the slot's health to what its active faults now ask for (never lowers it: recovery
 * does that). Nothing for a blade without payload power: attrd drops a lost node's attributes,
 * and the write would only add CIB updates to the cluster's recovery.
 */
function healthUp(
  slot: SlotPolicyState,
  cfg: PolicyConfig,
  reason: string,
  ev: readonly Evidence[],
  off = isOff(slot),
): { slot: SlotPolicyState; decisions: Decision[] } {
  const health = worstHealth(slot.active, cfg);
  if (!slot.node || off || HEALTH_RANK[health] <= HEALTH_RANK[slot.health]) return { slot, decisions: [] };
  return {
    slot: { ...slot, health, healthRetryAt: undefined },
    decisions: [{ kind: 'set-health', slot: slot.key, node: slot.node, value: health, reason, evidence: ev }],
  };
}

export function worseHealth(a: Health, b: Health): Health {
  return HEALTH_RANK[a] >= HEALTH_RANK[b] ? a : b;
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

/** Fences that count against the budget at `at`: in the window, or not settled. */
export function fencesInWindow(fences: readonly FenceRecord[], at: number, cfg: PolicyConfig): FenceRecord[] {
  return fences.filter((f) => at - f.at < cfg.fenceWindowMs || f.status === 'in-flight' || f.status === 'uncertain');
}

/**
 * The voting members that would stay online after fencing `node`, and how many must. Every
 * node fenced in the window counts as going down, done or not: the cluster view was read at
 * some point before this decision, and a node whose fence finished meanwhile may still show
 * online in it (a node that really rejoined is then wrongly subtracted: the safe mistake).
 */
export function votersAfterFence(
  cluster: ClusterView,
  node: string,
  fences: readonly FenceRecord[],
  cfg: PolicyConfig,
): { readonly remaining: number; readonly needed: number } {
  const going = new Set(fences.map((f) => f.node));
  going.add(node);
  const remaining = cluster.votersOnline.filter((n) => !going.has(n)).length;
  const needed = cfg.minVotersAfterFence ?? cluster.quorum ?? Math.floor(cluster.votersTotal / 2) + 1;
  return { remaining, needed };
}

export function decide(state: PolicyState, input: PolicyInput, cfg: PolicyConfig): DecideResult {
  const r = decideOnce(state, input, cfg);
  const set = r.decisions.filter((d) => d.kind === 'set-health');
  if (set.length === 0) return r;
  // A health change decided: the cluster has not shown it yet.
  const slots = new Map(r.state.slots);
  for (const d of set) {
    const s = slots.get(d.slot);
    if (s) slots.set(d.slot, { ...s, healthShown: false });
  }
  return { state: { ...r.state, slots }, decisions: r.decisions };
}

function decideOnce(state: PolicyState, input: PolicyInput, cfg: PolicyConfig): DecideResult {
  switch (input.kind) {
    case 'finding':
      return settle(finding(state, input, cfg), [input.slot], input.evidence.at, cfg);
    case 'confirmation':
      return settle(confirm(state, input, cfg), [input.slot], input.at, cfg);
    case 'action-done':
      return settle(actionDone(state, input), [input.slot], input.evidence.at, cfg);
    case 'maintenance':
      return settle(maintenance(state, input), [input.slot], input.evidence.at, cfg);
    case 'membership':
      return membership(state, input, cfg);
    case 'ack':
      return ack(state, input);
    case 'tick':
      return settle(tick(state, input.at, cfg), [...state.slots.keys()], input.at, cfg);
  }
}

/**
 * What holds after every input, for each slot it touched: a slot active (M4) with no fault is
 * healthy as of now, and if it was fenced, that fault episode is over; an active fault that
 * still needs its standby or fence decided gets it pended.
 */
function settle(r: DecideResult, keys: readonly string[], at: number, cfg: PolicyConfig): DecideResult {
  let state = r.state;
  const decisions = [...r.decisions];
  for (const key of keys) {
    let slot = state.slots.get(key);
    if (!slot) continue;
    const before = slot;
    if (slot.hotswap === 4 && slot.active.size === 0 && slot.inFlight !== 'fence' && !slot.unread) {
      slot = { ...slot, healthyAt: Math.max(slot.healthyAt ?? at, at) };
      if (slot.fencedInEpisode) {
        slot = { ...slot, fencedInEpisode: false };
        decisions.push({
          kind: 'episode-end',
          slot: key,
          reason: 'slot active again (M4) with no fault: the fault episode that was fenced is over',
          evidence: [{ source: 'poll', at, summary: 'M4, no fault active' }],
        });
      }
    }
    // A pending reading not yet asked for gives way: a verification whose fault is gone or
    // already shown, and anything to a stronger action (a fence must not wait behind a
    // verification that keeps coming back unknown).
    const waiting = slot.pending;
    if (waiting && !waiting.confirming) {
      const f = slot.active.get(waiting.fault);
      const other = nextToPend({ ...slot, pending: undefined }, cfg);
      const otherFault = other ? slot.active.get(other.fault) : undefined;
      if (
        !f ||
        (waiting.action === 'verify' && f.confirmed) ||
        (other && PENDING_RANK[other.action] > PENDING_RANK[waiting.action]) ||
        // A reading that came back unknown takes turns with the others of its rank, so that one
        // that never answers does not keep another fault's action waiting for ever.
        // Not a fence left to the cluster while the blade reads off: its wait is for corosync,
        // and another fault of the same blade would only read it again and restart the grace.
        (other &&
          other.fault !== waiting.fault &&
          waiting.attempts > 0 &&
          waiting.offSince === undefined &&
          PENDING_RANK[other.action] === PENDING_RANK[waiting.action] &&
          (otherFault?.askedAt ?? Number.NEGATIVE_INFINITY) < (f.askedAt ?? Number.NEGATIVE_INFINITY))
      ) {
        slot = { ...slot, pending: undefined };
      }
    }
    // Health as the active faults ask for it, once atcad's own reading shows the blade powered
    // (a blade back from off with its fault still there goes red again).
    if (slot.node && !slot.maintenance && !slot.polledOff) {
      const up = healthUp(slot, cfg, 'health as the active faults ask for', allEvidence(slot));
      slot = up.slot;
      decisions.push(...up.decisions);
    }
    if (!slot.pending && !slot.maintenance && slot.node) {
      const next = nextToPend(slot, cfg);
      if (next) {
        const seq = (state.seq ?? 0) + 1;
        state = { ...state, seq };
        const a = slot.active.get(next.fault)!;
        slot = {
          ...slot,
          pending: {
            action: next.action,
            fault: next.fault,
            // A fault whose readings came back unknown keeps its back-off across turns.
            dueAt: Math.max(
              at,
              a.since + cfg.sustainMs,
              a.unknowns ? (a.askedAt ?? at) + retryDelay(a.unknowns, cfg) : Number.NEGATIVE_INFINITY,
            ),
            attempts: a.unknowns ?? 0,
            confirming: false,
            id: seq,
          },
        };
      }
    }
    // Due: the fresh reading is asked for now (a verification even while an action runs).
    const p = slot.pending;
    if (
      p &&
      !p.confirming &&
      at >= p.dueAt &&
      !slot.maintenance &&
      slot.node &&
      (p.action === 'verify' || !slot.inFlight)
    ) {
      slot = { ...slot, pending: { ...p, confirming: true } };
      const a = slot.active.get(p.fault);
      if (a) slot = { ...slot, active: new Map(slot.active).set(p.fault, { ...a, askedAt: at }) };
      decisions.push(confirmDecision(slot, allEvidence(slot), cfg));
    }
    if (slot !== before) state = withSlot(state, slot);
  }
  return { state, decisions };
}

const PENDING_RANK: Record<PendingKind, number> = { verify: 0, standby: 1, fence: 2 };

/** What a fresh reading is still wanted for, for one active fault (undefined: nothing). */
function wantedFor(
  slot: SlotPolicyState,
  fault: FaultClass,
  a: ActiveFault,
  cfg: PolicyConfig,
): PendingKind | undefined {
  // A commanded deactivation never leads to a fence, whatever a configuration says.
  const rule = GRACEFUL_FAULTS.has(fault) && cfg.rules[fault] === 'fence' ? 'standby' : cfg.rules[fault];
  if (!a.handled) {
    if (rule === 'fence' && !slot.fencedInEpisode) return 'fence';
    if (rule === 'standby' && !slot.standby) return 'standby';
  }
  // Red (or worse) needs proof: a claim stays yellow until a fresh reading confirms it.
  if (!a.confirmed && HEALTH_RANK[healthFor(rule)] > HEALTH_RANK.yellow) return 'verify';
  return undefined;
}

/** The active fault whose reading is still to be asked for: fences first, then standby, then verification; the oldest first. */
function nextToPend(slot: SlotPolicyState, cfg: PolicyConfig): { fault: FaultClass; action: PendingKind } | undefined {
  let best: { fault: FaultClass; action: PendingKind; since: number; asked: number } | undefined;
  for (const [fault, a] of slot.active) {
    const action = wantedFor(slot, fault, a, cfg);
    if (!action) continue;
    // The least recently asked first (a fault never read before the others), then the oldest.
    const asked = a.askedAt ?? Number.NEGATIVE_INFINITY;
    const better =
      !best ||
      PENDING_RANK[action] > PENDING_RANK[best.action] ||
      (action === best.action && (asked < best.asked || (asked === best.asked && a.since < best.since)));
    if (better) best = { fault, action, since: a.since, asked };
  }
  return best;
}

/** Marks `fault` as shown by a reading of atcad's own. */
function confirmedFault(slot: SlotPolicyState, fault: FaultClass): SlotPolicyState {
  const a = slot.active.get(fault);
  if (!a || a.confirmed) return slot;
  const active = new Map(slot.active);
  active.set(fault, { ...a, confirmed: true });
  return { ...slot, active };
}

/** Marks `fault` as having had its action decided. */
function handled(slot: SlotPolicyState, fault: FaultClass): SlotPolicyState {
  const a = slot.active.get(fault);
  if (!a) return slot;
  const active = new Map(slot.active);
  active.set(fault, { ...a, handled: true });
  return { ...slot, active };
}

function finding(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'finding' }>,
  cfg: PolicyConfig,
): DecideResult {
  const slot = state.slots.get(input.slot);
  const f = input.finding;
  if (!slot) {
    if (f.kind === 'hotswap' || f.kind === 'swept') return { state, decisions: [] };
    const what = f.kind === 'fault' ? `${f.fault} ${f.asserted ? 'asserted' : 'cleared'}` : f.summary;
    return { state, decisions: [record(input.slot, `${what} on a slot not in the configuration`, [input.evidence])] };
  }
  switch (f.kind) {
    case 'hotswap': {
      const polled = input.evidence.source === 'poll';
      const polledOff = polled ? f.state === 0 || f.state === 1 : slot.polledOff;
      const polledOnAt = polled && !polledOff ? input.evidence.at : slot.polledOnAt;
      if (f.state === slot.hotswap && polledOff === slot.polledOff) {
        return polledOnAt === slot.polledOnAt
          ? { state, decisions: [] }
          : { state: withSlot(state, { ...slot, polledOnAt }), decisions: [] };
      }
      let next: SlotPolicyState = { ...slot, hotswap: f.state, polledOff, polledOnAt };
      if (slot.polledOff && !polledOff) {
        // Powered again: what was shown before the power cycle is a claim again, read afresh —
        // at once for a fence left to the cluster while the blade read off.
        const active = new Map([...slot.active].map(([k, a]) => [k, { ...a, confirmed: false }] as const));
        const p = slot.pending;
        const pending =
          p?.offSince !== undefined && !p.confirming
            ? { ...p, offSince: undefined, dueAt: Math.min(p.dueAt, input.evidence.at) }
            : p;
        next = { ...next, active, pending };
      }
      return { state: withSlot(state, next), decisions: [] };
    }
    case 'swept': {
      // Read afresh after a restart — state and every sensor: recovery and the end of a fault
      // episode may start from here if nothing is wrong.
      if (!slot.unread || slot.hotswap === undefined) return { state, decisions: [] };
      const clearSince = slot.active.size === 0 ? input.evidence.at : slot.clearSince;
      return { state: withSlot(state, { ...slot, unread: false, clearSince }), decisions: [] };
    }
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
    clearSince: active.size === 0 && !slot.unread ? ev.at : slot.clearSince,
  };
  const what = pendingHere?.action === 'verify' ? 'no health change' : `no ${pendingHere?.action}`;
  const reason = pendingHere ? `${fault} cleared before confirmation: ${what}` : `${fault} cleared`;
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
  // atcad's own reading is evidence; a trap or a SEL entry is a claim until one agrees. A
  // deactivation is always checked against the fencer first (it may be the cluster's fence).
  const shown = ev.source === 'poll' && !GRACEFUL_FAULTS.has(fault);
  if (existing && at - existing.lastSeen < cfg.debounceMs && (existing.confirmed || !shown)) {
    const active = new Map(slot.active);
    active.set(fault, { ...existing, lastSeen: Math.max(existing.lastSeen, at) });
    return { state: withSlot(state, { ...slot, active }), decisions: [] };
  }
  const action = cfg.rules[fault];
  if ((fault === 'unexpected-deactivation' || GRACEFUL_FAULTS.has(fault)) && slot.inFlight === 'fence') {
    return { state, decisions: [record(slot.key, 'deactivation during our own fence of this slot: expected', [ev])] };
  }
  const af: ActiveFault = existing
    ? {
        ...existing,
        lastSeen: Math.max(existing.lastSeen, at),
        evidence: keepEvidence(existing.evidence, ev),
        confirmed: existing.confirmed || shown,
      }
    : { since: at, lastSeen: at, evidence: [ev], confirmed: shown };
  const active = new Map(slot.active);
  active.set(fault, af);
  let next: SlotPolicyState = { ...slot, active, clearSince: undefined };
  const evs = allEvidence(next);
  const decisions: Decision[] = [];

  if (slot.maintenance) {
    decisions.push(record(slot.key, `${fault} (${action}): slot is in maintenance, no action`, evs));
    return { state: withSlot(state, next), decisions };
  }
  decisions.push(
    record(
      slot.key,
      `${fault} asserted (rule: ${action}${af.confirmed ? '' : '; a claim until a fresh reading shows it'})`,
      evs,
    ),
  );
  if (!slot.node) {
    decisions.push({
      kind: 'blocked',
      slot: slot.key,
      wanted: action,
      fault,
      reason: 'no Pacemaker node is mapped to this slot',
      evidence: evs,
    });
    return { state: withSlot(state, next), decisions };
  }
  const up = healthUp(next, cfg, `${fault}${af.confirmed ? '' : ' (claimed)'} → ${worstHealth(active, cfg)}`, evs);
  next = up.slot;
  decisions.push(...up.decisions);
  if (action === 'fence' && slot.fencedInEpisode) {
    decisions.push(
      record(
        slot.key,
        `${fault}: the slot was fenced in this fault episode already; not again until it is active and clear`,
        evs,
      ),
    );
  }
  // A fence displaces a pending standby (the standby's fault is pended again afterwards).
  if (action === 'fence' && next.pending?.action === 'standby' && !slot.fencedInEpisode) {
    next = { ...next, pending: undefined };
  }
  return { state: withSlot(state, next), decisions };
}

/** The first link and the latest ones: bounded, and the chain still shows how it began. */
function keepEvidence(prior: readonly Evidence[], ev: Evidence): Evidence[] {
  if (prior.length < MAX_EVIDENCE) return [...prior, ev];
  return [prior[0]!, ...prior.slice(prior.length - (MAX_EVIDENCE - 2)), ev];
}

export function tokenOf(p: PendingAction): string {
  return `${p.id}#${p.attempts + 1}`;
}

function confirmDecision(slot: SlotPolicyState, ev: readonly Evidence[], cfg: PolicyConfig): Decision {
  const p = slot.pending!;
  return {
    kind: 'confirm',
    slot: slot.key,
    node: slot.node!,
    fault: p.fault,
    token: tokenOf(p),
    action: p.action,
    attempt: p.attempts + 1,
    since: slot.active.get(p.fault)?.since ?? 0,
    healthyAt: slot.healthyAt,
    // A blade the reading may show off is judged by whether its node is still a member.
    readCluster: p.action === 'fence',
    // A deactivation may be the cluster's own fence: then it is the cluster's business.
    readFencer: p.action === 'fence' || GRACEFUL_FAULTS.has(p.fault),
    reason: `confirm ${p.fault} with a fresh reading before ${p.action === 'verify' ? `its health goes ${healthFor(cfg.rules[p.fault])}` : p.action}${p.attempts > 0 ? ` (attempt ${p.attempts + 1})` : ''}`,
    evidence: ev,
  };
}

function standbyInstead(
  slot: SlotPolicyState,
  fault: FaultClass,
  why: string,
  ev: readonly Evidence[],
): { slot: SlotPolicyState; decisions: Decision[] } {
  const decisions: Decision[] = [
    { kind: 'blocked', slot: slot.key, wanted: 'fence', fault, reason: `fence blocked: ${why}`, evidence: ev },
  ];
  let next: SlotPolicyState = handled({ ...slot, pending: undefined }, fault);
  if (!slot.standby && !slot.inFlight && slot.node) {
    decisions.push({
      kind: 'set-standby',
      slot: slot.key,
      node: slot.node,
      on: true,
      // The fault first, as every decision about one: decisions?fault= finds it.
      reason: `${fault}: standby instead of a fence: it cannot destroy data`,
      evidence: ev,
    });
    next = { ...next, standby: true, inFlight: 'standby', standbyRetry: undefined };
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
  // Only the answer to the reading asked for last counts: one asked for an earlier pending
  // action (cleared and raised again since) or an earlier attempt proves nothing now.
  if (!slot?.pending?.confirming || slot.pending.fault !== input.fault || tokenOf(slot.pending) !== input.token) {
    return {
      state,
      decisions: [
        record(input.slot, `stale confirmation of ${input.fault}: not the reading asked for`, input.evidence),
      ],
    };
  }
  const pending = { ...slot.pending, confirming: false };
  const ev = allEvidence(slot, ...input.evidence);
  const withheld = pending.action === 'verify' ? `${healthFor(cfg.rules[input.fault])} health` : pending.action;
  if (slot.maintenance) {
    return {
      state: withSlot(state, { ...slot, pending: undefined }),
      decisions: [record(slot.key, `${input.fault}: slot is in maintenance, no ${withheld}`, ev)],
    };
  }
  // The fresh reading is atcad's own: whether it shows the payload powered counts, whatever it
  // says of the fault — unless a poll since it was asked showed the blade powered: then its
  // "off" is older news (the blade came back meanwhile), and it is taken as "powered".
  const askedAt = slot.active.get(input.fault)?.askedAt;
  const staleOff =
    input.payloadOff === true && askedAt !== undefined && slot.polledOnAt !== undefined && slot.polledOnAt > askedAt;
  const payloadOff = staleOff ? false : input.payloadOff;
  const read: SlotPolicyState = payloadOff === undefined ? slot : { ...slot, polledOff: payloadOff };
  const again = (
    why: string,
    base: SlotPolicyState = read,
    before: readonly Decision[] = [],
    waitMs?: number,
  ): DecideResult => {
    const attempts = pending.attempts + 1;
    const wait = waitMs ?? retryDelay(attempts, cfg);
    // The pending action as it was asked for (never still "confirming"); when the blade first
    // read off is kept only while it still reads off.
    const offSince = payloadOff === true ? (base.pending?.offSince ?? pending.offSince) : undefined;
    const a = base.active.get(input.fault);
    const active = a ? new Map(base.active).set(input.fault, { ...a, unknowns: attempts }) : base.active;
    const { offSince: _was, ...asked } = pending;
    return {
      state: withSlot(state, {
        ...base,
        active,
        pending: { ...asked, attempts, dueAt: at + wait, ...(offSince === undefined ? {} : { offSince }) },
      }),
      decisions: [
        ...before,
        record(
          slot.key,
          `${input.fault}: ${why}: the fault and its health are kept, no ${withheld} yet; reading again in ${Math.round(wait / 1000)} s`,
          ev,
        ),
      ],
    };
  };
  if (pending.action === 'fence' && payloadOff && input.verdict !== 'refuted') {
    // Whatever the sensor said, a blade the fresh reading shows without payload power is what
    // a fence makes of it. Only the fresh reading decides this, never a state a trap claimed.
    const offSince = pending.offSince ?? at;
    // Confirmed only if the reading showed the fault itself: an unknown one proves nothing.
    const seen = input.verdict === 'confirmed' ? confirmedFault(read, input.fault) : read;
    return deadBlade(
      state,
      { ...seen, pending: { ...pending, offSince } },
      { ...pending, offSince },
      input,
      ev,
      cfg,
      again,
    );
  }
  if (input.verdict === 'unknown') return again('the fresh reading could not show it either way (unknown)');
  if (input.verdict === 'refuted') {
    // The fresh reading disagrees: the claim was stale, replayed or wrong. Do nothing that
    // cannot be undone; forget the fault.
    return {
      state: withSlot(state, without(read, input.fault, at)),
      decisions: [record(slot.key, `${input.fault} refuted by a fresh reading: no ${withheld}`, ev)],
    };
  }
  const node = slot.node!;
  const shown: SlotPolicyState = confirmedFault({ ...read, pending }, input.fault);
  if (GRACEFUL_FAULTS.has(input.fault) && input.fencer === 'unknown') {
    // It may be the cluster's own fence, and that cannot be ruled out: nothing yet.
    return again("the fencer's history cannot be read, so this may be the cluster's own fence");
  }
  if (GRACEFUL_FAULTS.has(input.fault) && (input.fencer === 'fencing' || input.fencer === 'fenced-recently')) {
    // The cluster's own fence is what deactivates the blade: its business, not a fault.
    return {
      state: withSlot(state, without({ ...shown, pending: undefined }, input.fault, at)),
      decisions: [
        record(
          slot.key,
          `${input.fault}: the cluster ${input.fencer === 'fencing' ? 'is fencing' : 'has just fenced'} ${node}: this deactivation is its fence; nothing to do`,
          ev,
        ),
      ],
    };
  }
  if (pending.action === 'verify') {
    const up = healthUp({ ...shown, pending: undefined }, cfg, `${input.fault} confirmed by a fresh reading`, ev);
    const why = isOff(up.slot)
      ? 'the blade reads without payload power: no health change'
      : 'the health it asks for is applied already';
    return {
      state: withSlot(state, up.slot),
      decisions: up.decisions.length > 0 ? up.decisions : [record(slot.key, `${input.fault} confirmed: ${why}`, ev)],
    };
  }
  // Red before the standby or fence: the resources start moving at once.
  const up = healthUp(shown, cfg, `${input.fault} confirmed by a fresh reading`, ev);
  const confirmed = up.slot;
  if (confirmed.inFlight) {
    return {
      state: withSlot(state, { ...confirmed, pending: { ...pending, dueAt: at + cfg.confirmRetryMs } }),
      decisions: [
        ...up.decisions,
        {
          kind: 'blocked',
          slot: slot.key,
          wanted: pending.action,
          fault: input.fault,
          reason: `${confirmed.inFlight} already in progress on this slot`,
          evidence: ev,
        },
      ],
    };
  }
  if (pending.action === 'standby') {
    if (confirmed.standby) {
      return {
        state: withSlot(state, handled({ ...confirmed, pending: undefined }, input.fault)),
        decisions: [...up.decisions, record(slot.key, `${input.fault} confirmed; node already in standby`, ev)],
      };
    }
    return {
      state: withSlot(
        state,
        handled(
          { ...confirmed, pending: undefined, standby: true, inFlight: 'standby', standbyRetry: undefined },
          input.fault,
        ),
      ),
      decisions: [
        ...up.decisions,
        { kind: 'set-standby', slot: slot.key, node, on: true, reason: `${input.fault} confirmed`, evidence: ev },
      ],
    };
  }
  if (input.fencer === 'fencing') {
    // The cluster is at it: whether it succeeds decides; read again after a while.
    return again(`confirmed, but the cluster is fencing ${node} now`, confirmed, up.decisions);
  }
  const r = fenceIfSafe(state, { ...confirmed, pending }, input, ev, cfg);
  return { state: r.state, decisions: [...up.decisions, ...r.decisions] };
}

/** The slot without `fault` (refuted, or not a fault after all). */
function without(slot: SlotPolicyState, fault: FaultClass, at: number): SlotPolicyState {
  const active = new Map(slot.active);
  active.delete(fault);
  return {
    ...slot,
    active,
    pending: slot.pending?.fault === fault ? undefined : slot.pending,
    clearSince: active.size === 0 && !slot.unread ? at : slot.clearSince,
  };
}

/**
 * A fence-worthy fault on a blade the fresh reading shows without payload power: it is dead,
 * not sick. A fence cannot make it any more off, and a request to the fencer now waits for the
 * same membership change as the cluster's own fence and then merges with it (a second of CIB
 * updates): corosync loses the node, the cluster fences it, and fence_atca finds it off at
 * once. So atcad adds nothing — but a node that stays an online member for deadMemberGraceMs
 * although its blade is off cannot be on that blade: the mapping is suspect, and a fence of an
 * off slot would report a running node fenced. That is blocked, loudly.
 */
function deadBlade(
  state: PolicyState,
  slot: SlotPolicyState,
  pending: PendingAction,
  input: Extract<PolicyInput, { kind: 'confirmation' }>,
  ev: readonly Evidence[],
  cfg: PolicyConfig,
  again: (why: string, base?: SlotPolicyState, before?: readonly Decision[], waitMs?: number) => DecideResult,
): DecideResult {
  const node = slot.node!;
  const fault = input.fault;
  // No voter at all (a dry run with no cluster, a CIB without node states) is no reading.
  if (!input.cluster || input.cluster.votersTotal === 0) {
    return again("the blade is verified off; the cluster's membership cannot be read", slot);
  }
  if (!input.cluster.votersOnline.includes(node)) {
    return {
      state: withSlot(state, handled({ ...slot, pending: undefined }, fault)),
      decisions: [
        record(
          slot.key,
          `${fault}${input.verdict === 'confirmed' ? ' confirmed' : ''}: the blade is verified off and ${node} is out of the cluster: the cluster fences it itself (fence_atca finds it off at once); atcad adds nothing`,
          ev,
        ),
      ],
    };
  }
  // The grace counts from the first reading that showed the blade off, not from the fault.
  const since = pending.offSince ?? input.at;
  if (input.at - since < cfg.deadMemberGraceMs) {
    // Nothing is read again until then: the membership reading (every second anyway) settles it
    // when corosync loses the node, and a blade that powers up again is read at once. Reading
    // the blade, the CIB and the fencer meanwhile would only load the nodes while the cluster
    // recovers — the second the DC pays when its CIB updates are late.
    return again(
      `the blade is verified off and ${node} is still an online member: corosync has yet to lose it, and the cluster fences it then (fence_atca finds it off); atcad adds nothing`,
      { ...slot, pending },
      [],
      since + cfg.deadMemberGraceMs - input.at,
    );
  }
  return {
    state: withSlot(state, handled({ ...slot, pending: undefined }, fault)),
    decisions: [
      {
        kind: 'blocked',
        slot: slot.key,
        wanted: 'fence',
        fault,
        reason: `fence blocked: the blade has been verified off for ${Math.round((input.at - since) / 1000)} s, yet ${node} is still an online cluster member: the slot-to-node mapping (atcad's slots, the fence device's pcmk_host_map) is suspect; a fence would power off a slot already off and report ${node} fenced`,
        evidence: ev,
      },
    ],
  };
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
  const done = handled({ ...slot, pending: undefined }, input.fault);
  if (slot.fencedInEpisode) {
    return {
      state: withSlot(state, done),
      decisions: [record(slot.key, `${input.fault} confirmed; already fenced in this fault episode`, ev)],
    };
  }
  if (input.fencer === 'fenced-recently') {
    return {
      state: withSlot(state, { ...done, fencedInEpisode: true }),
      decisions: [
        record(slot.key, `${input.fault} confirmed, but the cluster has just fenced ${node}: not fencing it again`, ev),
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
    const { remaining, needed } = votersAfterFence(input.cluster, node, counted, cfg);
    if (remaining < needed) {
      why = `only ${remaining} voting member(s) would stay online, counting every node fenced in the window (need ${needed})`;
    }
  }
  if (why) {
    const r = standbyInstead(slot, input.fault, why, ev);
    return { state: withSlot(state, r.slot), decisions: r.decisions };
  }
  const fence: FenceRecord = { slot: slot.key, node, at, status: 'in-flight' };
  return {
    state: { ...withSlot(state, { ...done, inFlight: 'fence' }), fences: [...counted, fence] },
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

function fenceStatus(outcome: 'ok' | 'failed' | 'uncertain' | 'not-started'): FenceRecord['status'] | 'not-started' {
  return outcome === 'ok' ? 'done' : outcome;
}

function actionDone(state: PolicyState, input: Extract<PolicyInput, { kind: 'action-done' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  if (!slot) {
    // A fence restored for a slot no longer configured still settles (and leaves the budget in time).
    if (input.action !== 'fence') return { state, decisions: [] };
    return {
      state: { ...state, fences: settleFence(state.fences, input.slot, fenceStatus(input.outcome)) },
      decisions: [],
    };
  }
  const ev = [input.evidence];
  const at = input.evidence.at;
  if (input.action === 'health') {
    if (input.outcome === 'ok') return { state, decisions: [] };
    return {
      state: withSlot(state, { ...slot, healthRetryAt: at + HEALTH_RETRY_MS }),
      decisions: [record(slot.key, `health change ${input.outcome}: applied again in ${HEALTH_RETRY_MS / 1000} s`, ev)],
    };
  }
  if (input.action === 'standby') {
    const inFlight = slot.inFlight === 'standby' ? undefined : slot.inFlight;
    if (input.outcome === 'ok') return { state: withSlot(state, { ...slot, inFlight }), decisions: [] };
    const wanted = slot.standby;
    return {
      state: withSlot(state, {
        ...slot,
        inFlight,
        standby: !wanted,
        standbyRetry: { on: wanted, at: at + HEALTH_RETRY_MS },
      }),
      decisions: [
        record(
          slot.key,
          `standby ${wanted ? 'on' : 'off'} ${input.outcome}: asked for again in ${HEALTH_RETRY_MS / 1000} s`,
          ev,
        ),
      ],
    };
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
  const fences = settleFence(state.fences, slot.key, fenceStatus(input.outcome));
  const cleared: SlotPolicyState = { ...slot, inFlight: slot.inFlight === 'fence' ? undefined : slot.inFlight };
  if (input.outcome === 'ok') {
    return {
      state: { ...withSlot(state, { ...cleared, fencedInEpisode: true }), fences },
      decisions: [record(slot.key, 'fence done', ev)],
    };
  }
  // Failed or never started: the fault is still there, the fence is not repeated (the budget
  // counts a failed one); standby at least moves the resources.
  const faults = [...slot.active.keys()].filter((f) => slot.active.get(f)?.handled);
  let r = standbyInstead(
    cleared,
    faults[0] ?? 'processor-ierr',
    input.outcome === 'failed' ? 'the fence failed' : 'the fence command could not be started',
    allEvidence(cleared, ...ev),
  );
  // Not repeated: every fault that led here stays handled.
  for (const f of faults) r = { ...r, slot: handled(r.slot, f) };
  return { state: { ...withSlot(state, r.slot), fences }, decisions: r.decisions };
}

/** An operator's acknowledgement of an active fault: kept on it (and journaled), nothing else. */
function ack(state: PolicyState, input: Extract<PolicyInput, { kind: 'ack' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  const a = slot?.active.get(input.fault);
  if (!slot || !a) return { state, decisions: [] };
  const at = input.evidence.at;
  const active = new Map(slot.active).set(input.fault, { ...a, ack: { by: input.by, at, reason: input.reason } });
  return {
    state: withSlot(state, { ...slot, active }),
    decisions: [
      {
        kind: 'ack',
        slot: slot.key,
        fault: input.fault,
        by: input.by,
        reason: `${input.fault}: alarm acknowledged by ${input.by}: ${input.reason}`,
        evidence: [input.evidence],
      },
    ],
  };
}

function maintenance(state: PolicyState, input: Extract<PolicyInput, { kind: 'maintenance' }>): DecideResult {
  const slot = state.slots.get(input.slot);
  if (!slot || slot.maintenance === input.on) return { state, decisions: [] };
  const next: SlotPolicyState = { ...slot, maintenance: input.on, pending: input.on ? undefined : slot.pending };
  const why = input.on ? 'maintenance on: faults are recorded, nothing is done' : 'maintenance off';
  return {
    state: withSlot(state, next),
    decisions: [
      {
        kind: 'maintenance',
        slot: slot.key,
        on: input.on,
        // Who and why, where an operator asked: the decision log reads without its evidence.
        reason: input.evidence.source === 'operator' ? `${why} (${input.evidence.summary})` : why,
        evidence: [input.evidence],
      },
    ],
  };
}

/**
 * The cluster's nodes as read just now. attrd drops the transient attributes of a node the
 * cluster loses, so a node that (re)joins — or is first seen online after atcad started —
 * gets its health applied again: a blade whose fault persists must not take resources back.
 */
function membership(
  state: PolicyState,
  input: Extract<PolicyInput, { kind: 'membership' }>,
  _cfg: PolicyConfig,
): DecideResult {
  const online = new Set(input.online);
  let next = state;
  const decisions: Decision[] = [];
  for (const slot of state.slots.values()) {
    // In maintenance nothing is applied, and the change is kept for when it ends.
    if (!slot.node || slot.maintenance) continue;
    const now = online.has(slot.node);
    const shown = input.health?.[slot.node];
    const joined = now && slot.nodeOnline !== true;
    const showsOurs = shown !== undefined && HEALTH_RANK[shown] >= HEALTH_RANK[slot.health];
    // The level, not only the change: a node that left and came back between two readings, or
    // a Pacemaker restart, drops the attribute without atcad seeing the node go. Only a level
    // the cluster has shown and then lost counts (applied again once per loss).
    const dropped = now && !joined && slot.healthShown && shown !== undefined && !showsOurs;
    const seen = now && showsOurs && slot.health !== 'green';
    const shownNext = seen || (slot.healthShown && !dropped && now);
    const lost = leftToCluster(slot, now, input.at);
    if (lost) {
      next = withSlot(next, { ...lost.slot, nodeOnline: now, healthShown: shownNext });
      decisions.push(lost.decision);
      continue;
    }
    if (now === slot.nodeOnline && !dropped && shownNext === slot.healthShown) continue;
    let s: SlotPolicyState = { ...slot, nodeOnline: now, healthShown: shownNext };
    if ((joined || dropped) && slot.health !== 'green') {
      decisions.push({
        kind: 'set-health',
        slot: slot.key,
        node: slot.node,
        value: slot.health,
        reason: dropped
          ? `the cluster showed ${slot.node} ${slot.health} and now shows it ${shown}: health applied again (attrd dropped it)`
          : slot.nodeOnline === undefined
            ? `health applied again: ${slot.node} online at atcad's first reading of the cluster`
            : `${slot.node} (re)joined the cluster: health applied again (attrd drops a lost node's attributes)`,
        evidence: [
          { source: 'cluster', at: input.at, summary: `${slot.node} online${shown ? `, health ${shown}` : ''}` },
        ],
      });
      s = { ...s, healthRetryAt: undefined };
    }
    next = withSlot(next, s);
  }
  return { state: next, decisions };
}

/**
 * A fence left to the cluster (the blade verified off, its node still a member), now that the
 * membership reading shows the node gone: settled without reading anything again.
 */
function leftToCluster(
  slot: SlotPolicyState,
  online: boolean,
  at: number,
): { slot: SlotPolicyState; decision: Decision } | undefined {
  const p = slot.pending;
  if (online || !slot.node || !slot.polledOff || p?.action !== 'fence' || p.offSince === undefined || p.confirming)
    return undefined;
  return {
    slot: handled({ ...slot, pending: undefined }, p.fault),
    decision: record(
      slot.key,
      `${p.fault}: the blade is verified off and ${slot.node} is out of the cluster: the cluster fences it itself (fence_atca finds it off at once); atcad adds nothing`,
      allEvidence(slot, { source: 'cluster', at, summary: `${slot.node} not an online member` }),
    ),
  };
}

function tick(state: PolicyState, at: number, cfg: PolicyConfig): DecideResult {
  let next = state;
  const decisions: Decision[] = [];
  for (const slot of state.slots.values()) {
    // A pending reading that is due is asked for by settle(), which runs after this.
    let s = slot;
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
    const retry = s.standbyRetry;
    if (retry && at >= retry.at && s.node && !s.maintenance && !s.inFlight) {
      const ev: Evidence = { source: 'timer', at, summary: 'the last standby change failed' };
      decisions.push({
        kind: 'set-standby',
        slot: s.key,
        node: s.node,
        on: retry.on,
        reason: `standby ${retry.on ? 'on' : 'off'} asked for again`,
        evidence: [ev],
      });
      s = { ...s, standby: retry.on, inFlight: 'standby', standbyRetry: undefined };
    }
    if (
      s.active.size === 0 &&
      s.clearSince !== undefined &&
      !s.unread &&
      at - s.clearSince >= cfg.recoveryMs &&
      s.node &&
      !s.maintenance
    ) {
      const node = s.node;
      const ev: Evidence = { source: 'timer', at, summary: `clear since ${new Date(s.clearSince).toISOString()}` };
      if (s.health !== 'green') {
        decisions.push({ kind: 'set-health', slot: s.key, node, value: 'green', reason: 'recovered', evidence: [ev] });
        s = { ...s, health: 'green', healthRetryAt: undefined };
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
        s = { ...s, standby: false, inFlight: 'standby', standbyRetry: undefined };
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
    polledOff: false,
    fencedInEpisode: false,
    healthRetryAt: undefined,
    healthyAt: undefined,
    standbyRetry: undefined,
    unread: false,
    nodeOnline: undefined,
    healthShown: false,
  };
}
