// A shelf manager that dies between a command and its answer: fence_atca goes on through the
// other one without sending a command twice blindly. The two simulated shelf managers are
// separate ipmi_sim processes with separate state, where real ones share the blade: each test
// makes the second one show what the hardware would (the FRU already deactivating, or not).
import { describe, expect, it } from 'vitest';
import { RunningAgent } from '../helpers/agent-process.js';
import { useShelf } from '../helpers/shelf.js';
import { until } from '../helpers/wait.js';

const SET_FRU_ACTIVATION = 0x0c;
const FRU_CONTROL = 0x04;
const SLOT = 1;
const IPMB = 0x82;

/**
 * The dead shelf manager's request is given up after ipmitool's retransmit (-N 2 -R 1) or
 * shell_timeout: seconds in which the test makes the second shelf manager show the blade as
 * the hardware would, well before the agent gets there.
 */
const FAST = { shell_timeout: 4, login_timeout: 2, ipmitool_timeout: 2, verbose: 1 };

describe('fence_atca off: the first shelf manager dies after the deactivate took effect, before its answer', () => {
  const t = useShelf();

  it('completes through the second one, reading the deactivation under way as progress, not "locked"', async () => {
    const [first, second] = t.shelf.managers;
    // The second shelf manager answers a repeated deactivate in M6 with CC 0xD5, as real
    // hardware can: the answer that used to fail fences with ATCA_ERR_FRU_LOCKED.
    await t.shelf.setStrict(SLOT, true, 1);
    // Its deactivation stalls until the test has seen the agent read it (then it completes).
    await t.shelf.setStall(SLOT, true, 1);
    await t.shelf.stopOn(SLOT, SET_FRU_ACTIVATION, 'after-effect', { byte2: 0, manager: 0 });
    const before = t.shelf.picmgCommands(0).length;
    const agent = new RunningAgent({ ...t.base(), plug: SLOT, action: 'off', graceful_timeout: 60, ...FAST });
    try {
      await until('the first shelf manager to stop after the deactivate', () => first!.isStopped());
      const got = t.shelf
        .picmgCommands(0)
        .slice(before)
        .filter((c) => c.mc === IPMB);
      expect(got.filter((c) => c.kind === 'state').map((c) => c.to)).toEqual([6]);
      // The blade is deactivating; the second shelf manager must show that, then the first dies.
      await t.shelf.startDeactivation(SLOT, 1);
      await first!.kill();
      // The agent reaches the second shelf manager and reads M6 (sensor reading, state bit 6).
      await agent.waitFor(
        new RegExp(`IPMB 0x82 via 127\\.0\\.0\\.1:${second!.port}: raw 0x04 0x2d 0x00 -> 0x.. 0x.. 0x40`),
      );
      await t.shelf.setStall(SLOT, false, 1);
      await t.shelf.startDeactivation(SLOT, 1);
      const r = await agent.done;
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Powered OFF']);
      expect(r.stderr).toMatch(/failing over/);
      expect(r.stderr).toMatch(/answer .*lost/i);
      expect(r.stderr).not.toMatch(/ATCA_ERR_FRU_LOCKED|ERROR/);
      expect(await t.shelf.stateOf(SLOT, 1)).toBe(1);
      // Nothing sent the second shelf manager a deactivate: the state said it was under way.
      const sent = t.shelf.picmgCommands(1).filter((c) => c.kind === 'picmg' && c.mc === IPMB);
      expect(sent.filter((c) => c.cmd === SET_FRU_ACTIVATION)).toEqual([]);
    } finally {
      await agent.cleanup();
    }
  });
});

describe('fence_atca off: the first shelf manager dies on receiving the deactivate, before it took effect', () => {
  const t = useShelf();

  it('sends the deactivate to the second one, once, because the blade still reads M4 there', async () => {
    const [first] = t.shelf.managers;
    await t.shelf.setStrict(SLOT, true, 1);
    await t.shelf.stopOn(SLOT, SET_FRU_ACTIVATION, 'before-effect', { byte2: 0, manager: 0 });
    const before = t.shelf.picmgCommands(0).length;
    const agent = new RunningAgent({ ...t.base(), plug: SLOT, action: 'off', ...FAST });
    try {
      await until('the first shelf manager to stop on the deactivate', () => first!.isStopped());
      const got = t.shelf.picmgCommands(0).slice(before);
      expect(got.filter((c) => c.kind === 'state' && c.mc === IPMB)).toEqual([]);
      await first!.kill();
      const r = await agent.done;
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Powered OFF']);
      expect(await t.shelf.stateOf(SLOT, 1)).toBe(1);
      const sent = t.shelf
        .picmgCommands(1)
        .filter((c) => c.kind === 'picmg' && c.mc === IPMB && c.cmd === SET_FRU_ACTIVATION);
      // (the second shelf manager's log holds only this test's commands: it started with this file)
      expect(sent.map((c) => c.data)).toEqual([[0x00, 0x00, 0x00]]);
    } finally {
      await agent.cleanup();
    }
  });
});

describe('fence_atca reboot method=cycle: the first shelf manager dies after the reset took effect, before its answer', () => {
  const t = useShelf();

  it('never sends a second reset; it powers the blade off and on, verified, through the second one', async () => {
    const [first] = t.shelf.managers;
    await t.shelf.stopOn(SLOT, FRU_CONTROL, 'after-effect', { manager: 0 });
    const before = t.shelf.picmgCommands(1).length;
    const agent = new RunningAgent({ ...t.base(), plug: SLOT, action: 'reboot', method: 'cycle', ...FAST });
    try {
      await until('the first shelf manager to stop after the reset', () => first!.isStopped());
      // The first shelf manager took the reset (and counted it) before it stopped.
      expect(
        t.shelf.picmgCommands(0).filter((c) => c.kind === 'picmg' && c.mc === IPMB && c.cmd === FRU_CONTROL),
      ).toHaveLength(1);
      await first!.kill();
      const r = await agent.done;
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Rebooted']);
      expect(r.stderr).toMatch(/not sending it again/);
      const log = t.shelf
        .picmgCommands(1)
        .slice(before)
        .filter((c) => c.mc === IPMB);
      expect(log.filter((c) => c.kind === 'picmg' && c.cmd === FRU_CONTROL)).toEqual([]);
      expect(await t.shelf.resetsOf(SLOT, 1)).toBe(0);
      // Instead: off verified in M1, then on verified in M4.
      expect(log.filter((c) => c.kind === 'state').map((c) => c.to)).toEqual([6, 1, 2, 3, 4]);
      expect(await t.shelf.stateOf(SLOT, 1)).toBe(4);
    } finally {
      await agent.cleanup();
    }
  });
});
