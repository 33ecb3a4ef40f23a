// 100,000 mutated datagrams at a running TrapReceiver on a real loopback UDP socket (the harness
// is test/helpers/trap-fuzz.ts; bench/trap-fuzz.ts runs it with 1,000,000). Seeds come from real
// peers (snmptrap, snmpinform: v1, v2c, v3 authPriv, informs, v3 discovery); ~15 % are sent from
// 127.0.0.2 and 127.0.0.3, which are not configured sources. The sender waits every 256 datagrams
// until the receiver has taken them all, so the arithmetic below is exact. FUZZ_SEED and
// FUZZ_COUNT override the defaults (a failure names the seed).
import { describe, expect, it } from 'vitest';
import { TRAP_OUTCOMES } from '../../src/snmp/trap-receiver.js';
import { FUZZ_SHELF, type FuzzResult, MUTATIONS, outcomeSum, runTrapFuzz } from '../helpers/trap-fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const COUNT = Number(process.env.FUZZ_COUNT ?? 100_000);

describe(`TrapReceiver under ${COUNT} mutated datagrams (seed ${SEED})`, () => {
  let r: FuzzResult;

  it('takes them all without an uncaught exception', { timeout: 300_000 }, async () => {
    r = await runTrapFuzz({ count: COUNT, seed: SEED });
    expect(r.uncaught).toEqual([]);
    expect(r.sent).toBe(COUNT);
    // The seeds are what the real tools sent: six kinds, the v3 inform preceded by discovery.
    expect(r.seeds.map((s) => s.name)).toEqual(
      expect.arrayContaining(['v1-trap', 'v2c-trap', 'v2c-coldstart', 'v3-trap', 'v2c-inform']),
    );
    expect(r.seeds.filter((s) => s.name.startsWith('v3-inform#'))).toHaveLength(2);
    for (const m of MUTATIONS) expect(r.byMutation[m], m).toBeGreaterThan(0);
  });

  it('counts every datagram it got under exactly one outcome, and got every one not dropped by the kernel', () => {
    const c = r.counters;
    expect(c.received).toBe(r.sent - c.kernelDrops);
    expect(outcomeSum(c)).toBe(c.received);
    expect(c.internalError).toBe(0);
    if (c.kernelDrops === 0) expect(c.unknownSource).toBe(r.sentFromUnknown);
    else expect(c.unknownSource).toBeGreaterThanOrEqual(r.sentFromUnknown - c.kernelDrops);
    expect(c.unknownSource).toBeLessThanOrEqual(r.sentFromUnknown);
  });

  it('reached every outcome but internalError, and the reply paths, including replies that fail to encode', () => {
    for (const k of TRAP_OUTCOMES) if (k !== 'internalError') expect(r.counters[k], k).toBeGreaterThan(0);
    expect(r.counters.repliesSent).toBeGreaterThan(0);
    expect(r.counters.replyErrors).toBeGreaterThan(0); // each one a crash before the fix
    expect(r.counters.repliesLimited).toBeGreaterThan(0);
  });

  it('never sent a reply to an unconfigured source; every reply it sent reached the configured one', () => {
    expect(r.repliesToUnknown).toBe(0);
    expect(r.repliesToConfigured).toBe(r.counters.repliesSent);
  });

  it('sent, or tried to send, replies only for notifications it took and discovery requests; withheld the rest', () => {
    const c = r.counters;
    expect(c.repliesSent + c.replyErrors + c.repliesLimited).toBeLessThanOrEqual(
      c.accepted + c.notUnderstood + c.duplicates + c.discovery,
    );
    expect(c.repliesWithheld).toBeGreaterThan(0);
  });

  it('logged little (rate-limited), never a secret, no long line; journaled at most 4 KB per trap', () => {
    expect(r.secretsLogged).toBe(0);
    expect(r.logLines).toBeLessThan(200);
    expect(r.longestLogLine).toBeLessThanOrEqual(600);
    expect(r.longestJournal).toBeLessThanOrEqual(4096);
  });

  it('still delivers a fresh PET trap afterwards, v2c and v3, with its decoded event', () => {
    expect(r.after.map((t) => t.version).sort()).toEqual([2, 3]);
    for (const t of r.after) {
      expect(t).toMatchObject({
        shelf: FUZZ_SHELF,
        from: '127.0.0.1',
        event: { kind: 'hotswap', ipmb: 0x82, state: 6, previous: 4, source: 'trap' },
      });
    }
  });
});
