// Typing, defaulting and validating options, and the family's required-option checks.
import { describe, expect, it } from 'vitest';
import { commandCapMs, ipmitoolRequestBoundSec, loginCapMs } from '../../src/fence/hard-caps.js';
import { connectOptions, fenceAtca } from '../../src/fence/main.js';
import { ACTIONS } from '../../src/fence/options.js';
import { parseStdin } from '../../src/fence/parse-input.js';
import { checkRequired, type FenceOptions, resolveOptions } from '../../src/fence/resolve-options.js';
import { SILENT } from '../../src/log.js';
import { catchAtcaError } from './catch-atca-error.js';

const FENCED: NodeJS.ProcessEnv = { PCMK_service: 'pacemaker-fenced' };

function resolve(values: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): FenceOptions {
  return resolveOptions({ values: new Map(Object.entries(values)), warnings: [] }, env);
}

/** A device action with everything it needs, plus the overrides. */
function device(overrides: Record<string, string> = {}): FenceOptions {
  return resolve({ action: 'off', ip: '10.0.0.1', plug: '3', ...overrides });
}

describe('resolveOptions: defaults', () => {
  it('fills in the documented defaults', () => {
    expect(resolve()).toEqual({
      action: 'reboot',
      ipport: 623,
      lanplus: true,
      privlvl: 'administrator',
      method: 'onoff',
      fruId: 0,
      hotswapSensor: 0,
      gracefulTimeout: 5,
      overrideDeactivationLock: false,
      quiet: false,
      verbose: false,
      version: false,
      help: false,
      plugSeparator: ',',
      separator: ',',
      delay: 0,
      disableTimeout: false,
      loginTimeout: 5,
      powerTimeout: 20,
      rebootPowerOnTimeout: 20,
      powerWait: 0,
      shellTimeout: 3,
      statusSleep: 0.1,
      retryOn: 1,
      ipmitoolTimeout: 2,
      ipmitoolPath: '/usr/bin/ipmitool',
    });
  });

  it('leaves options without a default undefined', () => {
    const o = resolve();
    for (const key of [
      'ip',
      'ip2',
      'ipport2',
      'username',
      'password',
      'passwordScript',
      'plug',
      'cipher',
      'debugFile',
    ]) {
      expect(o[key as keyof FenceOptions], key).toBeUndefined();
    }
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(resolve())).toBe(true);
  });
});

describe('resolveOptions: typed values', () => {
  it.each([
    ['ip', '10.0.0.1', 'ip', '10.0.0.1'],
    ['ipport', '6230', 'ipport', 6230],
    ['ip2', 'shmc2.example', 'ip2', 'shmc2.example'],
    ['ipport2', '624', 'ipport2', 624],
    ['username', 'admin', 'username', 'admin'],
    ['password', 'pw', 'password', 'pw'],
    ['password_script', '/bin/pw', 'passwordScript', '/bin/pw'],
    ['plug', '3', 'plug', '3'],
    ['cipher', '17', 'cipher', '17'],
    ['fru_id', '1', 'fruId', 1],
    ['hotswap_sensor', '12', 'hotswapSensor', 12],
    ['graceful_timeout', '0', 'gracefulTimeout', 0],
    ['debug_file', '/tmp/d.log', 'debugFile', '/tmp/d.log'],
    ['separator', ';', 'separator', ';'],
    ['plug_separator', ' ', 'plugSeparator', ' '],
    ['delay', '10', 'delay', 10],
    ['login_timeout', '7', 'loginTimeout', 7],
    ['power_timeout', '1.5', 'powerTimeout', 1.5],
    ['power_wait', '2', 'powerWait', 2],
    ['shell_timeout', '4', 'shellTimeout', 4],
    ['stonith_status_sleep', '0.25', 'statusSleep', 0.25],
    ['retry_on', '3', 'retryOn', 3],
    ['ipmitool_timeout', '4', 'ipmitoolTimeout', 4],
    ['ipmitool_path', '/opt/bin/ipmitool', 'ipmitoolPath', '/opt/bin/ipmitool'],
    ['method', 'cycle', 'method', 'cycle'],
    ['method', 'CYCLE', 'method', 'cycle'],
    ['privlvl', 'OPERATOR', 'privlvl', 'operator'],
    ['override_deactivation_lock', '1', 'overrideDeactivationLock', true],
    ['verbose', 'yes', 'verbose', true],
  ])('%s=%j gives %s %j', (name, raw, field, value) => {
    expect(resolve({ [name]: raw })[field as keyof FenceOptions]).toEqual(value);
  });

  it('keeps strings exactly, spaces included', () => {
    expect(resolve({ password: ' pass word ' }).password).toBe(' pass word ');
  });
});

