import type { DomainEvent, EventSource, HotSwapEvent, Severity } from '../domain/events.js';
import type { FaultClass } from '../domain/faults.js';
import {
  COMMANDED_CAUSES,
  causeName,
  FAULT_CAUSES,
  HOTSWAP_CAUSE,
  type HotSwapState,
  isDeactivating,
} from '../domain/hotswap.js';
import { thresholdSeverity } from '../domain/platform-event.js';
import { DISCRETE_FAULTS, type ThresholdPrefix, thresholdPrefix } from './fault-sensors.js';

/**
 * What a domain event says about one slot, given what the slot's earlier events said. Pure.
 *
 * A deactivation is a sequence (M4 → M5 → M6 → M1, or M4 → M6 → M1), and its cause sits on the
 * step that left the active states: the shelf manager's Set FRU Activation (cause 1) — which
 * is also how an operator's `clia deactivate`, `fence_atca off` or Pacemaker's own fence look
 * on the wire —, the operator's handle (2), the FRU's own programmatic action (3), or a
 * surprise extraction (6) / unexpected deactivation (9). The IPMC's own completion M6 → M1
 * then carries cause 0 ("normal"). So the cause of the first step is remembered per slot
 * until the slot is active again, later steps are judged by it, and only the causes PICMG
 * defines as unexpected or surprise are faults. A transition seen only by polling carries no
 * cause at all: it is unknown, which is not a fault either — the SEL entry of the same
 * transition (which carries the cause on a real shelf) decides when it is read.
 * docs/atcad.md "Deactivations" says the same for operators.
 */

/** A fault class raised or cleared on a slot. */
export interface FaultFinding {
  readonly kind: 'fault';
  readonly fault: FaultClass;
  readonly asserted: boolean;
  readonly summary: string;
}

/** Something worth a line in the decision log that is not a fault: recorded, never escalated. */
export interface NoteFinding {
  readonly kind: 'note';
  readonly summary: string;
}

/** The slot's hot-swap state as last seen (an episode of faults ends when it is M4 again). */
export interface StateFinding {
  readonly kind: 'hotswap';
  readonly state: HotSwapState;
}

/** Every sensor of the blade was read just now. */
export interface SweptFinding {
  readonly kind: 'swept';
}

export type Finding = FaultFinding | NoteFinding | StateFinding | SweptFinding;

/** How the deactivation under way (or ended) left the active states. */
export interface DeactivationStart {
  readonly cause: number | undefined;
  readonly source: EventSource;
  readonly at: number;
}

export interface SlotMemory {
  /** Last hot-swap state seen, by any source. */
  readonly state: HotSwapState | undefined;
  readonly deactivation: DeactivationStart | undefined;
}

export const NO_MEMORY: SlotMemory = Object.freeze({ state: undefined, deactivation: undefined });

export interface Classified {
  readonly memory: SlotMemory;
  readonly findings: readonly Finding[];
}

export type DeactivationKind = 'fault' | 'commanded' | 'unknown';

/** How a deactivation whose first step carried `cause` is to be taken. */
export function deactivationKind(cause: number | undefined): DeactivationKind {
  if (cause === undefined) return 'unknown';
  if (FAULT_CAUSES.has(cause)) return 'fault';
  if (COMMANDED_CAUSES.has(cause)) return 'commanded';
  return 'unknown';
}

/** Hot-swap faults that a reading of M4 (the slot active, its IPMC answering) clears. */
const CLEARED_BY_ACTIVE: readonly FaultClass[] = [
  'hotswap-lost',
  'hotswap-removed',
  'unexpected-deactivation',
  'deactivating',
  'ipmc-unreachable',
];

/** States from which a step down is the start of a deactivation. */
const ACTIVE_OR_ACTIVATING: ReadonlySet<HotSwapState> = new Set([2, 3, 4]);

function hotswapSummary(e: HotSwapEvent, previous: HotSwapState | undefined): string {
  const from = previous === undefined ? '' : `M${previous}→`;
  const cause = e.cause === undefined ? '' : ` cause ${e.cause}`;
  return `hot-swap ${from}M${e.state}${cause} (${e.source})`;
}

