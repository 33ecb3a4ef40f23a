/**
 * The fault classes a slot can have, the ladder of actions a rule may take for each, and the
 * defaults. Domain vocabulary: the configuration's rules name these, the classification
 * (src/shelf/classify.ts) raises them and the policy (src/policy/) acts on them.
 */
export const FAULT_CLASSES = [
  'hotswap-lost', // → M7, communication with the IPMC lost
  'hotswap-removed', // → M0, board extracted
  'unexpected-deactivation', // → M1/M5/M6 that nobody commanded
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
