// The project's three-node harness: three corosync + Pacemaker nodes, each in mount, network,
// UTS and PID namespaces of its own (test/helpers/cluster.ts), joined by a bridge in a network
// namespace the harness creates (10.99.0.0/24; the bridge is 10.99.0.254, node i is 10.99.0.i),
// and the simulated shelf on that bridge made real to the cluster: a node dies the moment its
// blade's slot leaves M4 (its PID namespace is killed: power loss) — or, for a slot in
// `gracefulPayload`, when it reaches M1 as PICMG has it — and the shelf manager's
// traps go to atcad on node3 from the bridge's address. node1 and node2 are the blades that
// run the application; node3 is the quorum node. Everything is stopped by PID, pass or fail.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hotSwapPet, hotSwapTrapOid, snmptrapV2cArgs } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import type { ShelfSpec } from '../../src/sim/shelf-spec.js';
import { forwardTcpInto, LiveCluster } from './cluster.js';
import { TEST_SHELF } from './test-shelf.js';
import { alive } from './wait.js';

export const BRIDGE_ADDR = '10.99.0.254';
export const NODES = ['node1', 'node2', 'node3'] as const;
export type NodeName = (typeof NODES)[number];
export const addrOf = (i: number) => `10.99.0.${i + 1}`;
/** Debian's corosync.conf: token 3000 ms (three nodes: + token_coefficient 650 ms). */
export const DEBIAN_TOTEM = { token: 3000 } as const;

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));
}

export interface ThreeNodeOptions {
  readonly totem?: Readonly<Record<string, string | number>>;
  readonly properties?: Readonly<Record<string, string>>;
}

/** A hot-swap transition the shelf manager's extension logged, with its time (ms). */
export interface Transition {
  readonly at: number;
  readonly ipmb: number;
  readonly from: number;
  readonly to: number;
}

export class ThreeNodeCluster {
  readonly dir: string;
  readonly nodes: (LiveCluster | undefined)[] = [];
  /** Nodes killed because their slot left M4: when. */
  readonly deaths = new Map<NodeName, number>();
  readonly transitions: Transition[] = [];
  shelf!: SimulatedShelf;
  /** Where atcad (on node3) listens for traps; 0: nothing sends them. */
  trapPort = 0;
  community = 'Comm-three-42';
  #bridge!: ChildProcess;
  bridgePid = 0;
  readonly #servers: Server[] = [];
  readonly #relays = new Set<ChildProcess>();
  #watch: NodeJS.Timeout | undefined;
  #logOffset = 0;
  /** Cause to report in the shelf manager's trap for a slot's next step down (default: 1, commanded). */
  readonly nextCause = new Map<number, number>();
  /**
   * Slots whose payload keeps running through M5 and M6 and stops on reaching M1 (or M0), as
   * PICMG has it for a graceful deactivation; the others' node dies the moment it leaves M4.
   */
  readonly gracefulPayload = new Set<number>();
  readonly #o: ThreeNodeOptions;
  #boots = 0;
  /** snmptrap runs under way, one after the other (traps keep their order), stopped with the rest. */
  #traps: Promise<void> = Promise.resolve();
  readonly #trapProcs = new Set<ChildProcess>();
  readonly #buf = Buffer.alloc(65536);

  private constructor(dir: string, o: ThreeNodeOptions) {
    this.dir = dir;
    this.#o = o;
  }

