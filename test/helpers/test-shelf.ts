// The simulated shelf the tests use (no vitest here: the benches import it too).
import type { ShelfSpec } from '../../src/sim/shelf-spec.js';

export const TEST_SHELF: ShelfSpec = {
  name: 'test-shelf',
  username: 'admin',
  password: 'Tst-pw-7319',
  sites: [1, 2, 3, 4, 5, 6],
  // Slot 3's IPMC sits where no slot formula would put it: the agent must ask the shelf.
  boards: [{ slot: 1 }, { slot: 2 }, { slot: 3, ipmb: 0x9a }, { slot: 4, initialState: 1 }, { slot: 6 }],
  shelfManagers: 2,
};
