// atcad's configuration: strict, validated, frozen, secrets redacted. Files in temp folders.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  checkSecrets,
  loadConfigFile,
  parseConfig,
  readSecret,
  redactConfig,
} from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'atcad-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIN = `
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1 }]
    ipmi: { username: admin, password: { env: PW } }
    slots: { "1": { node: node1 } }
`;

function issues(text: string): { path: string; message: string }[] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('atcad configuration', () => {
  it('fills documented defaults and freezes the result', () => {
    const c = parseConfig(MIN);
    expect(c.pacemaker.mode).toBe('dry-run');
    expect(c.shelves[0]!.shelfManagers[0]!.port).toBe(623);
    expect(c.policy.sustainMs).toBe(0);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.shelves[0]!.slots)).toBe(true);
  });

  it('loads the commented example', () => {
    const c = loadConfigFile(new URL('../../examples/atcad.yaml', import.meta.url).pathname);
    expect(c.shelves[0]!.slots['5']!.node).toBe('node3');
  });

  it.each([
    [
      'a typo in a key',
      MIN.replace('shelfManagers', 'shelfManager'),
      'shelves.0',
      /Unrecognized key: "shelfManager"|expected array/,
    ],
    ['an unknown top-level key', `${MIN}\npolicies: {}\n`, '', /Unrecognized key: "policies"/],
    ['a bad value', `${MIN}\npolling: { hotswapIntervalMs: fast }\n`, 'polling.hotswapIntervalMs', /expected number/],
    ['an inline password', MIN.replace('{ env: PW }', 'secret'), 'shelves.0.ipmi.password', /expected object/],
    [
      'both file and env',
      MIN.replace('{ env: PW }', '{ env: PW, file: /x }'),
      'shelves.0.ipmi.password',
      /exactly one of file or env/,
    ],
    ['a slot that is not a number', MIN.replace('"1":', 'one:'), 'shelves.0.slots.one', /./],
    ['offline without a CIB file', `${MIN}\npacemaker: { mode: offline }\n`, 'pacemaker.cibFile', /needs cibFile/],
    [
      'a health attribute Pacemaker ignores',
      `${MIN}\npacemaker: { healthAttribute: atca }\n`,
      'pacemaker.healthAttribute',
      /#health/,
    ],
    [
      'an unknown fault class',
      `${MIN}\npolicy: { rules: { meltdown: fence } }\n`,
      'policy.rules',
      /Unrecognized key: "meltdown"/,
    ],
    [
      'fencing on a silent shelf manager',
      `${MIN}\npolicy: { rules: { shmc-unreachable: fence } }\n`,
      'policy.rules.shmc-unreachable',
      /at most health-red/,
    ],
    [
      'fencing for a commanded deactivation',
      `${MIN}\npolicy: { rules: { deactivating: fence } }\n`,
      'policy.rules.deactivating',
      /never leads to a fence/,
    ],
    [
      'an unknown action',
      `${MIN}\npolicy: { rules: { processor-ierr: explode } }\n`,
      'policy.rules.processor-ierr',
      /./,
    ],
    [
      'a trap source that is a host name',
      MIN.replace('slots:', 'trapSources: [shmc1.example]\n    slots:'),
      'shelves.0.trapSources.0',
      /'shmc1\.example' is not an IPv4 or IPv6 address: traps are matched by their source address/,
    ],
    [
      'a trap source with a leading zero (octal to inet_aton)',
      MIN.replace('slots:', 'trapSources: [10.0.0.1, 010.0.0.2]\n    slots:'),
      'shelves.0.trapSources.1',
      /'010\.0\.0\.2' is not an IPv4 or IPv6 address/,
    ],
    [
      'a trap source with a zone index',
      MIN.replace('slots:', 'trapSources: ["fe80::1%eth0"]\n    slots:'),
      'shelves.0.trapSources.0',
      /zone index/,
    ],
    ['slot 0', MIN.replace('"1":', '"0":'), 'shelves.0.slots.0', /physical slot numbers start at 1/],
    [
      'slot 17',
      MIN.replace('"1":', '"17":'),
      'shelves.0.slots.17',
      /slot 17 is beyond the front-board slots of a PICMG 3\.0 shelf \(1–16\)/,
    ],
    [
      'a slot with a leading zero',
      MIN.replace('"1":', '"01":'),
      'shelves.0.slots.01',
      /write slot 1 as "1", without leading zeros/,
    ],
    [
      'a slot that is not a number (message)',
      MIN.replace('"1":', 'one:'),
      'shelves.0.slots.one',
      /physical slot numbers \(1–16\)/,
    ],
    [
      'a relative ipmitoolPath',
      MIN.replace('password: { env: PW }', 'password: { env: PW }, ipmitoolPath: ipmitool'),
      'shelves.0.ipmi.ipmitoolPath',
      /absolute path/,
    ],
  ])('rejects %s with the path and the reason', (_what, text, path, message) => {
    const found = issues(text);
    expect(
      found.some((i) => i.path === path && message.test(i.message)),
      JSON.stringify(found),
    ).toBe(true);
  });

  it('rejects invalid YAML, duplicate shelves and a node mapped twice', () => {
    expect(issues('shelves: [')[0]!.message).toMatch(/not valid YAML/);
    const dup = MIN + MIN.replace('shelves:\n', '').replace('"1": { node: node1 }', '"2": { node: node1 }');
    const found = issues(dup);
    expect(found.map((i) => i.message).join('\n')).toMatch(/duplicate shelf name 's1'/);
    expect(found.map((i) => i.message).join('\n')).toMatch(/node 'node1' is already mapped to s1\/1/);
  });

  it('accepts slots 1 to 16 and an unquoted YAML key (a number, so no alias)', () => {
    const c = parseConfig(
      MIN.replace('"1": { node: node1 }', '"1": { node: node1 }, "16": { node: node16 }, 02: { node: n2 }'),
    );
    expect(Object.keys(c.shelves[0]!.slots).sort()).toEqual(['1', '16', '2']);
    // Unquoted, 01 and 1 are both the number 1: the YAML parser refuses the pair.
    expect(issues(MIN.replace('"1": { node: node1 }', '1: { node: node1 }, 01: { node: n2 }'))[0]!.message).toMatch(
      /not valid YAML: Map keys must be unique/,
    );
  });

  it('writes trap sources in the form the receiver compares (lowercase IPv6, v4-mapped as IPv4)', () => {
    const c = parseConfig(
      MIN.replace('slots:', 'trapSources: ["2001:DB8:0::1", "::ffff:10.0.0.9", 10.0.0.8]\n    slots:'),
    );
    expect(c.shelves[0]!.trapSources).toEqual(['2001:db8::1', '10.0.0.9', '10.0.0.8']);
  });

  it('rejects one trap source claimed by two shelves, or listed twice, however it is written', () => {
    const two =
      MIN.replace('slots:', 'trapSources: [10.0.0.10, "2001:db8::a"]\n    slots:') +
      MIN.replace('shelves:\n', '')
        .replace('name: s1', 'name: s2')
        .replace('node1', 'node2')
        .replace('slots:', 'trapSources: [10.0.0.11, "::ffff:10.0.0.10", "2001:DB8:0:0::A", 10.0.0.11]\n    slots:');
    expect(issues(two)).toEqual([
      {
        path: 'shelves.1.trapSources.1',
        message:
          "trap source 10.0.0.10 is already claimed by shelf 's1' (shelves.0.trapSources.0): a trap is attributed to one shelf by its source address",
      },
      {
        path: 'shelves.1.trapSources.2',
        message:
          "trap source 2001:db8::a is already claimed by shelf 's1' (shelves.0.trapSources.1): a trap is attributed to one shelf by its source address",
      },
      {
        path: 'shelves.1.trapSources.3',
        message: 'trap source 10.0.0.11 is listed twice (also shelves.1.trapSources.0)',
      },
    ]);
  });

  it('rejects an SNMPv3 user listed twice', () => {
    const u = '{ name: atcad, authKey: { env: A }, privKey: { env: P } }';
    expect(issues(`${MIN}traps: { v3Users: [${u}, ${u}] }\n`)).toEqual([
      { path: 'traps.v3Users.1.name', message: "SNMPv3 user 'atcad' is listed twice (also traps.v3Users.0.name)" },
    ]);
  });

  it('reads secrets from a file or the environment, with errors that never show a value', () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'Sekrit-1\n');
    chmodSync(f, 0o600);
    expect(readSecret({ file: f }, 'x')).toBe('Sekrit-1');
    expect(readSecret({ env: 'PW' }, 'x', { PW: 'Sekrit-2' })).toBe('Sekrit-2');
    expect(() => readSecret({ env: 'NOPE' }, 'x', {})).toThrow(/NOPE is not set/);
    writeFileSync(join(dir, 'empty'), '');
    chmodSync(join(dir, 'empty'), 0o600);
    expect(() => readSecret({ file: join(dir, 'empty') }, 'x')).toThrow(/is empty/);
    const c = parseConfig(MIN);
    expect(checkSecrets(c, {})).toEqual([
      {
        path: 'shelves.0.ipmi.password',
        message: 'environment variable PW is not set',
        code: 'ATCA_ERR_CONFIG_SECRET',
      },
    ]);
    expect(checkSecrets(c, { PW: 'x' })).toEqual([]);
  });

  it('redacts every secret when shown', () => {
    const c = loadConfigFile(new URL('../../examples/atcad.yaml', import.meta.url).pathname);
    const shown = JSON.stringify(redactConfig(c));
    expect(shown).toContain('<secret from file /etc/atcad/shelf1.password>');
    expect(shown).toContain('<secret from env ATCAD_COMMUNITY>');
    expect(shown).not.toMatch(/"password":\{/);
    expect(readFileSync(new URL('../../examples/atcad.yaml', import.meta.url), 'utf8')).not.toMatch(/password: [^{]/);
  });
});

describe('traps.address', () => {
  it('must be an address literal: a host name passed --check-config and failed only at start', () => {
    const base = `
shelves:
  - name: s1
    shelfManagers: [{ host: 10.0.0.1 }]
    ipmi: { username: admin, password: { env: PW } }
    slots: { "1": { node: node1 } }
`;
    expect(() => parseConfig(`${base}traps: { address: traps.example.com }\n`)).toThrow(
      /traps\.address: 'traps\.example\.com' is not an IPv4 or IPv6 address to listen on/,
    );
    expect(parseConfig(`${base}traps: { address: "::" }\n`).traps.address).toBe('::');
  });
});
