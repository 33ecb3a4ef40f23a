import { lstatSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private HOME for ipmitool holding a one-entry IANA enterprise-number registry.
 * ipmitool 1.8.19 parses the whole 4.7 MB registry at every start (about 30 ms of a 55 ms
 * call) to print vendor names, which raw commands never print; it looks in
 * $HOME/.local/usr/share/misc first. Returns undefined — use the system file — whenever
 * the folder is not ours alone (a planted folder or link must not feed ipmitool).
 */
const REGISTRY = '0\n  Reserved\n    Internet Assigned Numbers Authority\n      iana&iana.org\n';

export function ipmitoolHome(): string | undefined {
  try {
    const uid = process.getuid?.() ?? 0;
    const home = join(tmpdir(), `fence_atca-${uid}`);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const st = lstatSync(home);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
    const dir = join(home, '.local/usr/share/misc');
    const file = join(dir, 'enterprise-numbers.txt');
    try {
      if (lstatSync(file).isFile()) return home;
    } catch {
      // not there yet
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, REGISTRY, { mode: 0o600 });
    renameSync(tmp, file);
    return home;
  } catch {
    return undefined;
  }
}
