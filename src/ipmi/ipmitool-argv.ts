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

/**
 * The first thing the started process runs: it checks that its parent is still the process
 * that started it (`$PPID` is read after setpriv set the parent-death signal, so a parent that
 * died in between is caught here), then becomes ipmitool with its stderr merged into stdout.
 * ipmitool's path and arguments are positional parameters, never parsed by the shell.
 */
const TRAMPOLINE = 'p=$1; shift; [ "$PPID" = "$p" ] || exit 125; exec "$0" "$@" 2>&1';

/**
 * How to start ipmitool so that it dies with the process that started it, even on SIGKILL:
 * `setpriv --pdeathsig KILL` (util-linux) asks the kernel to SIGKILL it when its parent dies,
 * and that survives the `exec`s into sh and ipmitool (one process, one PID throughout).
 * Without setpriv it is the same minus the parent-death signal.
 */
export function ipmitoolLaunch(
  ipmitoolPath: string,
  argv: readonly string[],
  parentPid: number,
  setpriv: string | undefined,
): { file: string; args: string[] } {
  const sh = ['-c', TRAMPOLINE, ipmitoolPath, String(parentPid), ...argv];
  if (!setpriv) return { file: '/bin/sh', args: sh };
  return { file: setpriv, args: ['--pdeathsig', 'KILL', '--', '/bin/sh', ...sh] };
}
