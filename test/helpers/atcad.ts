// atcad in-process against real peers, for scenario tests: a simulated shelf (ipmi_sim), a
// trap port that net-snmp's snmptrap sends to, and Pacemaker's tools acting on an offline CIB
// that crm_simulate reads. Every decision is collected; every log line too.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/load.js';
import { type App, buildApp } from '../../src/daemon/app.js';
import type { Logger } from '../../src/log.js';
import type { Decision } from '../../src/policy/types.js';
import { hotSwapTrapOid, PET_ENTERPRISE_OID, snmptrapV2cArgs } from '../../src/sim/pet-trap.js';
import { freePort } from '../../src/sim/ports.js';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import type { ShelfSpec } from '../../src/sim/shelf-spec.js';
import { makeCib, tool } from './cib.js';
import { TEST_SHELF } from './shelf.js';

const run = promisify(execFile);
export const COMMUNITY = 'Comm-scenario-4';
const SHELF = 's1';

export interface AtcadOptions {
  readonly spec?: ShelfSpec;
  /** YAML lines for the top-level sections other than shelves, traps, pacemaker (journal: is allowed). */
  readonly sections?: string;
  /** Where the journal lives (default: the test's folder). */
  readonly journalPath?: string;
  /** Slots mapped to nodes (default 1–3 → node1–node3). */
  readonly slots?: string;
  readonly shelfName?: string;
  readonly community?: string;
  readonly v3User?: { readonly name: string; readonly authKey: string; readonly privKey: string };
  /** The source address of the shelf's traps (default 127.0.0.1). */
  readonly trapSource?: string;
}

export interface AtcadUnderTest {
  readonly app: App;
  readonly shelf: SimulatedShelf;
  readonly cib: string;
  readonly dir: string;
  readonly trapPort: number;
  readonly decisions: Decision[];
  readonly logs: string[];
  /** Sends a v2c PET (specific trap number, PET bytes) the way a shelf manager's PEF would. */
  trap(specific: number, pet: Buffer): Promise<void>;
  /** A hot-swap PET to M<state>. */
  hotswapTrap(state: number, pet: Buffer): Promise<void>;
  /** The node's #health-atca in the CIB ('' when unset). */
  health(node: string): Promise<string>;
  /** The slot's decisions that are not records. */
  acted(slot: string): Decision[];
  stop(): Promise<void>;
}

export async function startAtcad(o: AtcadOptions = {}): Promise<AtcadUnderTest> {
  const spec = o.spec ?? { ...TEST_SHELF, shelfManagers: 1 };
  const community = o.community ?? COMMUNITY;
  const shelfName = o.shelfName ?? SHELF;
  const dir = mkdtempSync(join(tmpdir(), 'atcad-scenario-'));
  const shelf = await SimulatedShelf.start(spec);
  const decisions: Decision[] = [];
  const logs: string[] = [];
  const log: Logger = {
    error: (m) => logs.push(`ERROR ${m}`),
    warn: (m) => logs.push(`WARN ${m}`),
    info: (m) => logs.push(`INFO ${m}`),
    debug: () => undefined,
  };
  let app: App | undefined;
  try {
    const cib = await makeCib(dir, true);
    const trapPort = await freePort();
    const managers = shelf.managers.map((m) => `{ host: 127.0.0.1, port: ${m.port} }`).join(', ');
    const cfg = parseConfig(`
shelves:
  - name: ${shelfName}
    shelfManagers: [${managers}]
    ipmi: { username: admin, password: { env: SHELF_PW }, cipher: "3" }
    trapSources: [${o.trapSource ?? '127.0.0.1'}]
    slots: ${o.slots ?? '{ "1": { node: node1 }, "2": { node: node2 }, "3": { node: node3 } }'}
traps:
  address: 127.0.0.1
  port: ${trapPort}
  communities: [{ env: COMMUNITY }]
  v3Users: [${o.v3User ? `{ name: ${o.v3User.name}, authKey: { env: V3_AUTH }, privKey: { env: V3_PRIV } }` : ''}]
pacemaker: { mode: offline, cibFile: ${cib} }
${o.sections ?? ''}
${o.sections?.includes('journal:') ? '' : `journal: { path: ${o.journalPath ?? join(dir, 'journal.sqlite')} }`}
${o.sections?.includes('api:') ? '' : 'api: { port: 0 }'}
`);
    app = buildApp(cfg, {
      log,
      env: {
        SHELF_PW: spec.password,
        COMMUNITY: community,
        V3_AUTH: o.v3User?.authKey ?? '',
        V3_PRIV: o.v3User?.privKey ?? '',
      },
      onDecision: (d) => decisions.push(d),
    });
    await app.start();
    const started = app;
    const env = { PATH: process.env.PATH, HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'snmp') };
    const trap = async (specific: number, pet: Buffer) => {
      await run(
        'snmptrap',
        snmptrapV2cArgs(community, `127.0.0.1:${trapPort}`, `${PET_ENTERPRISE_OID}.0.${specific}`, pet),
        { env },
      );
    };
    return {
      app: started,
      shelf,
      cib,
      dir,
      trapPort,
      decisions,
      logs,
      trap,
      hotswapTrap: async (state, pet) => {
        await run('snmptrap', snmptrapV2cArgs(community, `127.0.0.1:${trapPort}`, hotSwapTrapOid(state), pet), { env });
      },
      health: async (node) =>
        (
          await tool('crm_attribute', ['-N', node, '-n', '#health-atca', '-l', 'reboot', '-G', '-q'], cib)
        ).stdout.trim(),
      acted: (slot) => decisions.filter((d) => d.slot === slot && d.kind !== 'record'),
      async stop() {
        await started.stop();
        await shelf.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await app?.stop().catch(() => undefined);
    await shelf.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
