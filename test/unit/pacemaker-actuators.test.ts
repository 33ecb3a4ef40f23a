// The three actuators and createActuator with the runner replaced by a recording fake: which
// argv each call runs, with which environment and timeout, and how results become ActionResults.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { AtcaError } from '../../src/errors.js';
import type { PacemakerConfig } from '../../src/pacemaker/actuator.js';
import type { CommandRunner, RunOptions, RunResult } from '../../src/pacemaker/command-runner.js';
import { createActuator } from '../../src/pacemaker/create.js';
import { DryRunActuator } from '../../src/pacemaker/dry-run-actuator.js';
import { LiveActuator } from '../../src/pacemaker/live-actuator.js';
import { OfflineActuator } from '../../src/pacemaker/offline-actuator.js';
import { rejectedAtcaError } from './catch-atca-error.js';

function pacemaker(over: Partial<PacemakerConfig> = {}): PacemakerConfig {
  const cfg = configSchema.parse({
    shelves: [
      {
        name: 's1',
        shelfManagers: [{ host: '192.0.2.1' }],
        ipmi: { username: 'u', password: { env: 'P' } },
        slots: { '1': { node: 'node1' } },
      },
    ],
  });
  return { ...cfg.pacemaker, ...over };
}

interface Call {
  readonly argv: readonly string[];
  readonly opts: RunOptions;
}

/** Answers every command with `answer` (by default: exit 0, no output) and records it. */
function fakeRunner(answer: (argv: readonly string[]) => Partial<RunResult> = () => ({})) {
  const calls: Call[] = [];
  const runner: CommandRunner = async (argv, opts) => {
    calls.push({ argv, opts });
    return {
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 3,
      stdout: '',
      stderr: '',
      ...answer(argv),
    };
  };
  return { runner, calls };
}

const NODES_XML = `<pacemaker-result api-version="2.25" request="crm_mon">
  <nodes>
    <node name="node1" id="1" online="true" standby="false" unclean="false"/>
    <node name="node2" id="2" online="false" standby="false" unclean="true"/>
  </nodes>
  <status code="0" message="OK"/>
</pacemaker-result>`;

