// The runner under the Pacemaker actuators: no shell, an explicit environment, bounded output,
// and a timeout that kills (SIGTERM, then SIGKILL) and is reported as a failure. Node itself
// stands in for the tools here, so every behaviour can be produced on demand.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execaRunner as runCommand } from '../../src/pacemaker/execa-runner.js';

const NODE = process.execPath;
const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

function node(script: string, ...args: string[]): string[] {
  return [NODE, '-e', script, '--', ...args];
}

/** Running, that is: a killed process waiting to be reaped (state Z) does not count. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the Pacemaker tool runner (execa)', () => {
  it('captures stdout, stderr and the exit code', async () => {
    const r = await runCommand(node('process.stdout.write("out"); process.stderr.write("err"); process.exit(105)'), {
      timeoutMs: 10_000,
      env: ENV,
    });
    expect(r).toMatchObject({ exitCode: 105, signal: null, timedOut: false, stdout: 'out', stderr: 'err' });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes arguments as they are: no shell reads them', async () => {
    const tricky = ['$(touch /tmp/x)', 'a; b', '`id`', "it's", '#health-atca', '*'];
    const r = await runCommand(node('console.log(JSON.stringify(process.argv.slice(1)))', ...tricky), {
      timeoutMs: 10_000,
      env: ENV,
    });
    expect(JSON.parse(r.stdout)).toEqual(tricky);
  });

  it('gives the command exactly the environment it was given', async () => {
    const r = await runCommand(node('console.log(JSON.stringify(process.env))'), {
      timeoutMs: 10_000,
      env: { ...ENV, CIB_file: '/tmp/some/cib.xml' },
    });
    expect(JSON.parse(r.stdout)).toEqual({ ...ENV, CIB_file: '/tmp/some/cib.xml' });
  });

  it('keeps at most maxOutputBytes, and an answer cut short is a failure', async () => {
    const r = await runCommand(node('process.stdout.write("x".repeat(300000)); process.stderr.write("e".repeat(10))'), {
      timeoutMs: 10_000,
      env: ENV,
      maxOutputBytes: 1000,
    });
    expect(r.stdout).toBe('x'.repeat(1000));
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toMatch(/wrote more than 1000 bytes/);
  });

  it('a command that cannot start is a failure, not a throw', async () => {
    const r = await runCommand(['/nonexistent/crm_attribute', '-G'], { timeoutMs: 10_000, env: ENV });
    expect(r.exitCode).toBeNull();
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toContain('cannot run /nonexistent/crm_attribute');
    expect(r.error?.message).toContain('ENOENT');
  });

  it('an empty argv is a failure', async () => {
    const r = await runCommand([], { timeoutMs: 1000, env: ENV });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
  });

  it('at the timeout it sends SIGTERM and reports ATCA_ERR_PCMK_TIMEOUT', async () => {
    const r = await runCommand(node('setInterval(() => {}, 1000)'), { timeoutMs: 300, env: ENV, killGraceMs: 5000 });
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
    expect(r.error?.message).toContain('did not finish within 300 ms');
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    expect(r.durationMs).toBeLessThan(4000);
  });

  it('a command that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const r = await runCommand(
      node('process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'),
      {
        timeoutMs: 300,
        env: ENV,
        killGraceMs: 300,
      },
    );
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, stdout: 'up\n' });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
    expect(r.durationMs).toBeGreaterThanOrEqual(590);
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('kills what the command started too (its process group)', async () => {
    const script = `
      const c = require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' });
      console.log(c.pid);
      process.on('SIGTERM', () => {});
      setInterval(() => {}, 1000);`;
    const r = await runCommand(node(script), { timeoutMs: 500, env: ENV, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    const sleepPid = Number(r.stdout.trim());
    expect(sleepPid).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(sleepPid)).toBe(false);
  });

  it('a timeout is a failure even when the command then exits 0 on SIGTERM', async () => {
    const r = await runCommand(node('process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)'), {
      timeoutMs: 300,
      env: ENV,
    });
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(true);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
  });
});
