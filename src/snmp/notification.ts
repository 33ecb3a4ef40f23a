import { createHash } from 'node:crypto';
import type { DomainEvent } from '../domain/events.js';
import { AtcaError } from '../errors.js';
import { clip } from './clip.js';
import { decodePet, PET_ENTERPRISE, PET_TRAP_OID_PREFIX, PET_VARBIND_OID, type PetRecord } from './pet.js';
import { petToEvent } from './pet-event.js';

/**
 * What a notification PDU says, as the trap receiver delivers it: trap OID, PET and domain
 * event. Pure: no I/O, no clock (`at` is given). Throws only ATCA_ERR_TRAP_MALFORMED.
 */

/** SNMPv2-MIB snmpTrapOID.0 and snmpTrapEnterprise.0. */
const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
const SNMP_TRAP_ENTERPRISE = '1.3.6.1.6.3.1.1.4.3.0';
/** RFC 3584 §3.1: v1 generic traps 0–5 become snmpTraps.(generic + 1). */
const SNMP_TRAPS = '1.3.6.1.6.3.1.1.5';
const GENERIC_ENTERPRISE_SPECIFIC = 6;
/** PDU tags (RFC 3416 and RFC 1157). */
const PDU_TRAP_V1 = 0xa4;
const PDU_TRAP_V2 = 0xa7;
const PDU_INFORM = 0xa6;
/** net-snmp's ObjectType codes we look at. */
const TYPE_OCTET_STRING = 4;
const TYPE_OID = 6;

export interface TrapVarbind {
  /** At most JOURNAL_OID_CHARS characters, then `…(N chars)`. */
  readonly oid: string;
  /** net-snmp's ObjectType name (OctetString, OID, TimeTicks, …). */
  readonly type: string;
  /** Buffers (OCTET STRING, BIT STRING, Opaque, Counter64) as lowercase hex; cut short past JOURNAL_VALUE_CHARS. */
  readonly value: string | number | boolean | null;
  /** Only when `value` was cut short: the whole value's length, in bytes for a buffer, else in characters. */
  readonly length?: number;
  /** Only when `value` was cut short: SHA-256 (hex) of the whole value (its bytes, or its UTF-8). */
  readonly sha256?: string;
}

/** The varbinds left out of the journal form once it reached JOURNAL_VARBINDS_CHARS. */
export interface OmittedVarbinds {
  readonly count: number;
  /** Of the omitted values' bytes, in total (buffers; other values as their text). */
  readonly bytes: number;
  /** SHA-256 (hex) over each omitted varbind: its OID, NUL, type code, NUL, value bytes, NUL. */
  readonly sha256: string;
}

export interface JournalVarbinds {
  readonly varbinds: readonly TrapVarbind[];
  readonly omitted?: OmittedVarbinds;
}

/** The varbinds as net-snmp decoded them: type is its ObjectType code. */
export interface RawVarbind {
  readonly oid: string;
  readonly type: number;
  readonly value: unknown;
}

/** A notification PDU as net-snmp decodes it (enterprise, generic and specific: v1 Trap-PDU only). */
export interface NotificationPdu {
  readonly type: number;
  readonly varbinds: readonly RawVarbind[];
  readonly enterprise?: string;
  readonly generic?: number;
  readonly specific?: number;
}

export interface DecodedNotification {
  readonly version: 1 | 2 | 3;
  readonly specific?: number;
  readonly enterprise?: string;
  readonly trapOid?: string;
  readonly pet?: PetRecord;
  readonly event?: DomainEvent;
}

