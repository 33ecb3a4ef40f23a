// End to end through Pacemaker's own fencer: pacemaker-fenced (stand-alone) runs fence_atca
// from /usr/sbin with a pcmk_host_map, as a cluster would.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningInOurNetns } from '../helpers/netns.js';
import { useShelf } from '../helpers/shelf.js';

const run = promisify(execFile);
const FENCED = '/usr/lib/pacemaker/pacemaker-fenced';
const isRoot = process.getuid?.() === 0;
/** A fencer in our own network namespace would clash with ours (see runningInOurNetns). */
const otherFencer = runningInOurNetns(['pacemaker-fenced']);

async function stonithAdmin(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('stonith_admin', args, { timeout: 90_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

// Pacemaker runs agents from /usr/sbin only, and its IPC names are shared by everything in a
// network namespace: the test needs root and must be the only fencer in its namespace.
describe.skipIf(!isRoot || otherFencer || !existsSync(FENCED))('fence_atca under pacemaker-fenced', () => {
  const t = useShelf();
  const dir = mkdtempSync(join(tmpdir(), 'fenced-'));
  let fenced: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync('node', ['scripts/install-agent.mjs'], { stdio: 'pipe' });
    fenced = spawn(FENCED, ['-s', '-l', join(dir, 'fenced.log')], { cwd: dir, stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await stonithAdmin(['-L'])).code === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const b = t.base();
    const opts = Object.entries({ ...b, pcmk_host_map: 'node1:1;node2:2;node3:5' }).flatMap(([k, v]) => [
      '-o',
      `${k}=${v}`,
    ]);
    const reg = await stonithAdmin(['--register', 'atca-shelf', '--agent', 'fence_atca', ...opts]);
    expect(reg.code, reg.out).toBe(0);
  });

  afterAll(async () => {
    if (fenced && fenced.exitCode === null) {
      const exited = new Promise((r) => fenced!.once('exit', r));
      fenced.kill('SIGTERM');
      const timer = setTimeout(() => fenced!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the fencer reads fence_atca metadata and lists the device', async () => {
    const meta = await stonithAdmin(['--metadata', '--agent', 'fence_atca']);
    expect(meta.code).toBe(0);
    expect(meta.out).toContain('<resource-agent name="fence_atca"');
    const devices = await stonithAdmin(['--list', 'node2']);
    expect(devices.out).toContain('atca-shelf');
  });

  it('stonith_admin --reboot node2 takes slot 2 M4→M1→M4, deactivate then activate', async () => {
    const before = t.shelf.picmgCommands().length;
    const r = await stonithAdmin(['--reboot', 'node2', '--timeout', '60']);
    expect(r.code, `${r.out}\n${readFileSync(join(dir, 'fenced.log'), 'utf8').slice(-3000)}`).toBe(0);
    const log = t.shelf.picmgCommands().slice(before);
    const activations = log
      .filter((c) => c.kind === 'picmg' && c.mc === 0x84 && c.cmd === 0x0c)
      .map((c) => c.data?.[2]);
    expect(activations).toEqual([0, 1]);
    const states = log.filter((c) => c.kind === 'state' && c.mc === 0x84).map((c) => c.to);
    expect(states).toEqual([6, 1, 2, 3, 4]);
    expect(await t.shelf.stateOf(2)).toBe(4);
  });

  it('stonith_admin --fence node1 leaves slot 1 off (M1)', async () => {
    const r = await stonithAdmin(['--fence', 'node1', '--timeout', '60']);
    expect(r.code, r.out).toBe(0);
    expect(await t.shelf.stateOf(1)).toBe(1);
    const un = await stonithAdmin(['--unfence', 'node1', '--timeout', '60']);
    expect(un.code, un.out).toBe(0);
    expect(await t.shelf.stateOf(1)).toBe(4);
  });

  it('fencing a node whose blade controller does not answer fails: never a false success', async () => {
    const r = await stonithAdmin(['--fence', 'node3', '--timeout', '20']);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toMatch(/OK|successful/i);
  });
});
