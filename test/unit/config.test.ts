// atcad's configuration: strict, validated, frozen, secrets redacted. Files in temp folders.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(c.policy.sustainMs).toBe(1000);
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
      'an unknown action',
      `${MIN}\npolicy: { rules: { processor-ierr: explode } }\n`,
      'policy.rules.processor-ierr',
      /./,
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

  it('reads secrets from a file or the environment, with errors that never show a value', () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'Sekrit-1\n');
    expect(readSecret({ file: f }, 'x')).toBe('Sekrit-1');
    expect(readSecret({ env: 'PW' }, 'x', { PW: 'Sekrit-2' })).toBe('Sekrit-2');
    expect(() => readSecret({ env: 'NOPE' }, 'x', {})).toThrow(/NOPE is not set/);
    writeFileSync(join(dir, 'empty'), '');
    expect(() => readSecret({ file: join(dir, 'empty') }, 'x')).toThrow(/is empty/);
    const c = parseConfig(MIN);
    expect(checkSecrets(c, {})).toEqual([
      { path: 'shelves.0.ipmi.password', message: 'shelves.0.ipmi.password: environment variable PW is not set' },
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