  static async start(o: ThreeNodeOptions = {}): Promise<ThreeNodeCluster> {
    const c = new ThreeNodeCluster(mkdtempSync(join(tmpdir(), 'atca-three-')), o);
    try {
      await c.#startBridge();
      const spec: ShelfSpec = { ...TEST_SHELF, shelfManagers: 1, lanAddress: BRIDGE_ADDR };
      c.shelf = await SimulatedShelf.start(spec, { commandPrefix: c.enterBridge() });
      await forwardTcpInto(c.enterBridge(), c.shelf.managers[0]!.consolePort, c.#servers, c.#relays);
      execFileSync('corosync-keygen', ['-k', join(c.dir, 'authkey')], { stdio: 'pipe' });
      // Every boot settles before anything is judged: a failed one must not leave others running.
      const booted = await Promise.allSettled(NODES.map((_, i) => c.boot(i)));
      const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
      if (failed) throw failed.reason;
      c.#watch = setInterval(() => c.#readTransitions(), 10);
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  enterBridge(): string[] {
    return ['nsenter', '-t', String(this.bridgePid), '-n'];
  }

  /** Starts (or starts again) node i: its namespaces, its link to the bridge, corosync and Pacemaker. */
  async boot(i: number): Promise<LiveCluster> {
    const name = NODES[i]!;
    // A fresh name per boot: the link of a node that died goes away with its namespace, later.
    const veth = `v-${name}-${++this.#boots}`;
    // A node that died is cleaned up first (its folder, its processes' nsenter parents).
    await this.nodes[i]?.stop();
    this.nodes[i] = undefined;
    const node = await LiveCluster.start({
      node: name,
      properties: { 'stonith-enabled': 'true', 'node-health-strategy': 'migrate-on-red', ...this.#o.properties },
      members: {
        nodes: NODES.map((n, k) => ({ name: n, id: k + 1, addr: addrOf(k) })),
        authkey: join(this.dir, 'authkey'),
        totem: this.#o.totem ?? DEBIAN_TOTEM,
        connect: async (initPid) => {
          // A dead node's namespace took its end away; the bridge's end went with it.
          const ip = (args: string[]) => execFileSync('ip', args, { env: ENV, stdio: 'pipe' });
          ip([
            'link',
            'add',
            veth,
            'netns',
            String(this.bridgePid),
            'type',
            'veth',
            'peer',
            'eth0',
            'netns',
            String(initPid),
          ]);
          execFileSync(
            'nsenter',
            ['-t', String(this.bridgePid), '-n', 'ip', 'link', 'set', veth, 'master', 'br0', 'up'],
            { env: ENV },
          );
          execFileSync(
            'nsenter',
            ['-t', String(initPid), '-n', 'sh', '-c', `ip addr add ${addrOf(i)}/24 dev eth0 && ip link set eth0 up`],
            { env: ENV },
          );
        },
      },
    });
    this.nodes[i] = node;
    this.deaths.delete(name);
    return node;
  }

  node(i: number): LiveCluster {
    const n = this.nodes[i];
    if (!n) throw new Error(`${NODES[i]} is not running`);
    return n;
  }

  /** Where a node's Dummy resource `rsc` keeps its state file, seen from here (its own /run). */
  dummyState(i: number, rsc: string): string | undefined {
    const n = this.nodes[i];
    if (!n || this.deaths.has(NODES[i]!)) return undefined;
    // The resource's `state` parameter must be /run/Dummy-<rsc>.state (the node's own /run).
    return `/proc/${n.initPid}/root/run/Dummy-${rsc}.state`;
  }

  /** When `rsc` (ocf:pacemaker:Dummy) last started on node i (its state file's mtime), or undefined. */
  startedAt(i: number, rsc: string): number | undefined {
    const f = this.dummyState(i, rsc);
    if (!f) return undefined;
    try {
      return statSync(f).mtimeMs;
    } catch {
      return undefined;
    }
  }

  /** What the shelf manager sends: a PET for a hot-swap transition, from the bridge's address. */
  trap(specific: string, pet: Buffer): Promise<void> {
    if (this.trapPort === 0) return Promise.resolve();
    this.#traps = this.#traps.then(() => this.#sendTrap(specific, pet));
    return this.#traps;
  }

  #sendTrap(specific: string, pet: Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      const p = spawn(
        this.enterBridge()[0]!,
        [
          ...this.enterBridge().slice(1),
          'snmptrap',
          ...snmptrapV2cArgs(this.community, `${addrOf(2)}:${this.trapPort}`, specific, pet),
        ],
        {
          env: { ...ENV, HOME: this.dir, SNMP_PERSISTENT_DIR: join(this.dir, 'snmp') },
          stdio: 'ignore',
          timeout: 10_000,
        },
      );
      this.#trapProcs.add(p);
      const done = () => {
        this.#trapProcs.delete(p);
        resolve();
      };
      p.once('exit', done);
      p.once('error', done);
    });
  }

  /** The slot of node i (pcmk_host_map node1:1;node2:2;node3:3). */
  static slotOf(i: number): number {
    return i + 1;
  }

