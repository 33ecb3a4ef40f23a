// atcad's process launcher against real processes: the Perl launcher, its spares, and the
// programs they exec. What a command sees and what comes back must be what a plain spawn()
// gives; the launcher's own failures must end in clear failures, never in a hang.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessLauncher } from '../../src/pacemaker/process-launcher.js';
import { alive, running, until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'process-launcher-'));
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
const opts = { timeoutMs: 10_000, env: ENV };
const launchers: ProcessLauncher[] = [];

function launcher(o: { direct?: boolean } = {}): ProcessLauncher {
  const l = new ProcessLauncher(o).warm();
  launchers.push(l);
  return l;
}

/** The launcher's spares: its children still waiting (they carry its name until they exec). */
function sparesOf(pid: number): number[] {
  return childrenOf(pid).filter((c) => {
    try {
      return readFileSync(`/proc/${c}/cmdline`, 'utf8').startsWith('atcad-launcher');
    } catch {
      return false;
    }
  });
}

/** The launcher's children: its spares and the commands it started that still run. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent (after the parenthesised command name).
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

afterAll(async () => {
  await Promise.all(launchers.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
});

for (const direct of [true, false]) {
  describe(
    direct ? 'the process launcher, commands handed to spares' : 'the process launcher, one fork per command',
    () => {
      const runner = launcher({ direct });

      it('runs a program with its exit code, stdout and stderr, and says when it started', async () => {
        const before = Date.now();
        const r = await runner.run(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], opts);
        expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
        expect(r.spawnedAt).toBeGreaterThanOrEqual(before - 1);
        expect(r.execedAt).toBeGreaterThanOrEqual(r.spawnedAt!);
        expect(r.execedAt).toBeLessThanOrEqual(Date.now() + 1);
      });

      it('gives the program exactly the given environment and /dev/null as stdin, every time', async () => {
        for (let i = 0; i < 4; i++) {
          const env = await runner.run(['/usr/bin/env'], opts);
          expect(env.stdout.trim().split('\n').sort()).toEqual(['LC_ALL=C', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
          const cat = await runner.run(['/bin/cat'], { ...opts, timeoutMs: 3000 });
          expect(cat).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
        }
      });

      it('passes arguments verbatim: spaces, quotes, empty strings, newlines, no shell', async () => {
        const args = ['a b', '"q"', '', '$HOME', ';rm -rf /', 'two\nlines', 'ünï'];
        const r = await runner.run(['/usr/bin/printf', '[%s]', ...args], opts);
        expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
      });

      it('finds a bare program name on the PATH it was given', async () => {
        const r = await runner.run(['true'], opts);
        expect(r).toMatchObject({ exitCode: 0 });
      });

      it('a program that overstays is killed with its process group, and that is a timeout error', async () => {
        const marker = join(dir, `overstay-${direct}`);
        writeFileSync(marker, `#!/bin/sh\nsleep 3700 &\nexec sleep 3701\n`);
        chmodSync(marker, 0o755);
        const r = await runner.run([marker], { ...opts, timeoutMs: 300, killGraceMs: 200 });
        expect(r.timedOut).toBe(true);
        expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
        await until('the process group to be gone', () => !running('sleep 370[01]'), 5000);
      });

      it('a missing program is ATCA_ERR_PCMK_FAILED, as with a plain spawn', async () => {
        const r = await runner.run([join(dir, 'nope')], opts);
        expect(r.exitCode).toBeNull();
        expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
        expect(r.error?.message).toMatch(/cannot run .*nope.*ENOENT/);
        const notExec = join(dir, 'not-executable');
        writeFileSync(notExec, '#!/bin/sh\n');
        const r2 = await runner.run([notExec], opts);
        expect(r2.error?.message).toMatch(/cannot run .*not-executable.*EACCES/);
      });

      it('runs commands side by side, more at once than it keeps spares', async () => {
        const rs = await Promise.all(
          [1, 2, 3, 4, 5, 6, 7].map((n) => runner.run(['/bin/sh', '-c', `echo ${n}; exit ${n}`], opts)),
        );
        expect(rs.map((r) => r.exitCode)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(rs.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n', '6\n', '7\n']);
      });

      it('keeps large output, up to the limit, and says what it dropped', async () => {
        const r = await runner.run(['/bin/sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x'], {
          ...opts,
          maxOutputBytes: 200_000,
        });
        expect(r.stdout.startsWith('x'.repeat(200_000))).toBe(true);
        expect(r.stdout).toContain('[… 100000 bytes dropped]');
      });
    },
  );
}

describe('when the launcher or a spare dies', () => {
  it('a spare killed while it waits is passed over: the command still runs', async () => {
    const l = launcher();
    await l.run(['/bin/true'], opts);
    const spares = await until('spares', () => {
      const c = sparesOf(l.pid!);
      return c.length >= 2 ? c : undefined;
    });
    for (const pid of spares) process.kill(pid, 'SIGKILL');
    // Dead and reaped. (A spare that dies in the instant it is handed a command makes that
    // command fail as killed by SIGKILL: a failure, never a silent success.)
    await until('the spares to be gone', () => spares.every((p) => !alive(p)), 5000);
    const r = await l.run(['/bin/sh', '-c', 'echo still here'], opts);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'still here\n' });
  });

  it('a launcher killed under a running command ends it as a failure, and the next command gets a new one', async () => {
    const l = launcher();
    const first = l.pid!;
    const pending = l.run(['/bin/sh', '-c', 'sleep 3702'], opts);
    await until('the command to run', () => running('sleep 3702'), 5000);
    process.kill(first, 'SIGKILL');
    const r = await pending;
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toContain('launcher ended');
    await until('its process group to be killed', () => !running('sleep 3702'), 5000);
    const next = await l.run(['/bin/true'], opts);
    expect(next.exitCode).toBe(0);
    expect(l.pid).not.toBe(first);
  });

  it('a launcher that hangs makes a command a timeout failure, not a wait for ever', async () => {
    for (const direct of [true, false]) {
      const l = launcher({ direct });
      await l.run(['/bin/true'], opts);
      await until('spares', () => childrenOf(l.pid!).length >= 2 || undefined);
      const pid = l.pid!;
      process.kill(pid, 'SIGSTOP');
      try {
        const r = await l.run(['/bin/true'], { ...opts, timeoutMs: 300, killGraceMs: 100 });
        expect(r.timedOut).toBe(true);
        expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    }
  });

  it('close() ends the launcher and its spares', async () => {
    const l = launcher();
    await l.run(['/bin/true'], opts);
    const pid = l.pid!;
    const spares = await until('spares', () => {
      const c = childrenOf(pid);
      return c.length >= 2 ? c : undefined;
    });
    await l.close();
    await until('launcher and spares to be gone', () => [pid, ...spares].every((p) => !alive(p)), 5000);
  });
});
