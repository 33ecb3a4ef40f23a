// `npm start`: brings up the built-in simulated shelf (two shelf managers, four blades),
// shows fence_atca working against it, and keeps the shelf up until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { buildApp } from '../daemon/app.js';
import { DryRunActuator } from '../pacemaker/dry-run-actuator.js';
import { hotSwapPet, hotSwapTrapOid, snmptrapV2cArgs } from './pet-trap.js';
import { canListen, freePort } from './ports.js';
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

// atcad on the same shelf, in dry-run: it polls the shelf, decides, journals, and prints what
// it would run. Then a blade loses power without anyone asking.
console.log('');
console.log('atcad (dry-run) is watching the shelf; slot 3 now loses power unexpectedly:');
const trapPort = await freePort();
// An API token for this demo only (atcactl and the dashboard's maintenance switch), owner-only.
const tokenFile = join(shelf.dir, 'api-tokens');
writeFileSync(tokenFile, `demo ${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
const cfg = parseConfig(`
shelves:
  - name: ${DEFAULT_SHELF.name}
    shelfManagers: [{ host: 127.0.0.1, port: ${a!.port} }, { host: 127.0.0.1, port: ${b!.port} }]
    ipmi: { username: ${DEFAULT_SHELF.username}, password: { env: SIM_SHELF_PASSWORD }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 }, "4": { node: node4 } }
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: SIM_COMMUNITY }] }
polling: { hotswapIntervalMs: 500, sensorIntervalMs: 1000, selIntervalMs: 1000 }
policy: { recoveryMs: 2000 }
pacemaker: { mode: dry-run }
journal: { path: ${join(shelf.dir, 'atcad-journal.sqlite')} }
api: { port: ${(await canListen(8162)) ? 8162 : 0}, tokens: { file: ${tokenFile} } }
`);
/** Sends a v2c PET to atcad the way a shelf manager's PEF would (net-snmp's snmptrap). */
function trap(pet: Buffer): void {
  const state = pet[31]! & 0x0f;
  spawnSync('snmptrap', snmptrapV2cArgs('public', `127.0.0.1:${trapPort}`, hotSwapTrapOid(state), pet), {
    env: { PATH: process.env.PATH, HOME: shelf.dir, SNMP_PERSISTENT_DIR: join(shelf.dir, 'snmp') },
  });
}
const nodes = [1, 2, 3, 4].map((i) => ({
  name: `node${i}`,
  online: true,
  standby: false,
  unclean: false,
  type: 'member',
}));
const quietLog = {
  error: (m: string) => console.log(`    atcad error: ${m}`),
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
let stopping = false;
const app = buildApp(cfg, {
  log: quietLog,
  env: { SIM_SHELF_PASSWORD: DEFAULT_SHELF.password, SIM_COMMUNITY: 'public' },
  actuator: new DryRunActuator(cfg.pacemaker, { nodes }),
  onDecision: (d) => {
    // Ctrl-C reaches ipmi_sim too (same process group): what atcad decides about a shelf
    // going away on purpose is not news.
    if (stopping) return;
    console.log(
      `    atcad ${d.slot}: ${d.kind}${'node' in d ? ` ${d.node}` : ''}${'value' in d ? ` ${d.value}` : ''} — ${d.reason}`,
    );
  },
});
await app.start();
await new Promise((r) => setTimeout(r, 1500));
// What the blade's IPMC reports (ipmi_sim sends no traps): M4 → M1, cause 9 (unexpected deactivation).
await shelf.setState(3, 1);
trap(hotSwapPet(shelf.ipmbOfSlot(3), 1, 4, 9));
await new Promise((r) => setTimeout(r, 3000));
console.log('');
console.log('An operator deactivates slot 2 from the shelf manager (clia deactivate board 2): commanded, not a fault:');
trap(hotSwapPet(shelf.ipmbOfSlot(2), 6, 4, 1));
await shelf.setState(2, 6);
await shelf.setState(2, 1);
trap(hotSwapPet(shelf.ipmbOfSlot(2), 1, 6, 0));
await new Promise((r) => setTimeout(r, 2000));
console.log('');
console.log('Slot 1 runs hot (85 °C, past its upper critical threshold of 80 °C), then cools down:');
await shelf.setTemperature(1, 85);
await new Promise((r) => setTimeout(r, 2500));
const slot1 = app.model().shelves[0]?.slots.find((x) => x.slot === 1);
if (slot1) {
  const temp = slot1.sensors.find((x) => x.type === 0x01);
  console.log(
    `    model: slot 1 ${slot1.hotswap}, health ${slot1.health}; ${temp?.name} = ${temp?.value} ${temp?.unit ?? ''} [${temp?.status.join(', ')}]; reasons: ${slot1.reasons.map((r) => r.fault).join(', ')}`,
  );
}
await shelf.setTemperature(1, 40);
await new Promise((r) => setTimeout(r, 4500));
console.log(
  `  (journal: ${join(shelf.dir, 'atcad-journal.sqlite')}; traps: udp 127.0.0.1:${trapPort}, community "public")`,
);
console.log('');
console.log('Try it yourself (password on stdin, never on the command line):');
console.log(
  `  printf 'action=status\\nplug=1\\nip=127.0.0.1\\nipport=${a!.port}\\nusername=admin\\npassword=${DEFAULT_SHELF.password}\\ncipher=3\\n' | ${agent}`,
);
const api = app.apiAddress;
if (api) {
  const url = `http://${api.address}:${api.port}`;
  console.log('');
  console.log(`atcad's dashboard: ${url}/   (API ${url}/api/v1/shelves, metrics ${url}/metrics)`);
  console.log(`  node dist/atcactl.mjs --url ${url} status`);
  console.log(
    `  node dist/atcactl.mjs --url ${url} --token-file ${tokenFile} maintenance on ${DEFAULT_SHELF.name} 4 --reason "swap the RTM"`,
  );
}
console.log('The shelf stays up until Ctrl-C.');

const stop = async () => {
  stopping = true;
  await app.stop();
  await shelf.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
