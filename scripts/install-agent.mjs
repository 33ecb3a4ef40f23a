// Installs the bundled agent where Pacemaker's fencer looks for agents (/usr/sbin by default).
// Usage: node scripts/install-agent.mjs [DESTDIR]   (`make install` and `npm run install:agent` call it)
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const src = 'fence-agents/fence_atca';
if (!existsSync(src)) {
  console.error('fence-agents/fence_atca is not built: run `npm run build` first');
  process.exit(1);
}
const dir = join(process.argv[2] ?? '', '/usr/sbin');
mkdirSync(dir, { recursive: true });
const dest = join(dir, 'fence_atca');
// A temporary name of this process's own: installs running at once (test files in parallel)
// must not rename each other's. Renamed over the old file so a fence running right now keeps
// its own copy.
const tmp = `${dest}.new.${process.pid}`;
copyFileSync(src, tmp);
chmodSync(tmp, 0o755);
renameSync(tmp, dest);
console.log(`installed ${dest}`);
