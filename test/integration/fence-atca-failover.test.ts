// Two shelf managers: when the first does not answer, fence_atca uses the second and says so.
import { describe, expect, it } from 'vitest';
import { runAgent } from '../helpers/agent.js';
import { useShelf } from '../helpers/shelf.js';

describe('fence_atca shelf-manager failover', () => {
  const t = useShelf();

  it('uses the second shelf manager when the first is silent, and logs the failover', async () => {
    t.shelf.managers[0]!.freeze();
    try {
      const r = await runAgent({ ...t.base(), plug: 1, action: 'status', login_timeout: 2, ipmitool_timeout: 1 });
      expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Status: ON']);
      expect(r.stderr).toMatch(
        new RegExp(`shelf manager 127.0.0.1:${t.shelf.managers[0]!.port} failed: .*failing over`),
      );
      expect(r.stderr).toMatch(new RegExp(`using shelf manager 127.0.0.1:${t.shelf.managers[1]!.port} instead`));
    } finally {
      t.shelf.managers[0]!.thaw();
    }
  });

  it('fences through the second shelf manager when the first is gone', async () => {
    await t.shelf.managers[0]!.stop();
    const r = await runAgent({ ...t.base(), plug: 2, action: 'off', login_timeout: 2, ipmitool_timeout: 1 });
    expect([r.code, r.stdout.trim()], r.stderr).toEqual([0, 'Success: Powered OFF']);
    expect(await t.shelf.stateOf(2, 1)).toBe(1);
    expect(t.shelf.picmgCommands(1).some((c) => c.kind === 'picmg' && c.mc === 0x84 && c.cmd === 0x0c)).toBe(true);
  });

  it('fails clearly when neither shelf manager answers', async () => {
    t.shelf.managers[1]!.freeze();
    try {
      const r = await runAgent({ ...t.base(), plug: 2, action: 'status', login_timeout: 1, ipmitool_timeout: 1 });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/No shelf manager answered.*\[ATCA_ERR_SHMC_UNREACHABLE\]/);
    } finally {
      t.shelf.managers[1]!.thaw();
    }
  });
});
