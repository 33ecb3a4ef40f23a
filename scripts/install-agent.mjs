// Installs the bundled agent where Pacemaker's fencer looks for agents (/usr/sbin by default).
// Usage: node scripts/install-agent.mjs [DESTDIR]   (`make install` and `npm run install:agent` call it)
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const src = 'fence-agents/fence_atca';
if (!existsSync(src)) {
  console.error('fence-agents/fence_atca is not built: run `npm run build` first');
  process.exit(1);
}
const dir = join(process.argv[2] ?? '', '/usr/sbin');
mkdirSync(dir, { recursive: true });
const dest = join(dir, 'fence_atca');
copyFileSync(src, `${dest}.new`);
chmodSync(`${dest}.new`, 0o755);
// Rename over the old file so a fence running right now keeps its own copy.
(await import('node:fs')).renameSync(`${dest}.new`, dest);
console.log(`installed ${dest}`);