/** The last arc of a PET trap OID as a number: 1–10 digits, at most 32 bits; else undefined. */
function specificArc(trapOid: string): number | undefined {
  const from = PET_TRAP_OID_PREFIX.length;
  const len = trapOid.length - from;
  if (len < 1 || len > 10) return undefined;
  let v = 0;
  for (let i = from; i < trapOid.length; i++) {
    const d = trapOid.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v > 0xffff_ffff ? undefined : v;
}

function malformed(detail: string): AtcaError {
  return new AtcaError('ATCA_ERR_TRAP_MALFORMED', detail);
}

/**
 * `messageVersion` is the message's version field: 0 (SNMPv1), 1 (SNMPv2c) or 3.
 * Checks that the PDU is one its message version may carry (RFC 3584 §2.1: a v1 message
 * carries a Trap-PDU, v2c and v3 an SNMPv2-Trap-PDU or InformRequest-PDU), then decodes it.
 * A trap that is valid but no PET comes back without `pet`; a PET we do not map, without `event`.
 */
export function decodeNotification(
  messageVersion: number,
  n: NotificationPdu,
  shelf: string,
  at: number,
): DecodedNotification {
  const version = messageVersion === 0 ? 1 : messageVersion === 1 ? 2 : messageVersion === 3 ? 3 : undefined;
  if (version === undefined) throw malformed(`SNMP version field ${messageVersion}`);
  let enterprise: string | undefined;
  let trapOid: string | undefined;
  let specific: number | undefined;
  let isPet = false;
  if (version === 1) {
    if (n.type !== PDU_TRAP_V1) throw malformed('an SNMPv1 message carrying an SNMPv2 notification PDU');
    enterprise = n.enterprise;
    // net-snmp reads these INTEGERs without a range check: RFC 1157 makes them 32-bit.
    for (const [name, v] of [
      ['generic-trap', n.generic],
      ['specific-trap', n.specific],
    ] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff)) {
        throw malformed(`SNMPv1 ${name} ${v} is not a 32-bit INTEGER`);
      }
    }
    const generic = n.generic ?? -1;
    if (generic === GENERIC_ENTERPRISE_SPECIFIC && n.specific !== undefined) {
      specific = n.specific;
      trapOid = `${enterprise}.0.${specific}`;
      isPet = enterprise === PET_ENTERPRISE;
    } else if (generic >= 0 && generic < GENERIC_ENTERPRISE_SPECIFIC) {
      trapOid = `${SNMP_TRAPS}.${generic + 1}`;
    }
  } else {
    if (n.type !== PDU_TRAP_V2 && n.type !== PDU_INFORM) {
      throw malformed(`an SNMPv${version === 2 ? '2c' : '3'} message carrying an SNMPv1 Trap-PDU`);
    }
    for (const v of n.varbinds) {
      if (v.type !== TYPE_OID || typeof v.value !== 'string') continue;
      if (trapOid === undefined && v.oid === SNMP_TRAP_OID) trapOid = v.value;
      else if (enterprise === undefined && v.oid === SNMP_TRAP_ENTERPRISE) enterprise = v.value;
    }
    if (trapOid?.startsWith(PET_TRAP_OID_PREFIX)) {
      specific = specificArc(trapOid);
      if (specific === undefined) throw malformed(`PET trap OID ${clip(trapOid)} has no 32-bit specific number`);
      isPet = true;
    }
  }
  // Built by assignment: an object spread costs microseconds per trap in V8 (measured).
  const out: { -readonly [K in keyof DecodedNotification]: DecodedNotification[K] } = { version };
  if (specific !== undefined) out.specific = specific;
  if (enterprise !== undefined) out.enterprise = enterprise;
  if (trapOid !== undefined) out.trapOid = trapOid;
  if (!isPet || specific === undefined) return out;
  let bytes: unknown;
  for (const v of n.varbinds) {
    if (v.oid === PET_VARBIND_OID && v.type === TYPE_OCTET_STRING) {
      bytes = v.value;
      break;
    }
  }
  if (!Buffer.isBuffer(bytes)) throw malformed(`PET without an OCTET STRING ${PET_VARBIND_OID}`);
  out.pet = decodePet(bytes);
  const event = petToEvent(out.pet, specific, shelf, at);
  if (event !== undefined) out.event = event;
  return out;
}

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Boolean',
  2: 'Integer',
  3: 'BitString',
  4: 'OctetString',
  5: 'Null',
  6: 'OID',
  64: 'IpAddress',
  65: 'Counter',
  66: 'Gauge',
  67: 'TimeTicks',
  68: 'Opaque',
  70: 'Counter64',
  128: 'NoSuchObject',
  129: 'NoSuchInstance',
  130: 'EndOfMibView',
};

/**
 * How much of a trap's varbinds its journal form holds. A PET trap's (three varbinds, the PET's
 * 110 bytes at most as 220 hex digits) is far below each bound; a trap of a 4 KB datagram, at
 * most this much: an OID is cut at 128 characters, a value at 512 (256 bytes as hex), and
 * varbinds are listed while their JSON stays within 2,048 characters, the rest summarised.
 */
export const JOURNAL_OID_CHARS = 128;
export const JOURNAL_VALUE_CHARS = 512;
export const JOURNAL_VARBINDS_CHARS = 2048;

/** A value's bytes for hashing (a buffer's own; anything else as its text). */
function valueBytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v));
}

function textValue(v: unknown): string | number | boolean | null {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

function entry(v: RawVarbind): TrapVarbind {
  const oid = typeof v.oid === 'string' ? v.oid : String(v.oid);
  const out: { -readonly [K in keyof TrapVarbind]: TrapVarbind[K] } = {
    oid: clip(oid, JOURNAL_OID_CHARS),
    type: TYPE_NAMES[v.type] ?? String(v.type),
    value: null,
  };
  const raw = v.value;
  if (Buffer.isBuffer(raw)) {
    const keep = JOURNAL_VALUE_CHARS / 2;
    out.value = raw.toString('hex', 0, Math.min(raw.length, keep));
    if (raw.length > keep) {
      out.length = raw.length;
      out.sha256 = createHash('sha256').update(raw).digest('hex');
    }
    return out;
  }
  const value = textValue(raw);
  if (typeof value === 'string' && value.length > JOURNAL_VALUE_CHARS) {
    out.value = value.slice(0, JOURNAL_VALUE_CHARS);
    out.length = value.length;
    out.sha256 = createHash('sha256').update(value).digest('hex');
  } else {
    out.value = value;
  }
  return out;
}

function omitted(rest: readonly RawVarbind[]): OmittedVarbinds {
  const h = createHash('sha256');
  const nul = Buffer.alloc(1);
  let bytes = 0;
  for (const v of rest) {
    const b = valueBytes(v.value);
    bytes += b.length;
    h.update(String(v.oid)).update(nul).update(String(v.type)).update(nul).update(b).update(nul);
  }
  return { count: rest.length, bytes, sha256: h.digest('hex') };
}

/**
 * The varbinds in journal form (type names, buffers as hex), bounded whatever a peer sent: see
 * JOURNAL_VARBINDS_CHARS. A cut value carries its whole length and SHA-256, and the varbinds
 * past the bound their count, size and SHA-256, so that the journal can still tell two apart.
 */
export function journalVarbinds(varbinds: readonly RawVarbind[]): JournalVarbinds {
  const list: TrapVarbind[] = [];
  let chars = 2; // the list's brackets
  for (let i = 0; i < varbinds.length; i++) {
    const e = entry(varbinds[i]!);
    const size = JSON.stringify(e).length + 1;
    if (chars + size > JOURNAL_VARBINDS_CHARS) return { varbinds: list, omitted: omitted(varbinds.slice(i)) };
    list.push(e);
    chars += size;
  }
  return { varbinds: list };
}
