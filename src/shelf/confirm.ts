import type { FaultClass } from '../domain/faults.js';
import { EVENT_TYPE } from '../domain/sensor-types.js';
import type { SensorSnapshot, SlotReading } from '../domain/sensors.js';
import { DISCRETE_FAULTS, THRESHOLD_SENSOR_TYPES, type ThresholdPrefix } from './fault-sensors.js';

/** A fresh look at a slot: its hot-swap state and, when read, its sensors. */
export interface FreshReading {
  readonly hotswap: SlotReading;
  readonly sensors: readonly SensorSnapshot[] | undefined;
}

/**
 * What a fresh reading says about a claimed fault: it shows it (confirmed), it shows the
 * opposite (refuted), or it could not show either (unknown: the shelf manager or the IPMC did
 * not answer, the sensor's reading is unavailable). Unknown is its own answer: it is never
 * taken as refuted — the fault is kept and read again — nor as confirmed.
 */
export type Verdict = 'confirmed' | 'refuted' | 'unknown';

export interface Confirmation {
  readonly verdict: Verdict;
  readonly summary: string;
  /**
   * The reading shows the payload without power (M0 or M1: the blade is dead, not sick), or
   * with it (any other state); absent when no state could be read.
   */
  readonly payloadOff?: boolean;
}

/** Comparison-status bits (Get Sensor Reading byte 3) at or beyond each severity, lower and upper. */
const AT_LEAST: Readonly<Record<'noncritical' | 'critical' | 'nonrecoverable', number>> = {
  noncritical: 0b111111,
  critical: 0b110110,
  nonrecoverable: 0b100100,
};

function sensorText(s: SensorSnapshot): string {
  const r = s.reading;
  const value = s.value ?? r?.raw;
  return `${s.record.name || `sensor ${s.record.number}`}${value === undefined ? '' : ` = ${value}`}${
    r ? ` (states 0x${r.states.toString(16)})` : ''
  }${s.error ? ` [${s.error}]` : ''}`;
}

function shown(hs: SlotReading): string {
  return typeof hs === 'number' ? `M${hs}` : hs;
}

/** A hot-swap fault against a reading that is a state: `holds` says which states show it. */
function byState(hs: SlotReading, holds: (m: number) => boolean, unreachable: Verdict): Confirmation {
  const summary = `fresh IPMI reading: ${shown(hs)}`;
  if (typeof hs === 'number') return { verdict: holds(hs) ? 'confirmed' : 'refuted', summary };
  if (hs === 'ipmc-unreachable') return { verdict: unreachable, summary };
  return { verdict: 'unknown', summary };
}

/**
 * Pure: does a fresh reading show the fault a trap, SEL entry or earlier poll claimed? Only
 * what the reading itself shows counts — the claim's own evidence is not enough.
 */
export function confirms(fault: FaultClass, fresh: FreshReading): Confirmation {
  const c = judge(fault, fresh);
  const hs = fresh.hotswap;
  // Said either way when the state was read; absent when it could not be.
  return typeof hs === 'number' ? { ...c, payloadOff: hs === 0 || hs === 1 } : c;
}

function judge(fault: FaultClass, fresh: FreshReading): Confirmation {
  const hs = fresh.hotswap;
  switch (fault) {
    case 'hotswap-lost':
      return byState(hs, (m) => m === 7, 'confirmed');
    case 'hotswap-removed':
      // A removed board's IPMC does not answer either, but so does a dead IPMC on a running
      // blade: silence proves no removal.
      return byState(hs, (m) => m === 0, 'unknown');
    case 'unexpected-deactivation':
      // M7 is no proof of power off: the IPMC is lost, the payload may run.
      if (hs === 7) return { verdict: 'unknown', summary: 'fresh IPMI reading: M7' };
      return byState(hs, (m) => m === 0 || m === 1 || m === 5 || m === 6, 'unknown');
    case 'deactivating':
      // Still going down, or down: it was no stray claim. Back in M4: it was called off.
      if (hs === 7) return { verdict: 'unknown', summary: 'fresh IPMI reading: M7' };
      return byState(hs, (m) => m !== 4 && m !== 2 && m !== 3, 'unknown');
    case 'ipmc-unreachable':
      return byState(hs, () => false, 'confirmed');
    case 'shmc-unreachable':
      return {
        verdict: hs === 'shmc-unreachable' ? 'confirmed' : 'refuted',
        summary: `fresh IPMI reading: ${shown(hs)}`,
      };
  }
  if (typeof hs !== 'number' || hs !== 4) {
    // Sensors mean nothing without payload power, and cannot be read through silence.
    return { verdict: 'unknown', summary: `fresh IPMI reading: ${shown(hs)}; sensors not readable` };
  }
  if (!fresh.sensors) {
    return { verdict: 'unknown', summary: `fresh IPMI reading: ${shown(hs)}; sensors not read` };
  }
  const discrete = DISCRETE_FAULTS.find((d) => d.fault === fault);
  const threshold = /^(temperature|voltage|fan)-(noncritical|critical|nonrecoverable)$/.exec(fault);
  const relevant = fresh.sensors.filter((s) =>
    discrete
      ? s.record.sensorType === discrete.sensorType && s.record.eventType !== EVENT_TYPE.threshold
      : threshold
        ? s.record.sensorType === THRESHOLD_SENSOR_TYPES[threshold[1] as ThresholdPrefix] &&
          s.record.eventType === EVENT_TYPE.threshold
        : false,
  );
  // Only what was read just now counts: a failed or unavailable reading is no evidence either way.
  const usable = relevant.filter((s) => s.reading && !s.error && !s.reading.unavailable);
  const holds = (s: SensorSnapshot): boolean => {
    const states = s.reading!.states;
    if (discrete) return discrete.offsets.some((o) => (states >> o) & 1);
    return (states & AT_LEAST[threshold![2] as keyof typeof AT_LEAST]) !== 0;
  };
  const hit = usable.filter(holds);
  const head = `fresh IPMI reading: ${shown(hs)}; `;
  if (hit.length > 0) return { verdict: 'confirmed', summary: head + hit.map(sensorText).join('; ') };
  // atcad may not read every sensor (one behind another LUN, one the shelf manager's SDR does
  // not list): a sensor it cannot read disproves nothing.
  if (relevant.length === 0)
    return { verdict: 'unknown', summary: `${head}no sensor of this kind that atcad reads on this blade` };
  if (usable.length < relevant.length) {
    return { verdict: 'unknown', summary: head + relevant.map(sensorText).join('; ') };
  }
  return { verdict: 'refuted', summary: head + relevant.map(sensorText).join('; ') };
}
