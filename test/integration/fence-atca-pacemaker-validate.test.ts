// Pacemaker's own validation of a fence_atca device: `stonith_admin --validate` and
// `pcs stonith create` (with agent validation) run the agent's metadata and validate-all from
// /usr/sbin with a made-up target (nodename=node1, port=node1), as they do for every agent.
// pcs works on a CIB file (`pcs -f`): no cluster is needed.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const isRoot = process.getuid?.() === 0;
const haveTools = ['/usr/sbin/stonith_admin', '/usr/sbin/pcs', '/usr/sbin/cibadmin'].every((p) => existsSync(p));

/** The README's example device ("Installing the agent for Pacemaker"). */
const README_DEVICE = [
  'ip=10.0.0.10',
  'ip2=10.0.0.11',
  'username=admin',
  'password_script=/usr/local/sbin/shelf1-password',
  'cipher=3',
  'pcmk_host_map=node1:1;node2:2;node3:5',
];

function run(file: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000, env: { PATH: process.env.PATH, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

// Pacemaker runs agents from /usr/sbin only: installing there needs root.
describe.skipIf(!isRoot || !haveTools)('Pacemaker validates a fence_atca device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fence-validate-'));
  const marker = join(dir, 'password-script-ran');
  const script = join(dir, 'shelf-password');

  beforeAll(() => {
    execFileSync('node', ['scripts/install-agent.mjs'], { stdio: 'pipe' });
    writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\necho Never-shown-42\n`);
    chmodSync(script, 0o755);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stonith_admin --validate passes the README example', async () => {
    const r = await run('stonith_admin', [
      '--validate',
      '--agent',
      'fence_atca',
      ...README_DEVICE.flatMap((o) => ['--option', o]),
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Validation of fence_atca succeeded/);
  });

  it('does not run password_script to validate (as the family: validate-all contacts nothing)', async () => {
    const device = README_DEVICE.map((o) => (o.startsWith('password_script=') ? `password_script=${script}` : o));
    const r = await run('stonith_admin', ['--validate', '--agent', 'fence_atca', ...device.flatMap((o) => ['-o', o])]);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.out).not.toContain('Never-shown-42');
  });

  it('still rejects a device Pacemaker could never fence with (a bad option value)', async () => {
    const r = await run('stonith_admin', [
      '--validate',
      '--agent',
      'fence_atca',
      ...[...README_DEVICE, 'method=kick'].flatMap((o) => ['-o', o]),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/method: 'kick' is not one of onoff, cycle/);
  });

  it.each([
    ['with agent validation', ['--agent-validation']],
    ['as pcs does by default', []],
  ])('pcs -f <cib> stonith create with the README example succeeds (%s)', async (_how, extra) => {
    const cib = join(dir, `cib-${extra.length}.xml`);
    writeFileSync(cib, execFileSync('cibadmin', ['--empty'], { encoding: 'utf8' }));
    const r = await run('pcs', ['-f', cib, 'stonith', 'create', 'shelf1', 'fence_atca', ...README_DEVICE, ...extra]);
    expect(r.code, r.out).toBe(0);
    const xml = readFileSync(cib, 'utf8');
    expect(xml).toContain('<primitive id="shelf1" class="stonith" type="fence_atca">');
    expect(xml).toContain('value="node1:1;node2:2;node3:5"');
  });
});
