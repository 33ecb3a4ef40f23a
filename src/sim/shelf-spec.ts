import type { HotSwapState } from '../domain/hotswap.js';

/** One blade in the simulated shelf. */
export interface BoardSpec {
  /** Physical slot (PICMG site number, site type 0 = front board). */
  readonly slot: number;
  /** IPMB-0 address; defaults to the conventional 2 × (0x40 + slot). Real shelves differ: tests set it. */
  readonly ipmb?: number;
  readonly hotSwapSensor?: number;
  readonly initialState?: HotSwapState;
  /** Board temperature, °C (sensor 1). */
  readonly temperature?: number;
}

export interface ShelfSpec {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  /** Sites the shelf defines; a site with no board answers Get Address Info but has no IPMC. */
  readonly sites: readonly number[];
  readonly boards: readonly BoardSpec[];
  /** How many shelf managers (separate ipmi_sim processes) stand for the shelf: 1 or 2. */
  readonly shelfManagers: 1 | 2;
  /** The address the shelf managers' LAN channels bind (default 127.0.0.1). */
  readonly lanAddress?: string;
}

export const DEFAULT_SHELF: ShelfSpec = Object.freeze<ShelfSpec>({
  name: 'sim-shelf',
  username: 'admin',
  password: 'sim-secret',
  sites: [1, 2, 3, 4, 5, 6],
  boards: [{ slot: 1 }, { slot: 2 }, { slot: 3 }, { slot: 4, initialState: 1 }],
  shelfManagers: 2,
});

/** Sensor numbers of a board's IPMC: the hot-swap sensor where the spec puts it, the others on the next free numbers. */
export interface BoardSensors {
  readonly hotswap: number;
  readonly temperature: number;
  readonly watchdog: number;
  readonly processor: number;
}

export function boardSensors(b: BoardSpec): BoardSensors {
  const hotswap = b.hotSwapSensor ?? 0;
  const free = [1, 2, 3, 4].filter((n) => n !== hotswap);
  return { hotswap, temperature: free[0]!, watchdog: free[1]!, processor: free[2]! };
}

/** The temperature sensor's number: 1, or 2 when the hot-swap sensor took 1. */
export function temperatureSensor(b: BoardSpec): number {
  return boardSensors(b).temperature;
}

export function boardIpmb(b: BoardSpec): number {
  return b.ipmb ?? 2 * (0x40 + b.slot);
}