describe('resolveOptions: action', () => {
  it.each(ACTIONS)('accepts %s', (action) => {
    expect(resolve({ action }).action).toBe(action);
  });

  it.each([
    ['meta-data', 'metadata'],
    ['Meta-Data', 'metadata'],
    ['OFF', 'off'],
    ['List-Status', 'list-status'],
  ])('normalises %s to %s', (raw, action) => {
    expect(resolve({ action: raw }).action).toBe(action);
  });

  it.each(['bogus', '', 'list_status', 'poweroff', 'meta_data'])('refuses the unknown action %j', (action) => {
    const e = catchAtcaError(() => resolve({ action }));
    expect(e.code).toBe('ATCA_ERR_UNKNOWN_ACTION');
    expect(e.detail).toBe(`'${action}'`);
  });
});

describe('resolveOptions: booleans', () => {
  it.each(['1', 'yes', 'on', 'true', 'TRUE', 'Yes'])('%j is true', (raw) => {
    expect(resolve({ lanplus: raw, verbose: raw })).toMatchObject({ lanplus: true, verbose: true });
  });

  it.each(['0', 'no', 'off', 'false', 'FALSE', 'Off'])(
    '%j is false (0 means off here, unlike much of the family)',
    (raw) => {
      expect(resolve({ lanplus: raw, verbose: raw })).toMatchObject({ lanplus: false, verbose: false });
    },
  );

  it.each(['', '2', 'y', 'enable', ' 1'])('%j is refused, naming the option', (raw) => {
    const e = catchAtcaError(() => resolve({ lanplus: raw }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toMatch(/^lanplus: /);
  });

  it('lanplus=0 on stdin, as Pacemaker sends it, turns lanplus off', () => {
    expect(resolveOptions(parseStdin('lanplus=0\n'), {}).lanplus).toBe(false);
    expect(resolveOptions(parseStdin('lanplus\n'), {}).lanplus).toBe(true);
  });
});

describe('resolveOptions: validation errors name the option', () => {
  it.each([
    ['ipport', 'abc'],
    ['ipport', '-1'],
    ['ipport', '1.5'],
    ['ipport', ''],
    ['ipport', ' 623'],
    ['ipport', '0x26f'],
    ['ipport2', 'x'],
    ['fru_id', '-1'],
    ['hotswap_sensor', 'one'],
    ['retry_on', '1e3'],
  ])('integer %s=%j', (name, raw) => {
    const e = catchAtcaError(() => resolve({ [name]: raw }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`${name}: '${raw}' is not a non-negative integer`);
  });

  it.each([
    ['power_timeout', '-1'],
    ['power_timeout', 'abc'],
    ['login_timeout', '1e3'],
    ['shell_timeout', '.5'],
    ['delay', '5s'],
    ['stonith_status_sleep', '0.'],
    ['graceful_timeout', ''],
  ])('seconds %s=%j', (name, raw) => {
    const e = catchAtcaError(() => resolve({ [name]: raw }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`${name}: '${raw}' is not a number of seconds`);
  });

  it.each([
    ['method', 'reset', 'onoff, cycle'],
    ['method', '', 'onoff, cycle'],
    ['privlvl', 'admin', 'callback, user, operator, administrator'],
  ])('select %s=%j', (name, raw, choices) => {
    const e = catchAtcaError(() => resolve({ [name]: raw }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`${name}: '${raw}' is not one of ${choices}`);
  });

  it('an empty separator', () => {
    const e = catchAtcaError(() => resolve({ separator: '' }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe('separator: must not be empty');
  });
});

describe('resolveOptions: the family timeout rule', () => {
  const limits = (o: FenceOptions) => [o.disableTimeout, o.loginTimeout, o.powerTimeout, o.shellTimeout];
  const FINITE = [false, 5, 20, 3];
  const OFF = [true, Infinity, Infinity, Infinity];

  it.each([
    ['run by hand, disable_timeout unset', {}, undefined, FINITE],
    ['run by pacemaker-fenced, disable_timeout unset', FENCED, undefined, OFF],
    ['run by another Pacemaker daemon', { PCMK_service: 'pacemaker-controld' }, undefined, FINITE],
    ['run by pacemaker-fenced, disable_timeout=false', FENCED, 'false', FINITE],
    ['run by pacemaker-fenced, disable_timeout=0', FENCED, '0', FINITE],
    ['run by pacemaker-fenced, disable_timeout=NO', FENCED, 'NO', FINITE],
    ['run by pacemaker-fenced, disable_timeout=off', FENCED, 'off', FINITE],
    ['run by hand, disable_timeout=true', {}, 'true', OFF],
    ['run by hand, disable_timeout=1', {}, '1', OFF],
    ['run by hand, disable_timeout=Yes', {}, 'Yes', OFF],
    ['run by hand, disable_timeout=on', {}, 'on', OFF],
  ])('%s', (_what, env, disable, expected) => {
    const values: Record<string, string> = disable === undefined ? {} : { disable_timeout: disable };
    expect(limits(resolve(values, env))).toEqual(expected);
  });

  it('disabled timeouts override explicit values', () => {
    const o = resolve({ login_timeout: '9', power_timeout: '60', shell_timeout: '9' }, FENCED);
    expect([o.loginTimeout, o.powerTimeout, o.shellTimeout]).toEqual([Infinity, Infinity, Infinity]);
  });

  it('keeps the power-on half of a reboot bounded when timeouts are disabled (power_timeout, default 20 s)', () => {
    expect(resolve({}, FENCED).rebootPowerOnTimeout).toBe(20);
    expect(resolve({ power_timeout: '45' }, FENCED).rebootPowerOnTimeout).toBe(45);
    expect(resolve({ disable_timeout: 'true' }).rebootPowerOnTimeout).toBe(20);
    expect(resolve({ power_timeout: '7' }).rebootPowerOnTimeout).toBe(7);
  });

  it('leaves the other times alone when timeouts are disabled', () => {
    const o = resolve({ delay: '2', power_wait: '1' }, FENCED);
    expect(o).toMatchObject({ delay: 2, powerWait: 1, statusSleep: 0.1, gracefulTimeout: 5, ipmitoolTimeout: 2 });
  });

  it('reads the environment it is given, not process.env', () => {
    expect(resolve({}, FENCED).disableTimeout).toBe(true);
    expect(resolve({}, {}).disableTimeout).toBe(false);
  });

  it.each(['maybe', '', '2'])('refuses disable_timeout=%j', (raw) => {
    const e = catchAtcaError(() => resolve({ disable_timeout: raw }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`disable_timeout: '${raw}' is not true or false`);
  });
});

describe('checkRequired', () => {
  const IP_MISSING = 'You have to enter fence address (ip)';
  const PLUG_MISSING = 'You have to enter plug number or machine identification (plug)';

  it.each(['on', 'off', 'reboot', 'status', 'list', 'list-status', 'monitor', 'validate-all'])(
    '%s needs the shelf manager address',
    (action) => {
      const unset: Record<string, string> = { action, plug: '3' };
      const empty: Record<string, string> = { action, plug: '3', ip: '' };
      for (const values of [unset, empty]) {
        const e = catchAtcaError(() => checkRequired(resolve(values)));
        expect(e.code).toBe('ATCA_ERR_MISSING_OPTION');
        expect(e.message).toBe(`A required option is missing: ${IP_MISSING}`);
      }
    },
  );

  it.each(['on', 'off', 'reboot', 'status'])('%s needs a plug', (action) => {
    const unset: Record<string, string> = { action, ip: '10.0.0.1' };
    const empty: Record<string, string> = { action, ip: '10.0.0.1', plug: '' };
    for (const values of [unset, empty]) {
      const e = catchAtcaError(() => checkRequired(resolve(values)));
      expect(e.code).toBe('ATCA_ERR_MISSING_OPTION');
      expect(e.detail).toBe(PLUG_MISSING);
    }
  });

  it.each(['list', 'list-status', 'monitor', 'validate-all'])('%s needs no plug', (action) => {
    expect(() => checkRequired(resolve({ action, ip: '10.0.0.1' }))).not.toThrow();
  });

  it.each(['metadata', 'manpage'])('%s needs nothing at all', (action) => {
    expect(() => checkRequired(resolve({ action }))).not.toThrow();
  });

  it.each([
    ['1', ','],
    ['255', ','],
    ['007', ','],
    ['1,2,3', ','],
    [' 3 , 4 ', ','],
    ['1;2', ';'],
    ['1 2', ' '],
  ])('accepts plug %j with plug_separator %j', (plug, sep) => {
    expect(() => checkRequired(device({ plug, plug_separator: sep }))).not.toThrow();
  });

  it.each([
    ['0', ',', '0'],
    ['256', ',', '256'],
    ['a', ',', 'a'],
    ['1.5', ',', '1.5'],
    ['-1', ',', '-1'],
    ['+3', ',', '+3'],
    ['0x03', ',', '0x03'],
    [' ', ',', ' '],
    ['3,', ',', ''],
    [',3', ',', ''],
    ['1,x', ',', 'x'],
    ['1;2', ',', '1;2'],
    ['1,2', ';', '1,2'],
  ])('refuses plug %j with plug_separator %j, naming %j', (plug, sep, bad) => {
    const e = catchAtcaError(() => checkRequired(device({ plug, plug_separator: sep })));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`plug: '${bad}' is not a physical slot number (1–255)`);
  });

  describe("Pacemaker's validation call (stonith_admin --validate, pcs stonith create)", () => {
    // What Pacemaker 2.1 sends for `stonith_admin --validate -a fence_atca -o ip=… …`: a made-up
    // target node1 as nodename and as its host argument; pcmk_host_map is stripped.
    const pacemaker = (extra: string) =>
      resolveOptions(parseStdin(`nodename=node1\nip=10.0.0.10\naction=validate-all\n${extra}`), {});

    it.each(['port=node1', 'plug=node1'])('accepts its placeholder %s', (line) => {
      expect(() => checkRequired(pacemaker(line))).not.toThrow();
    });

    it('still checks a plug that is not the node Pacemaker named', () => {
      const e = catchAtcaError(() => checkRequired(pacemaker('plug=x')));
      expect(e.detail).toBe("plug: 'x' is not a physical slot number (1–255)");
      expect(() => checkRequired(pacemaker('plug=3'))).not.toThrow();
    });

    it.each(['off', 'status', 'reboot'])(
      'does not let %s take the node name for a slot, and says what to set',
      (action) => {
        const o = resolveOptions(parseStdin(`nodename=node1\nip=10.0.0.10\naction=${action}\nport=node1\n`), {});
        const e = catchAtcaError(() => checkRequired(o));
        expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
        expect(e.detail).toMatch(/'node1' is not a physical slot number .*pcmk_host_map \(e\.g\. "node1:3"\)/);
      },
    );

    it('without nodename, validate-all checks the plug as before', () => {
      const o = resolveOptions(parseStdin('ip=10.0.0.10\naction=validate-all\nport=node1\n'), {});
      expect(catchAtcaError(() => checkRequired(o)).code).toBe('ATCA_ERR_BAD_OPTION');
    });
  });

  it('checks a plug given to an action that does not need one', () => {
    expect(catchAtcaError(() => checkRequired(resolve({ action: 'list', ip: '10.0.0.1', plug: 'x' }))).code).toBe(
      'ATCA_ERR_BAD_OPTION',
    );
  });

  // An empty plug_separator would ''.split plug '12' into slots 1 and 2 (and fence both):
  // resolveOptions refuses it, as it refuses an empty separator.
  it('refuses an empty plug_separator instead of splitting the plug into digits', () => {
    expect(() => checkRequired(device({ plug: '12', plug_separator: '' }))).toThrow();
  });

  it.each([
    ['lanplus', '1', 20],
    ['lan', '0', 16],
  ])('over %s, accepts a password of up to %i characters', (_iface, lanplus, max) => {
    expect(() => checkRequired(device({ lanplus, password: 'x'.repeat(max) }))).not.toThrow();
    expect(() => checkRequired(device({ lanplus, password: '' }))).not.toThrow();
  });

  it.each([
    ['lanplus', '1', 20],
    ['lan', '0', 16],
  ])('over %s, refuses a longer password without echoing it', (_iface, lanplus, max) => {
    const password = `S${'e'.repeat(max - 1)}!`;
    const e = catchAtcaError(() => checkRequired(device({ lanplus, password })));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`password: longer than IPMI allows (${max} characters)`);
    expect(e.message).not.toContain(password);
  });

  it('passes a complete, valid configuration', () => {
    expect(() => checkRequired(device({ username: 'admin', password: 'pw', plug: '1,4' }))).not.toThrow();
  });
});

describe('hard caps on ipmitool where the family rule turns the timeouts off', () => {
  const bounds = (o: FenceOptions) => {
    const c = connectOptions(o, undefined, SILENT);
    return [c.loginTimeoutMs, c.commandTimeoutMs];
  };

  it("ipmitool's own bound for one request to a silent peer (measured on 1.8.19): R·N + R(R−1)/2", () => {
    expect([
      ipmitoolRequestBoundSec(2, 1),
      ipmitoolRequestBoundSec(1, 1),
      ipmitoolRequestBoundSec(3, 2),
      ipmitoolRequestBoundSec(2, 4),
    ]).toEqual([2, 1, 7, 14]);
  });

  it('under the fencer: login 30 s, each command 20 s (finite, so a hung ipmitool fails over to ip2)', () => {
    expect(bounds(resolve({}, FENCED))).toEqual([30_000, 20_000]);
    expect(bounds(resolve({ disable_timeout: '1' }))).toEqual([30_000, 20_000]);
    expect(bounds(resolve({ login_timeout: '300', shell_timeout: '300' }, FENCED))).toEqual([30_000, 20_000]);
  });

  it('the caps grow with ipmitool_timeout so that ipmitool gives up first', () => {
    // -N 20 -R 1: ipmitool's own bound is 20 s per request, 40 s for a login.
    expect(bounds(resolve({ ipmitool_timeout: '20' }, FENCED))).toEqual([50_000, 25_000]);
    expect(loginCapMs(20, 1)).toBeGreaterThan(2 * ipmitoolRequestBoundSec(20, 1) * 1000);
    expect(commandCapMs(20, 1)).toBeGreaterThan(ipmitoolRequestBoundSec(20, 1) * 1000);
  });

  it('where timeouts are on, login_timeout and shell_timeout are the bounds, as given', () => {
    expect(bounds(resolve({}))).toEqual([5000, 3000]);
    expect(bounds(resolve({ login_timeout: '60', shell_timeout: '40', disable_timeout: 'false' }, FENCED))).toEqual([
      60_000, 40_000,
    ]);
  });
});

describe('one-byte fields: fru_id and hotswap_sensor', () => {
  it.each(['fru_id', 'hotswap_sensor'])('%s: 255 is the largest (one byte on the wire)', (name) => {
    expect(() => resolve({ [name]: '255' })).not.toThrow();
    const e = catchAtcaError(() => resolve({ [name]: '256' }));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`${name}: 256 is above 255`);
  });

  it.each(['fru_id=256', 'hotswap_sensor=256', 'hotswap_sensor=1000'])('validate-all rejects %s', async (line) => {
    const out: string[] = [];
    const code = await fenceAtca({
      argv: [],
      readStdin: () => Promise.resolve(`action=validate-all\nip=10.0.0.1\nplug=1\n${line}\nquiet=1\n`),
      env: {},
      out: (l) => out.push(l),
    });
    expect(code).toBe(1);
    const ok = await fenceAtca({
      argv: [],
      readStdin: () => Promise.resolve('action=validate-all\nip=10.0.0.1\nplug=1\nfru_id=255\nhotswap_sensor=255\n'),
      env: {},
      out: (l) => out.push(l),
    });
    expect(ok).toBe(0);
  });
});
