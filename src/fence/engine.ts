import { HOT_SWAP_NAMES, type HotSwapState, powerOf } from '../domain/hotswap.js';
import { AtcaError, isAtcaError } from '../errors.js';
import type { ListEntry, Outcome } from '../ipmi/atca-device.js';
import type { ActivationPolicy } from '../ipmi/picmg.js';
import type { Logger } from '../log.js';

/**
 * The fence engine's loops for one slot: power off (deactivate, wait, escalate, verify), power
 * on (unlock, activate, wait, verify) and cold reset. They drive the device's single
 * primitives and decide on what the blade's hot-swap state shows — never on the assumption
 * that a command whose answer was lost did, or did not, take effect:
 *
 * - a command is sent once; when its answer is lost (the shelf manager died or went silent,
 *   and the connection has moved to the other one), the engine reads the state and acts on it:
 *   a deactivation under way (M5/M6) or done (M1/M0) is progress, an activation under way (M3)
 *   or done (M4) too; a blade still where it was gets the command again;
 * - a refusal "not in the present state" (CC 0xD5) is judged the same way: a deactivate
 *   refused while the blade is already deactivating is progress, not "locked";
 * - a cold reset leaves no trace in the state, so a reset whose answer was lost is never sent
 *   again: the caller powers the blade off and on instead, verified each way.
 */

/** The primitives the engine drives (AtcaDevice; a fake in unit tests). */
export interface BladeDevice {
  state(plug: string): Promise<HotSwapState>;
  activationPolicy(plug: string): Promise<ActivationPolicy>;
  clearLock(plug: string, bit: 'locked' | 'deactivation-locked'): Promise<Outcome>;
  deactivate(plug: string): Promise<Outcome>;
  activate(plug: string): Promise<Outcome>;
  removePayloadPower(plug: string): Promise<Outcome>;
  coldReset(plug: string): Promise<Outcome>;
  list(): Promise<ListEntry[]>;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface EngineOptions {
  /** How long a graceful deactivation may take before payload power is removed. */
  readonly gracefulTimeoutMs: number;
  readonly pollMs: number;
  /** Wait after a command before the first look (the family's power_wait). */
  readonly powerWaitMs: number;
  /** Bound on the wait for M1 / M4; Infinity when the fencer's timeout governs. */
  readonly powerTimeoutMs: number;
  readonly overrideDeactivationLock: boolean;
}

export interface Engine {
  readonly dev: BladeDevice;
  readonly o: EngineOptions;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * Commands in a row whose answers may go missing in one operation before it gives up: enough
 * for each of two shelf managers to die once, and bounded where the fencer's timeout is not.
 */
export const MAX_UNANSWERED = 3;

/** States from which a deactivate is what moves the blade towards M1 (M5: the grant it waits for). */
const DEACTIVATABLE: ReadonlySet<HotSwapState> = new Set([2, 3, 4, 5]);
/** States that show a deactivation under way or done. */
const DEACTIVATING_OR_OFF: ReadonlySet<HotSwapState> = new Set([5, 6, 1, 0]);
const CC_NOT_IN_PRESENT_STATE = 0xd5;

const isOff = (m: HotSwapState | AtcaError): boolean => m === 0 || m === 1;
const name = (m: HotSwapState | AtcaError): string =>
  m instanceof AtcaError ? `unreadable (${m.detail})` : HOT_SWAP_NAMES[m];

/**
 * A state read in the middle of a wait: an IPMC that stops answering (CC 0x83) or a reading
 * that proves nothing yet (unavailable, several bits) is noted and looked at again, not taken
 * for an answer. A shelf manager that stops answering is failed over by the connection; when
 * none answers, that is an error.
 */
async function look(e: Engine, plug: string): Promise<HotSwapState | AtcaError> {
  try {
    return await e.dev.state(plug);
  } catch (err) {
    if (isAtcaError(err, 'ATCA_ERR_IPMC_UNREACHABLE') || isAtcaError(err, 'ATCA_ERR_STATE_UNKNOWN')) return err;
    throw err;
  }
}

/** Counts unanswered commands in one operation and explains each one in the log. */
class Unanswered {
  #n = 0;
  constructor(
    readonly e: Engine,
    readonly plug: string,
  ) {}

