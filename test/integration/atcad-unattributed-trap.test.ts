// A hot-swap trap that names no slot — the shelf manager (IPMB 0x20) reporting that a blade's
// IPMC fell silent, with its own sensor number — makes atcad poll the shelf now rather than
// at the next interval, and what that poll finds is acted on. Real peers: ipmi_sim is the
// shelf, net-snmp's snmptrap sends the PET; the policy acts in dry-run.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { type App, buildApp } from '../../src/daemon/app.js';
import type { Decision } from '../../src/policy/types.js';
import { hotSwapPet, hotSwapTrapOid, snmptrapV2cArgs } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { QUIET, until } from '../helpers/wait.js';

const run = promisify(execFile);
const COMMUNITY = 'Comm-unattr-42';

describe('a hot-swap trap that names no slot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atcad-unattributed-'));
  let shelf: SimulatedShelf;
  let app: App;
  let trapPort: number;
  const decisions: Decision[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    shelf = await SimulatedShelf.start({ ...TEST_SHELF, shelfManagers: 1 });
    trapPort = await freePort();
    const cfg = parseConfig(`
shelves:
  - name: s1
    shelfManagers: [{ host: 127.0.0.1, port: ${shelf.managers[0]!.port} }]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [127.0.0.1]
    slots: { "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }
traps: { address: 127.0.0.1, port: ${trapPort}, communities: [{ env: COMMUNITY }] }
# After the first, no hot-swap poll comes on its own within this test.
polling: { hotswapIntervalMs: 600000, requestTimeoutMs: 3000 }
policy: { debounceMs: 0 }
pacemaker: { mode: dry-run }
journal: { path: ${join(dir, 'journal.sqlite')} }
api: { port: 0 }
`);
    app = buildApp(cfg, {
      log: { ...QUIET, info: (m: string) => logs.push(m) },
      env: { SHELF_PW: TEST_SHELF.password, COMMUNITY },
      onDecision: (d) => decisions.push(d),
    });
    await app.start();
    await until('the first poll', () => app.journal.read.counts().events >= 3 || undefined);
  });

  afterAll(async () => {
    await app?.stop();
    await shelf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is journaled and makes atcad poll the shelf now: the silent IPMC is found and acted on', async () => {
    await shelf.setIpmcPresent(2, false);
    // Nothing notices by itself: the next hot-swap poll is ten minutes away.
    await new Promise((r) => setTimeout(r, 1500));
    expect(decisions.filter((d) => d.slot === 's1/2')).toEqual([]);

    // M4 → M7 as the shelf manager reports it: generator 0x20, its own sensor 9, FRU 0.
    const pet = hotSwapPet(0x20, 7, 4, 0xf);
    pet[28] = 9;
    await run('snmptrap', snmptrapV2cArgs(COMMUNITY, `127.0.0.1:${trapPort}`, hotSwapTrapOid(7), pet), {
      env: { PATH: process.env.PATH, HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'snmp') },
    });

    // Found by that poll (the default rule for a silent IPMC: health yellow).
    const acted = await until(
      'slot 2 acted on',
      () => decisions.find((d) => d.slot === 's1/2' && d.kind === 'set-health'),
      15_000,
    );
    expect(acted).toMatchObject({ node: 'node2', value: 'yellow', reason: 'ipmc-unreachable → yellow' });
    expect(acted.evidence).toMatchObject([{ source: 'poll', summary: 'IPMC does not answer (CC 0x83) (poll)' }]);
    expect(logs.join('\n')).toMatch(/IPMB 0x20 names no configured slot: polling the shelf now/);
    const trap = app.journal.read.events(500).find((e) => e.source === 'trap' && e.kind === 'hotswap');
    expect(trap).toMatchObject({ understood: true });
    expect(trap?.slot ?? null).toBeNull();
    // Slots whose IPMC still answers are not touched.
    expect(decisions.filter((d) => d.slot === 's1/1' || d.slot === 's1/3')).toEqual([]);
  });
});
