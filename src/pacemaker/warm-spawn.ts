import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/**
 * Processes started ahead of need that become a command when told which: each is a tiny Perl
 * program (perl-base is Essential in Debian) that reads one argv from its stdin and exec()s it
 * — no shell, same PID, same pipes, same process group — so the command's exit code, signals
 * and output are its own. Why: Node's spawn() blocks its thread for 5–16 ms here (the fork),
 * Perl's exec of a waiting process takes a fraction of a millisecond; the fork now happens
 * when the pool is refilled, off the path from a trap to a command.
 */
const PERL = '/usr/bin/perl';
const TRAMPOLINE = [
  'my $l = <STDIN>; defined $l or exit 125; chomp $l; $l =~ /^\\d+$/ or exit 125;',
  'my $b = ""; while (length($b) < $l) { my $r = read(STDIN, $b, $l - length($b), length($b)); $r or exit 125 }',
  'my @a = split /\\0/, $b, -1; open(STDIN, "<", "/dev/null") or exit 125;',
  'exec { $a[0] } @a; print STDERR "cannot run $a[0]: $!\\n"; exit 127;',
].join(' ');

type Warm = ChildProcessByStdio<Writable, Readable, Readable>;

export class WarmSpawner {
  readonly #size: number;
  /** Idle processes per environment (the tools' environment is fixed per actuator). */
  readonly #idle = new Map<string, Warm[]>();
  readonly #available = existsSync(PERL);
  #closed = false;

  constructor(size = 2) {
    this.#size = size;
  }

  /**
   * A process now running `file args` with this environment, or undefined when none is warm
   * (the caller spawns as usual). Files that cannot be run are left to the caller, whose
   * spawn() reports the error as it always did.
   */
  take(file: string, args: readonly string[], env: Readonly<Record<string, string>>): Warm | undefined {
    if (!this.#available || this.#closed) return undefined;
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return undefined;
    }
    const key = JSON.stringify(env);
    const pool = this.#idle.get(key) ?? [];
    this.#idle.set(key, pool);
    let w = pool.shift();
    while (w && (w.exitCode !== null || w.signalCode !== null || w.stdin.destroyed)) w = pool.shift();
    // Refill right after this command is under way: the fork (which stalls the whole process
    // for several ms, page tables) then falls where atcad has just acted, not where it may be
    // about to. Measured: refilling 250 ms later collided with the next events more often.
    setImmediate(() => this.#fill(key, env));
    if (!w) return undefined;
    w.removeAllListeners('exit');
    const argv = Buffer.from([file, ...args].join('\0'));
    w.stdin.end(Buffer.concat([Buffer.from(`${argv.length}\n`), argv]));
    return w;
  }

  #fill(key: string, env: Readonly<Record<string, string>>): void {
    const pool = this.#idle.get(key)!;
    while (!this.#closed && pool.length < this.#size) {
      const w = spawn(PERL, ['-e', TRAMPOLINE], {
        env: { ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        shell: false,
        windowsHide: true,
      });
      w.on('error', () => undefined);
      // An idle one that dies (killed by someone) just leaves the pool.
      w.once('exit', () => {
        const i = pool.indexOf(w);
        if (i >= 0) pool.splice(i, 1);
      });
      pool.push(w);
    }
  }

  /** Ends the idle processes (closing stdin makes each exit 125 without running anything). */
  close(): void {
    this.#closed = true;
    for (const pool of this.#idle.values()) for (const w of pool.splice(0)) w.stdin.end();
  }
}
