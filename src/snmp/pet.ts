import { AtcaError } from '../errors.js';

/**
 * IPMI Platform Event Trap (PET) decoding: the varbind bytes and the specific-trap number.
 * Pure functions; layout and sources in docs/atca-domain.md §4 (FreeIPMI ipmi-pet, OpenIPMI).
 */

/** SNMPv1 enterprise of a PET (3183 = "Wired for Management"). */
export const PET_ENTERPRISE = '1.3.6.1.4.1.3183.1.1';
/** The one varbind of a PET, an OCTET STRING holding the record decoded by decodePet. */
export const PET_VARBIND_OID = '1.3.6.1.4.1.3183.1.1.1';
/** A PET's snmpTrapOID.0 in SNMPv2 form is this prefix plus the specific-trap number. */
export const PET_TRAP_OID_PREFIX = '1.3.6.1.4.1.3183.1.1.0.';

/** OpenIPMI accepts 46 bytes (no OEM terminator); FreeIPMI wants 47. We take 46 and more. */
export const PET_MIN_LENGTH = 46;
/** PET timestamps count seconds from 1998-01-01 00:00; this is that instant in Unix seconds. */
export const PET_EPOCH_UNIX_SECONDS = 883_612_800;

const OEM_TERMINATOR = 0xc1;
/** A PET is at most 110 bytes (docs/atca-domain.md §4), so its OEM part at most 110 − 46. */
export const PET_OEM_MAX = 64;

export type PetSeverity =
  | 'unspecified'
  | 'monitor'
  | 'information'
  | 'ok'
  | 'non-critical'
  | 'critical'
  | 'non-recoverable'
  | 'unknown';

const SEVERITIES: ReadonlyMap<number, PetSeverity> = new Map([
  [0x00, 'unspecified'],
  [0x01, 'monitor'],
  [0x02, 'information'],
  [0x04, 'ok'],
  [0x08, 'non-critical'],
  [0x10, 'critical'],
  [0x20, 'non-recoverable'],
]);

/**
 * IANA enterprise numbers we expect in ATCA shelves, as ipmitool's IPMI_OEM table lists them
 * (include/ipmitool/ipmi.h). Used only to tell the byte order of PET bytes 40–43 apart. Note:
 * ipmitool gives 10297 to Advantech, not to Emerson/Artesyn, so it is listed under that name.
 */
export const KNOWN_MANUFACTURERS: ReadonlyMap<number, string> = new Map([
  [343, 'Intel'],
  [674, 'Dell'],
  [4337, 'Radisys'],
  [10297, 'Advantech'],
  [12634, 'PICMG'],
  [15000, 'Kontron'],
  [16394, 'Pigeon Point Systems'],
]);

export interface PetRecord {
  /** Bytes 0–15 as 32 lowercase hex digits, in wire order. */
  readonly guid: string;
  /** Bytes 16–17, MSB first: sequence number or cookie; with the timestamp, a duplicate filter. */
  readonly sequence: number;
  /**
   * Bytes 18–21: the sender's local clock, undefined when 0 (unspecified). Returned as read,
   * not corrected by utcOffsetMinutes (for UTC subtract that offset when it is defined).
   */
  readonly timestamp: Date | undefined;
  /** Bytes 22–23, signed minutes; undefined for 0xFFFF (unspecified). */
  readonly utcOffsetMinutes: number | undefined;
  readonly trapSourceType: number;
  readonly eventSourceType: number;
  /** Byte 26: the sender's own severity, by name; severityCode keeps the raw byte. */
  readonly severity: PetSeverity;
  readonly severityCode: number;
  /** Byte 27: IPMB address of the event generator (0xFF = unspecified). */
  readonly sensorDevice: number;
  readonly sensorNumber: number;
  readonly entity: number;
  readonly entityInstance: number;
  /** Bytes 31–38: event data 1–8 (ED1–ED3 are the IPMI event data bytes). */
  readonly eventData: readonly number[];
  readonly language: number;
  /** Bytes 40–43 in whichever byte order gives a known IANA number (else MSB first). */
  readonly manufacturerId: number;
  readonly manufacturerName: string | undefined;
  readonly manufacturerByteOrder: 'msb-first' | 'lsb-first';
  /** False when neither byte order gave a number in KNOWN_MANUFACTURERS. */
  readonly manufacturerKnown: boolean;
  /** Bytes 44–45, MSB first like the other multi-byte PET fields. */
  readonly systemId: number;
  /**
   * Bytes from 46 up to (not including) the first 0xC1 terminator, or to the end without one;
   * at most PET_OEM_MAX of them (a PET has no more), so that a peer's oversized record cannot
   * make the journal large.
   */
  readonly oem: readonly number[];
  /** Only when `oem` was cut to PET_OEM_MAX: how many bytes there were. */
  readonly oemLength?: number;
}

