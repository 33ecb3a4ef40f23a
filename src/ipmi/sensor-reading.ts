import type { DomainEvent } from '../domain/events.js';
import { platformEventToDomain } from '../domain/platform-event.js';
import type { SensorSample } from '../domain/sensors.js';
import { AtcaError } from '../errors.js';
import { hexByte } from './ipmitool-argv.js';
import { EVENT_TYPE_THRESHOLD, type SensorRecord } from './sdr-record.js';

/**
 * Get Sensor Reading (IPMI 2.0 §35.14) decoded, and what a change between two readings of
 * one sensor says, as the same domain events a trap or SEL record would carry. Pure.
 */
/** Get Sensor Reading, decoded: the domain's sample. */
export type SensorReading = SensorSample;

export function decodeSensorReading(bytes: readonly number[]): SensorReading {
  if (bytes.length < 2) {
    throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `Get Sensor Reading: [${bytes.map(hexByte).join(' ')}]`);
  }
  const flags = bytes[1]!;
  return {
    raw: bytes[0]!,
    unavailable: (flags & 0x20) !== 0,
    scanning: (flags & 0x40) !== 0,
    states: (bytes[2] ?? 0) | (((bytes[3] ?? 0) & 0x7f) << 8),
  };
}

/** Comparison-status bit → the threshold event offset that reports crossing it. */
const THRESHOLD_OFFSET_OF_BIT = [0x00, 0x02, 0x04, 0x07, 0x09, 0x0b] as const;

/**
 * The events a new reading implies against the last one (undefined: first reading, where
 * every asserted state is reported, since a sensor already past a threshold is a fault now).
 * An unavailable reading or a sensor not scanning says nothing: it is neither ok nor a fault.
 */
export function sensorChangeEvents(
  rec: SensorRecord,
  before: number | undefined,
  now: SensorReading,
  shelf: string,
  at: number,
): DomainEvent[] {
  if (now.unavailable || !now.scanning) return [];
  const threshold = rec.eventType === EVENT_TYPE_THRESHOLD;
  const mask = threshold ? 0x3f : 0x7fff;
  const cur = now.states & mask;
  const prev = (before ?? 0) & mask;
  const out: DomainEvent[] = [];
  for (let bit = 0; bit < (threshold ? 6 : 15); bit++) {
    const was = (prev >> bit) & 1;
    const is = (cur >> bit) & 1;
    if (was === is) continue;
    const offset = threshold ? THRESHOLD_OFFSET_OF_BIT[bit]! : bit;
    const e = platformEventToDomain(
      {
        ipmb: rec.owner,
        sensorType: rec.sensorType,
        sensorNumber: rec.number,
        eventType: rec.eventType,
        deassertion: is === 0,
        offset,
        // ED1 bits 7:6 = 01: ED2 carries the reading, as a controller's own event would.
        eventData: threshold ? [0x40 | offset, now.raw, 0xff] : [offset, 0xff, 0xff],
      },
      shelf,
      at,
      'poll',
    );
    if (e) out.push(e);
  }
  return out;
}
