import type { HotSwapState } from './hotswap.js';

/**
 * The typed domain events the adapters (snmp/, ipmi/) emit and the core (shelf model,
 * policy) consumes. Adapters translate; nothing here knows about SNMP or ipmitool.
 */
export type EventSource = 'trap' | 'poll' | 'sel';

export type Severity = 'info' | 'noncritical' | 'critical' | 'nonrecoverable';

interface Base {
  /** Shelf name from the configuration. */
  readonly shelf: string;
  /** Milliseconds since the Unix epoch when the event was observed here. */
  readonly at: number;
  readonly source: EventSource;
}

/** A FRU hot-swap state, as a transition (trap, SEL) or a reading (poll). */
export interface HotSwapEvent extends Base {
  readonly kind: 'hotswap';
  readonly ipmb: number;
  readonly fru: number;
  readonly state: HotSwapState;
  readonly previous?: HotSwapState;
  /** PICMG cause code (0 normal, 1 commanded by the shelf manager, 6 surprise extraction, 9 unexpected deactivation, 0xF unknown). */
  readonly cause?: number;
}

/** A threshold sensor crossed (or recrossed) a threshold. */
export interface ThresholdEvent extends Base {
  readonly kind: 'threshold';
  readonly ipmb: number;
  readonly sensorNumber: number;
  /** IPMI sensor type: 0x01 temperature, 0x02 voltage, 0x04 fan. */
  readonly sensorType: number;
  /** IPMI threshold offset 0x00–0x0B (e.g. 0x09 UC going high). */
  readonly offset: number;
  readonly asserted: boolean;
  readonly severity: Severity;
  readonly reading?: number;
}

/** A sensor-specific (discrete) event: watchdog, processor, power supply, … */
export interface DiscreteEvent extends Base {
  readonly kind: 'discrete';
  readonly ipmb: number;
  readonly sensorNumber: number;
  readonly sensorType: number;
  readonly offset: number;
  readonly asserted: boolean;
  readonly severity: Severity;
}

/** A shelf manager stopped or started answering. */
export interface ShelfManagerEvent extends Base {
  readonly kind: 'shmc';
  readonly endpoint: string;
  readonly reachable: boolean;
}

/** A blade's IPMC did not answer (CC 0x83) or answered again. */
export interface IpmcEvent extends Base {
  readonly kind: 'ipmc';
  readonly ipmb: number;
  readonly reachable: boolean;
}

/**
 * Every sensor of a blade was read just now (whatever they showed: what they assert comes as
 * its own events). A slot is known to be clear only once this has happened since a restart.
 */
export interface SweptEvent extends Base {
  readonly kind: 'swept';
  readonly ipmb: number;
}

export type DomainEvent = HotSwapEvent | ThresholdEvent | DiscreteEvent | ShelfManagerEvent | IpmcEvent | SweptEvent;
