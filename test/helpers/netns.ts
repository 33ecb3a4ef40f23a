import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';

/**
 * Whether any of these programs runs in this process's network namespace. Pacemaker's IPC
 * names (libqb's abstract unix sockets) are per network namespace: a cluster in another one
 * (atcad-live-cluster.test.ts runs its own) cannot clash with a test here, one in ours can.
 */
export function runningInOurNetns(names: readonly string[]): boolean {
  let pids: string[];
  try {
    pids = execFileSync('pidof', [...names], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
  } catch {
    return false; // pidof exits 1 when none runs
  }
  const ours = readlinkSync('/proc/self/ns/net');
  return pids.some((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`) === ours;
    } catch {
      return false; // gone since pidof looked
    }
  });
}
