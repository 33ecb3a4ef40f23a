// The three-node timelines read corosync's and Pacemaker's log timestamps (no year, no zone).
import { describe, expect, it } from 'vitest';
import { logTime } from '../helpers/failover-lab.js';

describe('logTime', () => {
  const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) =>
    new Date(y, mo, d, h, mi, s, ms).getTime();

  it('reads a corosync hires or Pacemaker line to the millisecond, in local time', () => {
    const now = local(2026, 11, 1, 15, 0, 0, 0);
    expect(logTime('Dec 01 14:30:34.418 [11] node2 corosync notice  [TOTEM ] A new membership', now)).toBe(
      local(2026, 11, 1, 14, 30, 34, 418),
    );
    expect(logTime('Dec 01 14:30:35.666 node2 pacemaker-fenced    [24] (finalize_op)', now)).toBe(
      local(2026, 11, 1, 14, 30, 35, 666),
    );
  });

  it('takes the year nearest to now (a run across New Year)', () => {
    expect(logTime('Dec 31 23:59:59.900 x', local(2027, 0, 1, 0, 0, 1, 0))).toBe(local(2026, 11, 31, 23, 59, 59, 900));
    expect(logTime('Jan 01 00:00:00.100 x', local(2026, 11, 31, 23, 59, 59, 0))).toBe(local(2027, 0, 1, 0, 0, 0, 100));
  });

  it('gives nothing for a line without a millisecond timestamp', () => {
    expect(logTime('Dec 01 14:30:34 node2 corosync', Date.now())).toBeUndefined();
    expect(logTime('garbage', Date.now())).toBeUndefined();
  });
});
