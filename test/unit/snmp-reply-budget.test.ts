// The per-source reply budget that keeps a spoofed source from turning atcad into a reflector.
import { describe, expect, it } from 'vitest';
import { ReplyBudget } from '../../src/snmp/reply-budget.js';

describe('ReplyBudget', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    let now = 0;
    const b = new ReplyBudget(10, 3, () => now);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true); // another source has its own bucket
    now += 100; // 10/s: one token back
    expect([b.take('a'), b.take('a')]).toEqual([true, false]);
    now += 10_000; // never more than the burst
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
  });

  it('with burst 0 never allows a reply; a clock going back refills nothing', () => {
    let now = 1000;
    expect(new ReplyBudget(100, 0, () => now).take('a')).toBe(false);
    const b = new ReplyBudget(1, 1, () => now);
    expect(b.take('a')).toBe(true);
    now = 0;
    expect(b.take('a')).toBe(false);
  });
});
