// The fence engine's loops (src/fence/engine.ts) over a fake blade. Why a fake and not the
// simulated shelf: these tests walk every interleaving of "the shelf manager died before the
// command reached the blade / after it took effect, before its answer" for each command of
// off, on and reboot — hundreds of runs, each needing a shelf manager to die at one exact
// point and the other to show the same blade. The integration tests
// (fence-atca-failover-idempotent.test.ts) do that for real, for the cases that matter most;
// here the fake stands for the hardware (one blade, whichever shelf manager one asks) and the
// engine sees only what the device reports: done, refused, or lost.
import { describe, expect, it } from 'vitest';
import type { HotSwapState } from '../../src/domain/hotswap.js';
import { AtcaError, isAtcaError } from '../../src/errors.js';
import {
  type BladeDevice,
  coldReset,
  type Engine,
  type EngineOptions,
  MAX_UNANSWERED,
  powerOff,
  powerOn,
} from '../../src/fence/engine.js';
import { parseStdin } from '../../src/fence/parse-input.js';
import { resolveOptions } from '../../src/fence/resolve-options.js';
import { runAction } from '../../src/fence/run-action.js';
import type { ListEntry, Outcome } from '../../src/ipmi/atca-device.js';
import type { ActivationPolicy } from '../../src/ipmi/picmg.js';
import { type Logger, SILENT } from '../../src/log.js';

/** What becomes of one command: answered, or the shelf manager dies before / after it acts. */
type Fate = 'ok' | 'lost-before' | 'lost-after';
const FATES: readonly Fate[] = ['ok', 'lost-before', 'lost-after'];

/** Every sequence of `n` fates (3^n). */
function sequences(n: number): Fate[][] {
  if (n === 0) return [[]];
  return sequences(n - 1).flatMap((s) => FATES.map((f) => [...s, f]));
}

class FakeClock {
  t = 0;
  now = (): number => this.t;
  sleep = (ms: number): Promise<void> => {
    this.t += ms;
    return Promise.resolve();
  };
}

type Command = 'deactivate' | 'activate' | 'clear-locked' | 'clear-deactivation-locked' | 'power-0' | 'cold-reset';

/**
 * One blade as the hardware behaves (what any shelf manager reads of it), with timed
 * transitions on the fake clock. Like a real IPMC (and the simulator with atcax_strict), it
 * answers CC 0xD5 to a deactivate when already deactivating or off, and to an activate when
 * already activating or on.
 */
class FakeBlade implements BladeDevice {
  m: HotSwapState;
  locked = false;
  deactivationLocked = false;
  stall = false;
  deactivateMs = 300;
  activateMs = 300;
  resets = 0;
  /** Commands the engine sent, and those that took effect on the blade. */
  readonly sent: Command[] = [];
  readonly effective: Command[] = [];
  readonly refused: Command[] = [];
  /** The fate of each command in turn; 'ok' when none is left. */
  fates: Fate[] = [];
  /** Runs just before the blade sees the next command (someone else acting in between). */
  beforeNext: (() => void) | undefined;
  #pending: { at: number; to: HotSwapState } | undefined;

  constructor(
    readonly clock: FakeClock,
    m: HotSwapState,
  ) {
    this.m = m;
  }

