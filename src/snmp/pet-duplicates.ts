import type { PetRecord } from './pet.js';

/**
 * Recognises a PET seen before: the same shelf, trap, sequence number, timestamp and event
 * data within a window. Shelf managers resend (to each destination, or from both shelf
 * managers), and a captured trap can be replayed; a repeat must not count as a second fault.
 * Only PETs that carry a sequence number or a timestamp are compared: without either, two
 * identical traps may be two real events (fault, clear, fault again). Pure but for the Map.
 */
export class PetDuplicates {
  readonly #windowMs: number;
  readonly #max: number;
  /** key → when it stops counting; insertion order is time order, so expiry is from the front. */
  readonly #seen = new Map<string, number>();

  constructor(windowMs: number, max = 16_384) {
    this.#windowMs = windowMs;
    this.#max = max;
  }

  /** True for a repeat within the window; records the PET either way. */
  check(shelf: string, specific: number, pet: PetRecord, now: number): boolean {
    if (pet.sequence === 0 && pet.timestamp === undefined) return false;
    for (const [k, until] of this.#seen) {
      if (until > now && this.#seen.size < this.#max) break;
      this.#seen.delete(k);
    }
    const key = [
      shelf,
      specific >>> 0,
      pet.guid,
      pet.sequence,
      pet.timestamp?.getTime() ?? '',
      pet.sensorDevice,
      pet.sensorNumber,
      pet.eventData.join('.'),
    ].join('|');
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return true;
    this.#seen.delete(key);
    this.#seen.set(key, now + this.#windowMs);
    return false;
  }
}
