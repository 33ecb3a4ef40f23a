// Benchmark: fence_atca against Debian's fence_ipmilan, side by side in one run, on the same
// simulated shelf (ipmi_sim + the ATCA extension). Run with `npm run bench`.
//   1. time to a verified off   fence_atca off <slot>   vs  fence_ipmilan off (its defaults)
//   2. status                   fence_atca status        vs  fence_ipmilan status
//   3. the agent's overhead over the bare ipmitool session it drives (same requests, same env)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ipmitoolHome } from '../src/ipmi/ipmitool-home.js';
import { repoRoot } from '../src/sim/repo-root.js';
import { SimulatedShelf } from '../src/sim/shelf.js';
import { DEFAULT_SHELF } from '../src/sim/shelf-spec.js';

const N_OFF = Number(process.env.BENCH_OFF_RUNS ?? 10);
const N_STATUS = Number(process.env.BENCH_STATUS_RUNS ?? 30);
const AGENT = join(repoRoot(), 'fence-agents/fence_atca');

function timed(
  cmd: string,
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; code: number | null; out: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env });
  return { ms: performance.now() - t0, code: r.status, out: `${r.stdout}${r.stderr}` };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const median = (xs: number[]) => quantile(xs, 0.5);
const fmt = (ms: number) => `${ms.toFixed(1).padStart(8)} ms`;

function expectOk(what: string, r: { code: number | null; out: string }, codes = [0]): void {
  if (!codes.includes(r.code ?? -1)) throw new Error(`${what} failed (exit ${r.code}):\n${r.out}`);
}

const shelf = await SimulatedShelf.start({ ...DEFAULT_SHELF, shelfManagers: 1 });
try {
  const port = shelf.managers[0]!.port;
  const pw = DEFAULT_SHELF.password;
  const atca = (action: string, plug = 1) =>
    `action=${action}\nip=127.0.0.1\nipport=${port}\nusername=admin\npassword=${pw}\ncipher=3\nplug=${plug}\n`;
  const ipmilan = (action: string) =>
    `action=${action}\nip=127.0.0.1\nipport=${port}\nusername=admin\npassword=${pw}\n`;

  // Warm the page cache and both agents once.
  expectOk('fence_atca status', timed(AGENT, [], atca('status')));
  expectOk('fence_ipmilan status', timed('fence_ipmilan', [], ipmilan('status')));

  const atcaOff: number[] = [];
  const lanOff: number[] = [];
  for (let i = 0; i < N_OFF; i++) {
    const a = timed(AGENT, [], atca('off'));
    expectOk('fence_atca off', a);
    atcaOff.push(a.ms);
    expectOk('fence_atca on', timed(AGENT, [], atca('on')));
    const l = timed('fence_ipmilan', [], ipmilan('off'));
    expectOk('fence_ipmilan off', l);
    lanOff.push(l.ms);
    expectOk('fence_ipmilan on', timed('fence_ipmilan', [], ipmilan('on')));
  }

  const atcaStatus: number[] = [];
  const lanStatus: number[] = [];
  const bare: number[] = [];
  const home = ipmitoolHome();
  const bareEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, TERM: 'dumb', LANG: 'C', IPMITOOL_PASSWORD: pw };
  if (home) bareEnv.HOME = home;
  // Exactly the requests fence_atca makes for `status` of slot 1, in one ipmitool shell.
  const bareInput =
    'raw 0x2c 0x01 0x00 0x00 0x03 0x01 0x00\nset targetaddr 0x82\nraw 0x04 0x2f 0x00\nraw 0x04 0x2d 0x00\nquit\n';
  const bareArgs = [
    '-I',
    'lanplus',
    '-H',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'admin',
    '-E',
    '-C',
    '3',
    '-L',
    'ADMINISTRATOR',
    '-N',
    '2',
    '-R',
    '1',
    'shell',
  ];
  for (let i = 0; i < N_STATUS; i++) {
    const a = timed(AGENT, [], atca('status'));
    expectOk('fence_atca status', a);
    atcaStatus.push(a.ms);
    const l = timed('fence_ipmilan', [], ipmilan('status'));
    expectOk('fence_ipmilan status', l);
    lanStatus.push(l.ms);
    const b = timed('/usr/bin/ipmitool', bareArgs, bareInput, bareEnv);
    expectOk('bare ipmitool', b);
    if (!b.out.includes('04 c0 10 00')) throw new Error(`bare ipmitool did not read M4:\n${b.out}`);
    bare.push(b.ms);
  }
  const nodeFloor: number[] = [];
  for (let i = 0; i < 10; i++) nodeFloor.push(timed(process.execPath, ['-e', '0'], '').ms);

  const offRatio = median(atcaOff) / median(lanOff);
  const statusRatio = median(atcaStatus) / median(lanStatus);
  console.log(
    `fence_atca benchmark — ${new Date().toISOString()}, node ${process.version}, ${N_OFF} off / ${N_STATUS} status runs`,
  );
  console.log('                                        median        p90');
  console.log(`1. verified off   fence_atca off     ${fmt(median(atcaOff))} ${fmt(quantile(atcaOff, 0.9))}`);
  console.log(`                  fence_ipmilan off  ${fmt(median(lanOff))} ${fmt(quantile(lanOff, 0.9))}`);
  console.log(`                  ratio ${offRatio.toFixed(3)} (target <= 0.25)`);
  console.log(`2. status         fence_atca status  ${fmt(median(atcaStatus))} ${fmt(quantile(atcaStatus, 0.9))}`);
  console.log(`                  fence_ipmilan stat ${fmt(median(lanStatus))} ${fmt(quantile(lanStatus, 0.9))}`);
  console.log(`                  ratio ${statusRatio.toFixed(3)} (target <= 1.25)`);
  console.log(`3. overhead       bare ipmitool      ${fmt(median(bare))} ${fmt(quantile(bare, 0.9))}`);
  console.log(`                  agent - bare       ${fmt(median(atcaStatus) - median(bare))}`);
  console.log(`                  node -e 0 (floor)  ${fmt(median(nodeFloor))}`);
} finally {
  await shelf.stop();
}
