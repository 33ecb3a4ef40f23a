import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerRunner } from '../../src/pacemaker/worker-runner.js';
import { running } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'command-thread-'));
const runner = new WorkerRunner(join(process.cwd(), 'dist', 'command-worker.mjs'));
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
const opts = { timeoutMs: 10_000, env: ENV };

afterAll(async () => {
  await runner.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the command thread', () => {
  it('runs a program with its exit code, stdout and stderr', async () => {
    const r = await runner.run(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], opts);
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, stdout: 'out\n', stderr: 'err\n' });
    expect(r.spawnedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('warm or not, the program gets exactly the given environment and /dev/null as stdin', async () => {
    for (let i = 0; i < 3; i++) {
      const env = await runner.run(['/usr/bin/env'], opts);
      expect(env.stdout.trim().split('\n').sort()).toEqual(['LC_ALL=C', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
      const cat = await runner.run(['/bin/cat'], { ...opts, timeoutMs: 3000 });
      expect(cat).toMatchObject({ exitCode: 0, stdout: '', timedOut: false });
    }
  });

  it('passes arguments verbatim: spaces, quotes, empty strings, no shell', async () => {
    const args = ['a b', '"q"', '', '$HOME', ';rm -rf /'];
    const r = await runner.run(['/usr/bin/printf', '[%s]', ...args], opts);
    expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
  });

  it('a program that overstays is killed with its process group, and that is a timeout error', async () => {
    const marker = join(dir, 'overstay');
    writeFileSync(marker, `#!/bin/sh\nsleep 3700 &\nexec sleep 3701\n`);
    chmodSync(marker, 0o755);
    const r = await runner.run([marker], { ...opts, timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
    await new Promise((res) => setTimeout(res, 300));
    expect(running('sleep 370[01]')).toBe(false);
  });

  it('a missing program is ATCA_ERR_PCMK_FAILED, as with a plain spawn', async () => {
    const r = await runner.run([join(dir, 'nope')], opts);
    expect(r.exitCode).toBeNull();
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toMatch(/cannot run .*nope.*ENOENT/);
  });

  it('runs commands side by side', async () => {
    const rs = await Promise.all([1, 2, 3, 4, 5].map((n) => runner.run(['/bin/sh', '-c', `exit ${n}`], opts)));
    expect(rs.map((r) => r.exitCode)).toEqual([1, 2, 3, 4, 5]);
  });

  it('close() leaves no waiting trampoline behind', async () => {
    await runner.run(['/bin/true'], opts);
    await runner.close();
    await new Promise((res) => setTimeout(res, 300));
    expect(running('my \\$l = <STDIN>')).toBe(false);
  });
});
