// End to end through Pacemaker's own fencer: pacemaker-fenced (stand-alone) runs fence_atca
// from /usr/sbin with a pcmk_host_map, as a cluster would.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** Live ipmitool processes talking to the shelf manager on `port` (ours: the port is this run's). */
function ipmitoolsOn(port: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && argv[0]?.endsWith('ipmitool') && argv.join(' ').includes(` -p ${port} `))
        out.push(Number(name));
    } catch {
      // gone already
    }
  }
  return out;
}

/** Polls until `f` finds nothing (or 10 s pass) and returns what it last found. */
async function waitGone(f: () => number[]): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = f();
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
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

  it('an agent the fencer kills for overrunning pcmk_off_timeout leaves no ipmitool behind', async () => {
    // Slot 6 stalls in M6 and the agent waits a minute before escalating: the fencer's 3 s
    // bound kills it mid-off. Its ipmitool must die with it. Pacemaker 2.1.5 makes each agent a
    // process-group leader and SIGKILLs the group, so this holds here even without the
    // parent-death signal; fence-atca-sigkill.test.ts kills the agent alone (kill -9 by PID, the
    // OOM killer, a fencer that leaves the group intact), which is what used to orphan ipmitool.
    const port = t.shelf.managers[0]!.port;
    const opts = Object.entries({
      ...t.base(),
      ip2: undefined,
      ipport2: undefined,
      pcmk_host_map: 'node4:6',
      pcmk_off_timeout: 3,
      graceful_timeout: 60,
    }).flatMap(([k, v]) => (v === undefined ? [] : ['-o', `${k}=${v}`]));
    const reg = await stonithAdmin(['--register', 'atca-slow', '--agent', 'fence_atca', ...opts]);
    expect(reg.code, reg.out).toBe(0);
    await t.shelf.setStall(6, true);
    const ours = () => ipmitoolsOn(port);
    try {
      const r = await stonithAdmin(['--fence', 'node4', '--timeout', '30']);
      expect(r.code).not.toBe(0);
      expect(await t.shelf.stateOf(6)).toBe(6); // it was mid-way when killed
      const left = await waitGone(ours);
      expect(left, readFileSync(join(dir, 'fenced.log'), 'utf8').slice(-2000)).toEqual([]);
    } finally {
      for (const pid of ours()) process.kill(pid, 'SIGKILL');
      await stonithAdmin(['--deregister', 'atca-slow']);
      await t.shelf.setStall(6, false);
      await t.shelf.setState(6, 4);
    }
  });

  it('fencing a node whose blade controller does not answer fails: never a false success', async () => {
    const r = await stonithAdmin(['--fence', 'node3', '--timeout', '20']);
    expect(r.code).not.toBe(0);
    expect(r.out).not.toMatch(/OK|successful/i);
  });
});
