import type { FaultClass } from '../domain/faults.js';
import { EVENT_TYPE, SENSOR_TYPE } from '../domain/sensor-types.js';
import {
  type SensorSnapshot,
  type SlotReading,
  THRESHOLD_NAMES,
  type ThresholdName,
  UNIT_NAMES,
} from '../domain/sensors.js';
import type { Evidence, Health, PendingKind, SlotPolicyState } from '../policy/types.js';

/**
 * The live model of the shelves as operators see it: per slot, the hot-swap state, each
 * sensor with its value and what it asserts, the health last applied and the reasons for it
 * (the active faults with their evidence). A plain, serialisable snapshot built by a pure
 * function from what the pollers read and what the policy holds.
 */
export interface SensorView {
  readonly number: number;
  readonly name: string;
  readonly type: number;
  readonly value: number | undefined;
  readonly unit: string | undefined;
  /** Thresholds crossed (LNC…UNR) or discrete states asserted, by name. */
  readonly status: readonly string[];
  /** The record's readable thresholds in the sensor's unit (threshold sensors with a linear conversion). */
  readonly thresholds: Readonly<Partial<Record<ThresholdName, number>>>;
  readonly at: number | undefined;
  readonly error: string | undefined;
}

export interface ReasonView {
  readonly fault: FaultClass;
  readonly since: number;
  /** Shown by atcad's own reading (a claim, a trap or SEL entry, until then). */
  readonly confirmed: boolean;
  /** The evidence chain: the first link and the latest few, oldest first. */
  readonly evidence: readonly Evidence[];
}

export interface SlotView {
  readonly slot: number;
  readonly node: string;
  /** Whether the cluster knows the node (undefined: not read yet). Health for a stranger has no effect. */
  readonly clusterMember: boolean | undefined;
  readonly maintenance: boolean;
  readonly ipmb: number | undefined;
  /** M0–M7, or why it is not known: unknown is never off. */
  readonly hotswap: string;
  readonly health: Health;
  readonly standby: boolean;
  readonly reasons: readonly ReasonView[];
  readonly pending: { readonly action: PendingKind; readonly fault: FaultClass } | undefined;
  readonly inFlight: 'standby' | 'fence' | undefined;
  readonly sensors: readonly SensorView[];
}

export interface ShelfView {
  readonly name: string;
  readonly shelfManager: {
    readonly up: boolean | undefined;
    readonly peer: string | undefined;
    /** Each configured shelf manager as atcad last saw it. */
    readonly managers?: readonly {
      readonly name: string;
      readonly state: string;
      readonly at?: number | undefined;
      readonly error?: string | undefined;
    }[];
  };
  readonly slots: readonly SlotView[];
}

export interface ModelView {
  readonly shelves: readonly ShelfView[];
}

export interface SlotInput {
  readonly slot: number;
  readonly ipmb: number | undefined;
  readonly reading: SlotReading | undefined;
  readonly sensors: readonly SensorSnapshot[];
  readonly policy: SlotPolicyState | undefined;
}

const DISCRETE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [SENSOR_TYPE.watchdog2]: { 0: 'expired', 1: 'hard reset', 2: 'power down', 3: 'power cycle', 8: 'interrupt' },
  [SENSOR_TYPE.processor]: { 0: 'IERR', 1: 'thermal trip', 11: 'uncorrectable MCE', 12: 'correctable MCE' },
  [SENSOR_TYPE.powerSupply]: { 0: 'present', 1: 'failure', 2: 'predictive failure', 3: 'input lost' },
};

function statusNames(s: SensorSnapshot): string[] {
  const bits = s.reading?.states ?? 0;
  const threshold = s.record.eventType === EVENT_TYPE.threshold;
  const out: string[] = [];
  for (let b = 0; b < (threshold ? 6 : 15); b++) {
    if (!((bits >> b) & 1)) continue;
    out.push(threshold ? THRESHOLD_NAMES[b]! : (DISCRETE_NAMES[s.record.sensorType]?.[b] ?? `state ${b}`));
  }
  return out;
}

function sensorView(s: SensorSnapshot): SensorView {
  return {
    number: s.record.number,
    name: s.record.name,
    type: s.record.sensorType,
    value: s.value ?? (s.record.eventType === EVENT_TYPE.threshold ? undefined : s.reading?.raw),
    unit: s.record.unit === undefined ? undefined : UNIT_NAMES[s.record.unit],
    status: statusNames(s),
    thresholds: s.record.thresholds,
    at: s.at,
    error: s.error,
  };
}

function hotswapText(r: SlotReading | undefined): string {
  if (r === undefined) return 'not read yet';
  return typeof r === 'number' ? `M${r}` : r;
}

export function slotView(node: string, maintenance: boolean, member: boolean | undefined, i: SlotInput): SlotView {
  const p = i.policy;
  return {
    slot: i.slot,
    node,
    clusterMember: member,
    maintenance,
    ipmb: i.ipmb,
    hotswap: hotswapText(i.reading),
    health: p?.health ?? 'green',
    standby: p?.standby ?? false,
    reasons: p
      ? [...p.active].map(([fault, a]) => ({ fault, since: a.since, confirmed: a.confirmed, evidence: a.evidence }))
      : [],
    pending: p?.pending ? { action: p.pending.action, fault: p.pending.fault } : undefined,
    inFlight: p?.inFlight,
    sensors: i.sensors.map(sensorView),
  };
}
