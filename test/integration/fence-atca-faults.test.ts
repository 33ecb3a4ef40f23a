// fence_atca when the shelf misbehaves: every fault ends in a clear error, never in "off".
import { describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { TEST_SHELF, useShelf } from '../helpers/shelf.js';

describe('fence_atca faults on a simulated shelf', () => {
  const t = useShelf({ ...TEST_SHELF, shelfManagers: 1 });

  it('an unknown slot is an error naming the slot', async () => {
    const r = await runAgent({ ...t.base(), plug: 9, action: 'status' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no front-board site 9.*\[ATCA_ERR_SLOT_UNKNOWN\]/);
  });

  it('a slot whose IPMC does not answer (CC 0x83) is an error, not off', async () => {
    const r = await runAgent({ ...t.base(), plug: 5, action: 'status' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unable to obtain correct plug status/);
    expect(r.stderr).toMatch(/CC 0x83.*\[ATCA_ERR_IPMC_UNREACHABLE\]/);
    const off = await runAgent({ ...t.base(), plug: 5, action: 'off' });
    expect(off.code).toBe(1);
    expect(off.stdout).not.toMatch(/Success/);
  });

  it('a vanished IPMC is an error for status and off, and comes back when it returns', async () => {
    await t.shelf.setIpmcPresent(6, false);
    try {
      const st = await runAgent({ ...t.base(), plug: 6, action: 'status' });
      expect(st.code).toBe(1);
      expect(st.stderr).toMatch(/ATCA_ERR_IPMC_UNREACHABLE/);
    } finally {
      await t.shelf.setIpmcPresent(6, true);
    }
    const st = await runAgent({ ...t.base(), plug: 6, action: 'status' });
    expect([st.code, st.stdout.trim()]).toEqual([0, 'Status: ON']);
  });

  it('M7 (communication lost) and transitional states are errors for status, never off', async () => {
    for (const m of [7, 6, 2] as const) {
      await t.shelf.setState(6, m);
      const r = await runAgent({ ...t.base(), plug: 6, action: 'status' });
      expect(r.code, `M${m}`).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`in M${m} .*\\[ATCA_ERR_STATE_UNKNOWN\\]`));
    }
    await t.shelf.setState(6, 7);
    const off = await runAgent({ ...t.base(), plug: 6, action: 'off' });
    expect(off.code).toBe(1);
    expect(off.stdout).not.toMatch(/Success/);
    expect(off.stderr).toMatch(/M7 \(communication lost\): it cannot be powered off or verified/);
    await t.shelf.setState(6, 4);
  });

  it("a blade stuck half-way (someone else's stalled shutdown in M6, or M2) can still be fenced", async () => {
    await t.shelf.setState(6, 6);
    const m6 = await runAgent({ ...t.base(), plug: 6, action: 'off', graceful_timeout: '0.3' });
    expect([m6.code, m6.stdout.trim()], m6.stderr).toEqual([0, 'Success: Powered OFF']);
    expect(m6.stderr).toMatch(/still in M6 .*Set Power Level 0/);
    await t.shelf.setState(6, 2);
    const m2 = await runAgent({ ...t.base(), plug: 6, action: 'off' });
    expect([m2.code, m2.stdout.trim()], m2.stderr).toEqual([0, 'Success: Powered OFF']);
    expect(await t.shelf.stateOf(6)).toBe(1);
    expect((await runAgent({ ...t.base(), plug: 6, action: 'on' })).code).toBe(0);
  });

  it('a wrong password fails fast with a login error that does not show the password', async () => {
    const r = await runAgent({ ...t.base(), password: 'Wrong-pw-5521', plug: 1, action: 'status' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unable to connect\/login to fencing device/);
    expect(r.stderr).toMatch(/refused the session.*\[ATCA_ERR_LOGIN_REJECTED\]/);
    expect(r.stderr).not.toContain('Wrong-pw-5521');
  });

  it('an unreachable shelf manager is a clear error within the login bound', async () => {
    t.shelf.managers[0]!.freeze();
    try {
      const r = await runAgent({ ...t.base(), plug: 1, action: 'status', login_timeout: 2, ipmitool_timeout: 1 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[ATCA_ERR_SHMC_UNREACHABLE\]/);
    } finally {
      t.shelf.managers[0]!.thaw();
    }
  });

  it('a deactivation-locked FRU refuses off with a clear message; override_deactivation_lock clears it', async () => {
    await t.shelf.setPolicy(1, false, true);
    const r = await runAgent({ ...t.base(), plug: 1, action: 'off' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Deactivation-Locked.*\[ATCA_ERR_FRU_LOCKED\]/);
    expect(await t.shelf.stateOf(1)).toBe(4);
    const o = await runAgent({ ...t.base(), plug: 1, action: 'off', override_deactivation_lock: 1 });
    expect([o.code, o.stdout.trim()], o.stderr).toEqual([0, 'Success: Powered OFF']);
    expect(o.stderr).toMatch(/clearing the Deactivation-Locked bit/);
    expect((await runAgent({ ...t.base(), plug: 1, action: 'on' })).code).toBe(0);
  });

  it('a payload stuck in M6 is escalated to Set Power Level 0 after graceful_timeout', async () => {
    await t.shelf.setStall(2, true);
    try {
      const before = t.shelf.picmgCommands().length;
      const r = await runAgent({ ...t.base(), plug: 2, action: 'off', graceful_timeout: '0.5' });
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Powered OFF']);
      expect(r.stderr).toMatch(/still in M6 .*removing payload power \(Set Power Level 0\)/);
      const cmds = t.shelf
        .picmgCommands()
        .slice(before)
        .filter((c) => c.kind === 'picmg' && c.mc === 0x84);
      expect(cmds.map((c) => c.cmd)).toContain(0x11);
      expect(cmds.find((c) => c.cmd === 0x11)?.data).toEqual([0x00, 0x00, 0x00, 0x00]);
    } finally {
      await t.shelf.setStall(2, false);
    }
    expect((await runAgent({ ...t.base(), plug: 2, action: 'on' })).code).toBe(0);
  });

  it('a timeout is a failure: off that never reaches M1 within power_timeout fails', async () => {
    await t.shelf.setStall(2, true);
    try {
      const r = await runAgent({ ...t.base(), plug: 2, action: 'off', graceful_timeout: 30, power_timeout: 1 });
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(/Success/);
      expect(r.stderr).toMatch(/Timed out waiting to power OFF/);
      expect(r.stderr).toMatch(/still in M6.*\[ATCA_ERR_POWER_OFF_TIMEOUT\]/);
    } finally {
      await t.shelf.setStall(2, false);
      await t.shelf.setState(2, 4);
    }
  });

  it('bad options and actions are usage errors', async () => {
    const cases: [Record<string, string | number>, RegExp][] = [
      [{ action: 'explode', plug: 1 }, /Failed: Unrecognised action 'explode'/],
      [{ action: 'status', plug: 1, power_timeout: 'soon' }, /power_timeout: 'soon' is not a number of seconds/],
      [{ action: 'status', plug: 1, lanplus: 'maybe' }, /lanplus: 'maybe' is not a boolean/],
      [{ action: 'status', plug: 1, method: 'kick' }, /method: 'kick' is not one of onoff, cycle/],
      [{ action: 'status' }, /You have to enter plug number/],
    ];
    for (const [extra, msg] of cases) {
      const r = await runAgent({ ...t.base(), ...extra });
      expect(r.code, JSON.stringify(extra)).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
    const noIp = await runAgent({ action: 'status', plug: 1 });
    expect(noIp.stderr).toMatch(/You have to enter fence address/);
    const unknown = await runAgent(['--frobnicate']);
    expect([unknown.code, unknown.stderr.includes('--frobnicate')]).toEqual([1, true]);
  });

  it('unknown stdin keys are warned about by name and ignored; their values are not echoed', async () => {
    const r = await runAgent({ ...t.base(), plug: 1, action: 'status', pasword: 'Typo-secret-1', nodename: 'node1' });
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Status: ON']);
    expect(r.stderr).toMatch(/Parse error: Ignoring unknown option 'pasword'/);
    expect(r.stderr).not.toMatch(/nodename/);
    expect(r.stderr).not.toContain('Typo-secret-1');
  });

  it('delay applies to off and reboot only, before contacting the device', async () => {
    const off = await runAgent({ ...t.base(), plug: 4, action: 'off', delay: 2 });
    expect([off.code, off.stdout.trim()]).toEqual([0, 'Success: Already OFF']);
    expect(off.ms).toBeGreaterThanOrEqual(2000);
    const st = await runAgent({ ...t.base(), plug: 4, action: 'status', delay: 2, verbose: 1 });
    expect(st.code).toBe(2);
    expect(off.stderr + st.stderr).not.toMatch(/delay: waiting/);
    const offVerbose = await runAgent({ ...t.base(), plug: 4, action: 'off', delay: 1, verbose: 1 });
    const lines = offVerbose.stderr.split('\n');
    const waited = lines.findIndex((l) => l.includes('delay: waiting 1 s'));
    const contacted = lines.findIndex((l) => l.includes('connecting to shelf manager'));
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited).toBeLessThan(contacted);
  });

  it('on for a slot whose power-on never completes retries, then fails with a clear message', async () => {
    await t.shelf.setDelays(4, 150, 5000);
    try {
      const r = await runAgent({ ...t.base(), plug: 4, action: 'on', power_timeout: 1, retry_on: 1 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/retrying/);
      expect(r.stderr).toMatch(/Timed out waiting to power ON/);
    } finally {
      await t.shelf.setDelays(4, 150, 150);
    }
  });
  it('an IPMC without activation policy or power level support (CC 0xC1, as stock ipmi_sim) can still be fenced', async () => {
    await t.shelf.setUnsupported(6, true);
    try {
      const off = await runAgent({ ...t.base(), plug: 6, action: 'off' });
      expect([off.code, off.stdout.trim()], off.stderr).toEqual([0, 'Success: Powered OFF']);
      expect(off.stderr).toMatch(/does not implement Get FRU Activation Policy .*not locked/);
      expect(await t.shelf.stateOf(6)).toBe(1);
      // A slow shutdown past graceful_timeout: Set Power Level 0 is refused, the agent keeps waiting.
      await t.shelf.setState(6, 4);
      await t.shelf.setDelays(6, 1500, 150);
      const slow = await runAgent({ ...t.base(), plug: 6, action: 'off', graceful_timeout: '0.3' });
      expect([slow.code, slow.stdout.trim()], slow.stderr).toEqual([0, 'Success: Powered OFF']);
      expect(slow.stderr).toMatch(/Set Power Level 0 refused \(.*0xc1.*\): cannot escalate; waiting for M1/);
      // It never reaches M1: the failure is the timeout, at power_timeout, never "off".
      await t.shelf.setState(6, 4);
      await t.shelf.setStall(6, true);
      const stuck = await runAgent({ ...t.base(), plug: 6, action: 'off', graceful_timeout: '0.3', power_timeout: 1 });
      expect(stuck.code).toBe(1);
      expect(stuck.stderr).toMatch(/still in M6.*\[ATCA_ERR_POWER_OFF_TIMEOUT\]/);
    } finally {
      await t.shelf.setStall(6, false);
      await t.shelf.setDelays(6, 150, 150);
      await t.shelf.setUnsupported(6, false);
      await t.shelf.setState(6, 4);
    }
  });
});
