import { AtcaError } from '../errors.js';
import { ACTIONS, type Action, OPTIONS, type OptionDef } from './options.js';
import type { RawInput } from './parse-input.js';

/** Typed, validated, defaulted options. Times are in seconds; Infinity where disabled. */
export interface FenceOptions {
  readonly action: Action;
  /** The node Pacemaker named (stdin `nodename`), if it did. */
  readonly nodename?: string;
  readonly ip?: string;
  readonly ipport: number;
  readonly ip2?: string;
  readonly ipport2?: number;
  readonly username?: string;
  readonly password?: string;
  readonly passwordScript?: string;
  readonly plug?: string;
  readonly lanplus: boolean;
  readonly cipher?: string;
  readonly privlvl: string;
  readonly method: 'onoff' | 'cycle';
  readonly fruId: number;
  readonly hotswapSensor: number;
  readonly gracefulTimeout: number;
  readonly overrideDeactivationLock: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debugFile?: string;
  readonly version: boolean;
  readonly help: boolean;
  readonly plugSeparator: string;
  readonly separator: string;
  readonly delay: number;
  readonly disableTimeout: boolean;
  readonly loginTimeout: number;
  readonly powerTimeout: number;
  /**
   * Bound on the power-on half of a reboot (after a verified off): power_timeout, finite even
   * where disable_timeout lifts the other timeouts. Once off is verified the node is fenced;
   * a power-on that never completes must not hold the result until the fencer kills the agent.
   */
  readonly rebootPowerOnTimeout: number;
  readonly powerWait: number;
  readonly shellTimeout: number;
  readonly statusSleep: number;
  readonly retryOn: number;
  readonly ipmitoolTimeout: number;
  readonly ipmitoolPath: string;
}

const TRUE = new Set(['1', 'yes', 'on', 'true']);
const FALSE = new Set(['0', 'no', 'off', 'false']);

function typed(def: OptionDef, raw: string): string | number | boolean {
  const bad = (why: string) => new AtcaError('ATCA_ERR_BAD_OPTION', `${def.name}: ${why}`);
  switch (def.type) {
    case 'boolean': {
      const v = raw.toLowerCase();
      // Unlike much of the family (where `ssh=0` still enables ssh), 0 here means off.
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw bad(`'${raw}' is not a boolean (1/yes/on/true or 0/no/off/false)`);
    }
    case 'integer': {
      if (!/^\d+$/.test(raw)) throw bad(`'${raw}' is not a non-negative integer`);
      const n = Number(raw);
      if (def.max !== undefined && n > def.max) throw bad(`${n} is above ${def.max}`);
      if (def.min !== undefined && n < def.min) throw bad(`${n} is below ${def.min}`);
      return n;
    }
    case 'second': {
      // The family takes whole seconds; fractions are accepted for sub-second polling.
      if (!/^\d+(\.\d+)?$/.test(raw)) throw bad(`'${raw}' is not a number of seconds`);
      return Number(raw);
    }
    case 'select': {
      const v = raw.toLowerCase();
      if (!def.choices!.includes(v)) throw bad(`'${raw}' is not one of ${def.choices!.join(', ')}`);
      return v;
    }
    case 'string':
      return raw;
  }
}

function normaliseAction(raw: string): Action {
  const a = raw.toLowerCase() === 'meta-data' ? 'metadata' : raw.toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(a)) {
    throw new AtcaError('ATCA_ERR_UNKNOWN_ACTION', `'${raw}'`);
  }
  return a as Action;
}

/**
 * Types and defaults the raw values. `env` decides the family's rule for timeouts: run by
 * Pacemaker's fencer (PCMK_service=pacemaker-fenced) and with disable_timeout unset, the
 * agent's own timeouts are off and Pacemaker's fencing timeout governs.
 */
