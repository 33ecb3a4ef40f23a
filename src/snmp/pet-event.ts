import type { DomainEvent } from '../domain/events.js';
import { platformEventToDomain } from '../domain/platform-event.js';
import { decodeSpecificTrap, type PetRecord } from './pet.js';

/**
 * Turns a decoded PET into the domain event it reports, or undefined when the trap is valid
 * but not one we understand (the caller journals it raw). Pure: no I/O, no clock (`at` is given).
 */
export function petToEvent(pet: PetRecord, specific: number, shelf: string, at: number): DomainEvent | undefined {
  const trap = decodeSpecificTrap(specific);
  // Which IPMB address the event is about. Byte 27 is the generator's address: for a blade's
  // own sensors, its IPMC, which is what we want. When the shelf manager generates the event on
  // a FRU's behalf (M7 after the IPMC fell silent, or FRUs it represents itself) byte 27 is 0x20
  // and nothing else in the trap carries the FRU's own IPMB address: ED3 is a FRU device ID
  // local to some controller, and the entity instance is device-relative (to 0x20 again). That
  // takes the shelf manager's SDR (sensor number → owning FRU), which a pure decoder lacks. So
  // this first version reports `ipmb` = byte 27 as sent, 0x20 included; a consumer resolves 0x20
  // through the SDR with the sensor number (ReceivedTrap.pet), and no standby or fence happens
  // without a fresh IPMI reading that agrees (atca-domain.md §4, §9).
  return platformEventToDomain(
    {
      ipmb: pet.sensorDevice,
      sensorType: trap.sensorType,
      sensorNumber: pet.sensorNumber,
      eventType: trap.eventType,
      deassertion: trap.deassertion,
      ...(trap.offset === undefined ? {} : { offset: trap.offset }),
      eventData: pet.eventData,
    },
    shelf,
    at,
    'trap',
  );
}
