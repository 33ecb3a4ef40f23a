// How fence_atca starts its child processes: ipmitool (tied to its parent by setpriv, stderr
// merged at the source) and the password_script (split on white space, no shell). The script
// tests run real scripts: nothing to fake.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPasswordScript, scriptCommand } from '../../src/fence/password-script.js';
import { ipmitoolLaunch } from '../../src/ipmi/ipmitool-argv.js';
import { catchAtcaError } from './catch-atca-error.js';

const dir = mkdtempSync(join(tmpdir(), 'launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

describe('ipmitoolLaunch', () => {
  const argv = ['-I', 'lanplus', '-H', 'shmm', '-E', 'shell'];

  it('with setpriv: parent-death signal KILL, then the sh trampoline, then ipmitool (one process)', () => {
    const l = ipmitoolLaunch('/usr/bin/ipmitool', argv, 4242, '/usr/bin/setpriv');
    expect(l.file).toBe('/usr/bin/setpriv');
    expect(l.args.slice(0, 5)).toEqual(['--pdeathsig', 'KILL', '--', '/bin/sh', '-c']);
    expect(l.args.slice(6)).toEqual(['/usr/bin/ipmitool', '4242', ...argv]);
  });

  it('without setpriv: the same trampoline, started directly', () => {
    const l = ipmitoolLaunch('/usr/bin/ipmitool', argv, 4242, undefined);
    expect(l.file).toBe('/bin/sh');
    expect(l.args.slice(2)).toEqual(['/usr/bin/ipmitool', '4242', ...argv]);
  });

  it('the trampoline execs the program with stderr merged into stdout, and its arguments unparsed', () => {
    const tool = script('tool', 'echo "out:$*"; echo "err:$#" >&2');
    const l = ipmitoolLaunch(tool, ['$HOME', 'a b', ';', '*'], process.pid, undefined);
    // Run as a child of this process, as the session does: the parent check passes.
    const out = execFileSync(l.file, l.args, { encoding: 'utf8' });
    expect(out).toBe('out:$HOME a b ; *\nerr:4\n');
  });

  it('the trampoline refuses to start when its parent is not the one that asked (it died already)', () => {
    const l = ipmitoolLaunch(script('never', 'echo started'), [], 1, undefined);
    let code = 0;
    let out = '';
    try {
      out = execFileSync(l.file, l.args, { encoding: 'utf8' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect([code, out]).toEqual([125, '']);
  });
});

describe('password_script', () => {
  it('is split on white space and run without a shell', async () => {
    const echo = script('echo-args', 'printf "%s|" "$@"; echo');
    expect(await runPasswordScript(`${echo} one  "two $HOME" *`, 5000, process.env, () => undefined)).toBe(
      'one|"two|$HOME"|*|',
    );
  });

  it('gives the first line it prints', async () => {
    const pw = script('pw', 'printf "Secret-1\\r\\nsecond line\\n"');
    expect(await runPasswordScript(pw, 5000, process.env, () => undefined)).toBe('Secret-1');
  });

  it('is looked up in PATH when it has no slash', async () => {
    script('my-password-tool', 'echo From-path');
    const env = { ...process.env, PATH: `${dir}:/usr/bin:/bin` };
    expect(await runPasswordScript('my-password-tool', 5000, env, () => undefined)).toBe('From-path');
    expect(scriptCommand('my-password-tool --x', env.PATH)).toEqual({
      cmd: join(dir, 'my-password-tool'),
      args: ['--x'],
    });
  });

  it('a failing script is an error that never shows what it printed', async () => {
    const bad = script('bad', 'echo Leaked-secret-9; exit 3');
    const e = await runPasswordScript(bad, 5000, process.env, () => undefined).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ATCA_ERR_PASSWORD_SCRIPT', detail: `${bad} exited with 3` });
    expect(String((e as Error).message)).not.toContain('Leaked-secret-9');
  });

  it('a script that hangs is killed at the timeout', async () => {
    const hang = script('hang', 'echo Leaked-secret-8; exec sleep 30');
    const e = await runPasswordScript(hang, 300, process.env, () => undefined).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ATCA_ERR_PASSWORD_SCRIPT', detail: `${hang} did not finish within 300 ms` });
    expect(String((e as Error).message)).not.toContain('Leaked-secret-8');
  });

  it.each([
    ['', 'password_script is empty'],
    ['/nonexistent/pw', '/nonexistent/pw: not an executable file'],
    ['no-such-password-tool-x', 'no-such-password-tool-x: not found in PATH'],
  ])('%j is a clear error', (value, detail) => {
    const e = catchAtcaError(() => scriptCommand(value, '/usr/bin:/bin'));
    expect([e.code, e.detail]).toEqual(['ATCA_ERR_PASSWORD_SCRIPT', detail]);
  });
});
