import type { PlatformEvent } from '../domain/platform-event.js';
import { badResponse, le16, le32 } from './bytes.js';

/**
 * Pure decoders for the System Event Log (IPMI 2.0 §31): Get SEL Info and Get SEL Entry
 * responses, and the 16-byte system event record inside. In an ATCA shelf the shelf manager
 * is the event receiver: its SEL gathers every IPMC's events, so one log tells the shelf's
 * history, including what lost UDP traps never delivered.
 */

/** Record ID 0x0000 asks for the first entry, 0xFFFF for the last; 0xFFFF as "next" ends the log. */
export const SEL_FIRST = 0x0000;
export const SEL_LAST = 0xffff;

const RECORD_SYSTEM_EVENT = 0x02;
const RECORD_LENGTH = 16;

export interface SelInfo {
  readonly entries: number;
  /** Seconds (shelf manager's clock) of the most recent addition and erase: a change means new entries. */
  readonly lastAddition: number;
  readonly lastErase: number;
}

export interface SelRecord {
  readonly id: number;
  readonly type: number;
  /** Shelf manager's timestamp, seconds; under 0x20000000 it counts from the controller's start. */
  readonly timestamp: number | undefined;
  /** The platform event, for a system event record whose generator is an IPMB controller. */
  readonly event: PlatformEvent | undefined;
  readonly raw: readonly number[];
}

export interface SelEntry {
  readonly next: number;
  readonly record: SelRecord;
}

export function decodeSelInfo(bytes: readonly number[]): SelInfo {
  if (bytes.length < 14) badResponse('Get SEL Info', bytes);
  return { entries: le16(bytes, 1), lastAddition: le32(bytes, 5), lastErase: le32(bytes, 9) };
}

export function decodeSelRecord(r: readonly number[]): SelRecord {
  if (r.length < RECORD_LENGTH) badResponse('SEL record', r);
  const id = le16(r, 0);
  const type = r[2]!;
  const raw = r.slice(0, RECORD_LENGTH);
  // OEM non-timestamped records (0xE0–0xFF) carry no time; everything else below them does.
  const timestamp = type < 0xe0 ? le32(r, 3) : undefined;
  if (type !== RECORD_SYSTEM_EVENT) return { id, type, timestamp, event: undefined, raw };
  const generator = r[7]!;
  // Generator ID bit 0: 0 = an IPMB slave address in bits 7:1; 1 = a system software ID, which
  // names no controller of the shelf.
  const ipmb = (generator & 0x01) === 0 ? generator & 0xfe : 0xff;
  const dirType = r[12]!;
  return {
    id,
    type,
    timestamp,
    raw,
    event: {
      ipmb,
      sensorType: r[10]!,
      sensorNumber: r[11]!,
      eventType: dirType & 0x7f,
      deassertion: (dirType & 0x80) !== 0,
      eventData: [r[13]!, r[14]!, r[15]!],
    },
  };
}

/** Get SEL Entry's response: the next record's ID, then the record. */
export function decodeSelEntry(bytes: readonly number[]): SelEntry {
  if (bytes.length < 2 + RECORD_LENGTH) badResponse('Get SEL Entry', bytes);
  return { next: le16(bytes, 0), record: decodeSelRecord(bytes.slice(2)) };
}
