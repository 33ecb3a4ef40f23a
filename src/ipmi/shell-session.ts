import { accessSync, constants, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { AtcaError } from '../errors.js';
import { hexByte, ipmitoolLaunch, ipmitoolShellArgv, rawCommandLine } from './ipmitool-argv.js';
import { ipmitoolHome } from './ipmitool-home.js';
import { ccName, parseRawOutput } from './parse-raw.js';
import type { IpmiConnectOptions, IpmiEndpoint, IpmiSession, RawRequest } from './session.js';

const PROMPT = 'ipmitool> ';
/** util-linux's setpriv (Essential in Debian; --pdeathsig since 2.33). */
export const SETPRIV = '/usr/bin/setpriv';
/** The shelf manager's own IPMB address; `set targetaddr` to it stops bridging. */
const SHMC_IPMB = 0x20;
const NETFN_APP = 0x06;
const CMD_GET_DEVICE_ID = 0x01;

/**
 * One RMCP(+) session kept open in an interactive `ipmitool shell` for the whole run of the
 * agent: a fence operation costs one session set-up and then about a millisecond per
 * request on a LAN, where one ipmitool process per request would pay the set-up and
 * ipmitool's PICMG discovery every time. Each prompt ends one command's output.
 */
export class IpmitoolShellSession implements IpmiSession {
  readonly peer: string;
  readonly #child: ShellChild;
  readonly #opts: IpmiConnectOptions;
  #out = '';
  #err = '';
  #exited = false;
  #waiter: (() => void) | undefined;
  #target = SHMC_IPMB;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ShellChild, peer: string, opts: IpmiConnectOptions) {
    this.#child = child;
    this.peer = peer;
    this.#opts = opts;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.#out += d;
      this.#waiter?.();
    });
    child.stderr.on('data', (d: string) => {
      // Only the trampoline itself could write here (ipmitool's stderr is merged into stdout).
      this.#err += d;
      this.#waiter?.();
    });
    child.on('close', () => {
      this.#exited = true;
      this.#waiter?.();
    });
    child.stdin.on('error', () => {
      // EPIPE after ipmitool died: reported through 'close' instead.
    });
  }

  static async open(ep: IpmiEndpoint, opts: IpmiConnectOptions): Promise<IpmitoolShellSession> {
    const peer = `${ep.host}:${ep.port}`;
    const argv = ipmitoolShellArgv(ep, opts);
    opts.log(`connecting to shelf manager ${peer}: ${opts.ipmitoolPath} ${argv.join(' ')}`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      TERM: 'dumb',
      LANG: 'C',
    };
    if (opts.password !== undefined) env.IPMITOOL_PASSWORD = opts.password;
    const home = ipmitoolHome();
    if (home) env.HOME = home;
    const started = performance.now();
    const { child } = await spawnChecked(opts.ipmitoolPath, argv, env, opts.warn ?? opts.log);
    const session = new IpmitoolShellSession(child, peer, opts);
    try {
      await session.#untilPrompt(opts.loginTimeoutMs, 'login');
    } catch (e) {
      session.#kill();
      const elapsed = performance.now() - started;
      const why = `${session.#out}${session.#err}`.trim().split('\n').pop() ?? '';
      if (e instanceof AtcaError && e.code === 'ATCA_ERR_IPMI_TIMEOUT') {
        throw new AtcaError('ATCA_ERR_SHMC_UNREACHABLE', `${peer} did not answer within ${opts.loginTimeoutMs} ms`);
      }
      // ipmitool says the same for a refused login and for silence; only the time tells them
      // apart: a refusal comes back at once, silence only after the first retransmit interval.
      if (elapsed < opts.retransmitSec * 1000 * 0.9) {
        throw new AtcaError(
          'ATCA_ERR_LOGIN_REJECTED',
          `${peer} refused the session (wrong username, password, cipher suite or privilege level): ${why}`,
        );
      }
      throw new AtcaError('ATCA_ERR_SHMC_UNREACHABLE', `${peer}: ${why || 'no answer'}`);
    }
    session.#consume();
    opts.log(`session open on ${peer} after ${Math.round(performance.now() - started)} ms`);
    return session;
  }

  /** The ipmitool process (for tests that check it does not outlive its parent). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  raw(req: RawRequest): Promise<number[]> {
    const run = this.#queue.then(() => this.#rawNow(req));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #rawNow(req: RawRequest): Promise<number[]> {
    const target = req.target ?? SHMC_IPMB;
    if (target !== this.#target) {
      await this.#command(`set targetaddr ${hexByte(target)}`);
      this.#target = target;
    }
    const line = rawCommandLine(req.netfn, req.cmd, req.data);
    const { stdout, stderr } = await this.#command(line);
    const where = target === SHMC_IPMB ? this.peer : `IPMB ${hexByte(target)} via ${this.peer}`;
    const outcome = parseRawOutput(stdout, stderr);
    this.#opts.log(
      `${where}: ${line} -> ${outcome.kind === 'ok' ? outcome.bytes.map(hexByte).join(' ') : stderr.trim()}`,
    );
    switch (outcome.kind) {
      case 'ok':
        return outcome.bytes;
      case 'cc':
        throw new IpmiCcError(outcome.cc, target, `${where}: ${line}: ${ccName(outcome.cc)}`);
      case 'no-response':
        // Bridged, no answer: the blade's IPMC may be the silent one, not the shelf manager.
        // Ask the shelf manager itself before blaming it (and failing over to the other one).
        if (target !== SHMC_IPMB && (await this.#shelfManagerAnswers())) {
          throw new IpmcSilentError(
            target,
            `${where}: no answer to ${line}, while the shelf manager itself answers: the IPMC at ${hexByte(target)} is silent`,
          );
        }
        throw new AtcaError('ATCA_ERR_SHMC_LOST', `${where}: no answer to ${line}`);
      case 'garbled':
        throw new AtcaError('ATCA_ERR_BAD_RESPONSE', `${where}: ${line}: ${outcome.text}`);
    }
  }

  /**
   * Get Device ID (App 0x01) of the shelf manager itself, on this session: true if it answers
   * at all (a completion code is an answer too). Transport failures propagate.
   */
  async #shelfManagerAnswers(): Promise<boolean> {
    if (this.#target !== SHMC_IPMB) {
      await this.#command(`set targetaddr ${hexByte(SHMC_IPMB)}`);
      this.#target = SHMC_IPMB;
    }
    const line = rawCommandLine(NETFN_APP, CMD_GET_DEVICE_ID, []);
    const { stdout, stderr } = await this.#command(line);
    const outcome = parseRawOutput(stdout, stderr);
    this.#opts.log(`${this.peer}: ${line} (is the shelf manager answering?) -> ${outcome.kind}`);
    return outcome.kind === 'ok' || outcome.kind === 'cc';
  }

  async #command(line: string): Promise<{ stdout: string; stderr: string }> {
    if (this.#exited) throw new AtcaError('ATCA_ERR_SHMC_LOST', `${this.peer}: ipmitool has exited`);
    this.#child.stdin.write(`${line}\n`);
    await this.#untilPrompt(this.#opts.commandTimeoutMs, line);
    return splitOutput(this.#consume(), line);
  }

  /** Takes everything before the last prompt off the buffer. */
  #consume(): string {
    const at = this.#out.indexOf(PROMPT);
    const text = at < 0 ? this.#out : this.#out.slice(0, at);
    this.#out = at < 0 ? '' : this.#out.slice(at + PROMPT.length);
    return text;
  }

  #untilPrompt(timeoutMs: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error) => {
        this.#waiter = undefined;
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (this.#out.includes(PROMPT)) done();
        else if (this.#exited)
          done(new AtcaError('ATCA_ERR_SHMC_LOST', `${this.peer}: ipmitool exited during ${what}`));
      };
      this.#waiter = check;
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.#kill();
          done(new AtcaError('ATCA_ERR_IPMI_TIMEOUT', `${this.peer}: no answer to "${what}" within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      check();
    });
  }

  #kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const closed = new Promise<void>((r) => this.#child.once('close', () => r()));
    this.#child.stdin.end('quit\n');
    const timer = setTimeout(() => this.#kill(), 1000);
    await closed;
    clearTimeout(timer);
  }
}

/** A completion code other than 0 from the shelf manager or a bridged IPMC. */
export class IpmiCcError extends AtcaError {
  readonly cc: number;
  readonly target: number;
  constructor(cc: number, target: number, detail: string) {
    super(cc === 0x83 ? 'ATCA_ERR_IPMC_UNREACHABLE' : 'ATCA_ERR_IPMI_CC', detail);
    this.cc = cc;
    this.target = target;
  }
}

/**
 * A bridged request that got no answer at all (ipmitool's `Unable to send RAW command` without
 * `rsp=`) while the shelf manager, asked on the same session, does answer: the blade's IPMC is
 * silent. Its state is unknown; the shelf manager is fine (no failover). Unlike CC 0x83 (the
 * IPMB write was not acknowledged: the request never reached the IPMC), a request may have
 * reached a silent IPMC and taken effect: a command's outcome is unknown, not refused.
 */
export class IpmcSilentError extends AtcaError {
  readonly target: number;
  constructor(target: number, detail: string) {
    super('ATCA_ERR_IPMC_UNREACHABLE', detail);
    this.target = target;
  }
}

/**
 * One command's text between two prompts → its stdout and stderr lines. ipmitool's stderr
 * is merged into stdout at spawn, so an error can never be taken for the next command's:
 * with two pipes, nothing orders an error line against the prompt that follows it.
 */
export function splitOutput(text: string, line: string): { stdout: string; stderr: string } {
  const lines = text.split('\n');
  // readline echoes the command when stdin is not a terminal; drop the echo.
  if (lines[0]?.trim() === line) lines.shift();
  const out: string[] = [];
  const err: string[] = [];
  for (const l of lines) (/^[\s0-9a-fA-F]*$/.test(l) ? out : err).push(l);
  return { stdout: out.join('\n'), stderr: err.join('\n') };
}

/** What the session needs of the ipmitool process (an execa subprocess). */
interface ShellChild {
  readonly pid?: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal: NodeJS.Signals): boolean;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

let setprivChecked: string | undefined | null = null;

/** setpriv's path if it can be run here; undefined (said once per process) if not. */
export function setprivPath(warn?: (line: string) => void): string | undefined {
  if (setprivChecked === null) {
    setprivChecked = isExecutable(SETPRIV) ? SETPRIV : undefined;
    if (!setprivChecked) {
      warn?.(
        `${SETPRIV} is missing (util-linux): child processes will not die with this one if it is killed with SIGKILL`,
      );
    }
  }
  return setprivChecked;
}

/**
 * Starts ipmitool (execa, no buffering: a session can live for months in atcad) tied to this
 * process: it gets SIGKILL from the kernel when this process dies, however it dies (see
 * ipmitoolLaunch), and execa's cleanup kills it on a normal exit or a handled signal.
 */
function spawnChecked(
  path: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): Promise<{ readonly child: ShellChild }> {
  if (!isExecutable(path)) {
    return Promise.reject(new AtcaError('ATCA_ERR_IPMITOOL_MISSING', `${path}: not an executable file`));
  }
  const { file, args } = ipmitoolLaunch(path, argv, process.pid, setprivPath(warn));
  const child = execa(file, args, {
    env,
    extendEnv: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    // Its end is seen through 'close'; a failed result is not an exception here.
    reject: false,
    // NODE_DEBUG=execa would otherwise print every command line and all output to stderr.
    verbose: 'none',
    cleanup: true,
    stripFinalNewline: false,
  });
  // Wrapped: the subprocess is itself a promise (of its end), which resolving with it would wait for.
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve({ child }));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new AtcaError('ATCA_ERR_IPMITOOL_MISSING', `${file}: ${e.code ?? e.message}`)),
    );
  });
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
