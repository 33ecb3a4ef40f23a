import type { HotSwapState } from '../domain/hotswap.js';
import { AtcaError, type FenceClass, isAtcaError } from '../errors.js';
import type { PowerState } from '../ipmi/atca-device.js';
import {
  type BladeDevice,
  type Clock,
  coldReset,
  type Engine,
  type EngineOptions,
  powerOff,
  powerOn,
  readPower,
} from './engine.js';
import type { AgentLog } from './log.js';
import { metadataXml, usageText } from './metadata.js';
import type { FenceOptions } from './resolve-options.js';

export const VERSION = '0.1.0';

/** The family's exit codes: status answers 0 on, 2 off; every failure is 1. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_OFF = 2;

export interface ActionDeps {
  /** Opens the device on first use: metadata and validate-all contact nothing. */
  readonly device: () => Promise<BladeDevice>;
  readonly log: AgentLog;
  readonly out: (line: string) => void;
  readonly clock: Clock;
}

/** fencing.py's messages, so that operators and Pacemaker read what they always read. */
const FAMILY_MESSAGE: Record<FenceClass, string> = {
  usage: 'Failed: Invalid argument',
  login: 'Unable to connect/login to fencing device',
  connection: 'Connection timed out',
  status: 'Failed: Unable to obtain correct plug status or plug is not available',
  'waiting-off': 'Failed: Timed out waiting to power OFF',
  'waiting-on': 'Failed: Timed out waiting to power ON',
  refused: 'Failed: The shelf refused the operation',
  internal: 'Failed: Internal error',
};

export function failureLines(e: unknown): string[] {
  if (e instanceof AtcaError) {
    if (e.code === 'ATCA_ERR_UNKNOWN_ACTION') return [`Failed: Unrecognised action ${e.detail}`];
    if (e.fence === 'usage') return [`Failed: ${e.message} [${e.code}]`];
    return [FAMILY_MESSAGE[e.fence], `${e.message} [${e.code}]`];
  }
  return [FAMILY_MESSAGE.internal, e instanceof Error ? e.message : String(e)];
}

function plugs(o: FenceOptions): string[] {
  return (o.plug ?? '').split(o.plugSeparator).map((p) => p.trim());
}

function engineOptions(o: FenceOptions): EngineOptions {
  return {
    gracefulTimeoutMs: o.gracefulTimeout * 1000,
    pollMs: o.statusSleep * 1000,
    powerWaitMs: o.powerWait * 1000,
    powerTimeoutMs: o.powerTimeout * 1000,
    overrideDeactivationLock: o.overrideDeactivationLock,
  };
}

async function statusOf(e: Engine, o: FenceOptions): Promise<PowerState> {
  // Several plugs (plug_separator) are on if any is, as in the family (get_multi_power_fn).
  const states = [];
  for (const p of plugs(o)) states.push(await readPower(e, p));
  return states.some((s) => s === 'on') ? 'on' : 'off';
}

async function powerOffAll(e: Engine, o: FenceOptions): Promise<'done' | 'already'> {
  const states = new Map<string, HotSwapState>();
  for (const p of plugs(o)) states.set(p, await e.dev.state(p));
  if ([...states.values()].every((m) => m === 0 || m === 1)) return 'already';
  // Each returns only after reading M1 or M0 on its plug.
  for (const [p, m] of states) await powerOff(e, p, m);
  return 'done';
}

/**
 * powerOn, retried `retry_on` times when it times out (a retry re-reads the state first).
 * `known`: the state just read, for the first attempt.
 */
async function powerOnRetried(e: Engine, o: FenceOptions, p: string, known?: HotSwapState): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await powerOn(e, p, attempt === 0 ? known : undefined);
      return;
    } catch (err) {
      if (attempt >= o.retryOn || !isAtcaError(err, 'ATCA_ERR_POWER_ON_TIMEOUT')) throw err;
      e.log.warn(`power on of slot ${p} failed (${(err as Error).message}); retrying`);
    }
  }
}

/**
 * on: the raw hot-swap state of every plug first — not statusOf, which answers only M4/M1/M0
 * and would refuse a blade in a transition (M2, M3, M5, M6) that powerOn knows how to finish,
 * and which counts several plugs as on when any one is. Already on only if every plug is M4;
 * otherwise each plug that is not is driven from the state it is in.
 */
