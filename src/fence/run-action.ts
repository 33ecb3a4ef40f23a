import { HOT_SWAP_NAMES, type HotSwapState } from '../domain/hotswap.js';
import { AtcaError, type FenceClass, isAtcaError } from '../errors.js';
import type { AtcaDevice, PowerState } from '../ipmi/atca-device.js';
import type { AgentLog } from './log.js';
import { metadataXml, usageText } from './metadata.js';
import type { FenceOptions } from './resolve-options.js';

export const VERSION = '0.1.0';

/** The family's exit codes: status answers 0 on, 2 off; every failure is 1. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_OFF = 2;

export interface ActionDeps {
  readonly device: () => Promise<AtcaDevice>;
  readonly log: AgentLog;
  readonly out: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
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

async function statusOf(dev: AtcaDevice, o: FenceOptions): Promise<PowerState> {
  // Several plugs (plug_separator) are on only if all are, as in the family.
  const states = [];
  for (const p of plugs(o)) states.push(await dev.status(p));
  return states.some((s) => s === 'on') ? 'on' : 'off';
}

async function powerOff(dev: AtcaDevice, o: FenceOptions): Promise<'done' | 'already'> {
  const states = new Map<string, HotSwapState>();
  for (const p of plugs(o)) states.set(p, await dev.state(p));
  if ([...states.values()].every((m) => m === 0 || m === 1)) return 'already';
  for (const [p, m] of states) {
    if (m === 0 || m === 1) continue;
    // M7: the shelf manager has lost the IPMC, so no command can reach the blade or prove it off.
    if (m === 7)
      throw new AtcaError(
        'ATCA_ERR_STATE_UNKNOWN',
        `slot ${p} is in ${HOT_SWAP_NAMES[7]}: it cannot be powered off or verified`,
      );
    // M4, and the transitions M2/M3/M5/M6 (someone else's activation or a deactivation that
    // stalled): deactivate and wait for M1, removing payload power if it stalls. A blade
    // stuck half-way must still be fenceable.
    await dev.off(p);
  }
  // Verified: off() returns only after reading M1 or M0 on each plug.
  return 'done';
}

async function powerOn(dev: AtcaDevice, o: FenceOptions, log: AgentLog): Promise<'done' | 'already'> {
  if ((await statusOf(dev, o)) === 'on') return 'already';
  for (const p of plugs(o)) {
    if ((await dev.status(p)) === 'on') continue;
    for (let attempt = 0; ; attempt++) {
      try {
        // A retry goes straight to on(): a blade still in M2/M3 from the last try proves neither state.
        await dev.on(p);
        break;
      } catch (e) {
        if (attempt >= o.retryOn || !isAtcaError(e, 'ATCA_ERR_POWER_ON_TIMEOUT')) throw e;
        log.warn(`power on of slot ${p} failed (${(e as Error).message}); retrying`);
      }
    }
  }
  return 'done';
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
      await deps.sleep(o.delay * 1000);
    }
  }
  const dev = await deps.device();
  switch (o.action) {
    case 'status': {
      const s = await statusOf(dev, o);
      out(`Status: ${s.toUpperCase()}`);
      return s === 'on' ? EXIT_OK : EXIT_OFF;
    }
    case 'off': {
      const r = await powerOff(dev, o);
      out(r === 'already' ? 'Success: Already OFF' : 'Success: Powered OFF');
      return EXIT_OK;
    }
    case 'on': {
      const r = await powerOn(dev, o, log);
      out(r === 'already' ? 'Success: Already ON' : 'Success: Powered ON');
      return EXIT_OK;
    }
    case 'reboot': {
      if (o.method === 'cycle') {
        for (const p of plugs(o)) {
          if ((await dev.status(p)) === 'on') await dev.coldReset(p);
          else await dev.on(p);
        }
        out('Success: Rebooted');
        return EXIT_OK;
      }
      await powerOff(dev, o);
      try {
        await powerOn(dev, o, log);
      } catch (e) {
        // The family's rule: once off is verified the node is fenced, so reboot succeeds.
        log.error(`Power on after verified power off failed; the node stays off: ${(e as Error).message}`);
      }
      out('Success: Rebooted');
      return EXIT_OK;
    }
    case 'list':
    case 'list-status': {
      const entries = await dev.list();
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
      await dev.list();
      return EXIT_OK;
  }
  return EXIT_FAIL;
}

export function versionText(): string {
  return `fence_atca ${VERSION}`;
}

export { usageText };