function fault(f: FaultClass, asserted: boolean, summary: string): FaultFinding {
  return { kind: 'fault', fault: f, asserted, summary };
}

function note(summary: string): NoteFinding {
  return { kind: 'note', summary };
}

/** The blade's own FRU: its hot-swap state is the slot's; the others' (AMCs, RTMs) are not. */
const BOARD_FRU = 0;

function classifyHotswap(m: SlotMemory, e: HotSwapEvent): Classified {
  if (e.fru !== BOARD_FRU) {
    // An AMC or RTM on the board changing state says nothing of the board's payload.
    return {
      memory: m,
      findings: [note(`hot-swap of FRU ${e.fru} (not the board) to M${e.state} (${e.source}): recorded`)],
    };
  }
  // A poll's own previous state is its last reading; a trap's or SEL record's is what it says.
  const previous = e.previous ?? m.state;
  const summary = hotswapSummary(e, previous);
  const state: StateFinding = { kind: 'hotswap', state: e.state };
  const findings: Finding[] = [];
  let deactivation = m.deactivation;

  if (e.state === 4) {
    // The clears first, then the state: a blade back in M4 is judged on what is still active.
    for (const f of CLEARED_BY_ACTIVE) findings.push(fault(f, false, summary));
    return { memory: { state: 4, deactivation: undefined }, findings: [...findings, state] };
  }
  // Any state read other than M7 means the IPMC answers again.
  if (e.state !== 7 && m.state === 7) findings.push(fault('hotswap-lost', false, summary));

  if (e.state === 7) {
    findings.push(fault('hotswap-lost', true, summary));
  } else if (e.state === 0) {
    // Removed. A fault when the board was pulled while active (surprise extraction, or from M4
    // straight to M0) and no commanded deactivation was under way; a board taken out after it
    // was deactivated, or found absent at start, is not.
    const commanded = deactivationKind(deactivation?.cause) === 'commanded';
    const surprise = e.cause === HOTSWAP_CAUSE.surpriseExtraction;
    const wasActive = previous !== undefined && (ACTIVE_OR_ACTIVATING.has(previous) || isDeactivating(previous));
    if (surprise || (wasActive && !commanded)) {
      findings.push(
        fault('hotswap-removed', true, `${summary}: ${surprise ? causeName(e.cause) : 'removed while active'}`),
      );
    } else if (previous !== undefined) {
      findings.push(note(`${summary}: board removed after it was deactivated`));
    }
  } else if (e.state === 1 || isDeactivating(e.state)) {
    if (previous === undefined) {
      // A first reading (atcad just started, or the slot was unreadable) is the baseline, not
      // a transition: a blade found off was not seen to fail.
    } else if (ACTIVE_OR_ACTIVATING.has(previous)) {
      deactivation = { cause: e.cause, source: e.source, at: e.at };
      findings.push(...judgeDeactivation(e.cause, summary));
    } else if (isDeactivating(previous) || previous === 1) {
      // A later step. A cause only here (the first step was missed) still counts; the cause of
      // the first step decides otherwise, and the IPMC's normal completion (cause 0) is none.
      const known = deactivation?.cause;
      if (e.cause !== undefined && deactivationKind(e.cause) === 'fault') {
        findings.push(...judgeDeactivation(e.cause, summary));
      } else if (known === undefined && e.cause !== undefined && e.cause !== HOTSWAP_CAUSE.normal) {
        deactivation = { cause: e.cause, source: e.source, at: e.at };
        findings.push(...judgeDeactivation(e.cause, summary));
      } else if (e.state === 1 && previous !== 1) {
        findings.push(note(`${summary}: deactivation complete (${describeStart(deactivation)})`));
      }
    } else if (previous === 7) {
      findings.push(note(`${summary}: the IPMC answers again, payload off`));
    }
  }
  // The state first: what the findings raise is judged on the slot as it now is (a blade
  // without payload power gets no health change, which attrd would drop anyway).
  return { memory: { state: e.state, deactivation }, findings: [state, ...findings] };
}

