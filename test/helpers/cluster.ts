// A real one-node Pacemaker cluster (corosync + pacemakerd) for tests, isolated as
// docs/pacemaker-fencing.md §7 describes: its own mount, network, UTS and PID namespaces, with
// bind mounts over the cluster's folders and tmpfs on /dev/shm and /run, all backed by a
// temporary folder. libqb IPC uses abstract unix sockets (scoped to the network namespace) and
// /dev/shm, so neither the host's tools nor another test's fencer can see this cluster.
// Everything is stopped by PID, pass or fail; the namespaces die with their holder.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { Socket as UdpSocket } from 'node:dgram';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCrmMonNodes } from '../../src/pacemaker/actuator.js';
import { freePort } from '../../src/sim/ports.js';
import { tool } from './tool.js';
import { alive, until as waitUntil } from './wait.js';

export const CLUSTER_TOOLS = ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/sbin/corosync', '/usr/sbin/pacemakerd'];

/** The one environment for everything run inside: nothing of the test runner's leaks in. */
const BASE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/** Bind-mounted over the host's folders, inside the node's mount namespace only. */
const BINDS: Readonly<Record<string, string>> = {
  'etc-corosync': '/etc/corosync',
  'lib-corosync': '/var/lib/corosync',
  'lib-pacemaker': '/var/lib/pacemaker',
  'log-corosync': '/var/log/corosync',
  'log-pacemaker': '/var/log/pacemaker',
};

// pid 1 of the new PID namespace: mounts (private: unshare's default propagation), loopback,
// host name, then it only holds the namespaces. `set -e`: a failed mount ends it at once.
// It then reads its stdin, a pipe from the test process, until EOF: if the test process dies
// without its afterAll (SIGKILL), pid 1 exits and the kernel kills everything inside.
const HOLDER = `set -e
d=$1
${Object.entries(BINDS)
  .map(([src, dst]) => `mount --bind "$d/${src}" ${dst}`)
  .join('\n')}
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
ip link set lo up
hostname "$2"
echo ready
exec cat >/dev/null`;

// Pipes stdin/stdout to a TCP port on the namespace's loopback (see forwardTcp).
const RELAY = `const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
process.stdin.pipe(s);
s.pipe(process.stdout);
s.on('error', () => process.exit(1));
s.on('close', () => process.exit(0));`;

// Binds a UDP socket on the namespace's loopback and hands it to the parent over the IPC
// channel (SCM_RIGHTS): a socket keeps the network namespace it was made in.
const UDP_SOCKET = `const s = require('node:dgram').createSocket('udp4');
s.bind(0, '127.0.0.1', () => process.send('socket', s));
process.on('disconnect', () => process.exit(0));`;

/**
 * Makes 127.0.0.1:`port` here reach the same port in the network namespace `enter` (nsenter's
 * argv) names: each connection gets a relay run there. The server and the relays are added to
 * `servers` and `relays`, which their owner closes and kills when it stops.
 */
