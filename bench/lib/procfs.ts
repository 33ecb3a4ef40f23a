// What the kernel says about a process we started: its resident memory and its UDP sockets.
// Read from /proc only; /proc/<pid>/net/udp is the table of that process's network namespace.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** VmRSS of a process in kB, or undefined once it is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The inodes of the sockets a process holds (its /proc/<pid>/fd links "socket:[inode]"). */
export function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

export interface UdpSocketStats {
  readonly inode: string;
  /** Bytes waiting in the receive queue (the kernel's rx_queue, truesize accounting). */
  readonly rxQueue: number;
  /** Datagrams the kernel dropped for this socket since it was opened (buffer full). */
  readonly drops: number;
}

/**
 * The UDP socket of `pid` bound to local port `port`, from /proc/<pid>/net/udp (columns: sl,
 * local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout,
 * inode, ref, pointer, drops). Undefined while the process holds no such socket.
 */
export function udpSocket(pid: number, port: number): UdpSocketStats | undefined {
  const inodes = socketInodes(pid);
  if (inodes.size === 0) return undefined;
  let table: string;
  try {
    table = readFileSync(`/proc/${pid}/net/udp`, 'utf8');
  } catch {
    return undefined;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    if (f[1]!.split(':')[1] !== hexPort || !inodes.has(f[9]!)) continue;
    const rx = f[4]!.split(':')[1] ?? '0';
    return { inode: f[9]!, rxQueue: Number.parseInt(rx, 16), drops: Number(f[12]) };
  }
  return undefined;
}

/** PIDs of the children of `pid` (all its threads' children). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (c) out.push(...c.split(' ').map(Number));
    } catch {
      // the thread ended
    }
  }
  return out;
}
