// A reading taken before a trap, answered after it, must not clear what the trap raised. The
// shelf is a stand-in session here because the point is one exact interleaving (the answer
// held until the trap is in), which a real ipmi_sim cannot be made to produce on demand.
import { afterEach, expect, it, vi } from 'vitest';
import type { ShelfConfig } from '../../src/config/schema.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { DEFAULT_RULES } from '../../src/domain/faults.js';
import { type CoreState, step } from '../../src/engine/step.js';
import { PollLimiter } from '../../src/ipmi/poll-limiter.js';
import type { RawRequest } from '../../src/ipmi/session.js';
import { ShelfPoller } from '../../src/ipmi/shelf-poller.js';
import { IpmitoolShellSession } from '../../src/ipmi/shell-session.js';
import { SILENT } from '../../src/log.js';
import { newSlotState } from '../../src/policy/decide.js';
import type { PolicyConfig } from '../../src/policy/types.js';

afterEach(() => vi.restoreAllMocks());

const CFG: PolicyConfig = {
  rules: DEFAULT_RULES,
  sustainMs: 1000,
  debounceMs: 500,
  recoveryMs: 60_000,
  releaseStandbyOnRecovery: false,
  deadMemberGraceMs: 30_000,
  maxFences: 1,
  fenceWindowMs: 900_000,
  minVotersAfterFence: undefined,
  confirmRetryMs: 500,
  confirmRetryMaxMs: 30_000,
};

it('an older poll answer does not clear a fault a trap raised meanwhile', async () => {
  let state = 4;
  let hold: Promise<void> | undefined;
  vi.spyOn(IpmitoolShellSession, 'open').mockImplementation(
    async (ep) =>
      ({
        peer: `${ep.host}:${ep.port}`,
        close: async () => undefined,
        async raw(req: RawRequest) {
          if (req.netfn === 0x2c && req.cmd === 0x01) {
            const site = req.data[3]!;
            return [0x00, 0x40 + site, 0x80 + 2 * site, 0xff, 0, site, 0];
          }
          if (req.netfn === 0x04 && req.cmd === 0x2f) return [0xf0, 0x6f];
          if (req.netfn === 0x04 && req.cmd === 0x2d) {
            const s = state; // what the shelf read when asked…
            if (hold) await hold; // …answered later
            return [0x00, 0xc0, 1 << s, 0x00];
          }
          throw new Error(`unexpected request ${JSON.stringify(req)}`);
        },
      }) as unknown as IpmitoolShellSession,
  );
  const shelf = {
    name: 's',
    shelfManagers: [{ host: 'h', port: 623 }],
    ipmi: { ipmitoolPath: '/x', username: 'u', lanplus: true, retransmitSec: 1, privlvl: 'administrator' },
    slots: { '2': { node: 'node2', maintenance: false } },
    hotswapSensor: 0,
    trapSources: [],
  } as unknown as ShelfConfig;
  const out: DomainEvent[] = [];
  const poller = new ShelfPoller(
    shelf,
    () => 'pw',
    {
      intervalMs: 1e9,
      sensorIntervalMs: 1e9,
      selIntervalMs: 1e9,
      requestTimeoutMs: 3000,
      backoffMaxMs: 60_000,
      limiter: new PollLimiter(2),
    },
    { emit: (e) => out.push(e), unparsedSel: () => undefined },
    SILENT,
  );
  let core: CoreState = {
    memory: new Map(),
    policy: { slots: new Map([['s/2', newSlotState('s/2', 'node2', false)]]), fences: [] },
  };
  const feed = (e: DomainEvent) => {
    core = step(core, { kind: 'event', event: e, slots: ['s/2'] }, CFG).state;
  };
  await poller.read(2);
  out.splice(0).forEach(feed); // the baseline: M4
  let release!: () => void;
  hold = new Promise<void>((r) => {
    release = r;
  });
  const polling = poller.read(2); // the shelf reads M4…
  await new Promise((r) => setTimeout(r, 10));
  state = 1; // …then the blade deactivates unexpectedly, and the trap comes first
  const trap: DomainEvent = {
    kind: 'hotswap',
    shelf: 's',
    at: Date.now(),
    source: 'trap',
    ipmb: 0x84,
    fru: 0,
    state: 6,
    previous: 4,
    cause: 9,
  };
  poller.claim(trap);
  feed(trap);
  release();
  await polling;
  out.splice(0).forEach(feed); // the older M4 answer
  expect([...core.policy.slots.get('s/2')!.active.keys()]).toEqual(['unexpected-deactivation']);
  hold = undefined;
  await poller.read(2);
  out.splice(0).forEach(feed); // the next reading: M1, compared with the trap's M6
  expect([...core.policy.slots.get('s/2')!.active.keys()]).toEqual(['unexpected-deactivation']);
  await poller.stop();
});

it('stop() waits for a confirmation read under way, and a read after it opens no session', async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => {
    release = r;
  });
  let opened = 0;
  vi.spyOn(IpmitoolShellSession, 'open').mockImplementation(async (ep) => {
    opened++;
    return {
      peer: `${ep.host}:${ep.port}`,
      close: async () => undefined,
      async raw(req: RawRequest) {
        if (req.netfn === 0x2c && req.cmd === 0x01) {
          const site = req.data[3]!;
          return [0x00, 0x40 + site, 0x80 + 2 * site, 0xff, 0, site, 0];
        }
        if (req.netfn === 0x04 && req.cmd === 0x2f) return [0xf0, 0x6f];
        if (req.netfn === 0x04 && req.cmd === 0x2d) {
          await hold;
          return [0x00, 0xc0, 1 << 4, 0x00];
        }
        throw new Error(`unexpected request ${JSON.stringify(req)}`);
      },
    } as unknown as IpmitoolShellSession;
  });
  const shelf = {
    name: 's',
    shelfManagers: [{ host: 'h', port: 623 }],
    ipmi: { ipmitoolPath: '/x', username: 'u', lanplus: true, retransmitSec: 1, privlvl: 'administrator' },
    slots: { '2': { node: 'node2', maintenance: false } },
    hotswapSensor: 0,
    trapSources: [],
  } as unknown as ShelfConfig;
  const poller = new ShelfPoller(
    shelf,
    () => 'pw',
    {
      intervalMs: 1e9,
      sensorIntervalMs: 1e9,
      selIntervalMs: 1e9,
      requestTimeoutMs: 3000,
      backoffMaxMs: 60_000,
      limiter: new PollLimiter(2),
    },
    { emit: () => undefined, unparsedSel: () => undefined },
    SILENT,
  );
  const order: string[] = [];
  const reading = poller.read(2).then((r) => order.push(`read ${r}`));
  await new Promise((r) => setTimeout(r, 10));
  const stopping = poller.stop().then(() => order.push('stopped'));
  await new Promise((r) => setTimeout(r, 10));
  expect(order).toEqual([]);
  release();
  await Promise.all([reading, stopping]);
  expect(order).toEqual(['read 4', 'stopped']);
  expect(await poller.read(2)).toBe('unknown');
  await expect(poller.readSensors(2)).rejects.toThrow(/stopping/);
  expect(opened).toBe(1);
});
