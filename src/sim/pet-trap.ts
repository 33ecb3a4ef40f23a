/**
 * What a blade IPMC's PEF would send for a hot-swap transition, for tests and benchmarks that
 * feed atcad's trap receiver (ipmi_sim has no PET sender): the 47-byte IPMI Platform Event Trap
 * varbind (atca-domain.md §4) and the OIDs it travels under.
 */
export const PET_ENTERPRISE_OID = '.1.3.6.1.4.1.3183.1.1';
export const PET_VARBIND_OID = `${PET_ENTERPRISE_OID}.1`;
/** Specific-trap number of a hot-swap (0xF0, sensor-specific 0x6F) transition to M<state>. */
export const hotSwapSpecific = (state: number): number => 0xf06f00 | state;
/** snmpTrapOID.0 of that trap in SNMPv2c/v3. */
export const hotSwapTrapOid = (state: number): string => `${PET_ENTERPRISE_OID}.0.${hotSwapSpecific(state)}`;

const PET_EPOCH = 883612800; // 1998-01-01 UTC in Unix seconds
/** Byte offset of the PET's sequence number: a sender numbers its traps, a receiver drops repeats. */
export const PET_SEQUENCE_OFFSET = 16;
let lastSequence = 0;

/** 1–65535, then round again: 0 means "no sequence number" to a receiver. */
export function nextPetSequence(): number {
  lastSequence = (lastSequence % 0xffff) + 1;
  return lastSequence;
}

export function hotSwapPet(
  ipmb: number,
  to: number,
  from: number,
  cause: number,
  sequence = nextPetSequence(),
): Buffer {
  const b = Buffer.alloc(47);
  b.writeUInt16BE(sequence, PET_SEQUENCE_OFFSET);
  b.writeUInt32BE(Math.floor(Date.now() / 1000) - PET_EPOCH, 18);
  b.writeUInt16BE(0xffff, 22); // UTC offset unspecified
  b[24] = 0x20; // trap source: IPMI
  b[25] = 0x20; // event source: IPMI
  b[26] = 0x10; // critical
  b[27] = ipmb; // sensor device: the IPMC itself
  b[28] = 0; // hot-swap sensor number
  b[29] = 0xa0; // entity: PICMG front board
  b[30] = 0x60;
  b[31] = 0xa0 | to; // ED1: OEM data in ED2/ED3, new state
  b[32] = (cause << 4) | from; // ED2: cause, previous state
  b[33] = 0; // ED3: FRU 0
  b.fill(0xff, 34, 39);
  b[39] = 0x19; // language
  b[46] = 0xc1; // no OEM fields
  return b;
}

/** net-snmp `snmptrap` arguments for a v2c PET trap (no MIBs loaded). */
export function snmptrapV2cArgs(community: string, target: string, trapOid: string, pet: Buffer): string[] {
  return ['-m', '', '-v', '2c', '-c', community, target, '', trapOid, PET_VARBIND_OID, 'x', pet.toString('hex')];
}

/**
 * A copy of a captured trap datagram with another PET sequence number: the PET travels
 * verbatim inside the BER encoding (no length changes), and v1/v2c carry no integrity check.
 * For benchmarks that resend one capture many times without it being a duplicate.
 */
export function withPetSequence(datagram: Buffer, pet: Buffer, sequence: number): Buffer {
  const at = datagram.indexOf(pet);
  if (at < 0) throw new Error('the PET is not in this datagram');
  const copy = Buffer.from(datagram);
  copy.writeUInt16BE(sequence, at + PET_SEQUENCE_OFFSET);
  return copy;
}
