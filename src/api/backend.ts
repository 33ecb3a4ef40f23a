import type { z } from 'zod';
import type { FaultClass } from '../domain/faults.js';
import type { JournalReadModel } from '../journal/read-model.js';
import type { ModelView } from '../shelf/model.js';
import type { alarm, status } from './schemas.js';

export type StatusView = z.infer<typeof status>;
export type AlarmView = z.infer<typeof alarm>;

/**
 * What the API reads and asks of atcad: a narrow interface the daemon implements (app.ts) and
 * tests may fill in. Reads are served from memory and the journal, never from a shelf
 * manager; a request never waits on IPMI.
 */
export interface ApiBackend {
  readonly version: string;
  now(): number;
  model(): ModelView;
  status(): StatusView;
  /** The journal's queries, or undefined while it is not open. */
  journal(): JournalReadModel | undefined;
  /** The configured slot of a node (the events carry slots, not nodes). */
  slotOfNode(node: string): { readonly shelf: string; readonly slot: number } | undefined;
  alarms(): AlarmView[];
  /**
   * The switch goes to the policy, in order with everything else, which journals it as a
   * decision with who and why (one that changes nothing is not journaled). Not done: no such
   * slot, or the configuration holds the slot in maintenance (a floor).
   */
  setMaintenance(
    shelf: string,
    slot: number,
    on: boolean,
    by: string,
    reason: string,
  ): 'accepted' | 'no-slot' | 'configured';
  /** False: no such shelf. Re-reads every slot's state and sensors now; journaled as an event. */
  pollNow(shelf: string, by: string, reason: string | undefined): boolean;
  /** False: no such active alarm. */
  ack(shelf: string, slot: number, fault: FaultClass, by: string, reason: string): boolean;
  /** What keeps atcad from being ready (empty: ready). */
  readiness(): string[];
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Recent readings of one sensor, [ms, value] oldest first. */
  sensorHistory(shelf: string, slot: number, sensor: number): [number, number][];
}
