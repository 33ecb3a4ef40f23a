import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildShelfExtension } from './build-ext.js';
import { emuFile, lanConf } from './emu-files.js';
import { freePort } from './ports.js';
import type { ShelfSpec } from './shelf-spec.js';

/**
 * ipmi_sim's chassis_control program for the shelf manager's own (chassis) power: called as
 * `script <mc> get power…` / `script <mc> set power <0|1>`. Blades are powered through PICMG
 * commands, not this; it exists so chassis commands (fence_ipmilan's) get an answer.
 */
const CHASSIS_SCRIPT = `#!/bin/sh
state="$(dirname "$0")/chassis-power"
mc=$1; op=$2; shift 2
case "$op" in
get) for p in "$@"; do
       case "$p" in
       power) echo "power:$(cat "$state" 2>/dev/null || echo 1)" ;;
       boot) echo "boot:none" ;;
       esac
     done ;;
set) while [ $# -gt 1 ]; do
       case "$1" in power) echo "$2" > "$state" ;; esac
       shift 2
     done ;;
esac
exit 0
`;

/** Every simulator this process started and has not yet seen exit: killed if we exit first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface ShelfManagerOptions {
  /**
   * Runs ipmi_sim, and the `ss` that checks its ports, through this argv prefix: e.g.
   * ['nsenter', '-t', pid, '-n'] puts the shelf in another network namespace, next to a
   * cluster's fencer. The prefix must exec the command, not fork it (nsenter without -p does):
   * ipmi_sim is stopped by its PID. Our own sockets cannot reach that namespace, so readiness
   * is read with `ss` there; the console (inject, show) is still 127.0.0.1:consolePort from
   * this process, which the caller forwards into the namespace.
   */
  readonly commandPrefix?: readonly string[];
}

/**
 * One shelf manager: an OpenIPMI ipmi_sim process on free loopback ports, in its own
 * folder, loaded with the atca_shelf_ext module. Stopped by its PID.
 */
export class SimulatedShelfManager {
  readonly dir: string;
  readonly port: number;
  readonly consolePort: number;
  readonly picmgLog: string;
  readonly #prefix: readonly string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(dir: string, port: number, consolePort: number, prefix: readonly string[]) {
    this.dir = dir;
    this.port = port;
    this.consolePort = consolePort;
    this.picmgLog = join(dir, 'picmg.log');
    this.#prefix = prefix;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Started and not (yet) exited: stopped (SIGSTOP) counts as running. */
  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  static async start(spec: ShelfSpec, dir: string, opts: ShelfManagerOptions = {}): Promise<SimulatedShelfManager> {
    mkdirSync(join(dir, 'state'), { recursive: true });
    const sm = new SimulatedShelfManager(dir, await freePort(), await freePort(), opts.commandPrefix ?? []);
    const chassis = join(dir, 'chassis-control.sh');
    writeFileSync(chassis, CHASSIS_SCRIPT);
    chmodSync(chassis, 0o755);
    writeFileSync(
      join(dir, 'lan.conf'),
      lanConf({
        spec,
        port: sm.port,
        consolePort: sm.consolePort,
        extPath: buildShelfExtension(),
        picmgLog: sm.picmgLog,
        chassisScript: `${chassis} 0x20`,
        guid: randomBytes(16).toString('hex'),
      }),
    );
    writeFileSync(join(dir, 'shelf.emu'), emuFile(spec));
    writeFileSync(sm.picmgLog, '');
    await sm.#spawn();
    return sm;
  }

