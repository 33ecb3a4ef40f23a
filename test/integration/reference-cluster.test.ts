// The reference cluster of docs/reference-cluster.md, built as its own commands say: pcs (the
// real one, with its agent validation) runs docs/reference/pcs-resources.sh against a CIB file
// of three nodes; crm_verify checks it and crm_simulate (Pacemaker's own scheduler) shows what
// a cluster would do with it — the application and its IP on one blade, and on the other once
// atcad makes the first one red; nothing at all for yellow (a claim no reading has shown yet).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../helpers/cib.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO, 'docs/reference/pcs-resources.sh');
const NEEDS = ['/usr/sbin/pcs', '/usr/sbin/crm_simulate', '/usr/lib/ocf/resource.d/linbit/drbd'];
const missing = NEEDS.find((f) => !existsSync(f));

/** Where each resource of interest runs, from crm_simulate's "Revised Cluster Status". */
function placement(out: string): { promoted: string; fs: string; ip: string; app: string } {
  const revised = out.slice(out.indexOf('Revised Cluster Status'));
  const at = (re: RegExp) => re.exec(revised)?.[1] ?? '';
  return {
    promoted: at(/Promoted: \[ (\S+) \]/),
    fs: at(/data-fs\s+\(ocf:heartbeat:Filesystem\):\s+Started (\S+)/),
    ip: at(/app-ip\s+\(ocf:heartbeat:IPaddr2\):\s+Started (\S+)/),
    app: at(/Clone Set: app-clone \[app\]:\n\s+\* Started: \[ ([^\]]+) \]/).trim(),
  };
}