describe('LiveActuator', () => {
  it('runs each action with absolute tool paths, the configured attribute and timeouts', async () => {
    const { runner, calls } = fakeRunner();
    const a = new LiveActuator(pacemaker({ mode: 'live', commandTimeoutMs: 7000, fenceTimeoutSec: 60 }), { runner });
    await a.setHealth('node1', 'red');
    await a.clearHealth('node1');
    await a.setStandby('node2', true);
    await a.setStandby('node2', false);
    await a.fence('node3');
    expect(calls.map((c) => c.argv)).toEqual([
      ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-U', 'red', '-N', 'node1'],
      ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-D', '-N', 'node1'],
      ['/usr/sbin/crm_attribute', '-N', 'node2', '-n', 'standby', '-v', 'on', '-l', 'forever'],
      ['/usr/sbin/crm_attribute', '-N', 'node2', '-n', 'standby', '-v', 'off', '-l', 'forever'],
      ['/usr/sbin/stonith_admin', '--reboot', 'node3', '--timeout', '60'],
    ]);
    expect(calls.map((c) => c.opts.timeoutMs)).toEqual([7000, 7000, 7000, 7000, 66_000]);
  });

  it('gives the tools a clean environment: no CIB_file, even if atcad has one', async () => {
    const saved = process.env.CIB_file;
    process.env.CIB_file = '/tmp/stray.xml';
    try {
      const { runner, calls } = fakeRunner();
      await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).setStandby('node1', true);
      expect(calls[0]?.opts.env).toEqual({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' });
    } finally {
      if (saved === undefined) delete process.env.CIB_file;
      else process.env.CIB_file = saved;
    }
  });

  it('a successful action: ok, with the argv, exit code, duration and output', async () => {
    const { runner } = fakeRunner(() => ({ stdout: 'fine\n' }));
    const r = await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).setHealth('node1', 'yellow');
    expect(r).toEqual({
      ok: true,
      command: ['/usr/sbin/attrd_updater', '-n', '#health-atca', '-U', 'yellow', '-N', 'node1'],
      exitCode: 0,
      durationMs: 3,
      stdout: 'fine\n',
      stderr: '',
    });
  });

  it('a failed action resolves (never rejects) with the classified error', async () => {
    const { runner } = fakeRunner(() => ({
      exitCode: 102,
      stderr: 'attrd_updater: Could not update #health-atca=red: Connection refused (111)\n',
    }));
    const r = await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).setHealth('node1', 'red');
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(102);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it("the runner's timeout error is kept as it is", async () => {
    const timeout = new AtcaError('ATCA_ERR_PCMK_TIMEOUT', 'stonith_admin did not finish');
    const { runner } = fakeRunner(() => ({ exitCode: null, signal: 'SIGKILL', timedOut: true, error: timeout }));
    const r = await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).fence('node2');
    expect(r).toMatchObject({ ok: false, exitCode: null, error: timeout });
  });

  it('a tool killed by someone else (no timeout) is a failure too', async () => {
    const { runner } = fakeRunner(() => ({ exitCode: null, signal: 'SIGKILL' }));
    const r = await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).setStandby('node1', true);
    expect(r.error?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(r.error?.message).toContain('killed by SIGKILL');
  });

  it('a bad node name fails before anything runs', async () => {
    const { runner, calls } = fakeRunner();
    const r = await new LiveActuator(pacemaker({ mode: 'live' }), { runner }).fence('--all');
    expect(r).toMatchObject({ ok: false, command: [], exitCode: null });
    expect(r.error?.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(calls).toEqual([]);
  });

  it('reads the fencing history and the node list from XML', async () => {
    const history = `<pacemaker-result><list name="fencing history" count="1">
      <fence_event action="reboot" target="node2" origin="node1" status="success" delegate="node1" completed="2026-11-25 20:41:27Z"/>
      </list><status code="0" message="OK"/></pacemaker-result>`;
    const { runner, calls } = fakeRunner((argv) => ({ stdout: argv[0]?.endsWith('crm_mon') ? NODES_XML : history }));
    const a = new LiveActuator(pacemaker({ mode: 'live' }), { runner });
    expect(await a.fenceHistory('node2')).toEqual([
      {
        action: 'reboot',
        target: 'node2',
        status: 'success',
        origin: 'node1',
        delegate: 'node1',
        completed: '2026-11-25T20:41:27Z',
      },
    ]);
    expect(await a.nodes()).toEqual([
      { name: 'node1', id: '1', online: true, standby: false, unclean: false, type: 'member' },
      { name: 'node2', id: '2', online: false, standby: false, unclean: true, type: 'member' },
    ]);
    expect(calls.map((c) => c.argv)).toEqual([
      ['/usr/sbin/stonith_admin', '--history', 'node2', '--verbose', '--output-as=xml'],
      ['/usr/sbin/crm_mon', '--one-shot', '--output-as=xml', '--include=none', '--include=summary', '--include=nodes'],
    ]);
  });

  it('the reads reject with the AtcaError', async () => {
    const { runner } = fakeRunner(() => ({
      exitCode: 102,
      stdout:
        '<pacemaker-result><status code="102" message="Not connected"><errors><error>Could not connect to fencer: Transport endpoint is not connected</error></errors></status></pacemaker-result>',
    }));
    const a = new LiveActuator(pacemaker({ mode: 'live' }), { runner });
    expect((await rejectedAtcaError(a.fenceHistory('node1'))).code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
    expect((await rejectedAtcaError(a.nodes())).message).toContain('Could not connect to fencer');
  });

  it('tool paths can be replaced one by one', async () => {
    const { runner, calls } = fakeRunner();
    const a = new LiveActuator(pacemaker({ mode: 'live' }), { runner, toolPaths: { attrd_updater: '/opt/x/attrd' } });
    await a.setHealth('node1', 'green');
    await a.setStandby('node1', false);
    expect(calls.map((c) => c.argv[0])).toEqual(['/opt/x/attrd', '/usr/sbin/crm_attribute']);
  });
});

describe('OfflineActuator', () => {
  it('runs crm_attribute against the CIB file (absolute CIB_file), fence as a termination request', async () => {
    const { runner, calls } = fakeRunner();
    const a = new OfflineActuator(pacemaker({ mode: 'offline', cibFile: 'rel/cib.xml' }), { runner });
    await a.setHealth('node1', 'red');
    await a.clearHealth('node1');
    await a.setStandby('node2', true);
    await a.fence('node3');
    expect(calls.map((c) => c.argv)).toEqual([
      ['/usr/sbin/crm_attribute', '-N', 'node1', '-n', '#health-atca', '-v', 'red', '-l', 'reboot'],
      ['/usr/sbin/crm_attribute', '-N', 'node1', '-n', '#health-atca', '-D', '-l', 'reboot'],
      ['/usr/sbin/crm_attribute', '-N', 'node2', '-n', 'standby', '-v', 'on', '-l', 'forever'],
      ['/usr/sbin/crm_attribute', '-N', 'node3', '-n', 'terminate', '-v', 'true', '-l', 'reboot'],
    ]);
    expect(calls[0]?.opts.env).toEqual({
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LC_ALL: 'C',
      CIB_file: `${process.cwd()}/rel/cib.xml`,
    });
  });

  it('has no fencing history and reads nodes with crm_mon', async () => {
    const { runner, calls } = fakeRunner(() => ({ stdout: NODES_XML }));
    const a = new OfflineActuator(pacemaker({ mode: 'offline', cibFile: '/x/cib.xml' }), { runner });
    expect(await a.fenceHistory('node1')).toEqual([]);
    expect((await a.nodes()).map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(calls.map((c) => c.argv[0])).toEqual(['/usr/sbin/crm_mon']);
  });

  it('runs one command at a time, in the order asked', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const runner: CommandRunner = async (argv) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(argv[2] ?? '');
      running--;
      return {
        exitCode: argv[2] === 'node2' ? 1 : 0,
        signal: null,
        timedOut: false,
        durationMs: 5,
        stdout: '',
        stderr: '',
      };
    };
    const a = new OfflineActuator(pacemaker({ mode: 'offline', cibFile: '/x/cib.xml' }), { runner });
    const results = await Promise.all(['node1', 'node2', 'node3', 'node4'].map((n) => a.setStandby(n, true)));
    expect(most).toBe(1);
    expect(order).toEqual(['node1', 'node2', 'node3', 'node4']);
    // One failure does not stop the queue.
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
  });

  it('refuses a config without cibFile', () => {
    expect(() => new OfflineActuator(pacemaker({ mode: 'offline' }))).toThrow(/cibFile/);
  });
});

describe('DryRunActuator', () => {
  it('records the argv the live actuator would run, runs nothing, reports ok with exitCode null', async () => {
    const a = new DryRunActuator(pacemaker({ healthAttribute: '#health-x', fenceTimeoutSec: 30 }));
    const r = await a.setHealth('node1', 'red');
    expect(r).toEqual({
      ok: true,
      command: ['/usr/sbin/attrd_updater', '-n', '#health-x', '-U', 'red', '-N', 'node1'],
      exitCode: null,
      durationMs: 0,
      stdout: '',
      stderr: '',
    });
    await a.clearHealth('node1');
    await a.setStandby('node2', true);
    await a.fence('node3');
    expect(a.recorded).toEqual([
      ['/usr/sbin/attrd_updater', '-n', '#health-x', '-U', 'red', '-N', 'node1'],
      ['/usr/sbin/attrd_updater', '-n', '#health-x', '-D', '-N', 'node1'],
      ['/usr/sbin/crm_attribute', '-N', 'node2', '-n', 'standby', '-v', 'on', '-l', 'forever'],
      ['/usr/sbin/stonith_admin', '--reboot', 'node3', '--timeout', '30'],
    ]);
  });

  it('does not record what it could not build', async () => {
    const a = new DryRunActuator(pacemaker());
    const r = await a.fence('-x');
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(a.recorded).toEqual([]);
  });

  it('answers the reads from what it was given', async () => {
    const nodes = [{ name: 'node1', online: true, standby: false, unclean: false, type: 'member' }];
    const a = new DryRunActuator(pacemaker(), { nodes });
    expect(await a.nodes()).toEqual(nodes);
    expect(await a.fenceHistory('node1')).toEqual([]);
    expect(await new DryRunActuator(pacemaker()).nodes()).toEqual([]);
  });
});

describe('createActuator', () => {
  it('chooses by pacemaker.mode; dry-run is the default', () => {
    expect(createActuator(pacemaker())).toBeInstanceOf(DryRunActuator);
    expect(createActuator(pacemaker({ mode: 'live' }))).toBeInstanceOf(LiveActuator);
    expect(createActuator(pacemaker({ mode: 'offline', cibFile: '/x/cib.xml' }))).toBeInstanceOf(OfflineActuator);
  });

  it('passes the injected runner and paths on', async () => {
    const { runner, calls } = fakeRunner();
    await createActuator(pacemaker({ mode: 'live' }), { runner, toolPaths: { crm_attribute: '/t/crm' } }).setStandby(
      'node1',
      true,
    );
    expect(calls[0]?.argv[0]).toBe('/t/crm');
    const dry = createActuator(pacemaker(), { toolPaths: { crm_attribute: '/t/crm' } });
    expect((await dry.setStandby('node1', true)).command[0]).toBe('/t/crm');
  });
});
