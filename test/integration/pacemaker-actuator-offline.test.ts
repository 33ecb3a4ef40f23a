import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterActuator, PacemakerConfig } from '../../src/pacemaker/actuator.js';
import { createActuator } from '../../src/pacemaker/create.js';
import { DryRunActuator } from '../../src/pacemaker/dry-run-actuator.js';
import { OfflineActuator } from '../../src/pacemaker/offline-actuator.js';
import { makeCib, type ToolRun, tool } from '../helpers/cib.js';

const SBIN = '/usr/sbin';
const TOOLS = ['crm_attribute', 'crm_mon', 'crm_simulate', 'crm_verify', 'cibadmin'];
const haveTools = TOOLS.every((t) => existsSync(join(SBIN, t)));

interface Transition {
  readonly moves: { resource: string; from: string; to: string }[];
  readonly fences: { node: string; task: string; reason: string }[];
  /** Every planned action, for failure messages. */
  readonly raw: string;
}

function attrs(tag: string): Map<string, string> {
  return new Map([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** What the scheduler would do next with this CIB: `crm_simulate -x <cib> -S`, as XML. */
async function transition(cib: string): Promise<Transition> {
  const r = await tool('crm_simulate', ['-x', cib, '-S', '--output-as=xml']);
  expect(r.code, r.stderr).toBe(0);
  const actions = /<actions>([\s\S]*?)<\/actions>/.exec(r.stdout)?.[1] ?? '';
  const moves = [...actions.matchAll(/<rsc_action\s([^>]*)\/>/g)]
    .map((m) => attrs(m[1] ?? ''))
    .filter((a) => a.get('action') === 'move')
    .map((a) => ({ resource: a.get('resource') ?? '', from: a.get('source') ?? '', to: a.get('dest') ?? '' }));
  const fences = [...actions.matchAll(/<node_action\s([^>]*)\/>/g)]
    .map((m) => attrs(m[1] ?? ''))
    .map((a) => ({ node: a.get('node') ?? '', task: a.get('task') ?? '', reason: a.get('reason') ?? '' }));
  return { moves, fences, raw: actions.trim() };
}

async function attribute(cib: string, node: string, name: string, lifetime: 'reboot' | 'forever'): Promise<ToolRun> {
  return tool('crm_attribute', ['-N', node, '-n', name, '-G', '-q', '-l', lifetime], cib);
}

function offlineConfig(cibFile: string): PacemakerConfig {
  return {
    mode: 'offline',
    cibFile,
    healthAttribute: '#health-atca',
    commandTimeoutMs: 15_000,
    fenceTimeoutSec: 120,
    membershipIntervalMs: 1000,
  };
}

describe.skipIf(!haveTools)('offline actuator on a CIB file, checked with crm_simulate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pcmk-offline-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the hand-written CIB is valid and settled: Dummy resources on node1, nothing left to do', async () => {
    const cib = await makeCib(dir);
    const t = await transition(cib);
    expect(t.raw).toBe('');
    const mon = await tool('crm_mon', ['--one-shot'], cib);
    expect(mon.stdout).toMatch(/dummy1\s+\(ocf:pacemaker:Dummy\):\s+Started node1/);
    const nodes = await new OfflineActuator(offlineConfig(cib)).nodes();
    expect(nodes).toEqual([
      { name: 'node1', id: '1', online: true, standby: false, unclean: false, type: 'member', health: 'green' },
      { name: 'node2', id: '2', online: true, standby: false, unclean: false, type: 'member', health: 'green' },
      { name: 'node3', id: '3', online: true, standby: false, unclean: false, type: 'member', health: 'green' },
    ]);
    // The guard before a fence reads the same file: quorate (have-quorum), three voting members.
    expect(await new OfflineActuator(offlineConfig(cib)).cluster()).toEqual({
      withQuorum: true,
      votersOnline: ['node1', 'node2', 'node3'],
      votersTotal: 3,
      quorum: undefined,
    });
  });

  it("setHealth('node1', 'red') moves every Dummy resource off node1 (migrate-on-red)", async () => {
    const cib = await makeCib(dir);
    const a = new OfflineActuator(offlineConfig(cib));
    const r = await a.setHealth('node1', 'red');
    expect(r, r.stderr).toMatchObject({ ok: true, exitCode: 0 });
    expect(r.command).toEqual([
      '/usr/sbin/crm_attribute',
      '-N',
      'node1',
      '-n',
      '#health-atca',
      '-v',
      'red',
      '-l',
      'reboot',
    ]);
    expect((await attribute(cib, 'node1', '#health-atca', 'reboot')).stdout.trim()).toBe('red');
    const t = await transition(cib);
    expect(t.moves.map((m) => m.resource).sort(), t.raw).toEqual(['dummy1', 'dummy2', 'dummy3']);
    for (const m of t.moves) {
      expect(m.from).toBe('node1');
      expect(['node2', 'node3']).toContain(m.to);
    }
    const text = await tool('crm_simulate', ['-x', cib, '-S']);
    expect(text.stdout).toContain('Node node1: online (health is RED)');
  });

  it('yellow moves nothing under migrate-on-red, and clearHealth removes the attribute', async () => {
    const cib = await makeCib(dir);
    const a = new OfflineActuator(offlineConfig(cib));
    expect((await a.setHealth('node1', 'yellow')).ok).toBe(true);
    expect((await attribute(cib, 'node1', '#health-atca', 'reboot')).stdout.trim()).toBe('yellow');
    expect((await transition(cib)).moves).toEqual([]);
    expect((await a.setHealth('node1', 'red')).ok).toBe(true);
    const cleared = await a.clearHealth('node1');
    expect(cleared, cleared.stderr).toMatchObject({ ok: true, exitCode: 0 });
    // A missing attribute: crm_attribute -G exits 105.
    expect((await attribute(cib, 'node1', '#health-atca', 'reboot')).code).toBe(105);
    expect((await transition(cib)).raw).toBe('');
  });

  it("setStandby('node2', true): standby is on, and node2 takes no resources when node1 goes too", async () => {
    const cib = await makeCib(dir);
    const a = new OfflineActuator(offlineConfig(cib));
    const r = await a.setStandby('node2', true);
    expect(r, r.stderr).toMatchObject({ ok: true, exitCode: 0 });
    const got = await tool('crm_attribute', ['-N', 'node2', '-n', 'standby', '-G', '-q'], cib);
    expect(got).toMatchObject({ code: 0, stdout: 'on\n' });
    expect((await a.nodes()).find((n) => n.name === 'node2')).toMatchObject({ standby: true, online: true });
    // Nothing runs on node2, so nothing moves yet; with node1 in standby as well, all go to node3.
    expect((await transition(cib)).moves).toEqual([]);
    expect((await a.setStandby('node1', true)).ok).toBe(true);
    const t = await transition(cib);
    expect(t.moves, t.raw).toEqual([
      { resource: 'dummy1', from: 'node1', to: 'node3' },
      { resource: 'dummy2', from: 'node1', to: 'node3' },
      { resource: 'dummy3', from: 'node1', to: 'node3' },
    ]);
    expect((await a.setStandby('node2', false)).ok).toBe(true);
    expect((await tool('crm_attribute', ['-N', 'node2', '-n', 'standby', '-G', '-q'], cib)).stdout).toBe('off\n');
  });

  it('fence() requests termination, which crm_simulate turns into a reboot fence of the node', async () => {
    const cib = await makeCib(dir, true);
    const a = new OfflineActuator(offlineConfig(cib));
    expect((await transition(cib)).fences).toEqual([]);
    const r = await a.fence('node1');
    expect(r, r.stderr).toMatchObject({ ok: true, exitCode: 0 });
    expect(r.command).toEqual([
      '/usr/sbin/crm_attribute',
      '-N',
      'node1',
      '-n',
      'terminate',
      '-v',
      'true',
      '-l',
      'reboot',
    ]);
    const t = await transition(cib);
    expect(t.fences, t.raw).toEqual([{ node: 'node1', task: 'Fence (reboot)', reason: 'termination was requested' }]);
    // The Dummy resources leave node1 (the fence device may be rebalanced too: not checked).
    const dummies = t.moves.filter((m) => m.resource.startsWith('dummy'));
    expect(dummies.map((m) => [m.resource, m.from])).toEqual([
      ['dummy1', 'node1'],
      ['dummy2', 'node1'],
      ['dummy3', 'node1'],
    ]);
    const text = await tool('crm_simulate', ['-x', cib, '-S']);
    expect(text.stdout).toContain("Fence (reboot) node1 'termination was requested'");
    expect(await a.fenceHistory('node1')).toEqual([]);
  });

  it('with stonith-enabled=false the termination request is recorded but the scheduler ignores it', async () => {
    const cib = await makeCib(dir, false);
    expect((await new OfflineActuator(offlineConfig(cib)).fence('node1')).ok).toBe(true);
    expect((await attribute(cib, 'node1', 'terminate', 'reboot')).stdout.trim()).toBe('true');
    const t = await transition(cib);
    expect(t.fences).toEqual([]);
    expect(t.moves).toEqual([]);
  });

  it('health needs a <node_state>: without one crm_attribute exits 105, reported as a failure', async () => {
    const cib = await makeCib(dir);
    const del = await tool('cibadmin', ['-D', '-o', 'status', '-X', '<node_state id="3"/>'], cib);
    expect(del.code, del.stderr).toBe(0);
    const a = new OfflineActuator(offlineConfig(cib));
    expect((await a.nodes()).find((n) => n.name === 'node3')).toMatchObject({ online: false });
    const r = await a.setHealth('node3', 'red');
    expect(r).toMatchObject({ ok: false, exitCode: 105 });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toContain('No such device or address');
    // Standby lives in <nodes>, so it still works for that node.
    expect((await a.setStandby('node3', true)).ok).toBe(true);
  });

  it('an unknown node is a failure naming it (exit 105)', async () => {
    const cib = await makeCib(dir);
    const r = await new OfflineActuator(offlineConfig(cib)).setStandby('node9', true);
    expect(r).toMatchObject({ ok: false, exitCode: 105 });
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toContain('Could not map name=node9 to a UUID');
  });

  it('concurrent calls all land: the actuator writes the file one command at a time', async () => {
    const cib = await makeCib(dir, true);
    const a = new OfflineActuator(offlineConfig(cib));
    const results = await Promise.all([
      a.setHealth('node1', 'red'),
      a.setHealth('node2', 'yellow'),
      a.setHealth('node3', 'green'),
      a.setStandby('node1', true),
      a.setStandby('node2', true),
      a.setStandby('node3', false),
      a.fence('node2'),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true]);
    const read = async (node: string, name: string, lifetime: 'reboot' | 'forever') =>
      (await attribute(cib, node, name, lifetime)).stdout.trim();
    expect(await read('node1', '#health-atca', 'reboot')).toBe('red');
    expect(await read('node2', '#health-atca', 'reboot')).toBe('yellow');
    expect(await read('node3', '#health-atca', 'reboot')).toBe('green');
    expect(await read('node1', 'standby', 'forever')).toBe('on');
    expect(await read('node2', 'standby', 'forever')).toBe('on');
    expect(await read('node3', 'standby', 'forever')).toBe('off');
    expect(await read('node2', 'terminate', 'reboot')).toBe('true');
  });

  it('a CIB file that does not exist: actions fail as unreachable and nodes() rejects', async () => {
    const a = new OfflineActuator(offlineConfig(join(dir, 'missing.xml')));
    const r = await a.setStandby('node1', true);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
    await expect(a.nodes()).rejects.toMatchObject({ code: 'ATCA_ERR_PCMK_UNREACHABLE' });
  });

  it('dry-run records the argv it would run and leaves the CIB file alone', async () => {
    const cib = await makeCib(dir, true);
    const before = readFileSync(cib);
    const mtime = statSync(cib).mtimeMs;
    const a: ClusterActuator = createActuator({ ...offlineConfig(cib), mode: 'dry-run' });
    expect(a).toBeInstanceOf(DryRunActuator);
    const results = [
      await a.setHealth('node1', 'red'),
      await a.setStandby('node2', true),
      await a.fence('node3'),
      await a.clearHealth('node1'),
    ];
    expect(results.every((r) => r.ok && r.exitCode === null)).toBe(true);
    expect((a as DryRunActuator).recorded).toEqual([
      ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-U', 'red', '-N', 'node1'],
      ['/usr/sbin/crm_attribute', '-N', 'node2', '-n', 'standby', '-v', 'on', '-l', 'forever'],
      ['/usr/sbin/stonith_admin', '--reboot', 'node3', '--timeout', '120'],
      ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-D', '-N', 'node1'],
    ]);
    expect(readFileSync(cib).equals(before)).toBe(true);
    expect(statSync(cib).mtimeMs).toBe(mtime);
    expect((await transition(cib)).raw).toBe('');
  });
});
