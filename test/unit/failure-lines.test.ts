// What the agent prints when an action fails: the fence-agents family message Pacemaker and
// operators expect, then the specific message with its stable code.
import { describe, expect, it } from 'vitest';
import { AtcaError, ERRORS, type ErrorCode } from '../../src/errors.js';
import { resolveOptions } from '../../src/fence/resolve-options.js';
import { failureLines } from '../../src/fence/run-action.js';
import { catchAtcaError } from './catch-atca-error.js';

describe('failureLines', () => {
  it.each([
    ['ATCA_ERR_SHMC_UNREACHABLE', 'Unable to connect/login to fencing device'],
    ['ATCA_ERR_LOGIN_REJECTED', 'Unable to connect/login to fencing device'],
    ['ATCA_ERR_SHMC_LOST', 'Connection timed out'],
    ['ATCA_ERR_IPMI_TIMEOUT', 'Connection timed out'],
    ['ATCA_ERR_STATE_UNKNOWN', 'Failed: Unable to obtain correct plug status or plug is not available'],
    ['ATCA_ERR_BAD_RESPONSE', 'Failed: Unable to obtain correct plug status or plug is not available'],
    ['ATCA_ERR_POWER_OFF_TIMEOUT', 'Failed: Timed out waiting to power OFF'],
    ['ATCA_ERR_POWER_ON_TIMEOUT', 'Failed: Timed out waiting to power ON'],
    ['ATCA_ERR_IPMI_CC', 'Failed: The shelf refused the operation'],
    ['ATCA_ERR_FRU_LOCKED', 'Failed: The shelf refused the operation'],
    ['ATCA_ERR_INTERNAL', 'Failed: Internal error'],
  ] as [ErrorCode, string][])('%s: the family message, then "<message> [CODE]"', (code, family) => {
    const e = new AtcaError(code, 'slot 3');
    expect(failureLines(e)).toEqual([family, `${ERRORS[code].message}: slot 3 [${code}]`]);
  });

  it('an error without detail still carries its code', () => {
    expect(failureLines(new AtcaError('ATCA_ERR_INTERNAL'))).toEqual([
      'Failed: Internal error',
      'Internal error [ATCA_ERR_INTERNAL]',
    ]);
  });

  it.each([
    'ATCA_ERR_BAD_OPTION',
    'ATCA_ERR_UNKNOWN_OPTION',
    'ATCA_ERR_MISSING_OPTION',
    'ATCA_ERR_PASSWORD_SCRIPT',
    'ATCA_ERR_IPMITOOL_MISSING',
  ] as ErrorCode[])('%s is a usage error: one "Failed: ..." line', (code) => {
    expect(failureLines(new AtcaError(code, 'why'))).toEqual([`Failed: ${ERRORS[code].message}: why [${code}]`]);
  });

  it('reports a bad option value as resolveOptions words it', () => {
    const e = catchAtcaError(() => resolveOptions({ values: new Map([['ipport', 'x']]), warnings: [] }, {}));
    expect(failureLines(e)).toEqual([
      "Failed: Invalid option value: ipport: 'x' is not a non-negative integer [ATCA_ERR_BAD_OPTION]",
    ]);
  });

  it('reports an unknown action in the family words', () => {
    const e = catchAtcaError(() => resolveOptions({ values: new Map([['action', 'reboo']]), warnings: [] }, {}));
    expect(failureLines(e)).toEqual(["Failed: Unrecognised action 'reboo'"]);
  });

  it.each(Object.keys(ERRORS) as ErrorCode[])('%s gives one or two lines naming its code', (code) => {
    const lines = failureLines(new AtcaError(code, 'x'));
    if (code === 'ATCA_ERR_UNKNOWN_ACTION') {
      expect(lines).toEqual(['Failed: Unrecognised action x']);
    } else if (ERRORS[code].fence === 'usage') {
      expect(lines).toEqual([`Failed: ${ERRORS[code].message}: x [${code}]`]);
    } else {
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(`${ERRORS[code].message}: x [${code}]`);
    }
  });

  it.each([
    ['an Error', new Error('boom'), 'boom'],
    ['a TypeError', new TypeError('x is undefined'), 'x is undefined'],
    ['a string', 'boom', 'boom'],
    ['undefined', undefined, 'undefined'],
    ['a number', 42, '42'],
  ])('anything else (%s) is an internal error with its text', (_what, thrown, text) => {
    expect(failureLines(thrown)).toEqual(['Failed: Internal error', text]);
  });
});
