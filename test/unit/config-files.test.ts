// The files a configuration names, checked as the daemon will use them: secret files (mode,
// owner, type, contents) and ipmitoolPath. Real files in a temp folder, real chmod/chown.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  checkExecutables,
  checkFiles,
  checkSecrets,
  loadCheckedConfig,
  parseConfig,
  readSecret,
} from '../../src/config/load.js';
import { isAtcaError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'atcad-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isRoot = process.geteuid?.() === 0;
const SECRET = 'Sekrit-value-7';

let n = 0;
function file(content: string, mode: number, name = `f${n++}`): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

/** The message readSecret throws for a file, checked to be ATCA_ERR_CONFIG_SECRET and value-free. */
function refusal(f: string): string {
  try {
    readSecret({ file: f }, 'shelves.0.ipmi.password');
  } catch (e) {
    expect(isAtcaError(e, 'ATCA_ERR_CONFIG_SECRET'), String(e)).toBe(true);
    const m = (e as Error).message;
    expect(m).not.toContain(SECRET);
    expect(m).toMatch(/^A secret named in the configuration cannot be read: shelves\.0\.ipmi\.password: /);
    return m;
  }
  throw new Error(`expected ${f} to be refused`);
}

describe('secret files', () => {
  it.each([0o600, 0o400, 0o700])('accepts a file only its owner can access (mode %o)', (mode) => {
    expect(readSecret({ file: file(`${SECRET}\r\nsecond line\n`, mode) }, 'x')).toBe(SECRET);
  });

  it('refuses a world-readable file, naming the file, its mode and the fix', () => {
    const f = file(`${SECRET}\n`, 0o644);
    expect(refusal(f)).toBe(
      `A secret named in the configuration cannot be read: shelves.0.ipmi.password: ${f} has mode 0644 (group can read, others can read): a secret file must be accessible by its owner only (fix: chmod 600 ${f})`,
    );
  });

  it.each([
    [0o640, 'group can read'],
    [0o604, 'others can read'],
    [0o620, 'group can write'],
    [0o601, 'others can execute'],
    [0o660, 'group can read/write'],
  ])('refuses any access for group or others (mode %o: %s), as ssh does for private keys', (mode, who) => {
    const f = file(`${SECRET}\n`, mode);
    expect(refusal(f)).toContain(
      `has mode 0${mode.toString(8)} (${who}): a secret file must be accessible by its owner only (fix: chmod 600 ${f})`,
    );
  });

  it('quotes the path in the fix when a shell would split it', () => {
    const f = file(`${SECRET}\n`, 0o644, "it's a pw");
    expect(refusal(f)).toContain(`(fix: chmod 600 '${dir}/it'\\''s a pw')`);
  });

  it('follows a symlink and judges the file it points to', () => {
    const good = file(`${SECRET}\n`, 0o600);
    const bad = file(`${SECRET}\n`, 0o644);
    const toGood = join(dir, 'link-good');
    const toBad = join(dir, 'link-bad');
    symlinkSync(good, toGood);
    symlinkSync(bad, toBad);
    expect(readSecret({ file: toGood }, 'x')).toBe(SECRET);
    // chmod follows the link, so the fix as written works on the configured name.
    expect(refusal(toBad)).toContain(`${toBad} has mode 0644`);
    chmodSync(toBad, 0o600);
    expect(readSecret({ file: toBad }, 'x')).toBe(SECRET);
  });

  it('refuses a folder, a FIFO (without blocking on it), a missing file and a dangling symlink', () => {
    const d = join(dir, 'a-folder');
    mkdirSync(d, { mode: 0o700 });
    expect(refusal(d)).toContain(`${d} is a folder: a secret file must be a regular file`);
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(refusal(fifo)).toContain(`${fifo} is not a regular file (a FIFO, socket or device)`);
    expect(refusal(join(dir, 'nope'))).toContain(`${join(dir, 'nope')} does not exist`);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), dangling);
    expect(refusal(dangling)).toContain(`${dangling} does not exist`);
  });

  it('refuses an empty file, an empty first line and a file too large to be a secret', () => {
    const empty = file('', 0o600);
    expect(refusal(empty)).toContain(`${empty} is empty`);
    const blank = file(`\n${SECRET}\n`, 0o600);
    expect(refusal(blank)).toContain(`${blank}: its first line is empty (the secret is the first line)`);
    const big = file(`${SECRET}\n${'x'.repeat(70_000)}`, 0o600);
    expect(refusal(big)).toContain(
      `${big} is ${SECRET.length + 1 + 70_000} bytes, more than a secret file may be (65536)`,
    );
  });

  it.skipIf(!isRoot)('refuses a file owned by another user (not root, not the user atcad runs as)', () => {
    const f = file(`${SECRET}\n`, 0o600);
    chownSync(f, 4242, 4242);
    expect(refusal(f)).toContain(
      `${f} is owned by uid 4242: a secret file must be owned by root or by the user atcad runs as (uid 0), since its owner can change it at will (fix: chown 0 ${f})`,
    );
    // Both problems of one file are reported.
    chmodSync(f, 0o644);
    expect(refusal(f)).toMatch(/owned by uid 4242.*; .*has mode 0644/);
  });
});

