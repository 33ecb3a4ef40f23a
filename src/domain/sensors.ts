import type { HotSwapState } from './hotswap.js';

/**
 * What the core knows of a slot and its sensors, whatever read them: the shapes the poller
 * (src/ipmi) fills in and the confirmation rule and the model (src/shelf) read.
 */

/** A slot's hot-swap state as read, or why it could not be: unknown is never off. */
export type SlotReading = HotSwapState | 'ipmc-unreachable' | 'shmc-unreachable' | 'unknown';

/** Threshold names in the order of their bits (readable threshold mask, reading states). */
export const THRESHOLD_NAMES = ['LNC', 'LC', 'LNR', 'UNC', 'UC', 'UNR'] as const;
export type ThresholdName = (typeof THRESHOLD_NAMES)[number];

/** What a sensor is (from its SDR). */
export interface SensorDescription {
  readonly number: number;
  readonly name: string;
  readonly sensorType: number;
  /** Event/reading type: 0x01 threshold, 0x6F sensor-specific, 0x02–0x0C generic discrete. */
  readonly eventType: number;
  /** IPMI unit code (§43.17): 1 °C, 4 V, 18 RPM, …; undefined for discrete sensors. */
  readonly unit: number | undefined;
  /** Its readable thresholds in its unit (threshold sensors with a linear conversion); empty otherwise. */
  readonly thresholds: Readonly<Partial<Record<ThresholdName, number>>>;
}

/** One Get Sensor Reading, decoded. */
export interface SensorSample {
  readonly raw: number;
  /** The controller has no valid reading (initialising, payload off). */
  readonly unavailable: boolean;
  readonly scanning: boolean;
  /**
   * Threshold sensors: bits 0–5 = at or beyond LNC, LC, LNR, UNC, UC, UNR.
   * Discrete sensors: bits 0–14 = the states (offsets) asserted.
   */
  readonly states: number;
}

/** What was last known of one sensor: its description, last reading, value in units, and why a read failed. */
export interface SensorSnapshot {
  readonly record: SensorDescription;
  readonly reading: SensorSample | undefined;
  readonly value: number | undefined;
  readonly at: number | undefined;
  readonly error: string | undefined;
}

/** Unit codes worth a name in logs and the dashboard (IPMI 2.0 table 43-15). */
export const UNIT_NAMES: Readonly<Record<number, string>> = {
  1: '°C',
  2: '°F',
  4: 'V',
  5: 'A',
  6: 'W',
  18: 'RPM',
};