  #advance(): void {
    if (this.#pending && this.clock.t >= this.#pending.at) {
      this.m = this.#pending.to;
      this.#pending = undefined;
    }
  }

  /** Moves to `to` after `ms` (a transition someone else started: an operator, the payload). */
  later(ms: number, to: HotSwapState): void {
    this.#pending = { at: this.clock.t + ms, to };
  }

  #to(m: HotSwapState, later?: { ms: number; to: HotSwapState }): void {
    this.m = m;
    this.#pending = later ? { at: this.clock.t + later.ms, to: later.to } : undefined;
  }

  state(): Promise<HotSwapState> {
    this.#advance();
    return Promise.resolve(this.m);
  }

  activationPolicy(): Promise<ActivationPolicy> {
    return Promise.resolve({ locked: this.locked, deactivationLocked: this.deactivationLocked });
  }

  #command(c: Command, apply: () => Outcome): Promise<Outcome> {
    this.sent.push(c);
    const fate = this.fates.shift() ?? 'ok';
    if (fate === 'lost-before')
      return Promise.resolve({ kind: 'lost', detail: 'shelf manager died before passing it on' });
    this.beforeNext?.();
    this.beforeNext = undefined;
    this.#advance();
    const r = apply();
    if (r.kind === 'done') this.effective.push(c);
    else this.refused.push(c);
    if (fate === 'lost-after') return Promise.resolve({ kind: 'lost', detail: 'shelf manager died before answering' });
    return Promise.resolve(r);
  }

  static readonly D5: Outcome = {
    kind: 'refused',
    cc: 0xd5,
    detail: 'CC 0xd5 (command not supported in present state)',
  };
  static readonly OK: Outcome = { kind: 'done' };

  deactivate(): Promise<Outcome> {
    return this.#command('deactivate', () => {
      if (this.m === 6 || this.m === 1 || this.m === 0) return FakeBlade.D5;
      if (this.m === 4 && this.deactivationLocked) return FakeBlade.D5;
      this.locked = true;
      if (this.m === 2) this.#to(1);
      else this.#to(6, this.stall ? undefined : { ms: this.deactivateMs, to: 1 });
      return FakeBlade.OK;
    });
  }

  activate(): Promise<Outcome> {
    return this.#command('activate', () => {
      if (this.m === 3 || this.m === 4) return FakeBlade.D5;
      if (this.m === 1 && !this.locked) this.m = 2;
      if (this.m === 2) this.#to(3, { ms: this.activateMs, to: 4 });
      return FakeBlade.OK;
    });
  }

  clearLock(_plug: string, bit: 'locked' | 'deactivation-locked'): Promise<Outcome> {
    return this.#command(bit === 'locked' ? 'clear-locked' : 'clear-deactivation-locked', () => {
      if (bit === 'deactivation-locked') this.deactivationLocked = false;
      else {
        if (this.locked && this.m === 1) this.#to(2);
        this.locked = false;
      }
      return FakeBlade.OK;
    });
  }

  /** The IPMC has no power management: Set Power Level answers CC 0xC1. */
  powerLevelUnsupported = false;

  removePayloadPower(): Promise<Outcome> {
    return this.#command('power-0', () => {
      if (this.powerLevelUnsupported) return { kind: 'refused', cc: 0xc1, detail: 'CC 0xc1 (invalid command)' };
      if (this.m >= 2 && this.m <= 6) {
        this.locked = true;
        this.#to(1);
      }
      return FakeBlade.OK;
    });
  }

  coldReset(): Promise<Outcome> {
    return this.#command('cold-reset', () => {
      if (this.m !== 4) return FakeBlade.D5;
      this.resets++;
      return FakeBlade.OK;
    });
  }

  list(): Promise<ListEntry[]> {
    return Promise.resolve([]);
  }

  count(c: Command, of: readonly Command[] = this.effective): number {
    return of.filter((x) => x === c).length;
  }
}

const OPTS: EngineOptions = {
  gracefulTimeoutMs: 5000,
  pollMs: 100,
  powerWaitMs: 0,
  powerTimeoutMs: 20_000,
  overrideDeactivationLock: false,
};

function setup(m: HotSwapState, o: Partial<EngineOptions> = {}): { blade: FakeBlade; e: Engine; clock: FakeClock } {
  const clock = new FakeClock();
  const blade = new FakeBlade(clock, m);
  return { blade, clock, e: { dev: blade, o: { ...OPTS, ...o }, log: SILENT, clock } };
}

/** Runs `f` and returns its result or the AtcaError it threw (anything else is a bug). */
async function settle<T>(f: () => Promise<T>): Promise<T | AtcaError> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof AtcaError) return err;
    throw err;
  }
}

const lostCount = (fates: readonly Fate[], sent: number) => fates.slice(0, sent).filter((f) => f !== 'ok').length;

