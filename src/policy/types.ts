import type { ClusterView } from '../domain/cluster.js';
import type { FaultClass, PolicyAction } from '../domain/faults.js';
import type { HotSwapState } from '../domain/hotswap.js';
import type { Finding } from '../shelf/classify.js';
import type { Verdict } from '../shelf/confirm.js';

export type { ClusterView };

export type Health = 'green' | 'yellow' | 'red';

/** What led to a decision: each link of the chain is journaled with the decision. */
export interface Evidence {
  readonly source: 'trap' | 'poll' | 'sel' | 'confirm' | 'cluster' | 'timer' | 'action' | 'operator' | 'restart';
  readonly at: number;
  readonly summary: string;
}

export interface PolicyConfig {
  readonly rules: Readonly<Record<FaultClass, PolicyAction>>;
  readonly sustainMs: number;
  readonly debounceMs: number;
  readonly recoveryMs: number;
  readonly releaseStandbyOnRecovery: boolean;
  /**
   * A node whose blade is verified off may stay an online cluster member this long (corosync
   * has yet to lose it); past it, the slot-to-node mapping is reported as suspect.
   */
  readonly deadMemberGraceMs: number;
  readonly maxFences: number;
  readonly fenceWindowMs: number;
  /**
   * Never fence when fewer voting cluster members than this would stay online, counting
   * fences in flight. Undefined: the cluster's own quorum (votes needed), or a majority of its
   * voting members when the quorum is not reported.
   */
  readonly minVotersAfterFence: number | undefined;
  /** First wait before reading again after a confirmation came back unknown; doubles up to the max. */
  readonly confirmRetryMs: number;
  readonly confirmRetryMaxMs: number;
}

export interface ActiveFault {
  readonly since: number;
  readonly lastSeen: number;
  readonly evidence: readonly Evidence[];
  /**
   * Its standby or fence was decided (done, blocked, or not needed): it is not pended again
   * while it stays active. A fault whose pending action a stronger one displaced, or whose
   * reading came back unknown, is not handled yet.
   */
  readonly handled?: boolean;
  /**
   * A reading of atcad's own shows it (a poll, or a fresh reading asked for the claim). A trap
   * or SEL entry alone is a claim: it moves health to yellow at most until it is confirmed.
   */
  readonly confirmed: boolean;
  /** When a fresh reading was last asked for it, and how many in a row came back unknown. */
  readonly askedAt?: number;
  readonly unknowns?: number;
  /** An operator acknowledged the alarm: it stays active (and acted on) until it clears. */
  readonly ack?: { readonly by: string; readonly at: number; readonly reason: string };
}

/**
 * What a fresh reading is wanted for: to prove a claimed fault before its health goes red
 * (verify), or before standby or a fence.
 */
export type PendingKind = 'verify' | 'standby' | 'fence';

/** A verification, standby or fence waiting for its sustain time and a fresh reading that agrees. */
export interface PendingAction {
  readonly action: PendingKind;
  readonly fault: FaultClass;
  /** When to read afresh (sustain time first, then the back-off after an unknown answer). */
  readonly dueAt: number;
  /** Fresh readings that came back unknown so far. */
  readonly attempts: number;
  /** When a fresh reading first showed the blade without payload power (the grace counts from it). */
  readonly offSince?: number;
  /** Names this pending action: a confirmation asked for an earlier one is stale. */
  readonly id: number;
  /** A fresh reading has been asked for and not answered yet. */
  readonly confirming: boolean;
}

/** Per slot, what the policy remembers. Immutable: decide() returns new objects. */
export interface SlotPolicyState {
  readonly key: string;
  readonly node: string | undefined;
  readonly maintenance: boolean;
  readonly active: ReadonlyMap<FaultClass, ActiveFault>;
  /** Health last applied (green when nothing was ever applied). */
  readonly health: Health;
  readonly standby: boolean;
  /** When the last active fault cleared; undefined while faults are active or nothing is to recover. */
  readonly clearSince: number | undefined;
  readonly pending: PendingAction | undefined;
  /** An action on the slot is running (or its outcome is not settled): one at a time. */
  readonly inFlight: 'standby' | 'fence' | undefined;
  /** The slot's hot-swap state as last seen (by any source: a trap's claim too). */
  readonly hotswap: HotSwapState | undefined;
  /**
   * atcad's own reading (a poll, a fresh reading) last showed the payload without power (M0/M1).
   * Only a reading of atcad's own sets it: a trap claiming M1 must not silence a real fault.
   */
  readonly polledOff: boolean;
  /**
   * When a poll last showed the payload powered (M2–M7): a fresh reading asked before it that
   * answers "off" is older news, and does not make the blade dead again.
   */
  readonly polledOnAt?: number | undefined;
  /**
   * The slot was fenced (by atcad or by the cluster) during the current fault episode; the
   * episode ends when the slot reads M4 again with no fault active.
   */
  readonly fencedInEpisode: boolean;
  /** The last health change failed: it is applied again at this time. */
  readonly healthRetryAt: number | undefined;
  /** When the slot was last seen active (M4) with no fault: no fence before it is this episode's. */
  readonly healthyAt: number | undefined;
  /** The last standby change failed: it is asked for again (on or off) at this time. */
  readonly standbyRetry: { readonly on: boolean; readonly at: number } | undefined;
  /**
   * Restored from the journal after a restart and not read since: health and standby stay as
   * they were until the slot has been read afresh (unknown is never taken as recovered).
   */
  readonly unread: boolean;
  /** Whether the node is an online cluster member, as last read (undefined: not read yet). */
  readonly nodeOnline: boolean | undefined;
  /**
   * The cluster has shown the health atcad last applied (crm_mon's node health, at least as
   * bad): only a level seen and then lost is applied again — with node-health-strategy none,
   * the cluster shows every node green and nothing is ever seen, so nothing loops.
   */
  readonly healthShown: boolean;
}

