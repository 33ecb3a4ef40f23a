// fence_atca against a real ipmi_sim shelf: the family's power sequences, as Pacemaker calls them.
import { describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { useShelf } from '../helpers/shelf.js';

const SET_FRU_ACTIVATION = 0x0c;
const SET_ACTIVATION_POLICY = 0x0a;

describe('fence_atca power actions on a simulated shelf', () => {
  const t = useShelf();

  it('runs the family on/off/status script: on→0, status→0, off→0, status→2, on→0', async () => {
    const b = { ...t.base(), plug: 1 };
    const on1 = await runAgent({ ...b, action: 'on' });
    expect(on1.code, on1.stderr).toBe(0);
    expect(on1.stdout.trim()).toBe('Success: Already ON');

    const st1 = await runAgent({ ...b, action: 'status' });
    expect([st1.code, st1.stdout.trim()]).toEqual([0, 'Status: ON']);

    const off = await runAgent({ ...b, action: 'off' });
    expect([off.code, off.stdout.trim()], off.stderr).toEqual([0, 'Success: Powered OFF']);
    expect(await t.shelf.stateOf(1)).toBe(1);

    const st2 = await runAgent({ ...b, action: 'status' });
    expect([st2.code, st2.stdout.trim()]).toEqual([2, 'Status: OFF']);

    const again = await runAgent({ ...b, action: 'off' });
    expect([again.code, again.stdout.trim()]).toEqual([0, 'Success: Already OFF']);

    const on2 = await runAgent({ ...b, action: 'on' });
    expect([on2.code, on2.stdout.trim()], on2.stderr).toEqual([0, 'Success: Powered ON']);
    expect(await t.shelf.stateOf(1)).toBe(4);
  });

  it('off sends Set FRU Activation (deactivate) to the IPMC the shelf manager names for the slot', async () => {
    // Slot 3's IPMC is at 0x9a, not at the conventional 0x86.
    const r = await runAgent({ ...t.base(), plug: 3, action: 'off' });
    expect(r.code, r.stderr).toBe(0);
    const sent = t.shelf.picmgCommands().filter((c) => c.kind === 'picmg' && c.cmd === SET_FRU_ACTIVATION);
    expect(sent.at(-1)).toMatchObject({ mc: 0x9a, data: [0x00, 0x00, 0x00] });
    expect(t.shelf.picmgCommands().some((c) => c.mc === 0x86)).toBe(false);
    // on: clear Locked (policy mask 1 value 0), then activate.
    const on = await runAgent({ ...t.base(), plug: 3, action: 'on' });
    expect(on.code, on.stderr).toBe(0);
    const after = t.shelf.picmgCommands().filter((c) => c.kind === 'picmg' && c.mc === 0x9a);
    const cmds = after.map((c) => [c.cmd, ...(c.data ?? [])]);
    const unlock = cmds.findLastIndex((c) => c[0] === SET_ACTIVATION_POLICY);
    const activate = cmds.findLastIndex((c) => c[0] === SET_FRU_ACTIVATION);
    expect(cmds[unlock]).toEqual([SET_ACTIVATION_POLICY, 0x00, 0x00, 0x01, 0x00]);
    expect(cmds[activate]).toEqual([SET_FRU_ACTIVATION, 0x00, 0x00, 0x01]);
    expect(unlock).toBeLessThan(activate);
  });

  it('reboot (onoff) takes the blade M4→M6→M1 and back to M4, verified each way', async () => {
    const before = t.shelf.picmgCommands().length;
    const r = await runAgent({ ...t.base(), plug: 2, action: 'reboot' });
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Rebooted']);
    const states = t.shelf
      .picmgCommands()
      .slice(before)
      .filter((c) => c.kind === 'state' && c.mc === 0x84)
      .map((c) => c.to);
    expect(states).toEqual([6, 1, 2, 3, 4]);
  });

  it('reboot with method=cycle sends FRU Control cold reset and leaves the blade in M4', async () => {
    const r = await runAgent({ ...t.base(), plug: 2, action: 'reboot', method: 'cycle' });
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Rebooted']);
    const last = t.shelf.picmgCommands().filter((c) => c.kind === 'picmg' && c.mc === 0x84 && c.cmd === 0x04);
    expect(last.at(-1)?.data).toEqual([0x00, 0x00, 0x00]);
    expect(await t.shelf.stateOf(2)).toBe(4);
  });

  it('reboot run by the fencer (timeouts disabled): a power-on that never completes is bounded, logged, and the reboot succeeds', async () => {
    await t.shelf.setDelays(2, 150, 600_000);
    try {
      const r = await runAgent(
        { ...t.base(), plug: 2, action: 'reboot', power_timeout: 1, retry_on: 0 },
        { PCMK_service: 'pacemaker-fenced' },
      );
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Rebooted']);
      expect(r.stderr).toMatch(/Power on of slot 2 after its verified power off failed; the node is fenced/);
      expect(r.stderr).toMatch(/still in M3.*\[ATCA_ERR_POWER_ON_TIMEOUT\]/);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      await t.shelf.setDelays(2, 150, 150);
      await t.shelf.setState(2, 4);
    }
  });

  it('list and list-status report the boards present (not the empty site 5) and their state', async () => {
    const list = await runAgent({ ...t.base(), action: 'list' });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual(['1,', '2,', '3,', '4,', '6,']);
    const ls = await runAgent({ ...t.base(), action: 'list-status', separator: ';' });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual(['1;;on', '2;;on', '3;;on', '4;;off', '6;;on']);
  });

  it('monitor answers 0 when the shelf manager answers', async () => {
    const r = await runAgent({ ...t.base(), action: 'monitor' });
    expect(r.code, r.stderr).toBe(0);
  });

  it('accepts the command-line form and the old option names', async () => {
    const b = t.base();
    const r = await runAgent([
      '-o',
      'status',
      '-a',
      '127.0.0.1',
      '-u',
      String(b.ipport),
      '-l',
      'admin',
      '-C',
      '3',
      '-n',
      '6',
      '--password-script',
      `/bin/echo ${b.password}`,
    ]);
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Status: ON']);
    const old = await runAgent({
      action: 'status',
      ipaddr: '127.0.0.1',
      ipport: b.ipport!,
      login: 'admin',
      passwd: b.password!,
      port: 6,
      cipher: 3,
    });
    expect([old.code, old.stdout.trim()], old.stderr).toEqual([0, 'Status: ON']);
  });

  it('validate-all accepts good options and rejects bad ones', async () => {
    expect((await runAgent({ ...t.base(), plug: 1, action: 'validate-all' })).code).toBe(0);
    const bad = await runAgent({ ...t.base(), plug: 'x', action: 'validate-all' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/plug: 'x' is not a physical slot number/);
    // Pacemaker's own validation call: a made-up target as nodename and host argument.
    const pcmk = await runAgent({ ...t.base(), nodename: 'node1', port: 'node1', action: 'validate-all' });
    expect(pcmk.code, pcmk.stderr).toBe(0);
  });
  it('on finishes a blade caught in a transition: M2 (activation requested), M6 (deactivation under way)', async () => {
    await t.shelf.setState(6, 2);
    const m2 = await runAgent({ ...t.base(), plug: 6, action: 'on' });
    expect([m2.code, m2.stdout.trim()], m2.stderr).toEqual([0, 'Success: Powered ON']);
    expect(await t.shelf.stateOf(6)).toBe(4);
    await t.shelf.startDeactivation(6); // M6, then M1 (Locked) after the board's shutdown delay
    const m6 = await runAgent({ ...t.base(), plug: 6, action: 'on' });
    expect([m6.code, m6.stdout.trim()], m6.stderr).toEqual([0, 'Success: Powered ON']);
    expect(await t.shelf.stateOf(6)).toBe(4);
  });

  it('on with several plugs, one on and one off, powers the off one on (not "Already ON")', async () => {
    expect(await t.shelf.stateOf(4)).toBe(1);
    const r = await runAgent({ ...t.base(), plug: '1,4', action: 'on' });
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Powered ON']);
    expect([await t.shelf.stateOf(1), await t.shelf.stateOf(4)]).toEqual([4, 4]);
    const again = await runAgent({ ...t.base(), plug: '1,4', action: 'on' });
    expect([again.code, again.stdout.trim()]).toEqual([0, 'Success: Already ON']);
    expect((await runAgent({ ...t.base(), plug: 4, action: 'off' })).code).toBe(0);
  });
});