describe('powerOff: every interleaving of lost answers', () => {
  const starts: [string, HotSwapState, Partial<FakeBlade>][] = [
    ['from M4', 4, {}],
    ['from M4, deactivation stalling (escalates to Set Power Level 0)', 4, { stall: true }],
    ['from M5 (waiting for the grant)', 5, {}],
    ['from M3 (someone else activating)', 3, {}],
    ['from M4, Deactivation-Locked with override', 4, { deactivationLocked: true }],
  ];
  for (const [what, m, blade] of starts) {
    it.each(sequences(3).map((s) => [s.join(','), s]))(`${what}: %s`, async (_name, fates) => {
      const t = setup(m, { overrideDeactivationLock: true });
      Object.assign(t.blade, blade);
      t.blade.fates = [...fates];
      const r = await settle(() => powerOff(t.e, '1'));
      const lost = lostCount(fates, t.blade.sent.length);
      if (r instanceof AtcaError) {
        // Only ever for commands going unanswered again and again: never "locked", never a timeout.
        expect(r.code, r.message).toBe('ATCA_ERR_SHMC_LOST');
        expect(lost).toBeGreaterThanOrEqual(MAX_UNANSWERED);
      } else {
        expect(r).toBe('done');
        expect(t.blade.m).toBe(1); // verified: it returned after reading M1
        expect(lost).toBeLessThan(MAX_UNANSWERED);
      }
      // The blade was told to deactivate once: a deactivate whose answer was lost after it
      // took effect was never sent again (the state said it was under way).
      expect(t.blade.count('deactivate')).toBeLessThanOrEqual(1);
      if (!(r instanceof AtcaError)) expect(t.blade.count('deactivate') + t.blade.count('power-0')).toBeGreaterThan(0);
      // Nothing refused: no deactivate went to a blade already deactivating.
      expect(t.blade.refused).toEqual([]);
    });
  }

  it('a deactivate refused with CC 0xD5 because the blade is already deactivating is progress, not "locked"', async () => {
    const t = setup(4);
    t.blade.beforeNext = () => {
      t.blade.m = 6; // someone else (the other shelf manager, an operator) got there first
    };
    t.blade.stall = true;
    const r = await powerOff(t.e, '1');
    expect(r).toBe('done');
    expect(t.blade.sent).toEqual(['deactivate', 'power-0']);
  });

  it('a deactivate refused with CC 0xD5 while the blade still reads M4 is the lock it looks like', async () => {
    const t = setup(4);
    t.blade.beforeNext = () => {
      t.blade.deactivationLocked = true; // set after the policy was read
    };
    const r = await settle(() => powerOff(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_FRU_LOCKED'), String(r)).toBe(true);
    expect((r as AtcaError).detail).toMatch(/refused deactivation in M4/);
  });

  it('Deactivation-Locked without override fails before anything is sent', async () => {
    const t = setup(4);
    t.blade.deactivationLocked = true;
    const r = await settle(() => powerOff(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_FRU_LOCKED')).toBe(true);
    expect(t.blade.sent).toEqual([]);
  });

  it('M6 at the start (a stalled shutdown): no deactivate, payload power removed after graceful_timeout', async () => {
    const t = setup(6);
    t.blade.stall = true;
    expect(await powerOff(t.e, '1')).toBe('done');
    expect(t.blade.sent).toEqual(['power-0']);
    expect(t.clock.t).toBeGreaterThanOrEqual(OPTS.gracefulTimeoutMs);
  });

  it('Set Power Level 0 refused (CC 0xC1): cannot escalate, keeps waiting — M1 late is still Powered OFF', async () => {
    const t = setup(4, { gracefulTimeoutMs: 1000 });
    t.blade.powerLevelUnsupported = true;
    t.blade.deactivateMs = 8000; // a slow shutdown, long past graceful_timeout
    expect(await powerOff(t.e, '1')).toBe('done');
    expect(t.blade.sent).toEqual(['deactivate', 'power-0']);
    expect(t.blade.m).toBe(1);
    expect(t.clock.t).toBeGreaterThanOrEqual(8000);
  });

  it('Set Power Level 0 refused and M1 never comes: the failure is the timeout, at power_timeout', async () => {
    const t = setup(4, { gracefulTimeoutMs: 1000, powerTimeoutMs: 5000 });
    t.blade.powerLevelUnsupported = true;
    t.blade.stall = true;
    const r = await settle(() => powerOff(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_POWER_OFF_TIMEOUT'), String(r)).toBe(true);
    expect(t.clock.t).toBeGreaterThanOrEqual(5000);
    expect(t.blade.count('power-0', t.blade.sent)).toBe(1);
  });

  it('already off: nothing sent', async () => {
    for (const m of [0, 1] as const) {
      const t = setup(m);
      expect(await powerOff(t.e, '1')).toBe('already');
      expect(t.blade.sent).toEqual([]);
    }
  });

  it('M7 at the start fails: nothing can reach or verify the blade', async () => {
    const t = setup(7);
    const r = await settle(() => powerOff(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_STATE_UNKNOWN')).toBe(true);
    expect(t.blade.sent).toEqual([]);
  });

  it('a timeout is a failure, never "off"', async () => {
    const t = setup(4, { gracefulTimeoutMs: 60_000, powerTimeoutMs: 1000 });
    t.blade.stall = true;
    const r = await settle(() => powerOff(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_POWER_OFF_TIMEOUT')).toBe(true);
    expect((r as AtcaError).detail).toMatch(/still in M6/);
  });

  it('an IPMC that stops answering mid-wait is looked at again, not taken for an answer', async () => {
    const t = setup(4);
    let reads = 0;
    const state = t.blade.state.bind(t.blade);
    t.blade.state = () => {
      reads++;
      if (reads === 3) return Promise.reject(new AtcaError('ATCA_ERR_IPMC_UNREACHABLE', 'CC 0x83'));
      return state();
    };
    expect(await powerOff(t.e, '1')).toBe('done');
  });
});

describe('powerOn: every interleaving of lost answers', () => {
  const starts: [string, HotSwapState, Partial<FakeBlade>][] = [
    ['from M1, Locked (clear, then activate)', 1, { locked: true }],
    ['from M1, not Locked', 1, {}],
    ['from M2', 2, {}],
  ];
  for (const [what, m, blade] of starts) {
    it.each(sequences(3).map((s) => [s.join(','), s]))(`${what}: %s`, async (_name, fates) => {
      const t = setup(m);
      Object.assign(t.blade, blade);
      t.blade.fates = [...fates];
      const r = await settle(() => powerOn(t.e, '1'));
      const lost = lostCount(fates, t.blade.sent.length);
      if (r instanceof AtcaError) {
        expect(r.code, r.message).toBe('ATCA_ERR_SHMC_LOST');
        expect(lost).toBeGreaterThanOrEqual(MAX_UNANSWERED);
      } else {
        expect(r).toBe('done');
        expect(t.blade.m).toBe(4);
      }
      // One activation took effect, however many answers were lost; none was refused.
      expect(t.blade.count('activate')).toBeLessThanOrEqual(1);
      expect(t.blade.refused).toEqual([]);
      if (!(r instanceof AtcaError)) expect(t.blade.count('activate')).toBe(1);
    });
  }

  it('M3 at the start (an activation under way): waits, sends nothing', async () => {
    const t = setup(1);
    await t.blade.clearLock('1', 'locked');
    await t.blade.activate();
    t.blade.sent.length = 0;
    expect(t.blade.m).toBe(3);
    expect(await powerOn(t.e, '1')).toBe('done');
    expect(t.blade.sent).toEqual([]);
  });

  it('M0 fails: no blade', async () => {
    const r = await settle(() => powerOn(setup(0).e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_FRU_ABSENT')).toBe(true);
  });

  it('a timeout is a failure', async () => {
    const t = setup(1, { powerTimeoutMs: 1000 });
    t.blade.activateMs = 60_000;
    const r = await settle(() => powerOn(t.e, '1'));
    expect(isAtcaError(r, 'ATCA_ERR_POWER_ON_TIMEOUT')).toBe(true);
  });
});

describe('coldReset: a reset is never sent twice', () => {
  it.each(FATES)('its answer %s', async (fate) => {
    const t = setup(4);
    t.blade.fates = [fate];
    const r = await coldReset(t.e, '1');
    expect(t.blade.sent).toEqual(['cold-reset']);
    expect(r).toBe(fate === 'ok' ? 'reset' : 'answer-lost');
    expect(t.blade.resets).toBe(fate === 'lost-before' ? 0 : 1);
  });

  it('a blade found off is not reset: it is fenced already (the reboot then powers it on)', async () => {
    for (const m of [1, 0] as const) {
      const t = setup(m);
      expect(await coldReset(t.e, '1')).toBe('found-off');
      expect(t.blade.sent).toEqual([]);
    }
  });
});

/** runAction with the fake blade: the family's whole reboot, as the agent runs it. */
async function reboot(
  blade: FakeBlade,
  clock: FakeClock,
  extra: string,
  env: NodeJS.ProcessEnv = {},
  log: Logger = SILENT,
): Promise<{ code: number; out: string[] }> {
  const o = resolveOptions(parseStdin(`action=reboot\nip=x\nplug=1\n${extra}`), env);
  const out: string[] = [];
  const code = await runAction(o, {
    device: () => Promise.resolve(blade),
    log,
    out: (l) => out.push(l),
    clock,
  });
  return { code, out };
}

/** A log that keeps its error and warning lines. */
function recordingLog(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error: (m) => lines.push(`ERROR: ${m}`),
    warn: (m) => lines.push(`WARNING: ${m}`),
    info: () => undefined,
    debug: () => undefined,
  };
}

/** A fake clock that fails the test instead of spinning for ever (an unbounded wait). */
class BoundedClock extends FakeClock {
  override sleep = (ms: number): Promise<void> => {
    this.t += ms;
    if (this.t > 3_600_000) return Promise.reject(new Error(`still waiting after ${this.t / 1000} s of fake time`));
    return Promise.resolve();
  };
}

const FENCER: NodeJS.ProcessEnv = { PCMK_service: 'pacemaker-fenced' };

describe('reboot under the fencer (disable_timeout unset): the power-on half is bounded', () => {
  it.each([
    ['onoff, from M4', 4, ''],
    ['cycle, blade found off (M1)', 1, 'method=cycle'],
  ] as const)('%s: a power-on that never completes is logged, and the reboot succeeds', async (_w, m, extra) => {
    const clock = new BoundedClock();
    const blade = new FakeBlade(clock, m);
    blade.activateMs = Number.POSITIVE_INFINITY; // accepted, never reaches M4
    const log = recordingLog();
    const r = await reboot(blade, clock, extra, FENCER, log);
    expect(r).toEqual({ code: 0, out: ['Success: Rebooted'] });
    expect(blade.m).toBe(3);
    // power_timeout's default (20 s) per attempt, 1 + retry_on attempts: not the fencer's timeout.
    expect(clock.t).toBeLessThanOrEqual(2 * 20_000 + 1000);
    expect(log.lines.join('\n')).toMatch(/ERROR: Power on of slot 1 after .* failed.*\[ATCA_ERR_POWER_ON_TIMEOUT\]/);
  });

  it('power_timeout, when given, is the bound', async () => {
    const clock = new BoundedClock();
    const blade = new FakeBlade(clock, 4);
    blade.activateMs = Number.POSITIVE_INFINITY;
    const r = await reboot(blade, clock, 'power_timeout=5\nretry_on=0', FENCER);
    expect(r.code).toBe(0);
    expect(clock.t).toBeLessThan(5000 + 2000);
  });

  it('cycle on an empty slot (M0): off is a fact, power-on fails with ATCA_ERR_FRU_ABSENT, logged; Rebooted', async () => {
    const clock = new BoundedClock();
    const blade = new FakeBlade(clock, 0);
    const log = recordingLog();
    const r = await reboot(blade, clock, 'method=cycle', FENCER, log);
    expect(r).toEqual({ code: 0, out: ['Success: Rebooted'] });
    expect(blade.sent).toEqual([]);
    expect(log.lines.join('\n')).toMatch(/ERROR: Power on of slot 1 .*no blade to power on \[ATCA_ERR_FRU_ABSENT\]/);
  });

  it('a power-on that does complete is verified (M4) before Rebooted', async () => {
    const clock = new BoundedClock();
    const blade = new FakeBlade(clock, 1);
    const r = await reboot(blade, clock, 'method=cycle', FENCER);
    expect(r).toEqual({ code: 0, out: ['Success: Rebooted'] });
    expect(blade.m).toBe(4);
  });
});

describe('reboot method=cycle: every interleaving of lost answers', () => {
  it.each(sequences(3).map((s) => [s.join(','), s]))('%s', async (_name, fates) => {
    const clock = new FakeClock();
    const blade = new FakeBlade(clock, 4);
    blade.fates = [...fates];
    const r = await settle(() => reboot(blade, clock, 'method=cycle'));
    // Whatever happened, at most one reset was ever sent.
    expect(blade.count('cold-reset', blade.sent)).toBe(1);
    expect(blade.refused).toEqual([]);
    if (r instanceof AtcaError) {
      // Only when the off+on that replaces a lost reset lost too many answers of its own.
      expect(fates[0]).not.toBe('ok');
      expect(r.code).toBe('ATCA_ERR_SHMC_LOST');
      return;
    }
    expect(r).toEqual({ code: 0, out: ['Success: Rebooted'] });
    if (fates[0] !== 'ok') {
      // Its answer lost: the blade was powered off, verified, and (the reboot rule) on again.
      expect(blade.count('deactivate') + blade.count('power-0')).toBeGreaterThan(0);
    } else {
      expect(blade.sent).toEqual(['cold-reset']);
    }
  });
});

describe('reboot method=onoff: every interleaving of lost answers', () => {
  it.each(sequences(4).map((s) => [s.join(','), s]))('%s', async (_name, fates) => {
    const clock = new FakeClock();
    const blade = new FakeBlade(clock, 4);
    blade.fates = [...fates];
    const r = await settle(() => reboot(blade, clock, ''));
    if (r instanceof AtcaError) {
      // Off never verified: the reboot fails (a power-on failure after a verified off does not).
      expect(r.code).toBe('ATCA_ERR_SHMC_LOST');
      expect(blade.count('deactivate') + blade.count('power-0')).toBeLessThanOrEqual(1);
      return;
    }
    expect(r).toEqual({ code: 0, out: ['Success: Rebooted'] });
    expect(blade.count('deactivate')).toBe(1);
    expect(blade.count('activate')).toBeLessThanOrEqual(1);
    expect(blade.refused).toEqual([]);
  });
});

/** Several blades, one per plug (plug_separator): each answers for its own plug. */
class FakeBlades implements BladeDevice {
  constructor(readonly blades: Readonly<Record<string, FakeBlade>>) {}
  #b(plug: string): FakeBlade {
    const b = this.blades[plug];
    if (!b) throw new Error(`no fake blade for plug ${plug}`);
    return b;
  }
  state(plug: string) {
    return this.#b(plug).state();
  }
  activationPolicy(plug: string) {
    return this.#b(plug).activationPolicy();
  }
  clearLock(plug: string, bit: 'locked' | 'deactivation-locked') {
    return this.#b(plug).clearLock(plug, bit);
  }
  deactivate(plug: string) {
    return this.#b(plug).deactivate();
  }
  activate(plug: string) {
    return this.#b(plug).activate();
  }
  removePayloadPower(plug: string) {
    return this.#b(plug).removePayloadPower();
  }
  coldReset(plug: string) {
    return this.#b(plug).coldReset();
  }
  list() {
    return Promise.resolve([]);
  }
}

async function runOn(dev: BladeDevice, clock: FakeClock, plug: string): Promise<{ code: number; out: string[] }> {
  const o = resolveOptions(parseStdin(`action=on\nip=x\nplug=${plug}\n`), {});
  const out: string[] = [];
  const code = await runAction(o, { device: () => Promise.resolve(dev), log: SILENT, out: (l) => out.push(l), clock });
  return { code, out };
}

describe('on (the action) from every state', () => {
  type Prepare = { readonly locked?: boolean; readonly later?: readonly [number, HotSwapState] };
  const cases: [string, HotSwapState, Prepare, Command[]][] = [
    ['M2 (activation requested)', 2, {}, ['activate']],
    ['M3 (activation under way)', 3, { later: [200, 4] }, []],
    [
      'M5 (deactivation requested: waits for it to end, then activates)',
      5,
      { locked: true, later: [200, 1] },
      ['clear-locked', 'activate'],
    ],
    [
      'M6 (deactivation under way: waits for M1, then activates)',
      6,
      { locked: true, later: [200, 1] },
      ['clear-locked', 'activate'],
    ],
    ['M1, Locked', 1, { locked: true }, ['clear-locked', 'activate']],
  ];
  it.each(cases)('%s: Powered ON, verified M4', async (_w, m, prepare, sent) => {
    const clock = new FakeClock();
    const blade = new FakeBlade(clock, m);
    if (prepare.locked) blade.locked = true;
    if (prepare.later) blade.later(...prepare.later);
    const r = await runOn(blade, clock, '1');
    expect(r).toEqual({ code: 0, out: ['Success: Powered ON'] });
    expect(blade.m).toBe(4);
    expect(blade.sent).toEqual(sent);
  });

  it('M4: Already ON, nothing sent', async () => {
    const clock = new FakeClock();
    const blade = new FakeBlade(clock, 4);
    expect(await runOn(blade, clock, '1')).toEqual({ code: 0, out: ['Success: Already ON'] });
    expect(blade.sent).toEqual([]);
  });

  it.each([
    [0, 'ATCA_ERR_FRU_ABSENT'],
    [7, 'ATCA_ERR_STATE_UNKNOWN'],
  ] as const)('M%s fails (%s), nothing sent', async (m, code) => {
    const clock = new FakeClock();
    const blade = new FakeBlade(clock, m);
    const r = await settle(() => runOn(blade, clock, '1'));
    expect(isAtcaError(r, code), String(r)).toBe(true);
    expect(blade.sent).toEqual([]);
  });

  it('several plugs, one on and one off: the off one is powered on, not "Already ON"', async () => {
    const clock = new FakeClock();
    const on = new FakeBlade(clock, 4);
    const off = new FakeBlade(clock, 1);
    off.locked = true;
    const r = await runOn(new FakeBlades({ '1': on, '2': off }), clock, '1,2');
    expect(r).toEqual({ code: 0, out: ['Success: Powered ON'] });
    expect([on.sent, off.sent]).toEqual([[], ['clear-locked', 'activate']]);
    expect([on.m, off.m]).toEqual([4, 4]);
  });

  it('several plugs, all M4: Already ON', async () => {
    const clock = new FakeClock();
    const blades = { '1': new FakeBlade(clock, 4), '2': new FakeBlade(clock, 4) };
    expect(await runOn(new FakeBlades(blades), clock, '1,2')).toEqual({ code: 0, out: ['Success: Already ON'] });
  });

  it('several plugs, each from its own state (M2 and M6)', async () => {
    const clock = new FakeClock();
    const a = new FakeBlade(clock, 2);
    const b = new FakeBlade(clock, 6);
    b.locked = true;
    b.later(300, 1);
    const r = await runOn(new FakeBlades({ '3': a, '4': b }), clock, '3,4');
    expect(r).toEqual({ code: 0, out: ['Success: Powered ON'] });
    expect([a.m, b.m]).toEqual([4, 4]);
  });
});
