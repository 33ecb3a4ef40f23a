import type { DomainEvent } from '../domain/events.js';
import type { Logger } from '../log.js';
import { convertReading, type SdrRepositoryInfo, type SensorRecord } from './sdr-record.js';
import { type SensorReading, sensorChangeEvents } from './sensor-reading.js';
import type { IpmiSession } from './session.js';
import { readSdrInfo, readSensor, readSensorRecords } from './storage-requests.js';

/** What atcad last knew of one sensor: its description, last reading and value in units. */
export interface SensorState {
  readonly record: SensorRecord;
  readonly reading: SensorReading | undefined;
  readonly value: number | undefined;
  readonly at: number | undefined;
  /** Why the last attempt to read it failed, if it did. */
  readonly error: string | undefined;
}

export type RunOnShelf = <T>(step: (s: IpmiSession) => Promise<T>) => Promise<T>;

const HOTSWAP_SENSOR_TYPE = 0xf0;

/**
 * The blades' sensors as the shelf manager describes them (its SDR repository) and as their
 * IPMCs read them (Get Sensor Reading, bridged). Emits threshold and discrete events on change;
 * the hot-swap sensor is left to the hot-swap poll. A failed read leaves the last state in
 * place with the error beside it: a sensor that cannot be read is not "ok".
 */
export class SensorWatch {
  readonly #shelf: string;
  readonly #run: RunOnShelf;
  readonly #emit: (e: DomainEvent) => void;
  readonly #log: Logger;
  #repo: SdrRepositoryInfo | undefined;
  #byOwner = new Map<number, SensorRecord[]>();
  readonly #states = new Map<string, SensorState>();
  /** Claims made per sensor, to tell a reading from before one. */
  readonly #claims = new Map<string, number>();
  /** The next reading of each sensor is compared with nothing (see forgetReadings). */
  #levels = false;
  readonly #leveled = new Set<string>();

  constructor(shelf: string, run: RunOnShelf, emit: (e: DomainEvent) => void, log: Logger) {
    this.#shelf = shelf;
    this.#run = run;
    this.#emit = emit;
    this.#log = log;
  }

  /** Re-reads the SDR repository when it changed (or was never read). */
  async refreshRecords(): Promise<void> {
    const info = await this.#run((s) => readSdrInfo(s));
    const same =
      this.#repo &&
      info.records === this.#repo.records &&
      info.lastAddition === this.#repo.lastAddition &&
      info.lastErase === this.#repo.lastErase;
    if (same) return;
    const records = await this.#run((s) => readSensorRecords(s));
    const byOwner = new Map<number, SensorRecord[]>();
    for (const r of records) {
      // Our requests name no LUN: sensors behind LUN 1–3 are described but not polled.
      if (r.sensorType === HOTSWAP_SENSOR_TYPE || r.lun !== 0) continue;
      byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r]);
    }
    this.#byOwner = byOwner;
    this.#repo = info;
    this.#log.debug(`${this.#shelf}: ${records.length} sensor records in the shelf manager's SDR repository`);
  }

  /** Reads every sensor of one IPMC now, emits what changed, and returns their states. */
  async readOwner(owner: number, at = Date.now()): Promise<SensorState[]> {
    const out: SensorState[] = [];
    for (const record of this.#byOwner.get(owner) ?? []) {
      const key = `${owner}:${record.number}`;
      const claimsBefore = this.#claims.get(key) ?? 0;
      let state: SensorState;
      try {
        const reading = await this.#run((s) => readSensor(s, owner, record.number));
        // A claim made while this reading was on its way: the reading may be older than it,
        // so it neither confirms nor clears it; the next sweep reads the sensor again.
        if ((this.#claims.get(key) ?? 0) !== claimsBefore) {
          out.push(this.#states.get(key)!);
          continue;
        }
        const before = this.#states.get(key);
        const fresh = this.#levels && !this.#leveled.has(key);
        if (fresh) this.#leveled.add(key);
        const events = sensorChangeEvents(
          record,
          fresh ? undefined : before?.reading?.states,
          reading,
          this.#shelf,
          at,
        );
        // An unavailable reading keeps the last known states (nothing changed that we know of)
        // but says so: a stale state must never confirm anything.
        const usable = !reading.unavailable && reading.scanning;
        state = {
          record,
          reading: usable ? reading : (before?.reading ?? reading),
          value: usable ? convertReading(reading.raw, record.conversion) : before?.value,
          at,
          error: usable ? undefined : reading.unavailable ? 'reading unavailable' : 'sensor not scanning',
        };
        this.#states.set(key, state);
        for (const e of events) this.#emit(e);
      } catch (e) {
        const before = this.#states.get(key);
        state = {
          record,
          reading: before?.reading,
          value: before?.value,
          at: before?.at,
          error: (e as Error).message,
        };
        this.#states.set(key, state);
        // An IPMC that does not answer fails every sensor: one line is enough, the hot-swap
        // poll reports the IPMC itself.
        for (const rest of (this.#byOwner.get(owner) ?? []).filter((r) => r !== record)) {
          const k = `${owner}:${rest.number}`;
          const b = this.#states.get(k);
          this.#states.set(k, {
            record: rest,
            reading: b?.reading,
            value: b?.value,
            at: b?.at,
            error: state.error,
          });
        }
        this.#log.debug(`${this.#shelf}: sensors of IPMC 0x${owner.toString(16)}: ${state.error}`);
        return this.statesOf(owner);
      }
      out.push(state);
    }
    return out;
  }

  /**
   * Notes what a trap or SEL entry claims about a sensor state, so that the next reading is
   * compared with the claim: if the sensor does not show it, that reading reports it gone.
   * Without this a claim the sensor never held (a stray, a replay, a missed deassertion)
   * would stay asserted forever, since polling reports changes only.
   */
  claim(owner: number, sensor: number, bit: number, asserted: boolean): void {
    const key = `${owner}:${sensor}`;
    const s = this.#states.get(key);
    if (!s?.reading) return;
    this.#claims.set(key, (this.#claims.get(key) ?? 0) + 1);
    const states = asserted ? s.reading.states | (1 << bit) : s.reading.states & ~(1 << bit);
    this.#states.set(key, { ...s, reading: { ...s.reading, states } });
  }

  /**
   * Forgets the last readings (keeping what was read, for display, until the next reading):
   * the next reading of each sensor then reports its asserted states as they are, changed or not.
   */
  forgetReadings(): void {
    this.#levels = true;
    this.#leveled.clear();
  }

  statesOf(owner: number): SensorState[] {
    return (this.#byOwner.get(owner) ?? []).flatMap((r) => {
      const s = this.#states.get(`${owner}:${r.number}`);
      return s ? [s] : [{ record: r, reading: undefined, value: undefined, at: undefined, error: undefined }];
    });
  }
}
