// What ipmitool printed for one `raw` command, turned into an outcome: bytes, a completion
// code, no response at all, or something we cannot trust.
import { describe, expect, it } from 'vitest';
import { ccName, parseRawOutput } from '../../src/ipmi/parse-raw.js';

/** Formats bytes the way ipmitool's `raw` prints them: " %02x" each, a newline every 16 bytes. */
function ipmitoolHex(bytes: readonly number[]): string {
  let out = '';
  bytes.forEach((b, i) => {
    if (i > 0 && i % 16 === 0) out += '\n';
    out += ` ${b.toString(16).padStart(2, '0')}`;
  });
  return `${out}\n`;
}

const CC_LINE = 'Unable to send RAW command (channel=0x0 netfn=0x4 lun=0x0 cmd=0x2d rsp=0x83): Unknown (0x83)';
const DEST_UNAVAILABLE_LINE =
  'Unable to send RAW command (channel=0x0 netfn=0x2c lun=0x0 cmd=0x1 rsp=0xd3): Destination unavailable';
const NO_RESPONSE_LINE = 'Unable to send RAW command (channel=0x0 netfn=0x4 lun=0x0 cmd=0x2d)';

describe('parseRawOutput: successful responses', () => {
  it('reads one line of response bytes (Get Address Info for site 1)', () => {
    expect(parseRawOutput(' 00 41 82 ff 00 01 00\n', '')).toEqual({
      kind: 'ok',
      bytes: [0x00, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00],
    });
  });

  it('the test formatter prints what ipmitool prints', () => {
    expect(ipmitoolHex([0x04, 0xc0, 0x10, 0x00])).toBe(' 04 c0 10 00\n');
  });

  it.each([1, 15, 16, 17, 32, 40])('joins a %i-byte response wrapped over lines of 16', (n) => {
    const bytes = Array.from({ length: n }, (_, i) => (i * 37 + 5) & 0xff);
    expect(parseRawOutput(ipmitoolHex(bytes), '')).toEqual({ kind: 'ok', bytes });
  });

  it('accepts upper-case hex, CRLF line ends and extra blank lines', () => {
    expect(parseRawOutput('\r\n 0A FF\r\n\r\n 10\r\n', '')).toEqual({ kind: 'ok', bytes: [0x0a, 0xff, 0x10] });
  });

  it.each([
    ['nothing at all', ''],
    ['only a newline', '\n'],
    ['only whitespace', '  \n \n'],
  ])('an empty response with a quiet stderr is ok with no bytes (%s on stdout)', (_what, stdout) => {
    expect(parseRawOutput(stdout, '')).toEqual({ kind: 'ok', bytes: [] });
  });

  it('ignores unrelated stderr noise when stdout holds response bytes', () => {
    expect(parseRawOutput(' 00 01\n', 'Warning: something harmless\n')).toEqual({ kind: 'ok', bytes: [0x00, 0x01] });
  });
});

describe('parseRawOutput: failures reported on stderr', () => {
  it('reads the completion code from rsp=', () => {
    expect(parseRawOutput('', `${CC_LINE}\n`)).toEqual({ kind: 'cc', cc: 0x83, text: CC_LINE });
  });

  it('reads CC 0xD3 (destination unavailable) from a bridged PICMG command', () => {
    expect(parseRawOutput('', `${DEST_UNAVAILABLE_LINE}\n`)).toEqual({
      kind: 'cc',
      cc: 0xd3,
      text: DEST_UNAVAILABLE_LINE,
    });
  });

  it('accepts an upper-case completion code', () => {
    const line = 'Unable to send RAW command (channel=0x0 netfn=0x2c lun=0x0 cmd=0xc rsp=0xD5): Command not supported';
    expect(parseRawOutput('', line)).toMatchObject({ kind: 'cc', cc: 0xd5 });
  });

  it('reports no response when the failure line has no rsp=', () => {
    expect(parseRawOutput('', `${NO_RESPONSE_LINE}\n`)).toEqual({ kind: 'no-response', text: NO_RESPONSE_LINE });
  });

  it('reports no response also when the failure line carries a reason after the colon', () => {
    const line = `${NO_RESPONSE_LINE}: Timeout`;
    expect(parseRawOutput('', line)).toEqual({ kind: 'no-response', text: line });
  });

  it('keeps the last stderr line as the text when other lines come first', () => {
    const stderr = `Get Session Challenge command failed\n${CC_LINE}\n`;
    expect(parseRawOutput('', stderr)).toEqual({ kind: 'cc', cc: 0x83, text: CC_LINE });
  });

  it('a failure line on stderr wins over anything on stdout', () => {
    expect(parseRawOutput(' 00 01\n', CC_LINE)).toMatchObject({ kind: 'cc', cc: 0x83 });
    expect(parseRawOutput(' 00 01\n', NO_RESPONSE_LINE)).toMatchObject({ kind: 'no-response' });
  });
});

