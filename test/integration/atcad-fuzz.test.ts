// 100,000 mutated datagrams at a running atcad (buildApp and start(), as `atcad --config` runs
// it: trap receiver, engine, journal, pollers of a simulated shelf, Pacemaker's tools on an
// offline CIB), with the mutators of test/helpers/trap-fuzz.ts: zero uncaught exceptions, every
// datagram in exactly one outcome counter, and a valid trap afterwards is still acted on.
import { describe, expect, it } from 'vitest';
import { hotSwapPet } from '../../src/sim/pet-trap.js';
import { startAtcad } from '../helpers/atcad.js';
import {
  CONFIGURED_SOURCE,
  FUZZ_AUTH_KEY,
  FUZZ_COMMUNITY,
  FUZZ_PRIV_KEY,
  FUZZ_SHELF,
  FUZZ_USER,
  outcomeSum,
  runTrapFuzz,
} from '../helpers/trap-fuzz.js';
import { until } from '../helpers/wait.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0xa7cad);
const COUNT = Number(process.env.FUZZ_COUNT ?? 100_000);

describe(`atcad under ${COUNT} mutated datagrams (seed ${SEED})`, () => {
  it('stays up, counts each datagram once, and acts on a valid trap afterwards', { timeout: 400_000 }, async () => {
    const a = await startAtcad({
      shelfName: FUZZ_SHELF,
      community: FUZZ_COMMUNITY,
      v3User: { name: FUZZ_USER, authKey: FUZZ_AUTH_KEY, privKey: FUZZ_PRIV_KEY },
      trapSource: CONFIGURED_SOURCE,
      sections: 'polling: { hotswapIntervalMs: 1000 }',
    });
    try {
      await until('the first poll', () => a.app.model().shelves[0]?.slots.every((s) => s.hotswap === 'M4'));
      const r = await runTrapFuzz({
        count: COUNT,
        seed: SEED,
        target: {
          port: a.trapPort,
          get counters() {
            return a.app.trapCounters!;
          },
        },
      });
      expect(r.uncaught).toEqual([]);
      const c = r.counters;
      expect(c.received).toBe(r.sent - c.kernelDrops);
      expect(outcomeSum(c)).toBe(c.received);
      expect(c.internalError).toBe(0);
      expect(r.repliesToUnknown).toBe(0);
      // Nothing a datagram said got a secret into the log.
      for (const secret of [FUZZ_COMMUNITY, FUZZ_AUTH_KEY, FUZZ_PRIV_KEY]) {
        expect(a.logs.filter((l) => l.includes(secret))).toEqual([]);
      }
      // Still deciding: a blade's IPMC reported lost (M4 → M7) reaches the policy, which raises
      // the fault, and its health: yellow for a claim (red if a fuzzed datagram was confirmed).
      const before = a.decisions.length;
      await a.hotswapTrap(7, hotSwapPet(a.shelf.ipmbOfSlot(3), 7, 4, 0xf));
      const raised = await until('the decision on the fresh trap', () =>
        a.decisions.slice(before).find((d) => d.slot === `${FUZZ_SHELF}/3` && /hotswap-lost asserted/.test(d.reason)),
      );
      expect(raised.evidence.map((e) => e.summary)).toContain('hot-swap M4→M7 cause 15 (trap)');
      expect(['yellow', 'red']).toContain(a.app.policyState().slots.get(`${FUZZ_SHELF}/3`)?.health);
      expect(a.app.status().engine.journalFailures).toBe(0);
    } finally {
      await a.stop();
    }
  });
});
