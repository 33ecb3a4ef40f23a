// The agent's metadata: pinned by a golden file (fence-agents' xml-check) and validated
// against the RelaxNG schema Debian's fence-agents installs (rng-check), with xmllint.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metadataXml } from '../../src/fence/metadata.js';
import { OPTIONS } from '../../src/fence/options.js';

const RNG = '/usr/share/cluster/relaxng/metadata.rng';
const GOLDEN = new URL('../fixtures/metadata/fence_atca.xml', import.meta.url);

describe('fence_atca metadata', () => {
  it('matches the golden file (regenerate with `node fence-agents/fence_atca -o metadata`)', () => {
    expect(metadataXml()).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it.skipIf(!existsSync(RNG))('validates against the fence-agents RelaxNG schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meta-'));
    try {
      const file = join(dir, 'fence_atca.xml');
      writeFileSync(file, metadataXml());
      const r = spawnSync('xmllint', ['--noout', '--relaxng', RNG, file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('advertises both the new and the old name of renamed parameters', () => {
    const xml = metadataXml();
    for (const [name, old] of [
      ['ip', 'ipaddr'],
      ['username', 'login'],
      ['password', 'passwd'],
      ['plug', 'port'],
      ['password_script', 'passwd_script'],
    ]) {
      expect(xml).toContain(
        `<parameter name="${name}" unique="0" required="${name === 'ip' || name === 'plug' ? 1 : 0}" obsoletes="${old}">`,
      );
      expect(xml).toMatch(new RegExp(`<parameter name="${old}" unique="0" required="\\d" deprecated="1">`));
    }
  });

  it('lists every option and the family actions, with reboot and on advertised', () => {
    const xml = metadataXml();
    for (const o of OPTIONS) expect(xml).toContain(`<parameter name="${o.name}"`);
    for (const a of [
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
    ]) {
      expect(xml).toMatch(new RegExp(`<action name="${a}"`));
    }
  });

  it('the bundled agent prints the same metadata for -o metadata, meta-data on stdin and manpage', () => {
    const agent = new URL('../../fence-agents/fence_atca', import.meta.url).pathname;
    expect(execFileSync(agent, ['-o', 'metadata'], { encoding: 'utf8' })).toBe(metadataXml());
    expect(execFileSync(agent, [], { input: 'action=meta-data\n', encoding: 'utf8' })).toBe(metadataXml());
    expect(execFileSync(agent, ['-o', 'manpage'], { encoding: 'utf8' })).toBe(metadataXml());
  });
});
