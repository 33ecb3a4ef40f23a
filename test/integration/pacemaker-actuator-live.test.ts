// The live actuator with the real Pacemaker tools and no cluster running, and the timeout path
// with a stand-in tool. Nothing here starts corosync or a Pacemaker daemon, and nothing calls
// stonith_admin: pacemaker-fenced.test.ts may be running the machine-wide stand-alone fencer at
// the same time, and a fence (or its history) would then reach that fencer.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PacemakerConfig } from '../../src/pacemaker/actuator.js';
import { LiveActuator } from '../../src/pacemaker/live-actuator.js';
import { runningInOurNetns } from '../helpers/netns.js';

const LIVE: PacemakerConfig = {
  mode: 'live',
  healthAttribute: '#health-atca',
  commandTimeoutMs: 15_000,
  fenceTimeoutSec: 120,
  membershipIntervalMs: 1000,
};

/**
 * Whether a cluster could answer here: any cluster daemon in sight, or crm_mon (read-only)
 * getting anything but 102. If one could, the live calls below would change a real cluster.
 */
function clusterMayBeRunning(): boolean {
  if (runningInOurNetns(['pacemakerd', 'pacemaker-based', 'pacemaker-attrd', 'pacemaker-controld', 'corosync'])) {
    return true;
  }
  try {
    execFileSync('/usr/sbin/crm_mon', ['--one-shot', '--output-as=xml', '--include=none'], { stdio: 'pipe' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== 102;
  }
}

const haveTools = ['attrd_updater', 'crm_attribute', 'crm_mon'].every((t) => existsSync(`/usr/sbin/${t}`));

describe.skipIf(!haveTools || clusterMayBeRunning())('live actuator with no cluster running', () => {
  const a = new LiveActuator(LIVE);

  it('setHealth: attrd_updater exits 102, reported as ATCA_ERR_PCMK_UNREACHABLE', async () => {
    const r = await a.setHealth('node1', 'red');
    expect(r).toMatchObject({
      ok: false,
      exitCode: 102,
      command: ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-U', 'red', '-N', 'node1'],
    });
    expect(r.stderr).toContain('Could not update #health-atca=red');
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
    // It fails fast: no waiting for a daemon that is not there.
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('clearHealth: the same', async () => {
    const r = await a.clearHealth('node1');
    expect(r).toMatchObject({ ok: false, exitCode: 102 });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it('setStandby: crm_attribute cannot reach the CIB (102, "Transport endpoint is not connected")', async () => {
    const r = await a.setStandby('node2', true);
    expect(r).toMatchObject({ ok: false, exitCode: 102 });
    expect(r.stderr).toContain('Could not connect to the CIB');
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it('nodes(): crm_mon exits 102 and the read rejects with ATCA_ERR_PCMK_UNREACHABLE', async () => {
    await expect(a.nodes()).rejects.toMatchObject({ code: 'ATCA_ERR_PCMK_UNREACHABLE' });
  });
});

// No real Pacemaker tool can be made to hang on demand: without daemons each one fails within
// about 50 ms (exit 102), and making one wait would take a daemon that accepts the IPC
// connection and never answers — that is, starting Pacemaker's machine-wide daemons, which
// these tests must not do. stonith_admin's own timeout exits 124 by itself (classifyExit's
// unit test covers that). So a stand-in takes attrd_updater's place through the injectable
// tool paths, and ignores SIGTERM, so that only the SIGKILL after the grace period ends it.
describe('live actuator: a command that hangs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pcmk-hang-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function alive(pid: number): boolean {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }

  it('is killed at commandTimeoutMs and reported as ATCA_ERR_PCMK_TIMEOUT', async () => {
    const standIn = join(dir, 'attrd_updater');
    writeFileSync(
      standIn,
      [
        '#!/bin/sh',
        '# Stand-in for attrd_updater that never answers.',
        `echo $$ > '${dir}/pid'`,
        "trap '' TERM",
        'sleep 300 &',
        `echo $! > '${dir}/child'`,
        'wait',
        '',
      ].join('\n'),
    );
    chmodSync(standIn, 0o755);
    const a = new LiveActuator(
      { ...LIVE, commandTimeoutMs: 1000 },
      { toolPaths: { attrd_updater: standIn }, killGraceMs: 500 },
    );
    const r = await a.setHealth('node1', 'red');
    expect(r).toMatchObject({ ok: false, exitCode: null });
    expect(r.command).toEqual([standIn, '-n', '#health-atca', '-U', 'red', '-N', 'node1']);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
    expect(r.error?.message).toContain('did not finish within 1000 ms and was killed (SIGKILL)');
    expect(r.durationMs).toBeGreaterThanOrEqual(1450);
    expect(r.durationMs).toBeLessThan(5000);
    // The stand-in and the sleep it started are both gone.
    const pids = ['pid', 'child'].map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()));
    await new Promise((res) => setTimeout(res, 100));
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});
