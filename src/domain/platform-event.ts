import type { DomainEvent, EventSource, Severity, ThresholdEvent } from './events.js';
import { isHotSwapState } from './hotswap.js';
import { EVENT_TYPE, SENSOR_TYPE } from './sensor-types.js';

/**
 * The fields of an IPMI platform event message, wherever it was carried: a PET trap's bytes,
 * a SEL record, an Event Message. One pure decoder turns them into the domain event they
 * report, so a fault reads the same from a trap as from the SEL. Tables from
 * docs/atca-domain.md §1 and §6.
 */
export interface PlatformEvent {
  /** IPMB address of the controller the event is about (generator / sensor device). */
  readonly ipmb: number;
  readonly sensorType: number;
  readonly sensorNumber: number;
  /** Event/reading type, without the direction bit. */
  readonly eventType: number;
  readonly deassertion: boolean;
  /** The offset when the carrier states it apart from ED1 (a PET's specific trap); else ED1 bits 3:0. */
  readonly offset?: number;
  readonly eventData: readonly number[];
}

/** 0xFF means "unspecified": such an event cannot be attributed, so it is not understood. */
const IPMB_UNSPECIFIED = 0xff;
/** ED1 bits 7:4 = 0xA: ED2 and ED3 hold OEM data, i.e. the PICMG previous state/cause and FRU. */
const HOTSWAP_ED23_VALID = 0xa;
const MAX_THRESHOLD_OFFSET = 0x0b;

type Level = 'nominal' | 'warning' | 'critical';

/**
 * Sensor-specific offsets we act on, with FreeIPMI's default assertion severity
 * (libfreeipmi/interpret/ipmi-interpret-config-sel.c). Offsets not listed are not understood.
 */
const DISCRETE: ReadonlyMap<number, ReadonlyMap<number, Level>> = new Map([
  [
    SENSOR_TYPE.processor,
    new Map<number, Level>([
      [0x00, 'critical'], // IERR
      [0x01, 'critical'], // thermal trip
      [0x02, 'critical'], // FRB1/BIST failure
      [0x03, 'critical'], // FRB2/hang in POST
      [0x04, 'critical'], // FRB3/processor startup failure
      [0x05, 'critical'], // configuration error
      [0x06, 'critical'], // SM BIOS uncorrectable CPU-complex error
      [0x07, 'nominal'], // processor presence detected
      [0x08, 'critical'], // processor disabled
      [0x09, 'critical'], // terminator presence detected
      [0x0a, 'warning'], // automatically throttled
      [0x0b, 'critical'], // uncorrectable machine check exception
      [0x0c, 'warning'], // correctable machine check error
    ]),
  ],
  [
    SENSOR_TYPE.powerSupply,
    new Map<number, Level>([
      [0x00, 'nominal'], // presence detected
      [0x01, 'critical'], // power supply failure detected
      [0x02, 'critical'], // predictive failure
      [0x03, 'critical'], // input lost (AC/DC)
      [0x04, 'critical'], // input lost or out of range
      [0x05, 'critical'], // input out of range, but present
      [0x06, 'critical'], // configuration error
      [0x07, 'warning'], // inactive
    ]),
  ],
  [
    SENSOR_TYPE.watchdog2,
    new Map<number, Level>([
      [0x00, 'warning'], // timer expired
      [0x01, 'critical'], // hard reset
      [0x02, 'critical'], // power down
      [0x03, 'critical'], // power cycle
      [0x08, 'warning'], // timer interrupt
    ]),
  ],
]);

const ASSERTED: Readonly<Record<Level, Severity>> = { nominal: 'info', warning: 'noncritical', critical: 'critical' };
/** FreeIPMI's rule (atca-domain.md §6): a deassertion is one level milder than its assertion. */
const MILDER: Readonly<Record<Severity, Severity>> = {
  info: 'info',
  noncritical: 'info',
  critical: 'noncritical',
  nonrecoverable: 'critical',
};

/** Threshold offsets 0x00–0x0B in pairs (going low, going high): LNC LC LNR UNC UC UNR. */
export function thresholdSeverity(offset: number): Severity {
  const pair = (offset >> 1) % 3; // 0 = non-critical, 1 = critical, 2 = non-recoverable
  return pair === 0 ? 'noncritical' : pair === 1 ? 'critical' : 'nonrecoverable';
}

/** The domain event a platform event reports, or undefined when it is valid but not one we understand. */
export function platformEventToDomain(
  ev: PlatformEvent,
  shelf: string,
  at: number,
  source: EventSource,
): DomainEvent | undefined {
  const ipmb = ev.ipmb;
  if (ipmb === IPMB_UNSPECIFIED) return undefined;
  const ed1 = ev.eventData[0] ?? 0;
  const ed2 = ev.eventData[1] ?? 0;
  const ed3 = ev.eventData[2] ?? 0;
  // Object literals written out, not spread from a common base: on the trap path a spread
  // costs microseconds in Node 20, the literal nanoseconds.

  if (ev.sensorType === SENSOR_TYPE.fruHotSwap && ev.eventType === EVENT_TYPE.sensorSpecific) {
    // The hot-swap sensor only asserts its new state; a deassertion carries nothing to act on.
    if (ev.deassertion) return undefined;
    const state = ed1 & 0x0f;
    if (!isHotSwapState(state)) return undefined;
    if (ed1 >> 4 !== HOTSWAP_ED23_VALID) {
      // Without ED2/ED3 the previous state, cause and FRU ID are unknown: FRU 0 is the
      // controller's own board (the FRU every IPMC has), which is the best reading we have.
      return { shelf, at, source, ipmb, kind: 'hotswap', fru: 0, state };
    }
    const previous = ed2 & 0x0f;
    const cause = ed2 >> 4;
    return isHotSwapState(previous)
      ? { shelf, at, source, ipmb, kind: 'hotswap', fru: ed3, state, previous, cause }
      : { shelf, at, source, ipmb, kind: 'hotswap', fru: ed3, state, cause };
  }

  if (ev.eventType === EVENT_TYPE.threshold) {
    const offset = ev.offset ?? ed1 & 0x0f;
    if (offset > MAX_THRESHOLD_OFFSET) return undefined;
    const asserted = !ev.deassertion;
    const severity = thresholdSeverity(offset);
    // ED1 bits 7:6 = 01: ED2 holds the trigger reading (raw, before SDR conversion).
    const e: ThresholdEvent = {
      shelf,
      at,
      source,
      ipmb,
      kind: 'threshold',
      sensorNumber: ev.sensorNumber,
      sensorType: ev.sensorType,
      offset,
      asserted,
      severity: asserted ? severity : MILDER[severity],
    };
    // ED1 bits 7:6 = 01: ED2 holds the trigger reading (raw, before SDR conversion).
    if (ed1 >> 6 === 0b01) (e as { reading?: number }).reading = ed2;
    return e;
  }

  if (ev.eventType === EVENT_TYPE.sensorSpecific) {
    const table = DISCRETE.get(ev.sensorType);
    const offset = ev.offset ?? ed1 & 0x0f;
    const level = table?.get(offset);
    if (level === undefined) return undefined;
    const asserted = !ev.deassertion;
    return {
      shelf,
      at,
      source,
      ipmb,
      kind: 'discrete',
      sensorNumber: ev.sensorNumber,
      sensorType: ev.sensorType,
      offset,
      asserted,
      severity: asserted ? ASSERTED[level] : MILDER[ASSERTED[level]],
    };
  }

  return undefined;
}
