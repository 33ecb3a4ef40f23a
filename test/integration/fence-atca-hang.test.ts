import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { running } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'fence-hang-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function standIn(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const base = { ip: '127.0.0.1', ipport: 1, username: 'admin', password: 'x', plug: 1, action: 'status' };

describe('fence_atca with an ipmitool that hangs', () => {
  it('at login: fails after login_timeout and kills it', async () => {
    const marker = `${dir}/login-hang`;
    const path = standIn('login-hang', `exec sleep 3600 # ${marker}`);
    const r = await runAgent({ ...base, ipmitool_path: path, login_timeout: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not answer within 1000 ms.*\[ATCA_ERR_SHMC_UNREACHABLE\]/);
    expect(running('sleep 3600')).toBe(false);
  });

  it('after login: fails after shell_timeout with a timeout message Pacemaker recognises', async () => {
    const path = standIn('cmd-hang', "printf 'ipmitool> '\nexec sleep 3601");
    const r = await runAgent({ ...base, ipmitool_path: path, shell_timeout: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Connection timed out/);
    expect(r.stderr).toMatch(/within 1000 ms.*\[ATCA_ERR_IPMI_TIMEOUT\]/);
    expect(running('sleep 3601')).toBe(false);
  });

  it('a missing ipmitool is a clear error', async () => {
    const r = await runAgent({ ...base, ipmitool_path: join(dir, 'nope') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ATCA_ERR_IPMITOOL_MISSING/);
  });
});
