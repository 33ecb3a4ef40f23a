import type { FaultClass } from '../domain/faults.js';
import { SENSOR_TYPE } from '../domain/sensor-types.js';

/**
 * Which sensors a fault class is read from — one table for raising a fault from an event
 * (classify.ts) and for confirming it with a fresh reading (confirm.ts).
 */

/** Threshold sensors by the prefix of their fault classes (temperature-critical, …). */
export const THRESHOLD_SENSOR_TYPES = {
  temperature: SENSOR_TYPE.temperature,
  voltage: SENSOR_TYPE.voltage,
  fan: SENSOR_TYPE.fan,
} as const;

export type ThresholdPrefix = keyof typeof THRESHOLD_SENSOR_TYPES;

export function thresholdPrefix(sensorType: number): ThresholdPrefix | undefined {
  return (Object.keys(THRESHOLD_SENSOR_TYPES) as ThresholdPrefix[]).find(
    (p) => THRESHOLD_SENSOR_TYPES[p] === sensorType,
  );
}

/** Discrete (sensor-specific) states that are each fault (atca-domain.md §6). */
export const DISCRETE_FAULTS: readonly {
  readonly fault: FaultClass;
  readonly sensorType: number;
  readonly offsets: readonly number[];
}[] = [
  // IERR, thermal trip, uncorrectable machine check
  { fault: 'processor-ierr', sensorType: SENSOR_TYPE.processor, offsets: [0x00, 0x01, 0x0b] },
  // expired, hard reset, power down, power cycle
  { fault: 'watchdog-expired', sensorType: SENSOR_TYPE.watchdog2, offsets: [0x00, 0x01, 0x02, 0x03] },
  // failure, input lost
  { fault: 'power-supply-failure', sensorType: SENSOR_TYPE.powerSupply, offsets: [0x01, 0x03] },
];

/** Faults whose confirmation reads the blade's sensors (the rest read its hot-swap state). */
export function isSensorFault(fault: FaultClass): boolean {
  return DISCRETE_FAULTS.some((d) => d.fault === fault) || fault.split('-')[0]! in THRESHOLD_SENSOR_TYPES;
}
