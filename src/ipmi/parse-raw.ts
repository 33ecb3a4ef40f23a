/**
 * Pure parsers over what ipmitool printed for one `raw` command. ipmitool prints response
 * bytes as hex on stdout, and on failure a line on stderr such as
 *   Unable to send RAW command (channel=0x0 netfn=0x4 lun=0x0 cmd=0x2d rsp=0x83): Unknown (0x83)
 * — with `rsp=` when the far end answered with a completion code, without it when nothing answered.
 */
export type RawOutcome =
  | { readonly kind: 'ok'; readonly bytes: number[] }
  | { readonly kind: 'cc'; readonly cc: number; readonly text: string }
  | { readonly kind: 'no-response'; readonly text: string }
  | { readonly kind: 'garbled'; readonly text: string };

const RAW_FAIL = /Unable to send RAW command \([^)]*?(?:rsp=(0x[0-9a-fA-F]+))?\)(?::\s*(.*))?/;
const HEX_LINE = /^\s*[0-9a-fA-F]{2}(\s+[0-9a-fA-F]{2})*\s*$/;

export function parseRawOutput(stdout: string, stderr: string): RawOutcome {
  const fail = RAW_FAIL.exec(stderr);
  if (fail) {
    const text = stderr.trim().split('\n').pop() ?? '';
    if (fail[1] !== undefined) return { kind: 'cc', cc: Number.parseInt(fail[1], 16), text };
    return { kind: 'no-response', text };
  }
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) {
    // ipmitool prints nothing for an empty successful response; stderr noise means trouble.
    if (stderr.trim() === '') return { kind: 'ok', bytes: [] };
    return { kind: 'garbled', text: stderr.trim() };
  }
  const bytes: number[] = [];
  for (const line of lines) {
    if (!HEX_LINE.test(line)) return { kind: 'garbled', text: line.trim() };
    for (const tok of line.trim().split(/\s+/)) bytes.push(Number.parseInt(tok, 16));
  }
  return { kind: 'ok', bytes };
}

/** Names for the completion codes an operator meets on a shelf (IPMI 2.0 table 5-2, PICMG 3.0). */
const CC_NAMES: Record<number, string> = {
  192: 'node busy',
  193: 'invalid command',
  195: 'timeout',
  199: 'request data length invalid',
  201: 'parameter out of range',
  203: 'requested sensor, data or record not present',
  204: 'invalid data field in request',
  206: 'command response could not be provided',
  211: 'destination unavailable',
  212: 'insufficient privilege level',
  213: 'command not supported in present state',
  255: 'unspecified error',
  131: 'NAK on write: the bridged IPMC did not answer',
};

export function ccName(cc: number): string {
  return `CC 0x${cc.toString(16).padStart(2, '0')} (${CC_NAMES[cc] ?? 'unknown'})`;
}
