import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { TEST_SHELF, useShelf } from '../helpers/shelf.js';
import { hungSleep, running } from '../helpers/wait.js';

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
    const hung = hungSleep();
    const path = standIn('login-hang', `exec ${hung.command}`);
    const r = await runAgent({ ...base, ipmitool_path: path, login_timeout: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not answer within 1000 ms.*\[ATCA_ERR_SHMC_UNREACHABLE\]/);
    expect(running(hung.pattern)).toBe(false);
  });

  it('after login: fails after shell_timeout with a timeout message Pacemaker recognises', async () => {
    const hung = hungSleep();
    const path = standIn('cmd-hang', `printf 'ipmitool> '\nexec ${hung.command}`);
    const r = await runAgent({ ...base, ipmitool_path: path, shell_timeout: 1 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Connection timed out/);
    expect(r.stderr).toMatch(/within 1000 ms.*\[ATCA_ERR_IPMI_TIMEOUT\]/);
    expect(running(hung.pattern)).toBe(false);
  });

  it('a missing ipmitool is a clear error', async () => {
    const r = await runAgent({ ...base, ipmitool_path: join(dir, 'nope') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ATCA_ERR_IPMITOOL_MISSING/);
  });
});

/**
 * A stand-in for `ipmitool … shell` on a shelf whose manager answers but whose blade IPMC at
 * 0x82 (slot 1) is silent: ipmitool prints `Unable to send RAW command (…)` without `rsp=` for
 * every bridged request. With `-p 2` the shelf manager is silent too, once it has told where
 * slot 1 is (Get Address Info). Every
 * line it is sent, with the port it was started for, goes to `log`.
 */
function silentIpmcShelf(log: string): string {
  return standIn(
    'silent-ipmc',
    `log=${log}
port=; prev=
for a in "$@"; do [ "$prev" = -p ] && port=$a; prev=$a; done
target=0x20
printf 'ipmitool> '
while IFS= read -r line; do
  echo "$port $target $line" >> "$log"
  case "$line" in
  "set targetaddr "*) target=\${line#set targetaddr } ;;
  quit) exit 0 ;;
  raw*)
    case "$target $line" in
    "0x20 raw 0x2c 0x01 "*) echo " 00 41 82 ff 00 01 00" ;;
    *)
    if [ "$target" != 0x20 ] || [ "$port" = 2 ]; then
      echo "Unable to send RAW command (channel=0x0 netfn=0x4 lun=0x0 cmd=0x2d)"
    else
      case "$line" in
      "raw 0x06 0x01") echo " 20 81 09 08 02 9f 91 12 00 02 0f 00 00 00 00" ;;
      *) echo " 00" ;;
      esac
    fi ;;
    esac ;;
  esac
  printf 'ipmitool> '
done`,
  );
}

describe('fence_atca when a blade IPMC is silent behind a shelf manager that answers', () => {
  it('asks the shelf manager itself (Get Device ID) and reports the IPMC unreachable: no failover', async () => {
    const log = join(dir, 'silent-ipmc.log');
    writeFileSync(log, '');
    const path = silentIpmcShelf(log);
    const r = await runAgent({ ...base, ipmitool_path: path, ip2: '127.0.0.1', ipport2: 3 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unable to obtain correct plug status/);
    expect(r.stderr).toMatch(
      /slot 1 \(IPMB 0x82\) did not answer, while the shelf manager does.*\[ATCA_ERR_IPMC_UNREACHABLE\]/,
    );
    expect(r.stderr).not.toMatch(/failing over|stopped answering/);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Everything went to the first shelf manager; the probe went to the shelf manager itself.
    expect(lines.every((l) => l.startsWith('1 '))).toBe(true);
    expect(lines).toContain('1 0x20 raw 0x06 0x01');
    const silent = lines.findIndex((l) => l.startsWith('1 0x82 raw '));
    expect(lines.indexOf('1 0x20 raw 0x06 0x01')).toBeGreaterThan(silent);
  });

  it('when the shelf manager does not answer either, it is the shelf manager that is lost', async () => {
    const log = join(dir, 'silent-shmc.log');
    writeFileSync(log, '');
    const path = silentIpmcShelf(log);
    const r = await runAgent({ ...base, ipmitool_path: path, ipport: 2 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[ATCA_ERR_SHMC_LOST\]/);
    expect(r.stderr).not.toMatch(/ATCA_ERR_IPMC_UNREACHABLE/);
    expect(readFileSync(log, 'utf8')).toContain('2 0x20 raw 0x06 0x01');
  });
});

describe('fence_atca run by the fencer (its own timeouts off) with an ipmitool that hangs', () => {
  const t = useShelf({ ...TEST_SHELF, shelfManagers: 1 });

  it('a command that never returns is cut off at the hard cap (20 s) and the agent fails over to ip2', async () => {
    const hung = hungSleep();
    // The first shelf manager (port 1) gets an ipmitool that logs in, then hangs on the first
    // request; the second is the simulated shelf, through the real ipmitool.
    const path = standIn(
      'hang-then-real',
      `prev=
for a in "$@"; do [ "$prev $a" = "-p 1" ] && { printf 'ipmitool> '; exec ${hung.command}; }; prev=$a; done
exec /usr/bin/ipmitool "$@"`,
    );
    const r = await runAgent(
      {
        ...t.base(),
        ipport: 1,
        ip2: '127.0.0.1',
        ipport2: t.shelf.managers[0]!.port,
        plug: 1,
        action: 'status',
        ipmitool_path: path,
      },
      { PCMK_service: 'pacemaker-fenced' },
    );
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Status: ON']);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1: no answer to .* within 20000 ms.*failing over/);
    expect(r.ms).toBeGreaterThanOrEqual(20_000);
    expect(r.ms).toBeLessThan(40_000);
    expect(running(hung.pattern)).toBe(false);
  });
});
