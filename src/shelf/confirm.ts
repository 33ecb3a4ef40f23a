import type { FaultClass } from '../domain/faults.js';
import { EVENT_TYPE_THRESHOLD } from '../ipmi/sdr-record.js';
import type { SensorState } from '../ipmi/sensor-watch.js';
import type { SlotReading } from '../ipmi/shelf-poller.js';
import { DISCRETE_FAULTS, THRESHOLD_SENSOR_TYPES, type ThresholdPrefix } from './fault-sensors.js';

/** A fresh look at a slot: its hot-swap state and, when read, its sensors. */
export interface FreshReading {
  readonly hotswap: SlotReading;
  readonly sensors: readonly SensorState[] | undefined;
}

export interface Verdict {
  readonly confirmed: boolean;
  readonly summary: string;
}

/** Comparison-status bits (Get Sensor Reading byte 3) at or beyond each severity, lower and upper. */
const AT_LEAST: Readonly<Record<'noncritical' | 'critical' | 'nonrecoverable', number>> = {
  noncritical: 0b111111,
  critical: 0b110110,
  nonrecoverable: 0b100100,
};

function sensorText(s: SensorState): string {
  const r = s.reading;
  const value = s.value ?? r?.raw;
  return `${s.record.name || `sensor ${s.record.number}`}${value === undefined ? '' : ` = ${value}`}${
    r ? ` (states 0x${r.states.toString(16)})` : ''
  }${s.error ? ` [${s.error}]` : ''}`;
}

/**
 * Pure: does a fresh reading show the fault a trap, SEL entry or earlier poll claimed? Only
 * what the reading itself shows counts — the claim's own evidence is not enough — and a
 * reading that could not be taken confirms nothing (the action that cannot destroy data wins).
 */
export function confirms(fault: FaultClass, fresh: FreshReading): Verdict {
  const hs = fresh.hotswap;
  const shown = typeof hs === 'number' ? `M${hs}` : hs;
  switch (fault) {
    case 'hotswap-lost':
      return { confirmed: hs === 7 || hs === 'ipmc-unreachable', summary: `fresh IPMI reading: ${shown}` };
    case 'hotswap-removed':
      return { confirmed: hs === 0, summary: `fresh IPMI reading: ${shown}` };
    case 'unexpected-deactivation':
      return { confirmed: hs === 0 || hs === 1 || hs === 5 || hs === 6, summary: `fresh IPMI reading: ${shown}` };
    case 'ipmc-unreachable':
      return { confirmed: hs === 'ipmc-unreachable', summary: `fresh IPMI reading: ${shown}` };
    case 'shmc-unreachable':
      return { confirmed: hs === 'shmc-unreachable', summary: `fresh IPMI reading: ${shown}` };
  }
  if (!fresh.sensors) {
    return { confirmed: false, summary: `fresh IPMI reading: ${shown}; sensors not read` };
  }
  const discrete = DISCRETE_FAULTS.find((d) => d.fault === fault);
  const threshold = /^(temperature|voltage|fan)-(noncritical|critical|nonrecoverable)$/.exec(fault);
  const relevant = fresh.sensors.filter((s) =>
    discrete
      ? s.record.sensorType === discrete.sensorType && s.record.eventType !== EVENT_TYPE_THRESHOLD
      : threshold
        ? s.record.sensorType === THRESHOLD_SENSOR_TYPES[threshold[1] as ThresholdPrefix] &&
          s.record.eventType === EVENT_TYPE_THRESHOLD
        : false,
  );
  const holds = (s: SensorState): boolean => {
    // A stale reading (the read failed) is no confirmation: only what was read just now.
    if (!s.reading || s.error || s.reading.unavailable) return false;
    if (discrete) return discrete.offsets.some((o) => (s.reading!.states >> o) & 1);
    return (s.reading.states & AT_LEAST[threshold![2] as keyof typeof AT_LEAST]) !== 0;
  };
  const hit = relevant.filter(holds);
  const seen = relevant.length === 0 ? 'no such sensor on this blade' : relevant.map(sensorText).join('; ');
  return {
    confirmed: hit.length > 0,
    summary: `fresh IPMI reading: ${shown}; ${hit.length > 0 ? hit.map(sensorText).join('; ') : seen}`,
  };
}
