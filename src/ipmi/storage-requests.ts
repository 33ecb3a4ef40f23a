import { AtcaError } from '../errors.js';
import { le16 } from './bytes.js';
import {
  decodeSdrRepositoryInfo,
  decodeSensorRecord,
  SDR_HEADER_LENGTH,
  type SdrRepositoryInfo,
  type SensorRecord,
} from './sdr-record.js';
import { decodeSelEntry, decodeSelInfo, type SelEntry, type SelInfo } from './sel.js';
import { decodeSensorReading, type SensorReading } from './sensor-reading.js';
import type { IpmiSession } from './session.js';
import { IpmiCcError } from './shell-session.js';

/**
 * The IPMI storage and sensor requests atcad polls with — SDR repository, SEL, sensor
 * readings — over any IpmiSession. Requests here; decoding in the pure modules they import.
 */
const NETFN_STORAGE = 0x0a;
const NETFN_SENSOR = 0x04;
const CC_RESERVATION_CANCELLED = 0xc5;
export const CC_NOT_PRESENT = 0xcb;
/** Bytes per Get SDR: many controllers (ipmi_sim among them) refuse a whole record at once (CC 0xCA). */
const SDR_CHUNK = 16;
const LAST_RECORD = 0xffff;
const SHELF_MANAGER_IPMB = 0x20;
/** A repository longer than this is taken as a loop in its "next" links, not read forever. */
const MAX_RECORDS = 4096;

export const isCc = (e: unknown, cc: number): boolean => e instanceof IpmiCcError && e.cc === cc;

const lo = (n: number) => n & 0xff;
const hi = (n: number) => (n >> 8) & 0xff;

async function reserveSdr(s: IpmiSession): Promise<number> {
  const r = await s.raw({ netfn: NETFN_STORAGE, cmd: 0x22, data: [] });
  if (r.length < 2) throw new AtcaError('ATCA_ERR_BAD_RESPONSE', 'Reserve SDR Repository: short answer');
  return le16(r, 0);
}

async function readRecord(s: IpmiSession, reservation: number, id: number): Promise<{ next: number; bytes: number[] }> {
  const get = (offset: number, count: number) =>
    s.raw({ netfn: NETFN_STORAGE, cmd: 0x23, data: [lo(reservation), hi(reservation), lo(id), hi(id), offset, count] });
  const head = await get(0, SDR_HEADER_LENGTH);
  if (head.length < 2 + SDR_HEADER_LENGTH) throw new AtcaError('ATCA_ERR_BAD_RESPONSE', 'Get SDR: short header');
  const next = le16(head, 0);
  const bytes = head.slice(2, 2 + SDR_HEADER_LENGTH);
  const length = bytes[4]!;
  while (bytes.length < SDR_HEADER_LENGTH + length) {
    const want = Math.min(SDR_CHUNK, SDR_HEADER_LENGTH + length - bytes.length);
    const part = await get(bytes.length, want);
    if (part.length <= 2) throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `Get SDR ${id}: empty part`);
    bytes.push(...part.slice(2));
  }
  return { next, bytes };
}

export async function readSdrInfo(s: IpmiSession): Promise<SdrRepositoryInfo> {
  return decodeSdrRepositoryInfo(await s.raw({ netfn: NETFN_STORAGE, cmd: 0x20, data: [] }));
}

/** Every sensor record in the shelf manager's SDR repository; other record types are skipped. */
export async function readSensorRecords(s: IpmiSession): Promise<SensorRecord[]> {
  const info = await readSdrInfo(s);
  if (info.records === 0) return [];
  for (let attempt = 0; ; attempt++) {
    const reservation = await reserveSdr(s);
    const out: SensorRecord[] = [];
    try {
      let id = 0;
      for (let n = 0; n < MAX_RECORDS && id !== LAST_RECORD; n++) {
        const r = await readRecord(s, reservation, id);
        const rec = decodeSensorRecord(r.bytes);
        if (rec) out.push(rec);
        id = r.next;
      }
      return out;
    } catch (e) {
      // Someone changed the repository while we read it: start again, a few times at most.
      if (!isCc(e, CC_RESERVATION_CANCELLED) || attempt >= 2) throw e;
    }
  }
}

export async function readSelInfo(s: IpmiSession): Promise<SelInfo> {
  return decodeSelInfo(await s.raw({ netfn: NETFN_STORAGE, cmd: 0x40, data: [] }));
}

/** One SEL entry by record ID (0x0000 first, 0xFFFF last); rejects with CC 0xCB when there is none. */
export async function readSelEntry(s: IpmiSession, id: number): Promise<SelEntry> {
  return decodeSelEntry(
    await s.raw({ netfn: NETFN_STORAGE, cmd: 0x43, data: [0x00, 0x00, lo(id), hi(id), 0x00, 0xff] }),
  );
}

/** Get Sensor Reading of a sensor on a blade's IPMC, bridged through the shelf manager. */
export async function readSensor(s: IpmiSession, owner: number, sensor: number): Promise<SensorReading> {
  // The shelf manager's own sensors are asked directly: bridging to itself is not a route.
  const target = owner === SHELF_MANAGER_IPMB ? undefined : owner;
  return decodeSensorReading(
    await s.raw({ ...(target === undefined ? {} : { target }), netfn: NETFN_SENSOR, cmd: 0x2d, data: [sensor] }),
  );
}
