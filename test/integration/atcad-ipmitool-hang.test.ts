// atcad with an ipmitool that hangs after its prompt: polls time out (the shelf manager is
// then "unreachable", never "off"), nothing waits for it forever, a trap is still handled at
// journaled but not guessed onto a slot, and stop() leaves no ipmitool behind. A stand-in
// ipmitool is used because no real one can be made to hang on demand; the trap comes from
// net-snmp's real snmptrap and the actions go to Pacemaker's tools on an offline CIB.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { type App, buildApp } from '../../src/daemon/app.js';
import type { Logger } from '../../src/log.js';
import type { Decision } from '../../src/policy/types.js';
import { hotSwapPet, hotSwapTrapOid, snmptrapV2cArgs } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { makeCib } from '../helpers/cib.js';
import { hungSleep, running, until } from '../helpers/wait.js';

const run = promisify(execFile);

describe('atcad with an ipmitool that hangs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atcad-hang-'));
  const hung = hungSleep();
  const warnings: string[] = [];
  const log: Logger = {
    error: (m) => warnings.push(m),
    warn: (m) => warnings.push(m),
    info: () => undefined,
    debug: () => undefined,
  };
  const decisions: Decision[] = [];
  let app: App;
  let trapPort: number;

  beforeAll(async () => {
    const ipmitool = join(dir, 'ipmitool');
    // Answers the shell's prompt, then never answers a command.
    writeFileSync(ipmitool, `#!/bin/sh\nprintf 'ipmitool> '\nexec ${hung.command}\n`);
    chmodSync(ipmitool, 0o755);
    const cib = await makeCib(dir, true);
    trapPort = await freePort();
    const cfg = parseConfig(`
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: 1 }]
    ipmi: { username: admin, password: { env: PW }, ipmitoolPath: ${ipmitool} }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: COMMUNITY }] }
polling: { hotswapIntervalMs: 200, requestTimeoutMs: 300, backoffMaxMs: 1000 }
pacemaker: { mode: offline, cibFile: ${cib} }
journal: { path: ${join(dir, 'journal.sqlite')} }
api: { port: 0 }
safety: { minNodesAfterFence: 0 }
`);
    app = buildApp(cfg, { log, env: { PW: 'x', COMMUNITY: 'Comm-hang-1' }, onDecision: (d) => decisions.push(d) });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('polls time out and say the shelf manager is unreachable, never that a blade is off', async () => {
    await until('the unreachable verdict', () => warnings.find((w) => /no shelf manager answers/.test(w)));
    expect(warnings.join('\n')).toMatch(/did not answer within 300 ms|timed out/i);
    const states = app.model().shelves[0]!.slots.map((s) => s.hotswap);
    for (const s of states) expect(s).not.toMatch(/^M[01]$/);
  });

  it('a trap for an IPMC no answer has mapped to a slot is journaled, and acts on nothing (no guessing)', async () => {
    // M4 → M0 on IPMB 0x84: by convention slot 2, but only the shelf manager can say so.
    await run(
      'snmptrap',
      snmptrapV2cArgs('Comm-hang-1', `127.0.0.1:${trapPort}`, hotSwapTrapOid(0), hotSwapPet(0x84, 0, 4, 0)),
      { env: { PATH: process.env.PATH, HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'snmp') } },
    );
    const ev = await until('the journaled trap', () =>
      app.journal.read.events(100).find((e) => e.source === 'trap' && e.kind === 'hotswap'),
    );
    expect(ev.slot ?? null).toBeNull();
    expect(decisions.filter((d) => d.slot !== undefined && d.kind !== 'record')).toEqual([]);
  });

  it('stop() returns and leaves no hung ipmitool behind', async () => {
    await app.stop();
    expect(running(hung.pattern)).toBe(false);
  });
});
