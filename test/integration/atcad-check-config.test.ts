// `atcad --check-config FILE`, run as an operator would run it (the built CLI, real files in a
// temp folder, real chmod).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'atcad-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ATCAD = new URL('../../dist/atcad.mjs', import.meta.url).pathname;
const SECRET = 'Do-not-print-9';

let n = 0;
function file(content: string, mode: number, name = `f${n++}`): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [ATCAD, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
}

function check(yaml: string, env: Record<string, string> = {}) {
  return run(['--check-config', file(yaml, 0o644, `c${n++}.yaml`)], env);
}

/** A stand-in for ipmitool: --check-config only checks that it is a trustworthy executable. */
const IPMITOOL = file('#!/bin/sh\nexit 0\n', 0o755, 'ipmitool');

const GOOD = `
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1 }]
    ipmi: { username: admin, password: { env: SHELF_PW }, ipmitoolPath: ${IPMITOOL} }
    slots: { "1": { node: node1 } }
`;

/** A second shelf, s2, claiming the given trap sources. */
const SHELF2 = (sources: string) => `
  - name: s2
    shelfManagers: [{ host: 127.0.0.2 }]
    ipmi: { username: admin, password: { env: SHELF_PW }, ipmitoolPath: ${IPMITOOL} }
    trapSources: [${sources}]
    slots: { "1": { node: node2 } }
`;

