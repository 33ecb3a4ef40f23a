import type { IpmiConnectOptions, IpmiEndpoint } from './session.js';

/**
 * The argv for an interactive ipmitool shell on one shelf manager. The password is never
 * here: `-E` makes ipmitool read it from IPMITOOL_PASSWORD in its environment.
 */
export function ipmitoolShellArgv(ep: IpmiEndpoint, o: IpmiConnectOptions): string[] {
  const argv = ['-I', o.lanplus ? 'lanplus' : 'lan', '-H', ep.host, '-p', String(ep.port)];
  if (o.username) argv.push('-U', o.username);
  if (o.password !== undefined) argv.push('-E');
  if (o.lanplus && o.cipher) argv.push('-C', o.cipher);
  if (o.privlvl) argv.push('-L', o.privlvl.toUpperCase());
  argv.push('-N', String(o.retransmitSec), '-R', String(o.retries), 'shell');
  return argv;
}

export function hexByte(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** The ipmitool shell line for one raw request (no bridging: that is set separately). */
export function rawCommandLine(netfn: number, cmd: number, data: readonly number[]): string {
  return ['raw', hexByte(netfn), hexByte(cmd), ...data.map(hexByte)].join(' ');
}
