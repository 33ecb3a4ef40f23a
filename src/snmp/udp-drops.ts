import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The kernel's count of datagrams it dropped on one UDP socket (receive buffer full, bad
 * checksum, filter): the `drops` column of /proc/net/udp and /proc/net/udp6. Node has no API for
 * it, and without it a trap storm the daemon cannot keep up with is lost without a trace.
 */

/** One socket's line of /proc/net/udp{,6}, the fields we use. */
export interface UdpSocketLine {
  /** As the kernel prints it: hex, in host byte order per 32-bit word (0100007F is 127.0.0.1). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly inode: number;
  readonly drops: number;
}

/**
 * Parses the text of /proc/net/udp or /proc/net/udp6 (same columns: sl, local_address,
 * rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout, inode, ref, pointer,
 * drops). Pure; lines it cannot read are skipped.
 */
export function parseProcNetUdp(text: string): UdpSocketLine[] {
  const out: UdpSocketLine[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1]!;
    const colon = local.lastIndexOf(':');
    const localPort = Number.parseInt(local.slice(colon + 1), 16);
    const inode = Number(f[9]);
    const drops = Number(f[12]);
    if (colon < 0 || !Number.isInteger(localPort) || !Number.isInteger(inode) || !Number.isInteger(drops)) continue;
    out.push({ localAddress: local.slice(0, colon), localPort, inode, drops });
  }
  return out;
}

/** The inodes of the sockets this process holds open, from /proc/self/fd (`socket:[12345]`). */
export function ownSocketInodes(fdDir = '/proc/self/fd'): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(fdDir)) {
    let target: string;
    try {
      target = readlinkSync(`${fdDir}/${fd}`);
    } catch {
      continue; // closed meanwhile (readdir's own fd, for one)
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(Number(m[1]));
  }
  return inodes;
}

const TABLES = ['/proc/net/udp', '/proc/net/udp6'] as const;

function readTable(path: string): UdpSocketLine[] {
  try {
    return parseProcNetUdp(readFileSync(path, 'utf8'));
  } catch {
    return []; // no IPv6, or no /proc
  }
}

/**
 * Reads the kernel's drop count of one of this process's UDP sockets. The socket is found once
 * by its local port among the sockets this process holds (so another process's socket on the
 * same port, e.g. one that set SO_REUSEADDR, is never taken for ours), then followed by inode.
 */
export class UdpDropCounter {
  readonly #inode: number;
  readonly #table: string;

  private constructor(inode: number, table: string) {
    this.#inode = inode;
    this.#table = table;
  }

  /** Undefined when /proc does not tell (not Linux, or not exactly one of our sockets on `port`). */
  static find(port: number): UdpDropCounter | undefined {
    let own: Set<number>;
    try {
      own = ownSocketInodes();
    } catch {
      return undefined;
    }
    const found: [number, string][] = [];
    for (const table of TABLES) {
      for (const l of readTable(table)) {
        if (l.localPort === port && own.has(l.inode)) found.push([l.inode, table]);
      }
    }
    if (found.length !== 1) return undefined;
    const [inode, table] = found[0]!;
    return new UdpDropCounter(inode, table);
  }

  get inode(): number {
    return this.#inode;
  }

  /** The socket's drop count now; undefined once the socket is gone. */
  read(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.#table, 'utf8');
    } catch {
      return undefined;
    }
    // Find our line by inode without parsing the whole table (it has a line per UDP socket).
    const needle = ` ${this.#inode} `;
    let at = text.indexOf(needle);
    while (at >= 0) {
      const start = text.lastIndexOf('\n', at) + 1;
      const endNl = text.indexOf('\n', at);
      const line = text.slice(start, endNl < 0 ? text.length : endNl);
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && Number(f[9]) === this.#inode) {
        const drops = Number(f[12]);
        return Number.isInteger(drops) ? drops : undefined;
      }
      at = text.indexOf(needle, at + 1);
    }
    return undefined;
  }
}
