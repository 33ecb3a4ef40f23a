/**
 * FRU hot-swap states and the causes PICMG 3.0 gives for a change (docs/atca-domain.md §1).
 * Vocabulary only: what the adapters read is translated into these, and the core reasons in them.
 */

/** Hot-swap states M0–M7 (PICMG 3.0 §3.2.4). */
export type HotSwapState = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export const HOT_SWAP_NAMES: Readonly<Record<HotSwapState, string>> = {
  0: 'M0 (not installed)',
  1: 'M1 (inactive)',
  2: 'M2 (activation requested)',
  3: 'M3 (activation in progress)',
  4: 'M4 (active)',
  5: 'M5 (deactivation requested)',
  6: 'M6 (deactivation in progress)',
  7: 'M7 (communication lost)',
};

export function isHotSwapState(n: number): n is HotSwapState {
  return Number.isInteger(n) && n >= 0 && n <= 7;
}

/** What a hot-swap state proves about payload power: only M4 is on, only M1 and M0 are off. */
export function powerOf(m: HotSwapState): 'on' | 'off' | undefined {
  if (m === 4) return 'on';
  if (m === 1 || m === 0) return 'off';
  return undefined;
}

/** The cause of a state change, ED2 bits 7:4 of a FRU Hot Swap event (PICMG 3.0 table 3-23). */
export const HOTSWAP_CAUSE = {
  normal: 0x0,
  shelfManagerCommand: 0x1,
  operatorHandle: 0x2,
  programmatic: 0x3,
  communicationLost: 0x4,
  communicationLostLocal: 0x5,
  surpriseExtraction: 0x6,
  providedInformation: 0x7,
  invalidHardwareAddress: 0x8,
  unexpectedDeactivation: 0x9,
  /** Listed by one third-party decoder as "surprise state change due to power failure" (unconfirmed). */
  powerFailure: 0xa,
  unknown: 0xf,
} as const;

export const HOTSWAP_CAUSE_NAMES: Readonly<Record<number, string>> = {
  0: 'normal state change',
  1: 'commanded by the shelf manager (Set FRU Activation)',
  2: 'operator moved the handle switch',
  3: 'FRU programmatic action',
  4: 'communication lost or regained',
  5: 'communication lost or regained (detected locally)',
  6: 'surprise extraction',
  7: 'provided information',
  8: 'invalid hardware address',
  9: 'unexpected deactivation',
  10: 'surprise state change (power failure)',
  15: 'unknown',
};

export function causeName(cause: number | undefined): string {
  if (cause === undefined) return 'cause not reported';
  return HOTSWAP_CAUSE_NAMES[cause] ?? `cause 0x${cause.toString(16)}`;
}

/** Someone decided this deactivation: the shelf manager (for an operator or the fencer), the handle, the FRU itself. */
export const COMMANDED_CAUSES: ReadonlySet<number> = new Set([
  HOTSWAP_CAUSE.shelfManagerCommand,
  HOTSWAP_CAUSE.operatorHandle,
  HOTSWAP_CAUSE.programmatic,
]);

/** Causes PICMG defines as unexpected or surprise: the only deactivations that are faults. */
export const FAULT_CAUSES: ReadonlySet<number> = new Set([
  HOTSWAP_CAUSE.surpriseExtraction,
  HOTSWAP_CAUSE.unexpectedDeactivation,
  HOTSWAP_CAUSE.powerFailure,
]);

/** States on the way down from M4 to M1. */
export function isDeactivating(m: HotSwapState): boolean {
  return m === 5 || m === 6;
}
