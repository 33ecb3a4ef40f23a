// `atcad --check-config FILE`, run as an operator would run it (the built CLI, a real file).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'atcad-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ATCAD = new URL('../../dist/atcad.mjs', import.meta.url).pathname;

function check(yaml: string, env: Record<string, string> = {}) {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, yaml);
  return spawnSync(process.execPath, [ATCAD, '--check-config', f], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
}

const GOOD = `
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1 }]
    ipmi: { username: admin, password: { env: SHELF_PW } }
    slots: { "1": { node: node1 } }
`;

describe('atcad --check-config', () => {
  it('accepts a valid file and prints it with defaults, secrets redacted', () => {
    const r = check(GOOD, { SHELF_PW: 'Do-not-print-9' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid \(1 shelf\/shelves, 1 slots, pacemaker mode dry-run\)/);
    expect(r.stdout).toContain('<secret from env SHELF_PW>');
    expect(r.stdout + r.stderr).not.toContain('Do-not-print-9');
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
    expect(r.stderr).toMatch(/environment variable SHELF_PW is not set/);
  });

  it('reports a missing file clearly', () => {
    const r = spawnSync(process.execPath, [ATCAD, '--check-config', join(dir, 'nope.yaml')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read: ENOENT/);
  });
});
