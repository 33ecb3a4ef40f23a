/**
 * The fault classes a slot can have, the ladder of actions a rule may take for each, and the
 * defaults. Domain vocabulary: the configuration's rules name these, the classification
 * (src/shelf/classify.ts) raises them and the policy (src/policy/) acts on them.
 */
export const FAULT_CLASSES = [
  'hotswap-lost', // → M7, communication with the IPMC lost
  'hotswap-removed', // → M0, board extracted
  'unexpected-deactivation', // → M1/M5/M6 that nobody commanded
  'deactivating', // → M5/M6/M1 commanded (shelf manager, operator, handle) or of unreported cause: leaving service
  'temperature-noncritical',
  'temperature-critical',
  'temperature-nonrecoverable',
  'voltage-noncritical',
  'voltage-critical',
  'voltage-nonrecoverable',
  'fan-noncritical',
  'fan-critical',
  'fan-nonrecoverable',
  'watchdog-expired',
  'processor-ierr',
  'power-supply-failure',
  'ipmc-unreachable',
  'shmc-unreachable',
] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

/** The ladder of actions, mildest first. */
export const ACTION_LADDER = ['record', 'health-yellow', 'health-red', 'standby', 'fence'] as const;
export type PolicyAction = (typeof ACTION_LADDER)[number];

export const DEFAULT_RULES: Readonly<Record<FaultClass, PolicyAction>> = Object.freeze({
  'hotswap-lost': 'standby',
  'hotswap-removed': 'fence',
  'unexpected-deactivation': 'fence',
  deactivating: 'health-red',
  'temperature-noncritical': 'health-yellow',
  'temperature-critical': 'health-red',
  'temperature-nonrecoverable': 'standby',
  'voltage-noncritical': 'health-yellow',
  'voltage-critical': 'health-red',
  'voltage-nonrecoverable': 'standby',
  'fan-noncritical': 'record',
  'fan-critical': 'health-yellow',
  'fan-nonrecoverable': 'health-red',
  'watchdog-expired': 'fence',
  'processor-ierr': 'fence',
  'power-supply-failure': 'health-red',
  'ipmc-unreachable': 'health-yellow',
  'shmc-unreachable': 'record',
});

/**
 * Faults that mean the blade is going away (or gone) by a deactivation nobody calls a fault:
 * at most standby — a commanded deactivation never leads to a fence.
 */
export const GRACEFUL_FAULTS: ReadonlySet<FaultClass> = new Set(['deactivating']);

/**
 * Faults whose claim (a trap, a SEL entry) changes no health before a fresh reading proves it:
 * a blade that lost its payload power cannot run resources anyway, and a health write for a
 * node corosync is about to lose only adds CIB updates to the cluster's own recovery.
 */
export const SILENT_UNTIL_CONFIRMED: ReadonlySet<FaultClass> = new Set([
  'unexpected-deactivation',
  'hotswap-removed',
  // The cluster's own fence deactivates a blade too: nothing before the fencer has been asked.
  'deactivating',
]);
