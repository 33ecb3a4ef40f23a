// PollLimiter is plain concurrency bookkeeping: no peer to talk to.
import { describe, expect, it } from 'vitest';
import { PollLimiter } from '../../src/ipmi/poll-limiter.js';

describe('PollLimiter', () => {
  it('never runs more than its limit at once, and runs every job in arrival order', async () => {
    const l = new PollLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const jobs = [0, 1, 2, 3, 4].map((i) =>
      l.run(async () => {
        order.push(i);
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => gates.push(r));
        active--;
        return i;
      }),
    );
    while (order.length < 5) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    for (const g of gates) g();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('a failing job frees its place', async () => {
    const l = new PollLimiter(1);
    await expect(l.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await l.run(async () => 7)).toBe(7);
  });

  it('refuses a limit below 1', () => {
    expect(() => new PollLimiter(0)).toThrow(RangeError);
  });
});
