// Shared by the unit tests: runs code expected to throw an AtcaError and returns it, so that a
// test can assert its code and message (and, for secrets, what the message must not contain).
import { AtcaError } from '../../src/errors.js';

export function catchAtcaError(fn: () => unknown): AtcaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AtcaError) return e;
    throw e;
  }
  throw new Error('expected an AtcaError to be thrown, but nothing was thrown');
}

export async function rejectedAtcaError(p: Promise<unknown>): Promise<AtcaError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AtcaError) return e;
    throw e;
  }
  throw new Error('expected the promise to reject with an AtcaError, but it resolved');
}