describe.skipIf(missing !== undefined)(
  `the reference cluster (docs/reference-cluster.md)${missing ? ` (skipped: ${missing} is missing)` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'atca-reference-'));
    const cib = join(dir, 'cib.xml');
    const simulate = (from: string, to: string) => tool('crm_simulate', ['-x', from, '-S', '-O', to]);

    beforeAll(() => {
      // pcs validates fence_atca's parameters against its metadata: the agent must be installed.
      execFileSync('node', ['scripts/install-agent.mjs'], { cwd: REPO, stdio: 'pipe' });
      writeFileSync(cib, execFileSync('cibadmin', ['--empty'], { encoding: 'utf8' }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is built by its pcs commands as written, and crm_verify finds nothing wrong once the nodes are up', async () => {
      for (const [id, name] of [
        [1, 'blade1'],
        [2, 'blade2'],
        [3, 'quorum1'],
      ] as const) {
        const r = await tool('cibadmin', ['--create', '-o', 'nodes', '-X', `<node id="${id}" uname="${name}"/>`], cib);
        expect(r.code, r.stderr).toBe(0);
      }
      const built = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          'sh',
          [SCRIPT],
          { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', PCS: `pcs -f ${cib}` }, timeout: 120_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, out: stdout + stderr }),
        );
      });
      expect(built.code, built.out).toBe(0);
      // The three nodes up, with quorum; DRBD's agent would then set its promotion scores.
      const up = await tool('crm_simulate', [
        '-x',
        cib,
        '-S',
        '-u',
        'blade1',
        '-u',
        'blade2',
        '-u',
        'quorum1',
        '-q',
        '1',
        '-O',
        join(dir, 'up.xml'),
      ]);
      expect(up.code, up.stderr).toBe(0);
      for (const [node, score] of [
        ['blade1', '10000'],
        ['blade2', '5000'],
      ] as const) {
        const r = await tool(
          'crm_attribute',
          ['-N', node, '-n', 'master-data', '-v', score, '-l', 'reboot'],
          join(dir, 'up.xml'),
        );
        expect(r.code, r.stderr).toBe(0);
      }
      const settled = await simulate(join(dir, 'up.xml'), join(dir, 'running.xml'));
      expect(settled.code, settled.stderr).toBe(0);
      expect(placement(settled.stdout)).toEqual({
        promoted: 'blade1',
        fs: 'blade1',
        ip: 'blade1',
        app: 'blade1 blade2',
      });
      expect(settled.stdout).toMatch(/atcad\s+\(ocf:heartbeat:anything\):\s+Started quorum1/);
      const verify = await tool('crm_verify', ['-x', join(dir, 'running.xml'), '-V']);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stderr).toBe('');
    });

    it("its pcs cluster setup, as written, gives corosync the reference timers (section 4's)", () => {
      const page = readFileSync(join(REPO, 'docs/reference-cluster.md'), 'utf8');
      const setup = /^pcs cluster setup (?:[^\n\\]|\\\n)*/m.exec(page)?.[0];
      expect(setup).toBeDefined();
      const words = setup!
        .replace(/\\\n/g, ' ')
        .split(/\s+/)
        .filter((w) => w && w !== '--start' && w !== '--enable');
      const conf = join(dir, 'corosync.conf');
      // --corosync_conf: pcs writes the file here instead of contacting the nodes.
      const r = spawnSync(words[0]!, [...words.slice(1), '--corosync_conf', conf], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const totem = /totem \{([\s\S]*?)\n\}/.exec(readFileSync(conf, 'utf8'))?.[1] ?? '';
      expect(totem).toMatch(/\btoken: 500\b/);
      expect(totem).toMatch(/\btoken_coefficient: 0\b/);
      expect(totem).toMatch(/\bconsensus: 600\b/);
      expect(page).toContain('token: 500');
    });

    it("atcad's configuration on the page passes --check-config (its secrets in files of mode 0600)", () => {
      const page = readFileSync(join(REPO, 'docs/reference-cluster.md'), 'utf8');
      const yaml = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
      expect(yaml).toBeDefined();
      const secret = (name: string) => {
        const f = join(dir, name);
        writeFileSync(f, 'not-a-real-secret\n', { mode: 0o600 });
        return f;
      };
      const config = join(dir, 'atcad.yaml');
      writeFileSync(
        config,
        yaml!
          .replace('/etc/atca-fence/shmc-password', secret('shmc-password'))
          .replace('/etc/atca-fence/community', secret('community')),
      );
      const r = spawnSync(process.execPath, [join(REPO, 'dist/atcad.mjs'), '--check-config', config], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(0);
    });

    it('#health-atca=yellow on the active blade moves nothing (a claim no reading has shown yet)', async () => {
      const yellow = join(dir, 'yellow.xml');
      writeFileSync(yellow, execFileSync('cat', [join(dir, 'running.xml')]));
      const r = await tool(
        'crm_attribute',
        ['-N', 'blade1', '-n', '#health-atca', '-v', 'yellow', '-l', 'reboot'],
        yellow,
      );
      expect(r.code, r.stderr).toBe(0);
      const sim = await simulate(yellow, join(dir, 'yellow-after.xml'));
      expect(sim.stdout).not.toMatch(/\* (Move|Stop|Promote|Demote)\s/);
      expect(placement(sim.stdout)).toMatchObject({ promoted: 'blade1', ip: 'blade1' });
    });

    it('#health-atca=red on the active blade moves the application, its IP and the data to the standby blade', async () => {
      const red = join(dir, 'red.xml');
      writeFileSync(red, execFileSync('cat', [join(dir, 'running.xml')]));
      const r = await tool('crm_attribute', ['-N', 'blade1', '-n', '#health-atca', '-v', 'red', '-l', 'reboot'], red);
      expect(r.code, r.stderr).toBe(0);
      const sim = await simulate(red, join(dir, 'red-after.xml'));
      expect(sim.code, sim.stderr).toBe(0);
      expect(sim.stdout).toMatch(/\* Move\s+app-ip\s+\(\s*blade1 -> blade2 \)/);
      expect(sim.stdout).toMatch(/\* Promote\s+data:\d\s+\( Unpromoted -> Promoted blade2 \)/);
      expect(placement(sim.stdout)).toEqual({ promoted: 'blade2', fs: 'blade2', ip: 'blade2', app: 'blade2' });
      // atcad stays on the quorum node: it is not what failed.
      expect(sim.stdout).toMatch(/atcad\s+\(ocf:heartbeat:anything\):\s+Started quorum1/);
    });
  },
);
