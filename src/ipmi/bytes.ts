import { AtcaError } from '../errors.js';
import { hexByte } from './ipmitool-argv.js';

/** IPMI's multi-byte fields are little-endian (least significant byte first). */
export const le16 = (b: readonly number[], i: number): number => b[i]! | (b[i + 1]! << 8);
export const le32 = (b: readonly number[], i: number): number =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** A response that is not what the command promises: named, with its bytes. */
export function badResponse(what: string, bytes: readonly number[]): never {
  throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `${what}: [${bytes.map(hexByte).join(' ')}]`);
}
