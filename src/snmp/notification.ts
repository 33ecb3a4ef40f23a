import type { DomainEvent } from '../domain/events.js';
import { AtcaError } from '../errors.js';
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
  readonly oid: string;
  /** net-snmp's ObjectType name (OctetString, OID, TimeTicks, …). */
  readonly type: string;
  /** Buffers (OCTET STRING, Opaque, Counter64) as lowercase hex. */
  readonly value: string | number | boolean | null;
}

/** The varbinds as net-snmp decoded them: type is its ObjectType code. */
export interface RawVarbind {
  readonly oid: string;
  readonly type: number;
  readonly value: unknown;
}

export interface NotificationInput {
  /** The message's version field: 0 (SNMPv1), 1 (SNMPv2c) or 3. */
  readonly version: number;
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

function malformed(detail: string): AtcaError {
  return new AtcaError('ATCA_ERR_TRAP_MALFORMED', detail);
}

/**
 * Checks that the PDU is one its message version may carry (RFC 3584 §2.1: a v1 message
 * carries a Trap-PDU, v2c and v3 an SNMPv2-Trap-PDU or InformRequest-PDU), then decodes it.
 * A trap that is valid but no PET comes back without `pet`; a PET we do not map, without `event`.
 */
export function decodeNotification(n: NotificationInput, shelf: string, at: number): DecodedNotification {
  const version = n.version === 0 ? 1 : n.version === 1 ? 2 : n.version === 3 ? 3 : undefined;
  if (version === undefined) throw malformed(`SNMP version field ${n.version}`);
  let enterprise: string | undefined;
  let trapOid: string | undefined;
  let specific: number | undefined;
  let isPet = false;
  if (version === 1) {
    if (n.type !== PDU_TRAP_V1) throw malformed('an SNMPv1 message carrying an SNMPv2 notification PDU');
    enterprise = n.enterprise;
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
      const last = trapOid.slice(PET_TRAP_OID_PREFIX.length);
      // Ten digits at most, and no more than 32 bits: a PET specific-trap number is 0x00ssttdo.
      if (!/^\d{1,10}$/.test(last) || Number(last) > 0xffff_ffff) {
        throw malformed(`PET trap OID ${trapOid} has no 32-bit specific number`);
      }
      specific = Number(last);
      isPet = true;
    }
  }
  const head: DecodedNotification = {
    version,
    ...(specific === undefined ? {} : { specific }),
    ...(enterprise === undefined ? {} : { enterprise }),
    ...(trapOid === undefined ? {} : { trapOid }),
  };
  if (!isPet || specific === undefined) return head;
  const bytes = n.varbinds.find((v) => v.oid === PET_VARBIND_OID && v.type === TYPE_OCTET_STRING)?.value;
  if (!Buffer.isBuffer(bytes)) throw malformed(`PET without an OCTET STRING ${PET_VARBIND_OID}`);
  const pet = decodePet(bytes);
  const event = petToEvent(pet, specific, shelf, at);
  return event === undefined ? { ...head, pet } : { ...head, pet, event };
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

function varbindValue(v: unknown): TrapVarbind['value'] {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

/** The varbinds in journal form (type names, buffers as hex). */
export function journalVarbinds(varbinds: readonly RawVarbind[]): TrapVarbind[] {
  return varbinds.map((v) => ({
    oid: v.oid,
    type: TYPE_NAMES[v.type] ?? String(v.type),
    value: varbindValue(v.value),
  }));
}
