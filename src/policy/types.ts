import type { FaultClass, PolicyAction } from '../domain/faults.js';

export type Health = 'green' | 'yellow' | 'red';

/** What led to a decision: each link of the chain is journaled with the decision. */
export interface Evidence {
  readonly source: 'trap' | 'poll' | 'sel' | 'confirm' | 'timer' | 'action';
  readonly at: number;
  readonly summary: string;
}

export interface PolicyConfig {
  readonly rules: Readonly<Record<FaultClass, PolicyAction>>;
  readonly sustainMs: number;
  readonly debounceMs: number;
  readonly recoveryMs: number;
  readonly releaseStandbyOnRecovery: boolean;
  readonly maxFences: number;
  readonly fenceWindowMs: number;
  /** Never fence if fewer nodes than this would stay online. */
  readonly minNodesAfterFence: number;
}

export interface ActiveFault {
  readonly since: number;
  readonly lastSeen: number;
  readonly evidence: readonly Evidence[];
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
  /** When the last active fault cleared; undefined while faults are active or never had any. */
  readonly clearSince: number | undefined;
  /** A standby or fence waiting for its sustain time and a fresh reading. */
  readonly pending:
    | { readonly action: 'standby' | 'fence'; readonly fault: FaultClass; readonly dueAt: number }
    | undefined;
  /** An action on the slot is running: one decision per slot at a time. */
  readonly inFlight: PolicyAction | undefined;
  readonly fencedAt: number | undefined;
}

export interface PolicyState {
  readonly slots: ReadonlyMap<string, SlotPolicyState>;
  /** Times of fences issued, for the rate limit. */
  readonly fences: readonly number[];
  /** Nodes online as Pacemaker last said; undefined when unknown (then nothing is fenced). */
  readonly nodesOnline: number | undefined;
}

export type PolicyInput =
  | {
      readonly kind: 'observation';
      readonly slot: string;
      readonly fault: FaultClass;
      readonly asserted: boolean;
      readonly evidence: Evidence;
    }
  | {
      readonly kind: 'confirmation';
      readonly slot: string;
      readonly fault: FaultClass;
      readonly confirmed: boolean;
      readonly evidence: Evidence;
    }
  | {
      readonly kind: 'action-done';
      readonly slot: string;
      readonly action: PolicyAction;
      readonly ok: boolean;
      readonly evidence: Evidence;
    }
  | { readonly kind: 'nodes-online'; readonly count: number | undefined; readonly at: number }
  | { readonly kind: 'tick'; readonly at: number };

interface DecisionBase {
  readonly slot: string;
  readonly reason: string;
  readonly evidence: readonly Evidence[];
}

export type Decision =
  | (DecisionBase & { readonly kind: 'record' })
  | (DecisionBase & { readonly kind: 'set-health'; readonly node: string; readonly value: Health })
  | (DecisionBase & { readonly kind: 'set-standby'; readonly node: string; readonly on: boolean })
  | (DecisionBase & { readonly kind: 'fence'; readonly node: string })
  /** Read the slot afresh over IPMI and feed back a confirmation before acting. */
  | (DecisionBase & { readonly kind: 'confirm'; readonly fault: FaultClass; readonly action: 'standby' | 'fence' })
  | (DecisionBase & { readonly kind: 'blocked'; readonly wanted: PolicyAction });