export interface SpecificTrap {
  /** Bits 23–16: IPMI sensor type (0xF0 FRU hot swap, 0x01 temperature, …). */
  readonly sensorType: number;
  /** Bits 15–8: event/reading type (0x01 threshold, 0x6F sensor-specific). */
  readonly eventType: number;
  /** Bit 7: the event is a deassertion. */
  readonly deassertion: boolean;
  /** Bits 3–0: the event offset; undefined when 0xF (unspecified). */
  readonly offset: number | undefined;
}

function decodeManufacturer(
  bytes: Buffer,
): Pick<PetRecord, 'manufacturerId' | 'manufacturerName' | 'manufacturerByteOrder' | 'manufacturerKnown'> {
  const msb = bytes.readUInt32BE(40);
  const lsb = bytes.readUInt32LE(40);
  // Dell sends 674 MSB first (00 00 02 A2); Pigeon Point sends 16394 LSB first (0A 40 00 00).
  // MSB first is the PET specification's order, so it wins when both (or neither) are known.
  for (const [id, order] of [
    [msb, 'msb-first'],
    [lsb, 'lsb-first'],
  ] as const) {
    const name = KNOWN_MANUFACTURERS.get(id);
    if (name !== undefined) {
      return { manufacturerId: id, manufacturerName: name, manufacturerByteOrder: order, manufacturerKnown: true };
    }
  }
  return {
    manufacturerId: msb,
    manufacturerName: undefined,
    manufacturerByteOrder: 'msb-first',
    manufacturerKnown: false,
  };
}

/**
 * Decodes the OCTET STRING of varbind 1.3.6.1.4.1.3183.1.1.1. Throws ATCA_ERR_TRAP_MALFORMED
 * when it is shorter than the 46 fixed bytes; longer records are accepted (the OEM part is free).
 */
export function decodePet(bytes: Buffer): PetRecord {
  if (bytes.length < PET_MIN_LENGTH) {
    throw new AtcaError(
      'ATCA_ERR_TRAP_MALFORMED',
      `PET varbind has ${bytes.length} bytes, fewer than the ${PET_MIN_LENGTH} of its fixed fields`,
    );
  }
  const seconds = bytes.readUInt32BE(18);
  const offsetRaw = bytes.readUInt16BE(22);
  const severityCode = bytes[26]!;
  const oemPart = bytes.subarray(PET_MIN_LENGTH);
  const end = oemPart.indexOf(OEM_TERMINATOR);
  // The OEM custom fields are nominally type/length-prefixed; we only journal them, so a 0xC1
  // inside a field's data (which would cut the field short here) costs nothing but log detail.
  const m = decodeManufacturer(bytes);
  const oem = end === -1 ? oemPart : oemPart.subarray(0, end);
  // Fields by name rather than an object spread: a spread costs microseconds per trap in V8.
  const out: PetRecord = {
    guid: bytes.toString('hex', 0, 16),
    sequence: bytes.readUInt16BE(16),
    timestamp: seconds === 0 ? undefined : new Date((seconds + PET_EPOCH_UNIX_SECONDS) * 1000),
    utcOffsetMinutes: offsetRaw === 0xffff ? undefined : bytes.readInt16BE(22),
    trapSourceType: bytes[24]!,
    eventSourceType: bytes[25]!,
    severity: SEVERITIES.get(severityCode) ?? 'unknown',
    severityCode,
    sensorDevice: bytes[27]!,
    sensorNumber: bytes[28]!,
    entity: bytes[29]!,
    entityInstance: bytes[30]!,
    eventData: [bytes[31]!, bytes[32]!, bytes[33]!, bytes[34]!, bytes[35]!, bytes[36]!, bytes[37]!, bytes[38]!],
    language: bytes[39]!,
    manufacturerId: m.manufacturerId,
    manufacturerName: m.manufacturerName,
    manufacturerByteOrder: m.manufacturerByteOrder,
    manufacturerKnown: m.manufacturerKnown,
    systemId: bytes.readUInt16BE(44),
    oem: oem.length === 0 ? [] : Array.from(oem.length > PET_OEM_MAX ? oem.subarray(0, PET_OEM_MAX) : oem),
  };
  if (oem.length > PET_OEM_MAX) (out as { oemLength?: number }).oemLength = oem.length;
  return out;
}

/**
 * Splits a PET specific-trap number (ASF DSP0136 §A.9): 0x00 | sensor type | event type |
 * direction bit 7, offset bits 3–0. net-snmp reads the field as a signed 32-bit integer, so
 * a negative number is taken as its unsigned form (bits 31–24 are then not 0 and ignored).
 */
export function decodeSpecificTrap(specific: number): SpecificTrap {
  if (!Number.isInteger(specific) || specific < -0x8000_0000 || specific > 0xffff_ffff) {
    throw new AtcaError('ATCA_ERR_TRAP_MALFORMED', `specific trap ${specific} is not a 32-bit integer`);
  }
  const v = specific >>> 0;
  const offset = v & 0x0f;
  return {
    sensorType: (v >>> 16) & 0xff,
    eventType: (v >>> 8) & 0xff,
    deassertion: (v & 0x80) !== 0,
    offset: offset === 0x0f ? undefined : offset,
  };
}