describe('atcad --check-config', () => {
  it('accepts a valid file and prints it with defaults, secrets redacted', () => {
    const r = check(GOOD, { SHELF_PW: SECRET });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid \(1 shelf\/shelves, 1 slots, pacemaker mode dry-run\)/);
    expect(r.stdout).toContain('<secret from env SHELF_PW>');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('checks, never starts: `--config FILE --check-config` checks FILE; a missing FILE or an unknown option is a usage error', () => {
    const yaml = file(GOOD, 0o644, 'both.yaml');
    const both = spawnSync(process.execPath, [ATCAD, '--config', yaml, '--check-config'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SHELF_PW: SECRET },
      timeout: 20_000,
    });
    expect(both.status, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/valid/);
    const bare = run(['--check-config']);
    expect(bare.status).toBe(64);
    expect(bare.stderr).toMatch(/--check-config needs a FILE/);
    const typo = run(['--config', yaml, '--chek-config']);
    expect(typo.status).toBe(64);
    expect(typo.stderr).toMatch(/unknown option --chek-config/);
  });

  it('accepts secret files only their owner can read (0600, 0400, through a symlink)', () => {
    const pw = file(`${SECRET}\n`, 0o600);
    const community = file(`${SECRET}\n`, 0o400);
    const link = join(dir, 'community-link');
    symlinkSync(community, link);
    const r = check(
      `${GOOD.replace('{ env: SHELF_PW }', `{ file: ${pw} }`)}traps: { communities: [{ file: ${pw} }, { file: ${link} }] }\n`,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`<secret from file ${pw}>`);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('rejects a typo with the path and the reason', () => {
    const r = check(GOOD.replace('username', 'usrname'), { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shelves\.0\.ipmi: Unrecognized key: "usrname"/);
    expect(r.stderr).toMatch(/ATCA_ERR_CONFIG_INVALID/);
  });

  it('rejects a secret that cannot be read, without showing any secret', () => {
    const r = check(GOOD);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /shelves\.0\.ipmi\.password: environment variable SHELF_PW is not set \[ATCA_ERR_CONFIG_SECRET\]/,
    );
  });

  it('refuses a world-readable password file: the file, its mode and the fix', () => {
    const pw = file(`${SECRET}\n`, 0o644);
    const r = check(GOOD.replace('{ env: SHELF_PW }', `{ file: ${pw} }`));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `  shelves.0.ipmi.password: ${pw} has mode 0644 (group can read, others can read): a secret file must be accessible by its owner only (fix: chmod 600 ${pw}) [ATCA_ERR_CONFIG_SECRET]`,
    );
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    chmodSync(pw, 0o600);
    expect(check(GOOD.replace('{ env: SHELF_PW }', `{ file: ${pw} }`)).status).toBe(0);
  });

  it('reports every unsafe secret and bad ipmitoolPath at once, each with its config path', () => {
    const pw = file(`${SECRET}\n`, 0o644);
    const community = file(`${SECRET}\n`, 0o640);
    const authTarget = file(`${SECRET}\n`, 0o604);
    const auth = join(dir, 'auth-link');
    symlinkSync(authTarget, auth);
    const priv = join(dir, 'priv-folder');
    mkdirSync(priv, { mode: 0o700 });
    const notExecutable = file('#!/bin/sh\n', 0o644);
    const yaml = `${GOOD.replace('{ env: SHELF_PW }', `{ file: ${pw} }`).replace(IPMITOOL, join(dir, 'no-such-ipmitool'))}${SHELF2('').replace(IPMITOOL, notExecutable)}traps:
  communities: [{ file: ${community} }]
  v3Users: [{ name: atcad, authKey: { file: ${auth} }, privKey: { file: ${priv} } }]
`;
    const r = check(yaml, { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/: 6 problem\(s\) with the secrets and programs it names:$/);
    expect(lines.slice(1).map((l) => l.replace(/:.*\[/, ' ['))).toEqual([
      '  shelves.0.ipmi.password [ATCA_ERR_CONFIG_SECRET]',
      '  traps.communities.0 [ATCA_ERR_CONFIG_SECRET]',
      '  traps.v3Users.0.authKey [ATCA_ERR_CONFIG_SECRET]',
      '  traps.v3Users.0.privKey [ATCA_ERR_CONFIG_SECRET]',
      '  shelves.0.ipmi.ipmitoolPath [ATCA_ERR_IPMITOOL_MISSING]',
      '  shelves.1.ipmi.ipmitoolPath [ATCA_ERR_IPMITOOL_MISSING]',
    ]);
    expect(r.stderr).toContain(`traps.communities.0: ${community} has mode 0640 (group can read)`);
    expect(r.stderr).toContain(`fix: chmod 600 ${community}`);
    expect(r.stderr).toContain(`traps.v3Users.0.authKey: ${auth} has mode 0604 (others can read)`);
    expect(r.stderr).toContain(`traps.v3Users.0.privKey: ${priv} is a folder`);
    expect(r.stderr).toContain(`shelves.0.ipmi.ipmitoolPath: ${join(dir, 'no-such-ipmitool')} does not exist`);
    expect(r.stderr).toContain(`shelves.1.ipmi.ipmitoolPath: ${notExecutable} is not executable`);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('rejects two shelves claiming one trap source', () => {
    const r = check(GOOD.replace('slots:', 'trapSources: [10.0.0.10]\n    slots:') + SHELF2('10.0.0.11, 10.0.0.10'), {
      SHELF_PW: 'x',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "  shelves.1.trapSources.1: trap source 10.0.0.10 is already claimed by shelf 's1' (shelves.0.trapSources.0): a trap is attributed to one shelf by its source address",
    );
    expect(r.stderr).toMatch(/ATCA_ERR_CONFIG_INVALID/);
  });

  it('rejects a trap source that is not an IP address', () => {
    const r = check(GOOD.replace('slots:', 'trapSources: [shmc1.example]\n    slots:'), { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "  shelves.0.trapSources.0: 'shmc1.example' is not an IPv4 or IPv6 address: traps are matched by their source address, so a host name cannot be used",
    );
  });

  it.each([
    ['17', 'shelves.0.slots.17: slot 17 is beyond the front-board slots of a PICMG 3.0 shelf (1–16)'],
    ['0', 'shelves.0.slots.0: physical slot numbers start at 1'],
    ['01', 'shelves.0.slots.01: write slot 1 as "1", without leading zeros ("01" and "1" would name one slot twice)'],
  ])('rejects slot "%s" with the path and the reason', (slot, message) => {
    const r = check(GOOD.replace('"1":', `"${slot}":`), { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`  ${message}`);
  });

  it('rejects an ipmitoolPath that is missing (the default, if ipmitool is not installed there)', () => {
    const missing = join(dir, 'not-installed', 'ipmitool');
    const r = check(GOOD.replace(IPMITOOL, missing), { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `  shelves.0.ipmi.ipmitoolPath: ${missing} does not exist: install ipmitool, or set ipmitoolPath to where it is [ATCA_ERR_IPMITOOL_MISSING]`,
    );
  });

  it('reports a missing file clearly', () => {
    const r = run(['--check-config', join(dir, 'nope.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read: ENOENT/);
  });
});

describe('atcad --config (daemon start) refuses the same configurations', () => {
  it('two shelves claiming one trap source', () => {
    const f = file(GOOD.replace('slots:', 'trapSources: [10.0.0.10]\n    slots:') + SHELF2('10.0.0.10'), 0o600);
    const r = run(['--config', f], { SHELF_PW: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shelves\.1\.trapSources\.0: trap source 10\.0\.0\.10 is already claimed/);
  });

  it('a world-readable password file', () => {
    const pw = file(`${SECRET}\n`, 0o644);
    const yaml = `${GOOD.replace('{ env: SHELF_PW }', `{ file: ${pw} }`)}traps: { enabled: false }\njournal: { path: ${join(dir, 'j.sqlite')} }\n`;
    const r = run(['--config', file(yaml, 0o600)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${pw} has mode 0644`);
    expect(r.stderr).toContain(`chmod 600 ${pw}`);
    expect(r.stderr).toMatch(/ATCA_ERR_CONFIG_SECRET/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