export function resolveOptions(input: RawInput, env: NodeJS.ProcessEnv): FenceOptions {
  const v = new Map<string, string | number | boolean>();
  for (const def of OPTIONS) {
    const raw = input.values.get(def.name) ?? def.default;
    if (raw === undefined) continue;
    v.set(def.name, def.name === 'action' ? normaliseAction(raw) : typed(def, raw));
  }
  const dt = v.get('disable_timeout') as string | undefined;
  let disableTimeout: boolean;
  if (dt === undefined) disableTimeout = env.PCMK_service === 'pacemaker-fenced';
  else if (TRUE.has(dt.toLowerCase())) disableTimeout = true;
  else if (FALSE.has(dt.toLowerCase())) disableTimeout = false;
  else throw new AtcaError('ATCA_ERR_BAD_OPTION', `disable_timeout: '${dt}' is not true or false`);
  const limit = (name: string) => (disableTimeout ? Number.POSITIVE_INFINITY : (v.get(name) as number));
  const str = (name: string) => v.get(name) as string | undefined;
  const num = (name: string) => v.get(name) as number;
  const bool = (name: string) => v.get(name) === true;
  const separator = str('separator')!;
  const plugSeparator = str('plug_separator')!;
  if (separator.length === 0) throw new AtcaError('ATCA_ERR_BAD_OPTION', 'separator: must not be empty');
  // An empty plug separator would split plug=12 into slots 1 and 2.
  if (plugSeparator.length === 0) throw new AtcaError('ATCA_ERR_BAD_OPTION', 'plug_separator: must not be empty');
  return Object.freeze({
    action: v.get('action') as Action,
    nodename: input.nodename,
    ip: str('ip'),
    ipport: num('ipport'),
    ip2: str('ip2'),
    ipport2: v.get('ipport2') as number | undefined,
    username: str('username'),
    password: str('password'),
    passwordScript: str('password_script'),
    plug: str('plug'),
    lanplus: bool('lanplus'),
    cipher: str('cipher'),
    privlvl: str('privlvl')!,
    method: str('method') as 'onoff' | 'cycle',
    fruId: num('fru_id'),
    hotswapSensor: num('hotswap_sensor'),
    gracefulTimeout: num('graceful_timeout'),
    overrideDeactivationLock: bool('override_deactivation_lock'),
    quiet: bool('quiet'),
    verbose: bool('verbose'),
    debugFile: str('debug_file'),
    version: bool('version'),
    help: bool('help'),
    plugSeparator,
    separator,
    delay: num('delay'),
    disableTimeout,
    loginTimeout: limit('login_timeout'),
    powerTimeout: limit('power_timeout'),
    rebootPowerOnTimeout: num('power_timeout'),
    powerWait: num('power_wait'),
    shellTimeout: limit('shell_timeout'),
    statusSleep: num('stonith_status_sleep'),
    retryOn: num('retry_on'),
    ipmitoolTimeout: num('ipmitool_timeout'),
    ipmitoolPath: str('ipmitool_path')!,
  });
}

/** Actions that talk to the shelf (and so need its address and the password). */
export const CONTACTS_DEVICE: ReadonlySet<Action> = new Set([
  'on',
  'off',
  'reboot',
  'status',
  'list',
  'list-status',
  'monitor',
]);
/** validate-all checks the same options without contacting anything. */
const NEEDS_DEVICE: ReadonlySet<Action> = new Set([...CONTACTS_DEVICE, 'validate-all']);
const NEEDS_PLUG: ReadonlySet<Action> = new Set(['on', 'off', 'reboot', 'status']);

/**
 * Pacemaker validates a device (`stonith_admin --validate`, `pcs stonith create`) by running
 * validate-all on a made-up target: `nodename=node1` and its host argument `port=node1` (or
 * `plug=node1`), since it strips pcmk_host_map, which would give the slot. The family accepts
 * it (fencing.py checks that plug is present, not what it holds); so does fence_atca, but only
 * that value: a plug that is not the node Pacemaker named is still checked to be a slot.
 */
function isValidationPlaceholder(o: FenceOptions): boolean {
  return o.action === 'validate-all' && o.nodename !== undefined && o.plug?.trim() === o.nodename;
}

/** The family's required-option checks, with its messages. */
export function checkRequired(o: FenceOptions): void {
  if (!NEEDS_DEVICE.has(o.action)) return;
  if (!o.ip) throw new AtcaError('ATCA_ERR_MISSING_OPTION', 'You have to enter fence address (ip)');
  if (NEEDS_PLUG.has(o.action) && !o.plug) {
    throw new AtcaError('ATCA_ERR_MISSING_OPTION', 'You have to enter plug number or machine identification (plug)');
  }
  if (o.plug !== undefined && o.plug !== '' && !isValidationPlaceholder(o)) {
    for (const p of o.plug.split(o.plugSeparator)) {
      if (!/^\d+$/.test(p.trim()) || Number(p) < 1 || Number(p) > 255) {
        const hint =
          p.trim() === o.nodename ? `; map node names to slots with pcmk_host_map (e.g. "${p.trim()}:3")` : '';
        throw new AtcaError('ATCA_ERR_BAD_OPTION', `plug: '${p}' is not a physical slot number (1–255)${hint}`);
      }
    }
  }
  if (o.password !== undefined && Buffer.byteLength(o.password) > (o.lanplus ? 20 : 16)) {
    throw new AtcaError('ATCA_ERR_BAD_OPTION', `password: longer than IPMI allows (${o.lanplus ? 20 : 16} characters)`);
  }
}
