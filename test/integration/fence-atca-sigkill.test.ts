// Pacemaker SIGKILLs an agent that overruns its timeout; atcad can die too. Whatever holds an
// ipmitool shell session, its ipmitool must die with it — even on SIGKILL, where no handler
// runs — or it lingers holding one of the shelf manager's few login sessions.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, commOf, liveProcess, processesInGroup, RunningAgent } from '../helpers/agent-process.js';
import { TEST_SHELF, useShelf } from '../helpers/shelf.js';
import { until } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fence-sigkill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ipmitool child of `pid` (one process from setpriv to ipmitool: the same PID throughout). */
function ipmitoolOf(pid: number): number | undefined {
  return childrenOf(pid).find((c) => commOf(c) === 'ipmitool');
}

function killIfLive(pid: number | undefined): void {
  if (pid !== undefined && liveProcess(pid)) process.kill(pid, 'SIGKILL');
}

describe('fence_atca SIGKILLed in the middle of off', () => {
  const t = useShelf({ ...TEST_SHELF, shelfManagers: 1 });

  it('leaves no ipmitool behind: it dies with the agent, and the process group is empty', async () => {
    // The blade stalls in M6 and the agent waits for it (no escalation for a minute): mid-way.
    await t.shelf.setStall(2, true);
    const agent = new RunningAgent({ ...t.base(), plug: 2, action: 'off', graceful_timeout: 60, power_timeout: 120 });
    let ipmitool: number | undefined;
    try {
      await until('the blade to be deactivating (M6)', async () => (await t.shelf.stateOf(2)) === 6);
      ipmitool = await until('the agent to have its ipmitool', () => ipmitoolOf(agent.pid));
      expect(liveProcess(ipmitool)).toBe(true);
      process.kill(agent.pid, 'SIGKILL');
      const r = await agent.done;
      expect(r.code).toBeNull();
      const orphan = ipmitool;
      await until(`ipmitool ${orphan} to die with the agent`, () => !liveProcess(orphan), 10_000);
      expect(processesInGroup(agent.pid)).toEqual([]);
    } finally {
      killIfLive(ipmitool);
      await agent.cleanup();
      await t.shelf.setStall(2, false);
      await t.shelf.setState(2, 4);
    }
  });
});

describe('fence_atca SIGKILLed while its password_script runs', () => {
  it('takes the script with it', async () => {
    const pidFile = join(dir, 'script.pid');
    const pw = join(dir, 'slow-password');
    writeFileSync(pw, `#!/bin/sh\necho $$ > '${pidFile}.tmp' && mv '${pidFile}.tmp' '${pidFile}'\nexec sleep 300\n`);
    chmodSync(pw, 0o755);
    const agent = new RunningAgent({ ip: '127.0.0.1', username: 'admin', password_script: pw, plug: 1, action: 'off' });
    let scriptPid: number | undefined;
    try {
      scriptPid = await until('the password script to start', () =>
        existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined,
      );
      expect(liveProcess(scriptPid)).toBe(true);
      process.kill(agent.pid, 'SIGKILL');
      await agent.done;
      const orphan = scriptPid;
      await until(`password script ${orphan} to die with the agent`, () => !liveProcess(orphan), 10_000);
      expect(processesInGroup(agent.pid)).toEqual([]);
    } finally {
      killIfLive(scriptPid);
      await agent.cleanup();
    }
  });
});

// What atcad does: a long-lived process holding an IpmitoolShellSession, polling through it.
const HOLDER = `
import { IpmitoolShellSession } from ${JSON.stringify(join(ROOT, 'src/ipmi/shell-session.ts'))};
const [port] = process.argv.slice(2);
const session = await IpmitoolShellSession.open(
  { host: '127.0.0.1', port: Number(port) },
  {
    ipmitoolPath: '/usr/bin/ipmitool',
    username: process.env.SHELF_USER,
    password: process.env.SHELF_PASSWORD,
    lanplus: true,
    cipher: '3',
    retransmitSec: 1,
    retries: 1,
    loginTimeoutMs: 5000,
    commandTimeoutMs: 3000,
    log: () => undefined,
  },
);
process.stdout.write('ready ' + session.pid + '\\n');
for (;;) {
  await session.raw({ target: 0x82, netfn: 0x04, cmd: 0x2d, data: [0] });
  await new Promise((r) => setTimeout(r, 50));
}
`;

describe('a process holding an IpmitoolShellSession (as atcad does), SIGKILLed', () => {
  const t = useShelf({ ...TEST_SHELF, shelfManagers: 1 });
  const bundle = join(dir, 'holder.mjs');
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    const src = join(dir, 'holder.ts');
    writeFileSync(src, HOLDER);
    await build({
      entryPoints: [src],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      nodePaths: [join(ROOT, 'node_modules')],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
  });

  afterAll(() => {
    if (holder?.pid !== undefined) killIfLive(holder.pid);
  });

  it('takes its ipmitool with it', async () => {
    holder = spawn(process.execPath, [bundle, String(t.shelf.managers[0]!.port)], {
      env: { PATH: process.env.PATH, SHELF_USER: TEST_SHELF.username, SHELF_PASSWORD: TEST_SHELF.password },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    holder.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    holder.stderr!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<void>((r) => holder!.once('exit', () => r()));
    let ipmitool: number | undefined;
    try {
      ipmitool = Number((await until('the holder to open its session', () => /ready (\d+)/.exec(out) ?? undefined))[1]);
      expect(ipmitoolOf(holder.pid!)).toBe(ipmitool);
      process.kill(holder.pid!, 'SIGKILL');
      await exited;
      const orphan = ipmitool;
      await until(`ipmitool ${orphan} to die with its holder`, () => !liveProcess(orphan), 10_000);
      expect(processesInGroup(holder.pid!)).toEqual([]);
    } finally {
      killIfLive(ipmitool);
      killIfLive(holder.pid);
    }
  });
});
