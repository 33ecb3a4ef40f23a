import type { ModelView } from '../shelf/model.js';

/**
 * Recent readings of each sensor with a value, for the dashboard's chart: a ring per sensor,
 * fed from the live model (a reading is taken once, by its time). Bounded: POINTS per sensor,
 * and only sensors of configured slots.
 */
export const POINTS = 240;

export class SensorHistory {
  readonly #rings = new Map<string, { at: number[]; value: number[] }>();

  /** Takes in every reading of the model not seen yet. */
  sample(m: ModelView): void {
    for (const s of m.shelves)
      for (const v of s.slots)
        for (const x of v.sensors) {
          if (x.value === undefined || x.at === undefined || x.error !== undefined) continue;
          const k = `${s.name}/${v.slot}/${x.number}`;
          let r = this.#rings.get(k);
          if (!r) {
            r = { at: [], value: [] };
            this.#rings.set(k, r);
          }
          if (r.at.at(-1) === x.at) continue;
          r.at.push(x.at);
          r.value.push(x.value);
          if (r.at.length > POINTS) {
            r.at.shift();
            r.value.shift();
          }
        }
  }

  /** [at, value] oldest first; empty when nothing was read. */
  of(shelf: string, slot: number, sensor: number): [number, number][] {
    const r = this.#rings.get(`${shelf}/${slot}/${sensor}`);
    return r ? r.at.map((t, i) => [t, r.value[i]!]) : [];
  }
}