const CFG = (pw: string, community: string, auth: string, priv: string, ipmitool: string) => `
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1 }]
    ipmi: { username: admin, password: ${pw}, ipmitoolPath: ${ipmitool} }
    slots: { "1": { node: node1 } }
traps:
  communities: [${community}]
  v3Users: [{ name: atcad, authKey: ${auth}, privKey: ${priv} }]
`;

function ipmitool(mode: number): string {
  return file('#!/bin/sh\nexit 0\n', mode);
}

describe('checkSecrets and checkFiles', () => {
  it('report every problem at once, each with its config path and code', () => {
    const pw = file(`${SECRET}\n`, 0o644);
    const community = file(`${SECRET}\n`, 0o640);
    const authTarget = file(`${SECRET}\n`, 0o604);
    const auth = join(dir, 'auth-link');
    symlinkSync(authTarget, auth);
    const priv = join(dir, 'priv-folder');
    mkdirSync(priv, { mode: 0o700 });
    const cfg = parseConfig(
      CFG(
        `{ file: ${pw} }`,
        `{ file: ${community} }`,
        `{ file: ${auth} }`,
        `{ file: ${priv} }`,
        join(dir, 'no-ipmitool'),
      ),
    );
    const found = checkFiles(cfg, {});
    expect(found.map((i) => [i.path, i.code])).toEqual([
      ['shelves.0.ipmi.password', 'ATCA_ERR_CONFIG_SECRET'],
      ['traps.communities.0', 'ATCA_ERR_CONFIG_SECRET'],
      ['traps.v3Users.0.authKey', 'ATCA_ERR_CONFIG_SECRET'],
      ['traps.v3Users.0.privKey', 'ATCA_ERR_CONFIG_SECRET'],
      ['shelves.0.ipmi.ipmitoolPath', 'ATCA_ERR_IPMITOOL_MISSING'],
    ]);
    expect(found[0]!.message).toBe(
      `${pw} has mode 0644 (group can read, others can read): a secret file must be accessible by its owner only (fix: chmod 600 ${pw})`,
    );
    expect(found[1]!.message).toContain(`${community} has mode 0640 (group can read)`);
    expect(found[2]!.message).toContain(`${auth} has mode 0604 (others can read)`);
    expect(found[3]!.message).toContain(`${priv} is a folder`);
    expect(found[4]!.message).toBe(
      `${join(dir, 'no-ipmitool')} does not exist: install ipmitool, or set ipmitoolPath to where it is`,
    );
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });

  it('check SNMPv3 keys are long enough (RFC 3414: 8 characters), without showing them', () => {
    const cfg = parseConfig(CFG('{ env: PW }', '{ env: C }', '{ env: A }', '{ env: P }', ipmitool(0o755)));
    expect(checkSecrets(cfg, { PW: 'p', C: 'c', A: 'short', P: 'long-enough' })).toEqual([
      {
        path: 'traps.v3Users.0.authKey',
        message: 'environment variable A: an SNMPv3 key needs at least 8 characters (RFC 3414)',
        code: 'ATCA_ERR_CONFIG_SECRET',
      },
    ]);
    expect(checkFiles(cfg, { PW: 'p', C: 'c', A: 'long-enough', P: 'long-enough' })).toEqual([]);
  });
});