  #readTransitions(): void {
    const log = this.shelf.managers[0]!.picmgLog;
    let fd: number | undefined;
    try {
      if (statSync(log).size < this.#logOffset) this.#logOffset = 0; // truncated: from the start
      fd = openSync(log, 'r');
      const buf = this.#buf;
      const n = readSync(fd, buf, 0, buf.length, this.#logOffset);
      if (n <= 0) return;
      const text = buf.subarray(0, n).toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      this.#logOffset += Buffer.byteLength(text.slice(0, end + 1));
      for (const line of text.slice(0, end).split('\n')) {
        const m = /^(\d+)\.(\d+) state mc=0x([0-9a-f]{2}) M(\d)->M(\d)/.exec(line);
        if (m)
          this.#onTransition({
            at: Number(m[1]) * 1000 + Number(m[2]),
            ipmb: parseInt(m[3]!, 16),
            from: Number(m[4]),
            to: Number(m[5]),
          });
      }
    } catch {
      // Not there yet, or the shelf is stopping.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  #onTransition(t: Transition): void {
    this.transitions.push(t);
    if (this.transitions.length > 1000) this.transitions.splice(0, this.transitions.length - 1000);
    const i = NODES.findIndex((_, k) => this.shelf.ipmbOfSlot(ThreeNodeCluster.slotOf(k)) === t.ipmb);
    if (i < 0) return;
    const name = NODES[i]!;
    // The shelf manager reports it: a commanded step down (or the cause the test set), the
    // IPMC's own completion (0), an activation (0). The model is the issue's: a node dies the
    // moment its slot leaves M4 (a real payload keeps power through M5/M6 until M1).
    const cause = t.from === 4 ? (this.nextCause.get(i + 1) ?? 1) : 0;
    if (t.from === 4) this.nextCause.delete(i + 1);
    void this.trap(hotSwapTrapOid(t.to), hotSwapPet(t.ipmb, t.to, t.from, cause));
    // It leaves M4 (or, for a graceful payload, it reaches M1 or M0): the node is gone.
    const dies = this.gracefulPayload.has(i + 1) ? t.to === 1 || t.to === 0 : t.from === 4 && t.to !== 4;
    if (dies && !this.deaths.has(name)) {
      this.deaths.set(name, Date.now());
      this.nodes[i]?.powerOff();
    }
  }

  /**
   * The bridge and the shelf manager's address on it. The bridge's MAC is set once: left to the
   * kernel it follows the lowest MAC among its ports, so a node's death or boot (its link gone,
   * a new one added) changed the shelf manager's MAC, and the other nodes' ARP caches sent its
   * traffic nowhere for up to half a minute — fences and atcad's readings failing at random
   * right after a power loss. A real shelf manager's MAC does not move.
   */
  async #startBridge(): Promise<void> {
    const script = `set -e
ip link set lo up
ip link add br0 type bridge
ip link set br0 address 02:a7:ca:00:00:fe
ip addr add ${BRIDGE_ADDR}/24 dev br0
ip link set br0 up
echo ready
exec cat >/dev/null`;
    this.#bridge = spawn('unshare', ['--net', '--fork', '--kill-child', '--', '/bin/sh', '-c', script], {
      env: ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    this.#bridge.once('error', (e) => {
      out += `${e.message}\n`;
    });
    this.#bridge.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    this.#bridge.stderr!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const deadline = Date.now() + 10_000;
    while (!out.includes('ready\n')) {
      if (this.#bridge.exitCode !== null || Date.now() > deadline) throw new Error(`bridge namespace: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const pid = readFileSync(`/proc/${this.#bridge.pid}/task/${this.#bridge.pid}/children`, 'utf8')
      .trim()
      .split(' ')[0];
    if (!pid || !Number.isInteger(Number(pid)) || Number(pid) <= 1)
      throw new Error(`bridge namespace: no holder pid (${out})`);
    this.bridgePid = Number(pid);
  }

  /** A free port for something inside a node (all nodes' namespaces are their own). */
  static port(): Promise<number> {
    return freePort();
  }

  logs(tail = 2000): string {
    return this.nodes.map((n, i) => `===== ${NODES[i]}\n${n?.logs(tail) ?? '(not running)'}`).join('\n');
  }

  /** Stops everything by PID, pass or fail. Never throws. */
  async stop(): Promise<void> {
    if (this.#watch) clearInterval(this.#watch);
    for (const p of this.#trapProcs) p.kill('SIGKILL');
    await this.#traps;
    for (const s of this.#servers) s.close();
    for (const r of this.#relays) r.kill('SIGKILL');
    await Promise.all(this.nodes.map((n) => n?.stop()));
    try {
      await this.shelf?.stop();
    } catch {
      // The bridge's death below ends it.
    }
    if (this.#bridge && this.#bridge.exitCode === null) {
      this.#bridge.kill('SIGKILL');
      await exited(this.#bridge);
    }
    if (this.bridgePid && alive(this.bridgePid)) process.kill(this.bridgePid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