/**
 * A fence issued by atcad, kept while it is in the rate-limit window. Every one counts against
 * the budget whatever came of it — only a command that provably never started does not.
 */
export interface FenceRecord {
  readonly slot: string;
  readonly node: string;
  readonly at: number;
  /** in-flight: running; uncertain: timed out or interrupted, until the fencer's history settles it. */
  readonly status: 'in-flight' | 'uncertain' | 'done' | 'failed';
}

export interface PolicyState {
  readonly slots: ReadonlyMap<string, SlotPolicyState>;
  readonly fences: readonly FenceRecord[];
  /** The last pending action's id (PendingAction.id). */
  readonly seq?: number;
}

/** What the fencer's history says of the node: a fence pending, one just done, none, or unreadable. */
export type FencerView = 'fencing' | 'fenced-recently' | 'none' | 'unknown';

export type ActionOutcome = 'ok' | 'failed' | 'uncertain' | 'not-started';

export type PolicyInput =
  | { readonly kind: 'finding'; readonly slot: string; readonly finding: Finding; readonly evidence: Evidence }
  | {
      readonly kind: 'confirmation';
      readonly slot: string;
      readonly fault: FaultClass;
      /** The `token` of the confirm decision this answers. */
      readonly token: string;
      readonly verdict: Verdict;
      readonly evidence: readonly Evidence[];
      readonly at: number;
      /** For a fence: the cluster read afresh (undefined: could not be read). */
      readonly cluster?: ClusterView | undefined;
      /** For a fence: the fencer's history of the node. */
      readonly fencer?: FencerView | undefined;
      /** The fresh reading shows the payload without power (M0 or M1). */
      readonly payloadOff?: boolean;
    }
  | {
      /** The cluster's nodes as read just now: a node that (re)joined gets its health again. */
      readonly kind: 'membership';
      readonly at: number;
      readonly online: readonly string[];
      /** Each node's health as the scheduler sees it, where shown: what atcad applied may have been dropped. */
      readonly health?: Readonly<Record<string, Health>>;
    }
  | {
      readonly kind: 'action-done';
      readonly slot: string;
      readonly action: 'health' | 'standby' | 'fence';
      readonly outcome: ActionOutcome;
      readonly evidence: Evidence;
    }
  | { readonly kind: 'maintenance'; readonly slot: string; readonly on: boolean; readonly evidence: Evidence }
  | {
      /** An operator acknowledges an active fault (an alarm): recorded, nothing else changes. */
      readonly kind: 'ack';
      readonly slot: string;
      readonly fault: FaultClass;
      readonly by: string;
      readonly reason: string;
      readonly evidence: Evidence;
    }
  | { readonly kind: 'tick'; readonly at: number };

interface DecisionBase {
  readonly slot: string;
  readonly reason: string;
  readonly evidence: readonly Evidence[];
}

export type Decision =
  | (DecisionBase & { readonly kind: 'record' })
  /** A slot fenced in a fault episode is active again with no fault: that episode is over. */
  | (DecisionBase & { readonly kind: 'episode-end' })
  | (DecisionBase & { readonly kind: 'set-health'; readonly node: string; readonly value: Health })
  | (DecisionBase & { readonly kind: 'set-standby'; readonly node: string; readonly on: boolean })
  | (DecisionBase & { readonly kind: 'fence'; readonly node: string })
  /** Read the slot afresh (and, for a fence, the cluster) and feed back a confirmation. */
  | (DecisionBase & {
      readonly kind: 'confirm';
      readonly fault: FaultClass;
      /** Echoed by the confirmation: which pending action, which attempt. */
      readonly token: string;
      readonly action: PendingKind;
      readonly node: string;
      readonly attempt: number;
      /** Read the cluster's membership and quorum too (a fence, or a blade verified off). */
      readonly readCluster: boolean;
      /** Read the fencer's history of the node too (a fence; a deactivation that may be the cluster's fence). */
      readonly readFencer: boolean;
      /** When the fault began: a cluster fence since then belongs to this episode. */
      readonly since: number;
      /** When the slot was last active with no fault: a fence before that belongs to an earlier episode. */
      readonly healthyAt: number | undefined;
    })
  | (DecisionBase & {
      readonly kind: 'blocked';
      readonly wanted: PolicyAction;
      /** The fault the blocked action was for (decisions?fault= finds it). */
      readonly fault?: FaultClass;
    })
  /** An operator switched the slot's maintenance: journaled, so that it survives a restart. */
  | (DecisionBase & { readonly kind: 'maintenance'; readonly on: boolean })
  | (DecisionBase & { readonly kind: 'ack'; readonly fault: FaultClass; readonly by: string });