async function powerOnAll(e: Engine, o: FenceOptions): Promise<'done' | 'already'> {
  const states = new Map<string, HotSwapState>();
  for (const p of plugs(o)) states.set(p, await e.dev.state(p));
  if ([...states.values()].every((m) => m === 4)) return 'already';
  for (const [p, m] of states) if (m !== 4) await powerOnRetried(e, o, p, m);
  return 'done';
}

/**
 * The family's rule for reboot: once off is verified the node is fenced, so a failed power-on
 * is only logged and the reboot still succeeds. The wait for M4 is bounded here by
 * `rebootPowerOnTimeout` (power_timeout, finite even when the fencer's timeout governs):
 * otherwise a blade that never comes back would hold the result until Pacemaker kills the
 * agent, and a node that IS fenced would be recorded as a failed fence.
 */
async function onAfterVerifiedOff(e: Engine, o: FenceOptions, each: readonly string[]): Promise<void> {
  const bounded: Engine = { ...e, o: { ...e.o, powerTimeoutMs: o.rebootPowerOnTimeout * 1000 } };
  for (const p of each) {
    try {
      await powerOnRetried(bounded, o, p);
    } catch (err) {
      e.log.error(
        `Power on of slot ${p} after its verified power off failed; the node is fenced and stays off: ${(err as Error).message}${isAtcaError(err) ? ` [${err.code}]` : ''}`,
      );
    }
  }
}

/** fence_action(): the family's sequence of steps for each action. Returns the exit code. */
export async function runAction(o: FenceOptions, deps: ActionDeps): Promise<number> {
  const { log, out } = deps;
  switch (o.action) {
    case 'metadata':
    case 'manpage':
      out(metadataXml());
      return EXIT_OK;
    case 'validate-all':
      // Options were validated on the way in; reaching here means they are valid.
      return EXIT_OK;
    default:
      break;
  }
  if (o.action === 'off' || o.action === 'reboot') {
    if (o.delay > 0) {
      log.info(`delay: waiting ${o.delay} s before fencing`);
      await deps.clock.sleep(o.delay * 1000);
    }
  }
  const e: Engine = { dev: await deps.device(), o: engineOptions(o), log, clock: deps.clock };
  switch (o.action) {
    case 'status': {
      const s = await statusOf(e, o);
      out(`Status: ${s.toUpperCase()}`);
      return s === 'on' ? EXIT_OK : EXIT_OFF;
    }
    case 'off': {
      const r = await powerOffAll(e, o);
      out(r === 'already' ? 'Success: Already OFF' : 'Success: Powered OFF');
      return EXIT_OK;
    }
    case 'on': {
      const r = await powerOnAll(e, o);
      out(r === 'already' ? 'Success: Already ON' : 'Success: Powered ON');
      return EXIT_OK;
    }
    case 'reboot': {
      if (o.method === 'cycle') {
        for (const p of plugs(o)) {
          const r = await coldReset(e, p);
          // A reset whose answer was lost is never sent again: off and on instead, verified.
          if (r === 'answer-lost') await powerOff(e, p);
          // Off (verified, or found so): fenced; powering it on is the reboot's bounded second half.
          if (r !== 'reset') await onAfterVerifiedOff(e, o, [p]);
        }
        out('Success: Rebooted');
        return EXIT_OK;
      }
      await powerOffAll(e, o);
      await onAfterVerifiedOff(e, o, plugs(o));
      out('Success: Rebooted');
      return EXIT_OK;
    }
    case 'list':
    case 'list-status': {
      const entries = await e.dev.list();
      for (const e of entries) {
        const alias = '';
        out(
          o.action === 'list'
            ? `${e.slot}${o.separator}${alias}`
            : `${e.slot}${o.separator}${alias}${o.separator}${e.state === 'unknown' ? 'UNKNOWN' : e.state}`,
        );
      }
      return EXIT_OK;
    }
    case 'monitor':
      // A multi-port agent's monitor is its list: the shelf manager answers and reports boards.
      await e.dev.list();
      return EXIT_OK;
  }
  return EXIT_FAIL;
}

export function versionText(): string {
  return `fence_atca ${VERSION}`;
}

export { usageText };
