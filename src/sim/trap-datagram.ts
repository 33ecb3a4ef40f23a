// PET trap datagrams for tests and benchmarks: built once by net-snmp's snmptrap (the
// same encoder a shelf manager's agent uses), captured on a loopback socket, then resent with
// a fresh PET sequence number and timestamp so that a receiver never drops one as a repeat.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodePet, PET_EPOCH_UNIX_SECONDS } from '../snmp/pet.js';
import { hotSwapPet, hotSwapSpecific, PET_ENTERPRISE_OID, PET_SEQUENCE_OFFSET, snmptrapV2cArgs } from './pet-trap.js';
import { freePort } from './ports.js';

/** Offset of the PET timestamp (seconds since 1998-01-01, MSB first) in the varbind. */
export const PET_TIMESTAMP_OFFSET = 18;

/** Specific trap of a temperature (sensor type 0x01) threshold event (type 0x01) at `offset`. */
export const temperatureSpecific = (offset: number, deassertion: boolean): number =>
  0x010100 | (deassertion ? 0x80 : 0) | offset;
/** Threshold offset 0x09: upper critical going high. DEFAULT_RULES: temperature-critical → health-red. */
export const UPPER_CRITICAL_HIGH = 0x09;

/**
 * The PET of a temperature threshold crossing on a blade's IPMC (atca-domain.md §4, §6):
 * ED1 = 0b0101 << 4 | offset (trigger reading in ED2, threshold in ED3).
 */
export function temperaturePet(
  ipmb: number,
  sensor: number,
  offset: number,
  asserted: boolean,
  reading: number,
): Buffer {
  const b = hotSwapPet(ipmb, 4, 4, 0); // the common fields; the event bytes are overwritten below
  b[26] = asserted ? 0x10 : 0x04; // critical / OK
  b[28] = sensor;
  b[29] = 0xa0; // entity: PICMG front board
  b[30] = 0x60;
  b[31] = 0x50 | offset;
  b[32] = reading;
  b[33] = 90; // the threshold, °C
  const d = decodePet(b);
  if (d.sensorDevice !== ipmb || d.sensorNumber !== sensor) throw new Error('temperaturePet: bad layout');
  return b;
}

/** A captured datagram and where its PET sits in it. */
export interface TrapTemplate {
  readonly datagram: Buffer;
  /** Byte offset of the PET varbind's value inside the datagram. */
  readonly petAt: number;
  /** The snmpTrapOID.0 (specific trap) it carries, for reports. */
  readonly specific: number;
}

/** Has snmptrap encode one v2c PET trap and catches it on a loopback socket. */
export async function captureTrap(
  community: string,
  specific: number,
  pet: Buffer,
  home: string,
): Promise<TrapTemplate> {
  mkdirSync(join(home, 'snmp'), { recursive: true });
  const port = await freePort();
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', () => resolve());
  });
  try {
    const got = new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('snmptrap sent nothing within 5 s')), 5000);
      sock.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    execFileSync(
      'snmptrap',
      snmptrapV2cArgs(community, `127.0.0.1:${port}`, `${PET_ENTERPRISE_OID}.0.${specific}`, pet),
      {
        env: { PATH: process.env.PATH, HOME: home, SNMP_PERSISTENT_DIR: join(home, 'snmp'), SNMPCONFPATH: home },
        stdio: 'ignore',
        timeout: 5000,
      },
    );
    const datagram = await got;
    const petAt = datagram.indexOf(pet);
    if (petAt < 0) throw new Error('the PET is not in the captured datagram');
    return { datagram, petAt, specific };
  } finally {
    sock.close();
  }
}

/** PET seconds for a Unix time in ms. */
export const petSeconds = (unixMs: number): number => Math.floor(unixMs / 1000) - PET_EPOCH_UNIX_SECONDS;

/**
 * A copy of the template with this sequence number (1–65535) and the current time as the PET
 * timestamp: a new trap, as a shelf manager numbers them. Sequence and timestamp are what a
 * receiver's duplicate filter compares, so two copies differ as long as fewer than 65,535
 * are stamped within one second.
 */
export function stamp(t: TrapTemplate, sequence: number, unixMs = Date.now()): Buffer {
  const copy = Buffer.from(t.datagram);
  copy.writeUInt16BE(sequence, t.petAt + PET_SEQUENCE_OFFSET);
  copy.writeUInt32BE(petSeconds(unixMs), t.petAt + PET_TIMESTAMP_OFFSET);
  return copy;
}

/** Hands out PET sequence numbers 1–65535, round and round (0 means "none" to a receiver). */
export class Sequence {
  #last: number;
  constructor(start = Math.floor(Math.random() * 0xffff)) {
    this.#last = start;
  }
  next(): number {
    this.#last = (this.#last % 0xffff) + 1;
    return this.#last;
  }
}

/** A hot-swap M2→M3 (activation in progress, cause normal) on a board: a valid PET no rule acts on. */
export const m3Pet = (ipmb: number): { specific: number; pet: Buffer } => ({
  specific: hotSwapSpecific(3),
  pet: hotSwapPet(ipmb, 3, 2, 0),
});

/** A hot-swap M4→M7 PET from an IPMB address no board of the shelf has: decoded, mapped to no slot. */
export const unmappedPet = (ipmb = 0xa0): { specific: number; pet: Buffer } => ({
  specific: hotSwapSpecific(7),
  pet: hotSwapPet(ipmb, 7, 4, 0xf),
});

/** Specific trap of a sensor-specific (event type 0x6F) event of `sensorType` at `offset`. */
export const discreteSpecific = (sensorType: number, offset: number, deassertion = false): number =>
  (sensorType << 16) | 0x6f00 | (deassertion ? 0x80 : 0) | offset;

/**
 * The PET of a discrete sensor's state on a blade's IPMC — processor IERR (0x07, offset 0),
 * a watchdog that reset the blade (0x23, offset 1) — as its PEF sends it (ED1 = offset, no
 * OEM data in ED2/ED3).
 */
export function discretePet(ipmb: number, sensor: number, offset: number, asserted: boolean): Buffer {
  const b = hotSwapPet(ipmb, 4, 4, 0);
  b[26] = asserted ? 0x10 : 0x04;
  b[28] = sensor;
  b[31] = offset;
  b[32] = 0xff;
  b[33] = 0xff;
  return b;
}