export async function forwardTcpInto(
  enter: readonly string[],
  port: number,
  servers: Server[],
  relays: Set<ChildProcess>,
): Promise<void> {
  const server = createServer((sock) => {
    const [file, ...args] = [...enter, '--', process.execPath, '-e', RELAY, String(port)];
    const relay = spawn(file!, args, { env: BASE_ENV, stdio: ['pipe', 'pipe', 'ignore'] });
    relay.once('error', () => sock.destroy());
    relays.add(relay);
    relay.once('exit', () => {
      relays.delete(relay);
      sock.destroy();
    });
    relay.stdin.on('error', () => undefined);
    sock.on('error', () => undefined);
    sock.pipe(relay.stdin);
    relay.stdout.pipe(sock);
    sock.once('close', () => relay.kill('SIGTERM'));
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Polls `f` until it gives something; generous (60 s, 200 ms steps): clusters start slowly. */
export function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  return waitUntil(what, f, ms, 200);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** The PID `parent` forked: nsenter -p and unshare --fork each fork the process that matters. */
async function childOf(parent: ChildProcess): Promise<number> {
  const pid = parent.pid!;
  return until(`the child of ${pid}`, () => {
    if (parent.exitCode !== null || parent.signalCode !== null) throw new Error(`${pid} exited before forking`);
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
      return first ? Number(first) : undefined;
    } catch {
      return undefined;
    }
  });
}

/** A long-running process inside the namespaces: nsenter (outside) and its child (inside). */
export class NsProcess {
  private constructor(
    readonly name: string,
    readonly nsenter: ChildProcess,
    /** The host PID of the process inside (nsenter -p forks it). */
    readonly pid: number,
    readonly logFile: string,
  ) {}

  static async start(name: string, nsenter: ChildProcess, logFile: string): Promise<NsProcess> {
    return new NsProcess(name, nsenter, await childOf(nsenter), logFile);
  }

  get running(): boolean {
    return this.nsenter.exitCode === null && this.nsenter.signalCode === null;
  }

  log(tail = 3000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-tail);
    } catch {
      return '';
    }
  }

  /** Waits up to `ms` for it to exit by itself; true if it did. */
  async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    const done = await Promise.race([exited(this.nsenter).then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** `signal` to the process inside, then SIGKILL after `graceMs`; nsenter exits with it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    if (alive(this.pid)) process.kill(this.pid, signal);
    if (await this.waitExit(graceMs)) return;
    if (alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    if (!(await this.waitExit(5000))) this.nsenter.kill('SIGKILL');
    await exited(this.nsenter);
  }
}

export interface SpawnOptions {
  /** Added to the bare environment (PATH, LC_ALL) everything inside gets. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ClusterMember {
  readonly name: string;
  readonly id: number;
  readonly addr: string;
}

export interface ClusterOptions {
  /** The corosync node name (and host name) of this node. */
  readonly node: string;
  /** Cluster properties seeded into the CIB before start (dc-deadtime 2s is always set). */
  readonly properties?: Readonly<Record<string, string>>;
  /**
   * A node of a cluster of several (test/helpers/three-node.ts): every member, the shared
   * authkey, totem settings, and what connects this node's network namespace (run after its
   * holder starts, before corosync). Without it: one node on its loopback.
   */
  readonly members?: {
    readonly nodes: readonly ClusterMember[];
    readonly authkey: string;
    readonly totem: Readonly<Record<string, string | number>>;
    readonly connect: (initPid: number) => Promise<void>;
  };
}

/**
 * A one-node cluster in its own namespaces. `start` brings it up (about 5 s with the seeded
 * dc-deadtime); `run`/`spawn` put anything else inside; `stop` never throws.
 */
export class LiveCluster {
  readonly dir: string;
  readonly node: string;
  readonly #holder: ChildProcess;
  /** pid 1 of the namespace, as the host sees it: what nsenter enters. */
  readonly initPid: number;
  readonly #daemons: NsProcess[] = [];
  readonly #others: NsProcess[] = [];
  readonly #servers: Server[] = [];
  readonly #relays = new Set<ChildProcess>();

  private constructor(dir: string, node: string, holder: ChildProcess, initPid: number) {
    this.dir = dir;
    this.node = node;
    this.#holder = holder;
    this.initPid = initPid;
  }

  static async start(opts: ClusterOptions): Promise<LiveCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'atca-cluster-'));
    let cluster: LiveCluster | undefined;
    try {
      // A cluster of several has its own network namespaces: corosync's port is its own there.
      const knetPort = opts.members ? 5405 : await freePort();
      await prepareFolders(dir, opts, knetPort);
      const { holder, initPid } = await startHolder(dir, opts.node);
      cluster = new LiveCluster(dir, opts.node, holder, initPid);
      await opts.members?.connect(initPid);
      await cluster.#startDaemons();
      return cluster;
    } catch (e) {
      if (cluster) {
        const logs = cluster.logs();
        await cluster.stop();
        throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
      }
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** nsenter's options for the node's namespaces; `net` only for a process that must exec in place. */
  enter(which: 'all' | 'net' = 'all'): string[] {
    const ns = which === 'net' ? ['-n'] : ['-m', '-u', '-n', '-p'];
    return ['nsenter', '-t', String(this.initPid), ...ns];
  }

  /** Runs a command inside (a cluster tool, say) and waits for it. Never rejects. */
  run(argv: readonly string[], timeoutMs = 90_000, env: Record<string, string> = {}): Promise<RunResult> {
    const [file, ...args] = [...this.enter(), '--', ...argv];
    return new Promise((resolve) => {
      execFile(file!, args, { env: { ...BASE_ENV, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Starts a long-running process inside, its output in <dir>/<name>.log; `stop` stops it. */
  async spawn(name: string, argv: readonly string[], opts: SpawnOptions = {}): Promise<NsProcess> {
    const p = await this.#spawn(name, argv, opts);
    this.#others.push(p);
    return p;
  }

  async #spawn(name: string, argv: readonly string[], opts: SpawnOptions): Promise<NsProcess> {
    const logFile = join(this.dir, `${name}.log`);
    const out = openSync(logFile, 'a');
    const [file, ...args] = [...this.enter(), '--', ...argv];
    const child = spawn(file!, args, {
      env: { ...BASE_ENV, ...opts.env },
      stdio: ['ignore', out, out],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    closeSync(out);
    return NsProcess.start(name, child, logFile);
  }

  /**
   * Makes 127.0.0.1:`port` of this process's network namespace reach the same port inside
   * (our own sockets cannot): each connection gets a relay run inside by nsenter.
   */
  forwardTcp(port: number): Promise<void> {
    return forwardTcpInto(this.enter('net'), port, this.#servers, this.#relays);
  }

  /**
   * A UDP socket of this process's, bound to 127.0.0.1 (a free port) inside the node's network
   * namespace: datagrams it sends reach the namespace's loopback with no relay in between
   * (a helper made inside passes the socket over its IPC channel, then exits).
   */
  async udpSocket(): Promise<UdpSocket> {
    const [file, ...args] = [...this.enter('net'), '--', process.execPath, '-e', UDP_SOCKET];
    const helper = spawn(file!, args, { env: BASE_ENV, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let err = '';
    helper.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    try {
      return await new Promise<UdpSocket>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no socket from the namespace within 10 s: ${err}`)), 10_000);
        helper.once('message', (_m, handle) => {
          clearTimeout(t);
          if (handle instanceof UdpSocket) resolve(handle);
          else reject(new Error('the namespace helper sent no UDP socket'));
        });
        helper.once('exit', (code) => {
          clearTimeout(t);
          reject(new Error(`the namespace helper exited (${code}): ${err}`));
        });
      });
    } finally {
      if (helper.connected) helper.disconnect();
      await Promise.race([exited(helper), new Promise((r) => setTimeout(r, 2000))]);
      if (helper.exitCode === null && helper.signalCode === null) helper.kill('SIGKILL');
    }
  }

  /** The tails of the cluster's own logs, for failure messages. */
  logs(tail = 3000): string {
    const read = (f: string) => {
      try {
        return readFileSync(f, 'utf8').slice(-tail);
      } catch {
        return '(none)';
      }
    };
    return [
      `--- corosync.log\n${read(join(this.dir, 'log-corosync/corosync.log'))}`,
      `--- pacemaker.log\n${read(join(this.dir, 'log-pacemaker/pacemaker.log'))}`,
      ...[...this.#daemons, ...this.#others].map((p) => `--- ${p.name}\n${p.log(tail)}`),
    ].join('\n');
  }

  async #startDaemons(): Promise<void> {
    const corosync = await this.#spawn('corosync', ['corosync', '-f'], {});
    this.#daemons.push(corosync);
    await until('corosync', async () => (await this.run(['corosync-cfgtool', '-s'], 10_000)).code === 0);
    this.#daemons.push(await this.#spawn('pacemakerd', ['pacemakerd'], {}));
    await until(
      `${this.node} online with a DC`,
      async () => {
        const r = await this.run(['crm_mon', '--one-shot', '--output-as=xml', '--include=summary,nodes'], 10_000);
        if (r.code !== 0 || !/<current_dc\s[^>]*present="true"/.test(r.stdout)) return undefined;
        return parseCrmMonNodes(r.stdout).some((n) => n.name === this.node && n.online) || undefined;
      },
      120_000,
    );
  }

  /**
   * Power loss: SIGKILL to pid 1 of the node's PID namespace — the kernel kills everything in
   * it at once, and the network namespace (its link to the others) goes with the last process.
   */
  powerOff(): void {
    if (alive(this.initPid)) process.kill(this.initPid, 'SIGKILL');
  }

  /** Stops everything by PID, in order, and removes the folder. Never throws. */
  async stop(): Promise<void> {
    const step = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch {
        // Carry on: the holder's death below ends whatever is left inside.
      }
    };
    for (const s of this.#servers) s.close();
    for (const r of this.#relays) r.kill('SIGKILL');
    for (const p of this.#others.reverse()) await step(() => p.stop());
    const [corosync, pacemakerd] = this.#daemons;
    if (pacemakerd?.running) {
      await step(() => this.run(['pacemakerd', '--shutdown'], 30_000));
      await step(async () => (await pacemakerd.waitExit(60_000)) || pacemakerd.stop('SIGKILL', 5000));
    }
    if (corosync?.running) {
      await step(() => this.run(['corosync-cfgtool', '-H'], 30_000));
      await step(async () => (await corosync.waitExit(20_000)) || corosync.stop('SIGTERM', 5000));
    }
    // unshare ignores SIGTERM; its death SIGKILLs pid 1 (--kill-child), which ends the namespace.
    if (this.#holder.exitCode === null && this.#holder.signalCode === null) this.#holder.kill('SIGKILL');
    await exited(this.#holder);
    keepLogs(this.dir, this.node);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * ATCA_KEEP_CLUSTER_LOGS=<folder>: each node's corosync and Pacemaker logs are copied there
 * when it stops (a node that died included), for reading a run afterwards.
 */
function keepLogs(dir: string, node: string): void {
  const keep = process.env.ATCA_KEEP_CLUSTER_LOGS;
  if (!keep) return;
  const to = join(keep, `${node}-${Date.now()}`);
  try {
    mkdirSync(to, { recursive: true });
    for (const f of ['log-corosync/corosync.log', 'log-pacemaker/pacemaker.log'])
      if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(to, f.split('/')[1]!));
  } catch {
    // A debugging aid: never a reason to fail a stop.
  }
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'hacluster'], { encoding: 'utf8' }).trim());
}

/** Config, key, seeded CIB and the folders the bind mounts need, all under `dir`. */
async function prepareFolders(dir: string, opts: ClusterOptions, knetPort: number): Promise<void> {
  for (const sub of Object.keys(BINDS)) mkdirSync(join(dir, sub));
  const uid = idOf('-u');
  const gid = idOf('-g');
  const lib = join(dir, 'lib-pacemaker');
  for (const sub of ['cib', 'pengine', 'blackbox', 'cores']) {
    mkdirSync(join(lib, sub));
    chownSync(join(lib, sub), uid, gid);
    chmodSync(join(lib, sub), 0o750);
  }
  chownSync(lib, uid, gid);
  chownSync(join(dir, 'log-pacemaker'), uid, gid);
  chmodSync(join(dir, 'log-pacemaker'), 0o770);

  const etc = join(dir, 'etc-corosync');
  if (opts.members) {
    copyFileSync(opts.members.authkey, join(etc, 'authkey'));
    chmodSync(join(etc, 'authkey'), 0o400);
  } else execFileSync('corosync-keygen', ['-k', join(etc, 'authkey')], { stdio: 'pipe' });
  writeFileSync(join(etc, 'corosync.conf'), corosyncConf(opts, knetPort));

  // A seeded CIB: without dc-deadtime 2s the node waits about 20 s to elect itself DC.
  const seed = join(dir, 'seed.xml');
  writeFileSync(seed, execFileSync('cibadmin', ['--empty'], { encoding: 'utf8' }));
  const props = { 'dc-deadtime': '2s', ...opts.properties };
  for (const [name, value] of Object.entries(props)) {
    const r = await tool('crm_attribute', ['--type', 'crm_config', '--name', name, '--update', value], seed);
    if (r.code !== 0) throw new Error(`seeding ${name}=${value}: ${r.stderr}`);
  }
  const cib = join(lib, 'cib/cib.xml');
  copyFileSync(seed, cib);
  chownSync(cib, uid, gid);
  chmodSync(cib, 0o600);
}

/** One `key: value` per line: corosync reads `node { … }` on one line as a parse error. */
function corosyncConf(opts: ClusterOptions, knetPort: number): string {
  const nodes = opts.members?.nodes ?? [{ name: opts.node, id: 1, addr: '127.0.0.1' }];
  const totem = Object.entries(opts.members?.totem ?? { token: 1000 })
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n');
  return `totem {
  version: 2
  cluster_name: atca-test
  transport: knet
  crypto_cipher: aes256
  crypto_hash: sha256
${totem}
  interface {
    linknumber: 0
    mcastport: ${knetPort}
  }
}
nodelist {
${nodes
  .map(
    (n) => `  node {
    ring0_addr: ${n.addr}
    name: ${n.name}
    nodeid: ${n.id}
  }`,
  )
  .join('\n')}
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_stderr: no
  to_syslog: no
  timestamp: hires
}
`;
}

async function startHolder(dir: string, node: string): Promise<{ holder: ChildProcess; initPid: number }> {
  const holder = spawn(
    'unshare',
    [
      '--mount',
      '--net',
      '--uts',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc=/proc',
      '--',
      '/bin/sh',
      '-c',
      HOLDER,
      'holder',
      dir,
      node,
    ],
    { env: BASE_ENV, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  holder.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  holder.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  try {
    await until('the namespace holder', () => {
      if (holder.exitCode !== null || holder.signalCode !== null) throw new Error(`unshare failed: ${out}`);
      return out.includes('ready\n') || undefined;
    });
    return { holder, initPid: await childOf(holder) };
  } catch (e) {
    holder.kill('SIGKILL');
    await exited(holder);
    throw e;
  }
}
