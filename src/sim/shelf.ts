import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HotSwapState } from '../domain/hotswap.js';
import { hexByte } from '../ipmi/ipmitool-argv.js';
import { SimConsole } from './console.js';
import { type PicmgLogEntry, type ShelfManagerOptions, SimulatedShelfManager } from './shelf-manager.js';
import { boardIpmb, boardSensors, type ShelfSpec, temperatureSensor } from './shelf-spec.js';

/**
 * A simulated ATCA shelf: one or two shelf managers (separate ipmi_sim processes with the same
 * description, each in its own folder under one temporary folder). A fault injected with
 * `inject` goes to every running shelf manager, so the two keep telling the same story.
 */
export class SimulatedShelf {
  readonly spec: ShelfSpec;
  readonly dir: string;
  readonly managers: SimulatedShelfManager[];

  private constructor(spec: ShelfSpec, dir: string, managers: SimulatedShelfManager[]) {
    this.spec = spec;
    this.dir = dir;
    this.managers = managers;
  }

  /** `opts` go to every shelf manager (see ShelfManagerOptions: another network namespace). */
  static async start(spec: ShelfSpec, opts: ShelfManagerOptions = {}): Promise<SimulatedShelf> {
    const dir = mkdtempSync(join(tmpdir(), 'atca-shelf-'));
    const managers: SimulatedShelfManager[] = [];
    try {
      for (let i = 1; i <= spec.shelfManagers; i++) {
        managers.push(await SimulatedShelfManager.start(spec, join(dir, `shm${i}`), opts));
      }
    } catch (e) {
      await Promise.all(managers.map((m) => m.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return new SimulatedShelf(spec, dir, managers);
  }

  ipmbOfSlot(slot: number): number {
    const b = this.spec.boards.find((x) => x.slot === slot);
    if (!b) throw new Error(`the simulated shelf has no board in slot ${slot}`);
    return boardIpmb(b);
  }

  /** Sends a console command to each shelf manager that is running (or the one named). */
  async inject(command: string, only?: number): Promise<void> {
    const targets = only === undefined ? this.managers.filter((m) => m.running) : [this.managers[only]!];
    for (const m of targets) {
      const c = await SimConsole.open(m.consolePort);
      try {
        await c.run(command);
      } finally {
        c.close();
      }
    }
  }

  setState(slot: number, m: HotSwapState, manager?: number): Promise<void> {
    return this.inject(`atcax_state ${hexByte(this.ipmbOfSlot(slot))} ${m}`, manager);
  }

  /** Makes the blade's IPMC vanish (bridged commands get CC 0x83) or come back. */
  setIpmcPresent(slot: number, present: boolean): Promise<void> {
    return this.inject(`${present ? 'mc_enable' : 'mc_disable'} ${hexByte(this.ipmbOfSlot(slot))}`);
  }

  /** Moves the blade's temperature sensor, logging threshold events in the SEL. */
  setTemperature(slot: number, celsius: number): Promise<void> {
    const b = this.spec.boards.find((x) => x.slot === slot)!;
    return this.inject(
      `sensor_set_value ${hexByte(this.ipmbOfSlot(slot))} 0 ${temperatureSensor(b)} ${hexByte(celsius)} 1`,
    );
  }

  /**
   * Sets (or clears) one state of a board's discrete sensor, with an event to the shelf
   * manager's SEL: the watchdog (offsets 0 expired … 3 power cycle) or the processor (0 IERR).
   */
  setDiscrete(slot: number, sensor: 'watchdog' | 'processor', offset: number, asserted: boolean): Promise<void> {
    const b = this.spec.boards.find((x) => x.slot === slot)!;
    const n = boardSensors(b)[sensor];
    return this.inject(`sensor_set_bit ${hexByte(this.ipmbOfSlot(slot))} 0 ${n} ${offset} ${asserted ? 1 : 0} 1`);
  }

  /**
   * Adds a record to the shelf managers' SEL as if some controller had logged it: a stray or
   * replayed event that no sensor holds, or a record type nobody understands.
   * `bytes` are the 13 after the record type (timestamp, then the type's own fields).
   */
  addSelEntry(type: number, bytes: readonly number[]): Promise<void> {
    if (bytes.length !== 13) throw new RangeError(`a SEL record has 13 bytes after its type, not ${bytes.length}`);
    return this.inject(`sel_add 0x20 ${hexByte(type)} ${bytes.map(hexByte).join(' ')}`);
  }

  setStall(slot: number, stall: boolean, manager?: number): Promise<void> {
    return this.inject(`atcax_stall ${hexByte(this.ipmbOfSlot(slot))} ${stall ? 1 : 0}`, manager);
  }

  setPolicy(slot: number, locked: boolean, deactivationLocked: boolean): Promise<void> {
    return this.inject(
      `atcax_policy ${hexByte(this.ipmbOfSlot(slot))} ${locked ? 1 : 0} ${deactivationLocked ? 1 : 0}`,
    );
  }

  setDelays(slot: number, deactivateMs: number, activateMs: number, manager?: number): Promise<void> {
    return this.inject(`atcax_delay ${hexByte(this.ipmbOfSlot(slot))} ${deactivateMs} ${activateMs}`, manager);
  }

  /**
   * Real IPMCs may answer a deactivate that is already under way (M6), or an activate already
   * in progress (M3), with CC 0xD5 rather than ignore it; `strict` makes the board do that.
   */
  setStrict(slot: number, strict: boolean, manager?: number): Promise<void> {
    return this.inject(`atcax_strict ${hexByte(this.ipmbOfSlot(slot))} ${strict ? 1 : 0}`, manager);
  }

  /**
   * Puts the board in M6 as a granted deactivate does (M1 after the deactivation delay, unless
   * stalled), without a command: how a second shelf manager must show a FRU the first one
   * deactivated (the two simulators do not share state; real shelf managers share the blade).
   */
  startDeactivation(slot: number, manager?: number): Promise<void> {
    return this.inject(`atcax_deactivating ${hexByte(this.ipmbOfSlot(slot))}`, manager);
  }

  /**
   * The next PICMG command `cmd` to the slot's IPMC (with data byte 2 equal to `byte2`, if
   * given: 0 deactivate, 1 activate for Set FRU Activation) stops the shelf manager (SIGSTOP)
   * either on receipt (`before-effect`) or once it took effect, before the answer goes out
   * (`after-effect`). One-shot. Then `managers[i].isStopped()`; `kill()` is the shelf manager
   * dying there, `thaw()` a late answer.
   */
  stopOn(
    slot: number,
    cmd: number,
    when: 'before-effect' | 'after-effect',
    opts: { readonly byte2?: number; readonly manager?: number } = {},
  ): Promise<void> {
    const b2 = opts.byte2 === undefined ? '' : ` ${hexByte(opts.byte2)}`;
    return this.inject(
      `atcax_stop_on ${hexByte(this.ipmbOfSlot(slot))} ${hexByte(cmd)} ${when === 'after-effect' ? 1 : 0}${b2}`,
      opts.manager,
    );
  }

  /**
   * Makes the board answer CC 0xC1 (invalid command) to Get/Set FRU Activation Policy and
   * Get/Set Power Level, as stock ipmi_sim and some IPMCs do, or behave again.
   */
  setUnsupported(slot: number, unsupported: boolean, manager?: number): Promise<void> {
    return this.inject(`atcax_unsupported ${hexByte(this.ipmbOfSlot(slot))} ${unsupported ? 1 : 0}`, manager);
  }

  clearStopOn(slot: number, manager?: number): Promise<void> {
    return this.inject(`atcax_stop_clear ${hexByte(this.ipmbOfSlot(slot))}`, manager);
  }

  /** FRU Control commands the board received and accepted (`resets` in `atcax_show`). */
  async resetsOf(slot: number, manager = 0): Promise<number> {
    const m = /resets=(\d+)/.exec(await this.show(slot, manager));
    if (!m) throw new Error(`cannot read the reset count of slot ${slot}`);
    return Number(m[1]);
  }

  async show(slot: number, manager = 0): Promise<string> {
    const c = await SimConsole.open(this.managers[manager]!.consolePort);
    try {
      return await c.run(`atcax_show ${hexByte(this.ipmbOfSlot(slot))}`);
    } finally {
      c.close();
    }
  }

  /** The hot-swap state the shelf manager's extension holds for a slot. */
  async stateOf(slot: number, manager = 0): Promise<HotSwapState> {
    const m = /state=M(\d)/.exec(await this.show(slot, manager));
    if (!m) throw new Error(`cannot read the state of slot ${slot}`);
    return Number(m[1]) as HotSwapState;
  }

  picmgCommands(manager = 0): PicmgLogEntry[] {
    return this.managers[manager]!.picmgCommands();
  }

  async stop(): Promise<void> {
    await Promise.all(this.managers.map((m) => m.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
