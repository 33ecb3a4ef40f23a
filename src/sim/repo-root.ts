import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root, found from this module's location (works from src/ and from a bundle in dist/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'atca-fence') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the atca-fence checkout above this module');
    dir = up;
  }
}