  async #spawn(): Promise<void> {
    // A fresh state folder each start, or main_sdr_add duplicates the SDRs.
    rmSync(join(this.dir, 'state'), { recursive: true, force: true });
    mkdirSync(join(this.dir, 'state'));
    const out = openSync(join(this.dir, 'ipmi_sim.log'), 'a');
    // ipmi_sim dies of SIGPIPE when it writes to a console client that has hung up; an
    // ignored signal survives exec, so a one-line trampoline sets that and becomes ipmi_sim
    // (same PID: we still stop it by its PID).
    const [file, ...prefixArgs] = [...this.#prefix, '/bin/sh'];
    const child = spawn(
      file!,
      [
        ...prefixArgs,
        '-c',
        'trap "" PIPE; exec "$0" "$@"',
        'ipmi_sim',
        '-c',
        join(this.dir, 'lan.conf'),
        '-f',
        join(this.dir, 'shelf.emu'),
        '-s',
        join(this.dir, 'state'),
        '-n',
      ],
      { cwd: this.dir, stdio: ['ignore', out, out] },
    );
    this.#child = child;
    live.add(child);
    this.#exited = new Promise((r) =>
      child.once('exit', () => {
        live.delete(child);
        r();
      }),
    );
    await this.#waitReady();
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = this.#child!;
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`ipmi_sim exited (${c.signalCode ?? c.exitCode}) during start-up:\n${this.log().slice(-2000)}`);
      }
      if ((await this.#consoleUp()) && this.#udpOwners() !== 'none') break;
      if (Date.now() > deadline) throw new Error(`ipmi_sim did not open its console:\n${this.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
    this.#assertSoleOwner();
  }

  #ss(args: readonly string[]): string {
    const [file, ...rest] = [...this.#prefix, 'ss', ...args];
    return execFileSync(file!, rest, { encoding: 'utf8' });
  }

  async #consoleUp(): Promise<boolean> {
    if (this.#prefix.length === 0) return tcpAccepts(this.consolePort);
    try {
      return this.#ss(['-H', '-tln', `sport = :${this.consolePort}`]).trim() !== '';
    } catch {
      return false;
    }
  }

  /** Who holds our UDP port: 'none' yet, 'us' alone, or the `ss` lines when others share it. */
  #udpOwners(): 'none' | 'us' | string {
    let ss = '';
    try {
      ss = this.#ss(['-H', '-uanp', `sport = :${this.port}`]);
    } catch {
      return 'us'; // no ss on this machine: nothing to check with
    }
    const owners = ss.split('\n').filter((l) => l.trim() !== '');
    if (owners.length === 0) return 'none';
    return owners.every((l) => l.includes(`pid=${this.pid},`)) ? 'us' : ss;
  }

  /** Fails if another process also holds our UDP port (SO_REUSEADDR would let it steal packets). */
  #assertSoleOwner(): void {
    const owners = this.#udpOwners();
    if (owners !== 'us') throw new Error(`UDP port ${this.port} is shared with another process:\n${owners}`);
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'ipmi_sim.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** The PICMG commands this shelf manager's blades received, as logged by the extension. */
  picmgCommands(): PicmgLogEntry[] {
    return parsePicmgLog(readFileSync(this.picmgLog, 'utf8'));
  }

  /** Freezes the process: it neither answers nor refuses, as a hung or cut-off shelf manager. */
  freeze(): void {
    this.#child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Whether the process is stopped (SIGSTOP, or `atcax_stop_on` stopping itself). */
  isStopped(): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      // Field 3 of /proc/<pid>/stat, after the parenthesised command name.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
    } catch {
      return false;
    }
  }

  /** Kills the process outright (SIGKILL, even when stopped): a shelf manager dying on the spot. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export interface PicmgLogEntry {
  readonly kind: 'picmg' | 'reply' | 'state';
  readonly mc: number;
  readonly cmd?: number;
  readonly data?: number[];
  readonly cc?: number;
  readonly from?: number;
  readonly to?: number;
}

/** Pure parser of the extension's log lines (see atca_shelf_ext.c). */
export function parsePicmgLog(text: string): PicmgLogEntry[] {
  const out: PicmgLogEntry[] = [];
  for (const line of text.split('\n')) {
    let m = /picmg mc=(0x[0-9a-f]+) cmd=(0x[0-9a-f]+) data=([0-9a-f ]*)/.exec(line);
    if (m) {
      const data =
        m[3]!.trim() === ''
          ? []
          : m[3]!
              .trim()
              .split(' ')
              .map((h) => Number.parseInt(h, 16));
      out.push({ kind: 'picmg', mc: Number(m[1]), cmd: Number(m[2]), data });
      continue;
    }
    m = /reply mc=(0x[0-9a-f]+) cmd=(0x[0-9a-f]+) cc=(0x[0-9a-f]+)/.exec(line);
    if (m) {
      out.push({ kind: 'reply', mc: Number(m[1]), cmd: Number(m[2]), cc: Number(m[3]) });
      continue;
    }
    m = /state mc=(0x[0-9a-f]+) M(\d)->M(\d)/.exec(line);
    if (m) out.push({ kind: 'state', mc: Number(m[1]), from: Number(m[2]), to: Number(m[3]) });
  }
  return out;
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
