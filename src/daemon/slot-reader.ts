import type { FaultClass } from '../domain/faults.js';
import type { SlotReader } from '../engine/engine.js';
import type { ShelfPoller } from '../ipmi/shelf-poller.js';
import { type Confirmation, confirms } from '../shelf/confirm.js';
import { isSensorFault } from '../shelf/fault-sensors.js';

/**
 * Fresh readings for the engine's confirmations, from the shelf pollers: the slot's hot-swap
 * state, and its sensors where the fault is a sensor's and the blade is up to be read. What
 * the read changes is reported by the poller like any poll.
 */
export function pollerReader(pollers: ReadonlyMap<string, ShelfPoller>): SlotReader {
  return {
    async confirm(slot: string, fault: FaultClass): Promise<Confirmation> {
      const cut = slot.lastIndexOf('/');
      const poller = pollers.get(slot.slice(0, cut));
      const n = Number(slot.slice(cut + 1));
      if (!poller) return { verdict: 'unknown', summary: `no poller for ${slot}` };
      const hotswap = await poller.read(n);
      const sensors =
        isSensorFault(fault) && hotswap === 4 ? await poller.readSensors(n).catch(() => undefined) : undefined;
      return confirms(fault, { hotswap, sensors });
    },
  };
}
