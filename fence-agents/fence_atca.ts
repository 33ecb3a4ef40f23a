// fence_atca: the executable Pacemaker's fencer runs. Bundled by scripts/build.mjs into
// fence-agents/fence_atca (one file, no node_modules at run time); the engine is src/fence/.
import { fenceAtca } from '../src/fence/main.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await fenceAtca({
  argv: process.argv.slice(2),
  readStdin,
  env: process.env,
  out: (line) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`),
});
// Exit now: a fence agent must never linger on a stray handle.
process.exit(code);
