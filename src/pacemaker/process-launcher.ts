import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import {
  type CommandRunner,
  type LaunchedProcess,
  type ProcessSource,
  runCommand,
  runCommandFrom,
} from './command-runner.js';
import { LAUNCHER_SCRIPT } from './launcher-script.js';

const PERL = '/usr/bin/perl';
/** A launcher that has not even said it forked within this long is stuck: it is replaced. */
const NO_FORK_MS = 2000;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));
const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([k, v]) => [v, k as NodeJS.Signals]),
);
const hex = (parts: readonly string[]) => Buffer.from(parts.join('\0')).toString('hex');

/** A command the launcher runs, seen through the events runCommand listens to on a ChildProcess. */
class LaunchedCommand extends EventEmitter implements LaunchedProcess {
  pid: number | undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  #handedAt: number | undefined;
  #running = false;
  #exited = false;
  #closed = false;
  readonly #file: string;

  constructor(file: string) {
    super();
    this.#file = file;
  }

  get ended(): boolean {
    return this.#exited && this.#closed;
  }

  /** `at`: when the command was handed to process `pid` (epoch ms). */
  handed(pid: number, at: number | undefined): void {
    this.pid = pid;
    this.#handedAt = at;
  }

  /** `at`: when the launcher saw the exec done (epoch ms). */
  execed(at: number | undefined): void {
    this.#running = true;
    this.emit('spawn', this.#handedAt, at);
  }

  failed(errno: number, why?: string): void {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    // The message of Node's own spawn() error, so both paths read the same.
    const message = why ?? `spawn ${this.#file} ${code}`;
    this.emit('error', Object.assign(new Error(message), { code, errno: -errno }));
    this.#exited = this.#closed = true;
  }

  output(stream: string, data: Buffer): void {
    (stream === '1' ? this.stdout : this.stderr).write(data);
  }

  exit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    this.emit('exit', code, signal);
    if (this.#closed) this.emit('close');
  }

  streamsClosed(): void {
    this.#closed = true;
    this.stdout.end();
    this.stderr.end();
    if (this.#exited) this.emit('close');
  }

  /** The launcher is gone: the command is ended here, and says why where its output goes. */
  orphaned(): void {
    if (this.ended) return;
    // Handed its command, it may be running even if nobody saw the exec: nothing is left to
    // time it out or report on it.
    if (this.pid !== undefined) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (!this.#running) {
      this.failed(constants.errno.ECHILD, "atcad's process launcher ended before the command was seen to start");
      return;
    }
    this.stderr.write("\n[atcad's process launcher ended while this command ran; it was killed]\n");
    if (!this.#closed) this.streamsClosed();
    if (!this.#exited) this.exit(null, 'SIGKILL');
  }
}

/**
 * Starts atcad's commands from a small Perl process (launcher-script.ts) instead of with
 * spawn(). Node's spawn() forks atcad, and forking a process of atcad's size stalls it for
 * 5–16 ms on the machines we measured (docs/benchmarks.md): a trap left waiting, at the worst
 * moment — right when atcad acts. The launcher keeps spare processes forked ahead of need;
 * atcad hands a command to one with a single write to its control pipe, and it execs the
 * command: no shell, its own process group, stdin /dev/null, exactly the environment given.
 * Everything else (timeouts, killing the group, bounded output, errors) is runCommand's.
 *
 * If the launcher dies, commands under way are killed and fail (ATCA_ERR_PCMK_FAILED), and the
 * next command starts a new one; if atcad dies, the launcher sees its input end and exits.
 */
export class ProcessLauncher implements ProcessSource {
  #proc: ChildProcessByStdio<Writable, Readable, null> | undefined;
  /** Commands by the pid of their process. */
  readonly #byPid = new Map<number, LaunchedCommand>();
  /** Commands asked of the launcher (R), until it says which process has them. */
  readonly #asked = new Map<number, LaunchedCommand>();
  /** Spare processes, each with our end of its control pipe. */
  #spares: { pid: number; fd: number }[] = [];
  /** Whether commands go to spares (through /proc/<launcher>/fd); if not, each is asked with R. */
  #direct: boolean;
  #next = 1;
  #partial = '';

  readonly run: CommandRunner = runCommandFrom(this);

  /** `direct: false`: no spares; the launcher forks each command when asked (as when /proc cannot be opened). */
  constructor(opts: { direct?: boolean } = {}) {
    this.#direct = opts.direct ?? true;
  }

  /** The launcher's pid while it runs (its spares are its children). */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Starts the launcher now rather than at the first command (that one spawn() is atcad's). */
  warm(): this {
    this.#launcher();
    return this;
  }

  take(file: string, args: readonly string[], env: Readonly<Record<string, string>>): LaunchedProcess | undefined {
    const proc = this.#launcher();
    if (!proc) return undefined;
    const cmd = new LaunchedCommand(file);
    const message = `${hex([file, ...args])} ${hex(Object.entries(env).map(([k, v]) => `${k}=${v}`))}`;
    for (let spare = this.#spares.shift(); spare; spare = this.#spares.shift()) {
      // The moment the command is in its process's pipe: the write copies it and wakes the spare.
      // (The call may return only ms later: the spare, woken on this CPU, can run first.)
      const at = performance.timeOrigin + performance.now();
      try {
        writeSync(spare.fd, `${message}\n`);
      } catch {
        // It died waiting (EPIPE): the next one.
        continue;
      } finally {
        closeSync(spare.fd);
      }
      cmd.handed(spare.pid, at);
      this.#byPid.set(spare.pid, cmd);
      this.#hold(proc);
      return cmd;
    }
    const id = this.#next++;
    this.#asked.set(id, cmd);
    this.#hold(proc);
    proc.stdin.write(`R ${id} ${message}\n`);
    const stuck = setTimeout(() => {
      if (cmd.pid === undefined && this.#proc === proc) proc.kill('SIGKILL');
    }, NO_FORK_MS);
    stuck.unref();
    cmd.once('spawn', () => clearTimeout(stuck));
    cmd.once('error', () => clearTimeout(stuck));
    return cmd;
  }

  /** Ends the launcher and its spares (commands under way run on in their own process groups). */
  async close(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    this.#dropSpares();
    proc.stdin.end();
    const t = setTimeout(() => proc.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(t);
  }

  #launcher(): ChildProcessByStdio<Writable, Readable, null> | undefined {
    if (this.#proc) return this.#proc;
    if (!existsSync(PERL)) return undefined;
    const proc = spawn(PERL, ['-e', LAUNCHER_SCRIPT], {
      // Its own environment is not the commands': each carries theirs.
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'inherit'],
      shell: false,
      windowsHide: true,
    });
    this.#proc = proc;
    proc.stdout.setEncoding('latin1');
    proc.stdout.on('data', (s: string) => this.#receive(s));
    proc.stdin.on('error', () => undefined);
    proc.on('error', () => this.#gone(proc));
    proc.on('exit', () => this.#gone(proc));
    this.#hold(proc);
    return proc;
  }

  /** The launcher keeps atcad alive only while a command is under way. */
  #hold(proc: ChildProcessByStdio<Writable, Readable, null>): void {
    const busy = this.#byPid.size + this.#asked.size > 0;
    for (const h of [proc, proc.stdout, proc.stdin] as { ref(): void; unref(): void }[]) {
      if (busy) h.ref();
      else h.unref();
    }
  }

  #receive(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, first, a, b] = line.split(' ');
      const n = Number(first);
      if (kind === 'P') {
        this.#spare(n, Number(a), Number(b));
        continue;
      }
      if (kind === 'S' || kind === 'N') {
        const cmd = this.#asked.get(n);
        this.#asked.delete(n);
        if (!cmd) continue;
        if (kind === 'N') cmd.failed(Number(a));
        else {
          cmd.handed(Number(a), b === '-' || b === undefined ? undefined : Number(b));
          this.#byPid.set(Number(a), cmd);
        }
        continue;
      }
      const cmd = this.#byPid.get(n);
      if (!cmd) {
        // A spare that ended before it was handed anything.
        if (kind === 'E') this.#forgetSpare(n);
        continue;
      }
      switch (kind) {
        case 'X':
          cmd.execed(a === '-' || a === undefined ? undefined : Number(a));
          break;
        case 'F':
          cmd.failed(Number(a));
          break;
        case 'O':
          cmd.output(a ?? '2', Buffer.from(b ?? '', 'hex'));
          break;
        case 'E':
          cmd.exit(a === '-' ? null : Number(a), b === '-' ? null : (signalNames.get(Number(b)) ?? null));
          break;
        case 'C':
          cmd.streamsClosed();
          break;
      }
      if (cmd.ended) this.#byPid.delete(n);
    }
    if (this.#proc) this.#hold(this.#proc);
  }

  /** Opens our own end of a new spare's control pipe, through the launcher's /proc entry. */
  #spare(pid: number, launcherPid: number, fd: number): void {
    if (!this.#direct) return;
    try {
      this.#spares.push({ pid, fd: openSync(`/proc/${launcherPid}/fd/${fd}`, 'w') });
    } catch {
      // No /proc, or not ours to open: commands go through R, one fork each.
      this.#direct = false;
    }
  }

  #forgetSpare(pid: number): void {
    const i = this.#spares.findIndex((s) => s.pid === pid);
    if (i < 0) return;
    closeSync(this.#spares[i]!.fd);
    this.#spares.splice(i, 1);
  }

  #dropSpares(): void {
    for (const s of this.#spares.splice(0)) closeSync(s.fd);
  }

  #gone(proc: ChildProcessByStdio<Writable, Readable, null>): void {
    if (this.#proc !== proc) return;
    this.#proc = undefined;
    this.#partial = '';
    this.#dropSpares();
    for (const map of [this.#byPid, this.#asked] as Map<number, LaunchedCommand>[]) {
      for (const [k, cmd] of map) {
        map.delete(k);
        cmd.orphaned();
      }
    }
  }
}

let shared: ProcessLauncher | undefined;

/** The runner atcad uses: one launcher per process when Perl is there, else plain spawn(). */
export function defaultRunner(): CommandRunner {
  if (!existsSync(PERL)) return runCommand;
  shared ??= new ProcessLauncher().warm();
  return shared.run;
}