function describeStart(d: DeactivationStart | undefined): string {
  if (!d) return 'its start was not seen';
  return `${causeName(d.cause)}, ${d.source}`;
}

function judgeDeactivation(cause: number | undefined, summary: string): Finding[] {
  switch (deactivationKind(cause)) {
    case 'fault':
      return [fault('unexpected-deactivation', true, `${summary}: ${causeName(cause)}`)];
    // Not a fault to fence for, but the blade is leaving service: its resources should leave
    // before its payload stops ('deactivating', at most standby).
    case 'commanded':
      return [
        note(`${summary}: commanded deactivation (${causeName(cause)}): recorded, not a fault`),
        fault('deactivating', true, `${summary}: ${causeName(cause)}`),
      ];
    case 'unknown':
      return [
        note(
          `${summary}: deactivation of unknown cause (${causeName(cause)}): not a fault; only a surprise or unexpected cause is one`,
        ),
        fault('deactivating', true, `${summary}: ${causeName(cause)}`),
      ];
  }
}

function severityClass(prefix: ThresholdPrefix, s: Severity): FaultClass | undefined {
  if (s === 'info') return undefined;
  return `${prefix}-${s}` as FaultClass;
}

/**
 * What `e` says about its slot, given `m` (what the slot's earlier events said). A hot-swap
 * reading of M4 clears the hot-swap faults; a deassertion clears what its assertion raised.
 */
export function classify(m: SlotMemory, e: DomainEvent): Classified {
  switch (e.kind) {
    case 'hotswap':
      return classifyHotswap(m, e);
    case 'threshold': {
      const prefix = thresholdPrefix(e.sensorType);
      if (!prefix) return { memory: m, findings: [] };
      // The fault is the threshold's own class, asserted or not: a deassertion's reported
      // severity is one level milder (for display), and must not clear a milder fault instead.
      const f = severityClass(prefix, thresholdSeverity(e.offset));
      if (!f) return { memory: m, findings: [] };
      const summary = `${prefix} threshold offset 0x${e.offset.toString(16)} ${e.asserted ? 'asserted' : 'deasserted'}${e.reading === undefined ? '' : `, reading ${e.reading}`} (${e.source})`;
      return { memory: m, findings: [fault(f, e.asserted, summary)] };
    }
    case 'discrete': {
      const summary = `sensor type 0x${e.sensorType.toString(16)} offset ${e.offset} ${e.asserted ? 'asserted' : 'deasserted'} (${e.source})`;
      const d = DISCRETE_FAULTS.find((x) => x.sensorType === e.sensorType && x.offsets.includes(e.offset));
      return { memory: m, findings: d ? [fault(d.fault, e.asserted, summary)] : [] };
    }
    case 'ipmc':
      return {
        memory: m,
        findings: [
          fault(
            'ipmc-unreachable',
            !e.reachable,
            `IPMC ${e.reachable ? 'answers again' : 'does not answer (CC 0x83)'} (${e.source})`,
          ),
        ],
      };
    case 'swept':
      return { memory: m, findings: [{ kind: 'swept' }] };
    case 'shmc':
      return {
        memory: m,
        findings: [
          fault(
            'shmc-unreachable',
            !e.reachable,
            `shelf manager ${e.endpoint} ${e.reachable ? 'answers again' : 'does not answer'}`,
          ),
        ],
      };
  }
}

/**
 * Whether an event could raise a fault (as opposed to only clearing one or saying nothing):
 * when inputs must be dropped, these go last — a dropped clear is caught by the fresh reading
 * before anything is done, a dropped fault would be forgotten.
 */
export function mayRaise(e: DomainEvent): boolean {
  switch (e.kind) {
    case 'hotswap':
      return e.state !== 2 && e.state !== 3 && e.state !== 4;
    case 'threshold':
    case 'discrete':
      return e.asserted;
    case 'ipmc':
    case 'shmc':
      return !e.reachable;
    case 'swept':
      return false;
  }
}
