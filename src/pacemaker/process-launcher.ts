import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, fstatSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import {
  CLOSE_WAIT_MS,
  type CommandRunner,
  type LaunchedProcess,
  type ProcessSource,
  runCommand,
  runCommandFrom,
} from './command-runner.js';
import { execaRunner } from './execa-runner.js';
import { LAUNCHER_SCRIPT } from './launcher-script.js';

const PERL = '/usr/bin/perl';
/** A launcher asked for a command that says nothing at all for this long is stuck (see take()). */
const SILENT_MS = 10_000;

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
    // runCommand destroys the streams when it is done; later output is dropped, not thrown.
    this.stdout.on('error', () => undefined);
    this.stderr.on('error', () => undefined);
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
    const s = stream === '1' ? this.stdout : this.stderr;
    if (!s.writableEnded && !s.destroyed) s.write(data);
  }

  exit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    this.emit('exit', code, signal);
    if (this.#closed) this.emit('close');
  }

  streamsClosed(): void {
    this.#closed = true;
    if (!this.stdout.destroyed) this.stdout.end();
    if (!this.stderr.destroyed) this.stderr.end();
    if (this.#exited) this.emit('close');
  }

  /** The launcher is gone: the command is ended here, and says why where its output goes. */
  orphaned(): void {
    if (this.ended) return;
    // Handed its command, it may be running even if nobody saw the exec: nothing is left to
    // time it out or report on it.
    if (this.pid !== undefined) signal(-this.pid, 'SIGKILL');
    if (!this.#running) {
      this.failed(
        constants.errno.ECHILD,
        `atcad's process launcher ended before ${this.#file} was seen to start: whether it ran is unknown; its process group was killed`,
      );
      return;
    }
    this.output('2', Buffer.from("\n[atcad's process launcher ended while this command ran; it was killed]\n"));
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
  /** Commands by the serial of their process (the launcher's numbering; pids are reused). */
  readonly #bySerial = new Map<number, LaunchedCommand>();
  /** Commands asked of the launcher (R), until it says which process has them. */
  readonly #asked = new Map<number, LaunchedCommand>();
  /** Spare processes, each with our end of its control pipe. */
  #spares: { n: number; pid: number; fd: number }[] = [];
  /** Whether commands go to spares (through /proc/<launcher>/fd); if not, each is asked with R. */
  #direct: boolean;
  #next = 1;
  /** When the launcher last said anything (performance.now()). */
  #lastHeard = 0;

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
    const envList = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    if ([file, ...args, ...envList].some((x) => x.includes('\0'))) {
      // What spawn() refuses too; here it would silently split an argument in two.
      setImmediate(() => cmd.failed(constants.errno.EINVAL, `spawn ${file}: an argument or variable holds a NUL byte`));
      return cmd;
    }
    const line = `${hex([file, ...args])} ${hex(envList)}\n`;
    const message = Buffer.from(line);
    for (let spare = this.#spares.shift(); spare; spare = this.#spares.shift()) {
      // The moment the command is in its process's pipe: the write copies it and wakes the spare.
      // (The call may return only ms later: the spare, woken on this CPU, can run first.)
      const at = performance.timeOrigin + performance.now();
      let written = -1;
      try {
        written = writeSync(spare.fd, message);
      } catch {
        // It died waiting (EPIPE): the next one.
      } finally {
        closeSync(spare.fd);
      }
      if (written !== message.length) {
        // Dead, or a partial message it would wait on for ever: not this one.
        if (written >= 0) signal(spare.pid, 'SIGKILL');
        continue;
      }
      cmd.handed(spare.pid, at);
      this.#bySerial.set(spare.n, cmd);
      this.#hold(proc);
      return cmd;
    }
    const id = this.#next++;
    this.#asked.set(id, cmd);
    this.#hold(proc);
    const askedAt = performance.now();
    proc.stdin.write(`R ${id} ${line}`);
    // A launcher that has said nothing at all for this long since it was asked is stuck: it is
    // replaced. Checked after the pipe has been read (setImmediate runs after the poll phase),
    // so that a busy atcad does not mistake its own delay for the launcher's.
    const stuck = setTimeout(
      () =>
        setImmediate(() => {
          if (cmd.pid === undefined && this.#proc === proc && this.#lastHeard < askedAt) proc.kill('SIGKILL');
        }),
      SILENT_MS,
    );
    stuck.unref();
    cmd.once('spawn', () => clearTimeout(stuck));
    cmd.once('error', () => clearTimeout(stuck));
    return cmd;
  }

  /**
   * Ends the launcher and its spares. Commands still running are killed and fail (nothing
   * would be left to report on them); atcad itself never closes its launcher.
   */
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
    let partial = '';
    proc.stdout.setEncoding('latin1');
    proc.stdout.on('data', (chunk: string) => {
      // A launcher that was replaced has nothing more to say.
      if (this.#proc !== proc) return;
      this.#lastHeard = performance.now();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#receive(line);
      this.#hold(proc);
    });
    proc.stdin.on('error', () => undefined);
    proc.on('error', () => this.#gone(proc));
    proc.on('exit', () => this.#gone(proc));
    this.#hold(proc);
    return proc;
  }

  /** The launcher keeps atcad alive only while a command is under way. */
  #hold(proc: ChildProcessByStdio<Writable, Readable, null>): void {
    const busy = this.#bySerial.size + this.#asked.size > 0;
    for (const h of [proc, proc.stdout, proc.stdin] as { ref(): void; unref(): void }[]) {
      if (busy) h.ref();
      else h.unref();
    }
  }

  #receive(line: string): void {
    const [kind, first, a, b, c, d] = line.split(' ');
    const n = Number(first);
    const time = (x: string | undefined) => (x === '-' || x === undefined ? undefined : Number(x));
    if (kind === 'P') {
      this.#spare(n, Number(a), Number(b), Number(c), Number(d));
      return;
    }
    if (kind === 'S' || kind === 'N') {
      const cmd = this.#asked.get(n);
      this.#asked.delete(n);
      if (!cmd) return;
      if (kind === 'N') cmd.failed(Number(a));
      else {
        cmd.handed(Number(b), time(c));
        this.#bySerial.set(Number(a), cmd);
      }
      return;
    }
    const cmd = this.#bySerial.get(n);
    if (!cmd) {
      // A spare that ended before it was handed anything.
      if (kind === 'E') this.#forgetSpare(n);
      return;
    }
    switch (kind) {
      case 'X':
        cmd.execed(time(a));
        break;
      case 'F':
        cmd.failed(Number(a));
        break;
      case 'O':
        cmd.output(a ?? '2', Buffer.from(b ?? '', 'hex'));
        break;
      case 'E':
        cmd.exit(a === '-' ? null : Number(a), b === '-' ? null : (signalNames.get(Number(b)) ?? null));
        // runCommand waits this long for the output to end after an exit (a descendant may hold
        // it open for ever); past that, nobody reads it.
        setTimeout(() => {
          if (this.#bySerial.get(n) === cmd) this.#bySerial.delete(n);
          if (this.#proc) this.#hold(this.#proc);
        }, CLOSE_WAIT_MS).unref();
        break;
      case 'C':
        cmd.streamsClosed();
        break;
    }
    if (cmd.ended) this.#bySerial.delete(n);
  }

  /** Opens our own end of a new spare's control pipe, through the launcher's /proc entry. */
  #spare(n: number, pid: number, launcherPid: number, fd: number, inode: number): void {
    if (!this.#direct) return;
    let ours: number;
    try {
      ours = openSync(`/proc/${launcherPid}/fd/${fd}`, 'w');
    } catch (e) {
      // Gone already (the spare died and the launcher closed it): just not this one. Anything
      // else (no /proc, not ours to open): commands go through R, one fork each.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#direct = false;
      return;
    }
    // The descriptor may have been closed and reused since the launcher wrote this line.
    if (fstatSync(ours).ino !== inode) {
      closeSync(ours);
      return;
    }
    this.#spares.push({ n, pid, fd: ours });
  }

  #forgetSpare(n: number): void {
    const i = this.#spares.findIndex((s) => s.n === n);
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
    this.#dropSpares();
    for (const map of [this.#bySerial, this.#asked] as Map<number, LaunchedCommand>[]) {
      for (const [k, cmd] of map) {
        map.delete(k);
        cmd.orphaned();
      }
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

let shared: ProcessLauncher | undefined;

/** The runner atcad uses: one launcher per process when Perl is there, else plain spawn(). */
export function defaultRunner(): CommandRunner {
  // Until the end-to-end benchmark settles it (bench/), ATCAD_COMMAND_RUNNER=execa runs the
  // tools with execa instead of the launcher.
  if (process.env.ATCAD_COMMAND_RUNNER === 'execa') return execaRunner;
  if (!existsSync(PERL)) return runCommand;
  shared ??= new ProcessLauncher().warm();
  return shared.run;
}
