import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

/**
 * Compiles src/sim/ext/atca_shelf_ext.c into the shared object ipmi_sim loads, once per
 * source version (cached by content hash; written under a temporary name and renamed, so
 * parallel test workers never load a half-written file).
 */
export function buildShelfExtension(): string {
  const root = repoRoot();
  const src = join(root, 'src/sim/ext/atca_shelf_ext.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = join(root, 'node_modules/.cache/atca-fence');
  const out = join(dir, `atca_shelf_ext-${hash}.so`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', ['-Wall', '-Werror', '-O2', '-shared', '-fPIC', '-o', tmp, src], { stdio: 'pipe' });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`building the ipmi_sim ATCA extension failed (is libopenipmi-dev installed?):\n${stderr}`);
  }
  renameSync(tmp, out);
  return out;
}