describe('parseRawOutput: output that cannot be trusted', () => {
  it.each([
    ['a word', 'Invalid data\n', 'Invalid data'],
    ['hex followed by text', ' 00 41\nsomething odd\n', 'something odd'],
    ['a single hex digit', ' 0 41\n', '0 41'],
    ['a 0x-prefixed byte', ' 0x41\n', '0x41'],
    ['non-hex letters', ' 00 zz\n', '00 zz'],
  ])('stdout with %s is garbled, naming the offending line', (_what, stdout, text) => {
    expect(parseRawOutput(stdout, '')).toEqual({ kind: 'garbled', text });
  });

  it('stray stderr with an empty stdout is garbled, not an empty success', () => {
    const stderr = '  Error: Unable to establish IPMI v2 / RMCP+ session\n';
    expect(parseRawOutput('', stderr)).toEqual({
      kind: 'garbled',
      text: 'Error: Unable to establish IPMI v2 / RMCP+ session',
    });
  });

  // KNOWN BUG (src/ipmi/parse-raw.ts, HEX_LINE): whitespace between byte pairs is optional in the
  // regex, but the bytes are then split on whitespace, so " 0041 82" passes as [0x41, 0x82] (a byte
  // lost) and "dead beef" as [0xdead, 0xbeef] (values that are not bytes). Remove `.fails` once fixed.
  it.each([' 0041 82\n', 'dead beef\n'])('tokens longer than one byte (%j) are garbled', (stdout) => {
    expect(parseRawOutput(stdout, '')).toMatchObject({ kind: 'garbled' });
  });
});

describe('ccName', () => {
  it.each([
    [0x83, 'CC 0x83 (NAK on write: the bridged IPMC did not answer)'],
    [0xc0, 'CC 0xc0 (node busy)'],
    [0xc1, 'CC 0xc1 (invalid command)'],
    [0xc3, 'CC 0xc3 (timeout)'],
    [0xc7, 'CC 0xc7 (request data length invalid)'],
    [0xc9, 'CC 0xc9 (parameter out of range)'],
    [0xcb, 'CC 0xcb (requested sensor, data or record not present)'],
    [0xcc, 'CC 0xcc (invalid data field in request)'],
    [0xce, 'CC 0xce (command response could not be provided)'],
    [0xd3, 'CC 0xd3 (destination unavailable)'],
    [0xd4, 'CC 0xd4 (insufficient privilege level)'],
    [0xd5, 'CC 0xd5 (command not supported in present state)'],
    [0xff, 'CC 0xff (unspecified error)'],
  ])('ccName(%i) is %j', (cc, name) => {
    expect(ccName(cc)).toBe(name);
  });

  it('pads the code to two digits and says "unknown" for a code it has no name for', () => {
    expect(ccName(0x05)).toBe('CC 0x05 (unknown)');
    expect(ccName(0x80)).toBe('CC 0x80 (unknown)');
  });

  it('names the code parseRawOutput read', () => {
    const r = parseRawOutput('', DEST_UNAVAILABLE_LINE);
    expect(r.kind === 'cc' && ccName(r.cc)).toBe('CC 0xd3 (destination unavailable)');
  });
});
