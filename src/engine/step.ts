import type { DomainEvent } from '../domain/events.js';
import { decide } from '../policy/decide.js';
import type { Decision, Evidence, PolicyConfig, PolicyInput, PolicyState } from '../policy/types.js';
import { classify, type Finding, NO_MEMORY, type SlotMemory } from '../shelf/classify.js';

/**
 * One step of atcad's core, pure: what the classification remembers of each slot and what
 * the policy holds, advanced by one input. The engine (engine.ts) journals the decisions of a
 * step before it adopts the step's state or carries any of them out.
 */
export interface CoreState {
  readonly memory: ReadonlyMap<string, SlotMemory>;
  readonly policy: PolicyState;
}

/** A domain event, with the slots (shelf/slot keys) it concerns; or any other policy input. */
export type CoreInput =
  | { readonly kind: 'event'; readonly event: DomainEvent; readonly slots: readonly string[] }
  | Exclude<PolicyInput, { kind: 'finding' }>;

export interface StepResult {
  readonly state: CoreState;
  readonly decisions: readonly Decision[];
}

function evidenceOf(e: DomainEvent, f: Finding): Evidence {
  const summary =
    f.kind === 'hotswap'
      ? `hot-swap M${f.state} (${e.source})`
      : f.kind === 'swept'
        ? `sensors read (${e.source})`
        : f.summary;
  return { source: e.source, at: e.at, summary };
}

export function step(state: CoreState, input: CoreInput, cfg: PolicyConfig): StepResult {
  if (input.kind !== 'event') {
    const r = decide(state.policy, input, cfg);
    return { state: { ...state, policy: r.state }, decisions: r.decisions };
  }
  let memory = state.memory;
  let policy = state.policy;
  const decisions: Decision[] = [];
  for (const slot of input.slots) {
    const c = classify(memory.get(slot) ?? NO_MEMORY, input.event);
    if (c.memory !== memory.get(slot)) {
      const m = new Map(memory);
      m.set(slot, c.memory);
      memory = m;
    }
    for (const f of c.findings) {
      const r = decide(policy, { kind: 'finding', slot, finding: f, evidence: evidenceOf(input.event, f) }, cfg);
      policy = r.state;
      decisions.push(...r.decisions);
    }
  }
  return { state: { memory, policy }, decisions };
}
