/**
 * fence_atca's options, in the fence-agents family's terms (lib/fencing.py.py `all_opt`):
 * stdin name, deprecated old name, getopt spelling, type, default, and the metadata order.
 * This table is the single source for parsing, validation, metadata and the usage text.
 */
export type OptionType = 'boolean' | 'string' | 'second' | 'integer' | 'select';

export interface OptionDef {
  readonly name: string;
  /** Older stdin name, still accepted; shown in metadata as deprecated="1". */
  readonly oldName?: string;
  readonly short?: string;
  /** Long option without dashes (defaults to name with '_' → '-'). */
  readonly long?: string;
  /** Placeholder in the getopt text, e.g. "[ip]". Absent for booleans. */
  readonly arg?: string;
  readonly type: OptionType;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Bounds for integer options. */
  readonly min?: number;
  readonly max?: number;
  readonly required?: boolean;
  readonly shortdesc: string;
  /** Metadata group: 1 device, 2 logging, 3 separators, 4 timing, 5 paths (fencing.py's order). */
  readonly group: 1 | 2 | 3 | 4 | 5;
  /** Position inside groups 2–5 (group 1 sorts by name, as fencing.py does). */
  readonly seq?: number;
  readonly secret?: boolean;
}

export const OPTIONS: readonly OptionDef[] = [
  {
    name: 'action',
    short: 'o',
    arg: '[action]',
    type: 'string',
    default: 'reboot',
    required: true,
    shortdesc: 'Fencing action',
    group: 1,
  },
  {
    name: 'ip',
    oldName: 'ipaddr',
    short: 'a',
    arg: '[ip]',
    type: 'string',
    required: true,
    shortdesc: 'IP address or hostname of the (active) shelf manager',
    group: 1,
  },
  {
    name: 'ipport',
    short: 'u',
    arg: '[port]',
    type: 'integer',
    default: '623',
    shortdesc: "UDP port of the shelf manager's IPMI LAN interface",
    group: 1,
  },
  {
    name: 'ip2',
    arg: '[ip]',
    type: 'string',
    shortdesc: 'IP address or hostname of the second (redundant) shelf manager, used when the first does not answer',
    group: 1,
  },
  {
    name: 'ipport2',
    arg: '[port]',
    type: 'integer',
    shortdesc: 'UDP port of the second shelf manager (default: ipport)',
    group: 1,
  },
  { name: 'username', oldName: 'login', short: 'l', arg: '[name]', type: 'string', shortdesc: 'Login name', group: 1 },
  {
    name: 'password',
    oldName: 'passwd',
    short: 'p',
    arg: '[password]',
    type: 'string',
    shortdesc: 'Login password or passphrase',
    group: 1,
    secret: true,
  },
  {
    name: 'password_script',
    oldName: 'passwd_script',
    short: 'S',
    arg: '[script]',
    type: 'string',
    shortdesc: 'Script to run to retrieve password',
    group: 1,
  },
  {
    name: 'plug',
    oldName: 'port',
    short: 'n',
    arg: '[slot]',
    type: 'string',
    required: true,
    shortdesc: 'Physical slot number of the blade in the shelf',
    group: 1,
  },
  {
    name: 'lanplus',
    short: 'P',
    type: 'boolean',
    default: '1',
    shortdesc: 'Use Lanplus (RMCP+) to improve security of connection',
    group: 1,
  },
  {
    name: 'cipher',
    short: 'C',
    arg: '[cipher]',
    type: 'string',
    shortdesc: 'Ciphersuite to use (same as ipmitool -C parameter)',
    group: 1,
  },
  {
    name: 'privlvl',
    short: 'L',
    arg: '[level]',
    type: 'select',
    default: 'administrator',
    choices: ['callback', 'user', 'operator', 'administrator'],
    shortdesc: 'Privilege level on IPMI device',
    group: 1,
  },
  {
    name: 'method',
    short: 'm',
    arg: '[method]',
    type: 'select',
    default: 'onoff',
    choices: ['onoff', 'cycle'],
    shortdesc:
      'Method to fence (onoff: deactivate, verify M1, activate, verify M4; cycle: FRU Control cold reset, not verifiable)',
    group: 1,
  },
  {
    name: 'fru_id',
    arg: '[id]',
    type: 'integer',
    default: '0',
    max: 255,
    shortdesc: 'FRU device ID of the blade on its IPMC',
    group: 1,
  },
  {
    name: 'hotswap_sensor',
    arg: '[number]',
    type: 'integer',
    default: '0',
    max: 255,
    shortdesc: "Sensor number of the FRU Hot Swap sensor on the blade's IPMC (checked to be of type 0xF0)",
    group: 1,
  },
  {
    name: 'graceful_timeout',
    arg: '[seconds]',
    type: 'second',
    default: '5',
    shortdesc:
      'Seconds a graceful deactivation may take before payload power is removed (Set Power Level 0); 0 removes it at once',
    group: 1,
  },
  {
    name: 'override_deactivation_lock',
    type: 'boolean',
    default: '0',
    shortdesc: 'Clear the Deactivation-Locked policy bit before powering off instead of failing',
    group: 1,
  },
  {
    name: 'quiet',
    short: 'q',
    type: 'boolean',
    shortdesc: 'Disable logging to stderr. Does not affect --verbose or --debug-file.',
    group: 2,
    seq: 1,
  },
  { name: 'verbose', short: 'v', type: 'boolean', shortdesc: 'Verbose mode', group: 2, seq: 2 },
  {
    name: 'debug_file',
    oldName: 'debug',
    short: 'D',
    arg: '[debugfile]',
    type: 'string',
    shortdesc: 'Write debug information to given file',
    group: 2,
    seq: 3,
  },
  { name: 'version', short: 'V', type: 'boolean', shortdesc: 'Display version information and exit', group: 2, seq: 4 },
  { name: 'help', short: 'h', type: 'boolean', shortdesc: 'Display help and exit', group: 2, seq: 5 },
  {
    name: 'plug_separator',
    arg: '[char]',
    type: 'string',
    default: ',',
    shortdesc: 'Separator for plug parameter when specifying more than 1 plug',
    group: 3,
    seq: 1,
  },
  {
    name: 'separator',
    arg: '[char]',
    type: 'string',
    default: ',',
    shortdesc: "Separator for CSV created by 'list' operation",
    group: 3,
    seq: 2,
  },
  {
    name: 'delay',
    arg: '[seconds]',
    type: 'second',
    default: '0',
    shortdesc: 'Wait X seconds before fencing is started',
    group: 4,
    seq: 1,
  },
  {
    name: 'disable_timeout',
    arg: '[true/false]',
    type: 'string',
    shortdesc: 'Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)',
    group: 4,
    seq: 2,
  },
  {
    name: 'login_timeout',
    arg: '[seconds]',
    type: 'second',
    default: '5',
    shortdesc: 'Wait X seconds for cmd prompt after login',
    group: 4,
    seq: 3,
  },
  {
    name: 'power_timeout',
    arg: '[seconds]',
    type: 'second',
    default: '20',
    shortdesc: 'Test X seconds for status change after ON/OFF',
    group: 4,
    seq: 4,
  },
  {
    name: 'power_wait',
    arg: '[seconds]',
    type: 'second',
    default: '0',
    shortdesc: 'Wait X seconds after issuing ON/OFF',
    group: 4,
    seq: 5,
  },
  {
    name: 'shell_timeout',
    arg: '[seconds]',
    type: 'second',
    default: '3',
    shortdesc: 'Wait X seconds for cmd prompt after issuing command',
    group: 4,
    seq: 6,
  },
  {
    name: 'stonith_status_sleep',
    arg: '[seconds]',
    type: 'second',
    default: '0.1',
    shortdesc: 'Sleep X seconds between status calls during a STONITH action',
    group: 4,
    seq: 7,
  },
  {
    name: 'retry_on',
    arg: '[attempts]',
    type: 'integer',
    default: '1',
    shortdesc: 'Count of attempts to retry power on',
    group: 4,
    seq: 8,
  },
  {
    name: 'ipmitool_timeout',
    arg: '[timeout]',
    type: 'second',
    default: '2',
    shortdesc: 'Timeout (sec) for IPMI operation (ipmitool -N)',
    group: 4,
    seq: 9,
  },
  {
    name: 'ipmitool_path',
    arg: '[path]',
    type: 'string',
    default: '/usr/bin/ipmitool',
    shortdesc: 'Path to ipmitool binary',
    group: 5,
    seq: 1,
  },
];

export const OPTION_BY_NAME: ReadonlyMap<string, OptionDef> = new Map(
  OPTIONS.flatMap((o) => {
    const keys: [string, OptionDef][] = [[o.name, o]];
    if (o.oldName) keys.push([o.oldName, o]);
    return keys;
  }),
);

export function longName(o: OptionDef): string {
  return o.long ?? o.name.replace(/_/g, '-');
}

export function getoptText(o: OptionDef): string {
  const long = `--${longName(o)}${o.arg ? `=${o.arg}` : ''}`;
  return o.short ? `-${o.short}, ${long}` : long;
}

export const ACTIONS = [
  'on',
  'off',
  'reboot',
  'status',
  'list',
  'list-status',
  'monitor',
  'metadata',
  'manpage',
  'validate-all',
] as const;
export type Action = (typeof ACTIONS)[number];
