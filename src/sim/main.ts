// `npm start`: brings up the built-in simulated shelf (two shelf managers, four blades),
// shows fence_atca working against it, and keeps the shelf up until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import { SimulatedShelf } from './shelf.js';
import { DEFAULT_SHELF } from './shelf-spec.js';

const shelf = await SimulatedShelf.start(DEFAULT_SHELF);
const [a, b] = shelf.managers;
const agent = join(repoRoot(), 'fence-agents/fence_atca');
const base = [
  'ip=127.0.0.1',
  `ipport=${a!.port}`,
  'ip2=127.0.0.1',
  `ipport2=${b!.port}`,
  `username=${DEFAULT_SHELF.username}`,
  'cipher=3',
];

function fence(...args: string[]): void {
  const input = [...base, ...args].join('\n');
  const t0 = performance.now();
  const r = spawnSync(agent, [], {
    input: `${input}\n`,
    encoding: 'utf8',
    env: { ...process.env, PATH: process.env.PATH },
  });
  const ms = Math.round(performance.now() - t0);
  console.log(`$ fence_atca <<< "${args.join(' ')}"   (exit ${r.status}, ${ms} ms)`);
  for (const l of `${r.stdout}${r.stderr}`.trim().split('\n')) if (l) console.log(`    ${l}`);
}

console.log(`Simulated shelf "${DEFAULT_SHELF.name}" is up:`);
for (const [i, m] of shelf.managers.entries()) {
  console.log(
    `  shelf manager ${i + 1}: 127.0.0.1:${m.port} (pid ${m.pid}, console tcp ${m.consolePort}, folder ${m.dir})`,
  );
}
console.log('');
// The password goes on the agent's stdin only; it is never put on a command line.
base.push(`password=${DEFAULT_SHELF.password}`);
fence('action=list-status');
fence('action=status', 'plug=2');
fence('action=off', 'plug=2');
fence('action=status', 'plug=2');
fence('action=on', 'plug=2');
fence('action=reboot', 'plug=3');
console.log('');
console.log('Try it yourself (password on stdin, never on the command line):');
console.log(
  `  printf 'action=status\\nplug=1\\nip=127.0.0.1\\nipport=${a!.port}\\nusername=admin\\npassword=${DEFAULT_SHELF.password}\\ncipher=3\\n' | ${agent}`,
);
console.log('The shelf stays up until Ctrl-C.');

const stop = async () => {
  await shelf.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
