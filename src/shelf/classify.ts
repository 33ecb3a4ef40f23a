import type { DomainEvent, Severity } from '../domain/events.js';
import type { FaultClass } from '../domain/faults.js';
import { thresholdSeverity } from '../domain/platform-event.js';
import { DISCRETE_FAULTS, type ThresholdPrefix, thresholdPrefix } from './fault-sensors.js';

/** A fault class raised or cleared on a slot, as the policy consumes it. */
export interface Observation {
  readonly fault: FaultClass;
  readonly asserted: boolean;
  readonly summary: string;
}

const CAUSE_COMMANDED = 1;

function severityClass(prefix: ThresholdPrefix, s: Severity): FaultClass | undefined {
  if (s === 'info') return undefined;
  return `${prefix}-${s}` as FaultClass;
}

/**
 * Pure: what a domain event says about a slot's faults. A hot-swap reading of M4 clears the
 * hot-swap faults; a deassertion clears what its assertion raised.
 */
export function classify(e: DomainEvent): Observation[] {
  switch (e.kind) {
    case 'hotswap': {
      const from = e.previous === undefined ? '' : `M${e.previous}→`;
      const summary = `hot-swap ${from}M${e.state}${e.cause === undefined ? '' : ` cause ${e.cause}`} (${e.source})`;
      if (e.state === 4) {
        return (['hotswap-lost', 'hotswap-removed', 'unexpected-deactivation', 'ipmc-unreachable'] as const).map(
          (fault) => ({
            fault,
            asserted: false,
            summary,
          }),
        );
      }
      if (e.state === 7) return [{ fault: 'hotswap-lost', asserted: true, summary }];
      // A first reading (no previous state: atcad just started, or the slot was unreadable) is
      // the baseline, not a transition: a blade found off or absent was not seen to fail.
      if (e.previous === undefined) return [];
      if (e.state === 0) return [{ fault: 'hotswap-removed', asserted: true, summary }];
      if (e.state === 1 || e.state === 5 || e.state === 6) {
        // Commanded by the shelf manager (cause 1) is someone's decision, not a fault.
        if (e.cause === CAUSE_COMMANDED) return [];
        return [{ fault: 'unexpected-deactivation', asserted: true, summary }];
      }
      return [];
    }
    case 'threshold': {
      const prefix = thresholdPrefix(e.sensorType);
      if (!prefix) return [];
      // The fault is the threshold's own class, asserted or not: a deassertion's reported
      // severity is one level milder (for display), and must not clear a milder fault instead.
      const fault = severityClass(prefix, thresholdSeverity(e.offset));
      if (!fault) return [];
      const summary = `${prefix} threshold offset 0x${e.offset.toString(16)} ${e.asserted ? 'asserted' : 'deasserted'}${e.reading === undefined ? '' : `, reading ${e.reading}`}`;
      return [{ fault, asserted: e.asserted, summary }];
    }
    case 'discrete': {
      const summary = `sensor type 0x${e.sensorType.toString(16)} offset ${e.offset} ${e.asserted ? 'asserted' : 'deasserted'}`;
      const d = DISCRETE_FAULTS.find((x) => x.sensorType === e.sensorType && x.offsets.includes(e.offset));
      return d ? [{ fault: d.fault, asserted: e.asserted, summary }] : [];
    }
    case 'ipmc':
      return [
        {
          fault: 'ipmc-unreachable',
          asserted: !e.reachable,
          summary: `IPMC ${e.reachable ? 'answers again' : 'does not answer (CC 0x83)'}`,
        },
      ];
    case 'shmc':
      return [
        {
          fault: 'shmc-unreachable',
          asserted: !e.reachable,
          summary: `shelf manager ${e.endpoint} ${e.reachable ? 'answers again' : 'does not answer'}`,
        },
      ];
  }
}