describe('ipmitoolPath', () => {
  const cfgWith = (path: string) => parseConfig(CFG('{ env: PW }', '{ env: C }', '{ env: A }', '{ env: P }', path));
  const problems = (path: string) => checkExecutables(cfgWith(path)).map((i) => i.message);

  it('accepts an executable regular file only root or atcad can write', () => {
    expect(checkExecutables(cfgWith(ipmitool(0o755)))).toEqual([]);
    expect(checkExecutables(cfgWith(ipmitool(0o700)))).toEqual([]);
  });

  it('refuses a missing program, a folder and a file that is not executable', () => {
    const missing = join(dir, 'missing-ipmitool');
    expect(checkExecutables(cfgWith(missing))).toEqual([
      {
        path: 'shelves.0.ipmi.ipmitoolPath',
        message: `${missing} does not exist: install ipmitool, or set ipmitoolPath to where it is`,
        code: 'ATCA_ERR_IPMITOOL_MISSING',
      },
    ]);
    const d = join(dir, 'ipmitool-folder');
    mkdirSync(d, { mode: 0o755 });
    expect(problems(d)).toEqual([
      `${d} is a folder, not the ipmitool program: install ipmitool, or set ipmitoolPath to where it is`,
    ]);
    const plain = ipmitool(0o644);
    expect(problems(plain)).toEqual([
      `${plain} is not executable by the user atcad runs as (uid ${process.geteuid?.()}; mode 0644): chmod 755 ${plain}, or install ipmitool, or set ipmitoolPath to where it is`,
    ]);
  });

  it('refuses a program group or others can write (they would run code as atcad)', () => {
    const f = ipmitool(0o757);
    expect(problems(f)).toEqual([
      `${f} has mode 0757 (others can write): whoever can write the ipmitool program runs code as atcad (fix: chmod go-w ${f})`,
    ]);
  });

  it.skipIf(!isRoot)('refuses a program owned by another user', () => {
    const f = ipmitool(0o755);
    chownSync(f, 4242, 4242);
    expect(problems(f)).toEqual([
      `${f} is owned by uid 4242: the ipmitool program must be owned by root or by the user atcad runs as (uid 0), since its owner can change it at will (fix: chown 0 ${f})`,
    ]);
  });
});

describe('loadCheckedConfig (what the daemon loads at start)', () => {
  const write = (text: string) => {
    const f = join(dir, `c${n++}.yaml`);
    writeFileSync(f, text);
    return f;
  };

  it('returns the frozen configuration when every named file passes', () => {
    const pw = file(`${SECRET}\n`, 0o600);
    const cfg = loadCheckedConfig(
      write(CFG(`{ file: ${pw} }`, '{ env: C }', '{ env: A }', '{ env: P }', ipmitool(0o755))),
      {
        C: 'c',
        A: 'long-enough',
        P: 'long-enough',
      },
    );
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('throws one ConfigError listing every problem, with the code they share', () => {
    const pw = file(`${SECRET}\n`, 0o644);
    const f = write(CFG(`{ file: ${pw} }`, '{ env: C }', '{ env: A }', '{ env: P }', ipmitool(0o755)));
    let e: unknown;
    try {
      loadCheckedConfig(f, { A: 'long-enough', P: 'long-enough' });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigError);
    const ce = e as ConfigError;
    expect(ce.code).toBe('ATCA_ERR_CONFIG_SECRET');
    expect(ce.issues.map((i) => i.path)).toEqual(['shelves.0.ipmi.password', 'traps.communities.0']);
    expect(ce.message).toContain(`  shelves.0.ipmi.password: ${pw} has mode 0644`);
    expect(ce.message).not.toContain(SECRET);

    const mixed = write(CFG(`{ file: ${pw} }`, '{ env: C }', '{ env: A }', '{ env: P }', join(dir, 'gone')));
    expect(() => loadCheckedConfig(mixed, { C: 'c', A: 'long-enough', P: 'long-enough' })).toThrow(
      expect.objectContaining({
        code: 'ATCA_ERR_CONFIG_INVALID',
        message: expect.stringMatching(
          /has mode 0644 .* \[ATCA_ERR_CONFIG_SECRET\]\n {2}shelves\.0\.ipmi\.ipmitoolPath: .*gone does not exist.* \[ATCA_ERR_IPMITOOL_MISSING\]/,
        ),
      }),
    );
  });
});

describe('examples/atcad.yaml', () => {
  it('passes every check once its secret files exist as it says (chmod 600) and ipmitool is installed', () => {
    const etc = join(dir, 'etc-atcad');
    mkdirSync(etc, { mode: 0o750 });
    for (const f of ['shelf1.password', 'v3-auth.key', 'v3-priv.key']) {
      writeFileSync(join(etc, f), `${SECRET}\n`);
      chmodSync(join(etc, f), 0o600);
    }
    const text = readFileSync(new URL('../../examples/atcad.yaml', import.meta.url), 'utf8')
      .replaceAll('/etc/atcad/', `${etc}/`)
      .replaceAll('/usr/bin/ipmitool', ipmitool(0o755));
    const cfg = parseConfig(text, 'examples/atcad.yaml');
    expect(checkFiles(cfg, { ATCAD_COMMUNITY: 'public-ish' })).toEqual([]);
    chmodSync(join(etc, 'v3-priv.key'), 0o644);
    expect(checkFiles(cfg, { ATCAD_COMMUNITY: 'public-ish' }).map((i) => i.path)).toEqual(['traps.v3Users.0.privKey']);
  });
});
