// The password reaches ipmitool only through its environment: never argv, logs or debug_file.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { useShelf } from '../helpers/shelf.js';

describe('fence_atca keeps the password secret', () => {
  const t = useShelf();
  const dir = mkdtempSync(join(tmpdir(), 'fence-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never puts the password on any spawned command line, in stderr or in debug_file', async () => {
    // A pass-through ipmitool that records the argv and environment it was given, then
    // becomes the real ipmitool: the real peer still answers every request.
    const argvLog = join(dir, 'argv.log');
    const wrapper = join(dir, 'ipmitool');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$0 $*" >> '${argvLog}'\n[ -n "$IPMITOOL_PASSWORD" ] && echo ENV_PASSWORD_SET >> '${argvLog}'\nexec /usr/bin/ipmitool "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const debugFile = join(dir, 'debug.log');
    const secret = t.base().password as string;
    // Snapshot every process's command line while the agent runs, too.
    const seen: string[] = [];
    const sampler = setInterval(() => {
      try {
        for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
          try {
            seen.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
          } catch {
            // gone already
          }
        }
      } catch {
        // /proc unreadable
      }
    }, 5);
    try {
      for (const action of ['status', 'off', 'on', 'list-status']) {
        const r = await runAgent({
          ...t.base(),
          plug: 1,
          action,
          ipmitool_path: wrapper,
          verbose: 1,
          debug_file: debugFile,
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toContain(secret);
        expect(r.stdout).not.toContain(secret);
      }
    } finally {
      clearInterval(sampler);
    }
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toMatch(/-E/);
    expect(argv).toContain('ENV_PASSWORD_SET');
    expect(argv).not.toContain(secret);
    expect(readFileSync(debugFile, 'utf8')).toMatch(/raw 0x2c/);
    expect(readFileSync(debugFile, 'utf8')).not.toContain(secret);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((c) => c.includes(secret))).toEqual([]);
  });

  it("NODE_DEBUG=execa does not make execa print the password_script's output", async () => {
    const script = join(dir, 'pw-ok.sh');
    writeFileSync(script, `#!/bin/sh\necho '${t.base().password}'\n`);
    chmodSync(script, 0o755);
    const { password: _omit, ...base } = t.base();
    const r = await runAgent(
      { ...base, password_script: script, plug: 1, action: 'status', verbose: 1 },
      { NODE_DEBUG: 'execa' },
    );
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Status: ON']);
    expect(r.stderr).not.toContain(t.base().password as string);
  });

  it('never shows the password_script output in an error', async () => {
    const script = join(dir, 'pw.sh');
    writeFileSync(script, '#!/bin/sh\necho Wrong-from-script-77\n');
    chmodSync(script, 0o755);
    const { password: _omit, ...base } = t.base();
    const r = await runAgent({ ...base, password_script: script, plug: 1, action: 'status', verbose: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ATCA_ERR_LOGIN_REJECTED/);
    expect(r.stderr).not.toContain('Wrong-from-script-77');
  });
});