  note(what: string, r: { readonly detail: string }): void {
    this.#n++;
    if (this.#n >= MAX_UNANSWERED) {
      throw new AtcaError(
        'ATCA_ERR_SHMC_LOST',
        `slot ${this.plug}: ${this.#n} commands went unanswered (last: ${what}: ${r.detail})`,
      );
    }
    this.e.log.warn(
      `slot ${this.plug}: the answer to ${what} was lost (${r.detail}); reading the state to see whether it took effect`,
    );
  }
}

function refused(plug: string, what: string, r: { readonly detail: string }): AtcaError {
  return new AtcaError('ATCA_ERR_IPMI_CC', `slot ${plug}: ${what}: ${r.detail}`);
}

/**
 * Makes sure a deactivate will not be refused for the Deactivation-Locked bit: fails if it is
 * set (unless override_deactivation_lock), clears it otherwise. False when the clearing's
 * answer was lost: look again.
 */
async function deactivationUnlocked(e: Engine, plug: string, lost: Unanswered): Promise<boolean> {
  const policy = await e.dev.activationPolicy(plug);
  if (!policy.deactivationLocked) return true;
  if (!e.o.overrideDeactivationLock) {
    throw new AtcaError(
      'ATCA_ERR_FRU_LOCKED',
      `slot ${plug} has the Deactivation-Locked policy bit set; clear it (ipmitool picmg policy set) or set override_deactivation_lock=1`,
    );
  }
  e.log.warn(`slot ${plug}: clearing the Deactivation-Locked bit (override_deactivation_lock=1)`);
  const r = await e.dev.clearLock(plug, 'deactivation-locked');
  if (r.kind === 'done') return true;
  if (r.kind === 'lost') {
    lost.note('Set FRU Activation Policy (clear Deactivation-Locked)', r);
    return false;
  }
  throw refused(plug, 'Set FRU Activation Policy (clear Deactivation-Locked)', r);
}

/**
 * Powers one slot off and returns once M1 (or M0) is read: 'already' if it was off. From M4,
 * and from M2, M3 or M5 (someone else's activation, or a deactivation waiting for its grant),
 * it deactivates; in M6 a deactivation is under way and it only waits. If the payload has not
 * finished its graceful shutdown `gracefulTimeoutMs` after the deactivation started, it removes
 * payload power (Set Power Level 0). M7 at the start fails: nothing can reach or verify the
 * blade. A timeout is a failure.
 */
export async function powerOff(e: Engine, plug: string, known?: HotSwapState): Promise<'already' | 'done'> {
  const { dev, o, log, clock } = e;
  const first = known ?? (await dev.state(plug));
  if (isOff(first)) return 'already';
  if (first === 7) {
    throw new AtcaError(
      'ATCA_ERR_STATE_UNKNOWN',
      `slot ${plug} is in ${HOT_SWAP_NAMES[7]}: it cannot be powered off or verified`,
    );
  }
  const lost = new Unanswered(e, plug);
  let seen: HotSwapState | AtcaError = first;
  /** A deactivate was answered, or the blade was seen deactivating: never send another. */
  let underWay = false;
  let lockClear = false;
  /** Set Power Level 0 was sent and answered, or refused: it is not sent again. */
  let escalated = false;
  let graceFrom: number | undefined;
  let waitFrom: number | undefined;
  for (;;) {
    if (isOff(seen)) return 'done';
    if (typeof seen === 'number' && !underWay && DEACTIVATABLE.has(seen)) {
      lockClear ||= await deactivationUnlocked(e, plug, lost);
      if (lockClear) {
        const r = await dev.deactivate(plug);
        if (r.kind === 'done') {
          underWay = true;
          if (o.powerWaitMs > 0) await clock.sleep(o.powerWaitMs);
        } else if (r.kind === 'lost') {
          lost.note('Set FRU Activation (deactivate)', r);
        } else if (r.cc === CC_NOT_IN_PRESENT_STATE) {
          const now = await look(e, plug);
          if (typeof now !== 'number' || !DEACTIVATING_OR_OFF.has(now)) {
            throw new AtcaError(
              'ATCA_ERR_FRU_LOCKED',
              `slot ${plug} refused deactivation in ${name(now)} (${r.detail})`,
            );
          }
          log.info(`slot ${plug}: deactivate refused in ${name(now)}: a deactivation is already under way`);
          underWay = true;
        } else {
          throw refused(plug, 'Set FRU Activation (deactivate)', r);
        }
      }
      seen = await look(e, plug);
      continue;
    }
    if (seen === 6) underWay = true;
    waitFrom ??= clock.now();
    if (underWay) graceFrom ??= clock.now();
    if (
      !escalated &&
      graceFrom !== undefined &&
      typeof seen === 'number' &&
      seen !== 7 &&
      clock.now() - graceFrom >= o.gracefulTimeoutMs
    ) {
      log.warn(
        `slot ${plug} still in ${name(seen)} after ${Math.round(clock.now() - graceFrom)} ms: removing payload power (Set Power Level 0)`,
      );
      const r = await dev.removePayloadPower(plug);
      if (r.kind === 'done') escalated = true;
      else if (r.kind === 'lost') lost.note('Set Power Level 0', r);
      else {
        // Refused (CC 0xC1 from an IPMC without power management, say): there is nothing to
        // escalate to, but the graceful deactivation may still finish. Not a failure yet.
        log.warn(
          `slot ${plug}: Set Power Level 0 refused (${r.detail}): cannot escalate; waiting for M1 until power_timeout`,
        );
        escalated = true;
      }
      seen = await look(e, plug);
      continue;
    }
    const elapsed = clock.now() - waitFrom;
    if (elapsed >= o.powerTimeoutMs) {
      const what = seen instanceof AtcaError ? seen.detail : `still in ${name(seen)}`;
      throw new AtcaError('ATCA_ERR_POWER_OFF_TIMEOUT', `slot ${plug} ${what} after ${Math.round(elapsed)} ms`);
    }
    await clock.sleep(o.pollMs);
    seen = await look(e, plug);
  }
}

/**
 * Powers one slot on and returns once M4 is read: 'already' if it was on. M0 (no blade) fails,
 * and so does M7 at the start (nothing can reach the blade: waiting would only last until the
 * timeout, or for ever where the fencer's timeout governs). From M1 or M2 it clears the Locked
 * bit if set (the IPMC goes M1 → M2) and activates; in M3 an activation is under way and it
 * only waits; in M5/M6 it waits for the deactivation to end first. A timeout is a failure (the
 * caller retries `retry_on` times).
 */
export async function powerOn(e: Engine, plug: string, known?: HotSwapState): Promise<'already' | 'done'> {
  const { dev, o, clock } = e;
  const first = known ?? (await dev.state(plug));
  if (first === 4) return 'already';
  if (first === 7) {
    throw new AtcaError(
      'ATCA_ERR_STATE_UNKNOWN',
      `slot ${plug} is in ${HOT_SWAP_NAMES[7]}: it cannot be powered on or verified`,
    );
  }
  const lost = new Unanswered(e, plug);
  let seen: HotSwapState | AtcaError = first;
  /** An activate was answered, or the blade was seen activating: never send another. */
  let underWay = false;
  let waitFrom: number | undefined;
  for (;;) {
    if (seen === 4) return 'done';
    if (seen === 0) throw new AtcaError('ATCA_ERR_FRU_ABSENT', `slot ${plug} is in M0: no blade to power on`);
    if (seen === 3) underWay = true;
    if (!underWay && (seen === 1 || seen === 2)) {
      const policy = await dev.activationPolicy(plug);
      const unlocked = policy.locked ? await dev.clearLock(plug, 'locked') : ({ kind: 'done' } as const);
      if (unlocked.kind === 'refused') throw refused(plug, 'Set FRU Activation Policy (clear Locked)', unlocked);
      if (unlocked.kind === 'lost') {
        lost.note('Set FRU Activation Policy (clear Locked)', unlocked);
      } else {
        const r = await dev.activate(plug);
        if (r.kind === 'done') {
          underWay = true;
          if (o.powerWaitMs > 0) await clock.sleep(o.powerWaitMs);
        } else if (r.kind === 'lost') {
          lost.note('Set FRU Activation (activate)', r);
        } else if (r.cc === CC_NOT_IN_PRESENT_STATE) {
          const now = await look(e, plug);
          if (now !== 3 && now !== 4) throw refused(plug, `Set FRU Activation (activate) in ${name(now)}`, r);
          underWay = true;
        } else {
          throw refused(plug, 'Set FRU Activation (activate)', r);
        }
      }
      seen = await look(e, plug);
      continue;
    }
    waitFrom ??= clock.now();
    const elapsed = clock.now() - waitFrom;
    if (elapsed >= o.powerTimeoutMs) {
      const what = seen instanceof AtcaError ? seen.detail : `still in ${name(seen)}`;
      throw new AtcaError('ATCA_ERR_POWER_ON_TIMEOUT', `slot ${plug} ${what} after ${Math.round(elapsed)} ms`);
    }
    await clock.sleep(o.pollMs);
    seen = await look(e, plug);
  }
}

/**
 * FRU Control cold reset of a blade that is on. A blade found off (M1, or M0: no blade) is not
 * reset: 'found-off' — it is fenced already, and the caller powers it on as the second half of
 * a reboot, bounded, where a failure is only logged.
 * 'reset' once the IPMC acknowledged the reset — the only evidence a reset leaves.
 * 'answer-lost' when its answer was lost: the reset may or may not have happened, nothing can
 * tell, and a second one could reset the blade twice — so it is not sent again, and the caller
 * powers the blade off and on instead, which can be verified.
 */
export async function coldReset(e: Engine, plug: string): Promise<'reset' | 'found-off' | 'answer-lost'> {
  const m = await e.dev.state(plug);
  const power = powerOf(m);
  if (!power) throw new AtcaError('ATCA_ERR_STATE_UNKNOWN', `slot ${plug} is in ${HOT_SWAP_NAMES[m]}`);
  if (power === 'off') return 'found-off';
  const r = await e.dev.coldReset(plug);
  if (r.kind === 'done') return 'reset';
  if (r.kind === 'refused') throw refused(plug, 'FRU Control (cold reset)', r);
  e.log.warn(
    `slot ${plug}: the answer to FRU Control (cold reset) was lost (${r.detail}); a reset leaves no trace in the hot-swap state, so whether it happened cannot be known: not sending it again — powering the blade off and on instead, verified each way`,
  );
  return 'answer-lost';
}

/** on or off as the hot-swap state proves it; anything else is an error, never "off". */
export async function readPower(e: Engine, plug: string): Promise<'on' | 'off'> {
  const m = await e.dev.state(plug);
  const power = powerOf(m);
  if (!power) throw new AtcaError('ATCA_ERR_STATE_UNKNOWN', `slot ${plug} is in ${HOT_SWAP_NAMES[m]}`);
  return power;
}
