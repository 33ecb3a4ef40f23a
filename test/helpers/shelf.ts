import { afterAll, beforeAll } from 'vitest';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import type { ShelfSpec } from '../../src/sim/shelf-spec.js';

export { TEST_SHELF } from './test-shelf.js';

import { TEST_SHELF } from './test-shelf.js';
/** Starts a simulated shelf for the file's tests and stops it (by PID) afterwards, pass or fail. */
export function useShelf(spec: ShelfSpec = TEST_SHELF): {
  readonly shelf: SimulatedShelf;
  base(): Record<string, string | number>;
} {
  let shelf: SimulatedShelf | undefined;
  beforeAll(async () => {
    shelf = await SimulatedShelf.start(spec);
  });
  afterAll(async () => {
    await shelf?.stop();
  });
  return {
    get shelf() {
      if (!shelf) throw new Error('shelf not started');
      return shelf;
    },
    base() {
      const s = this.shelf;
      const b: Record<string, string | number> = {
        ip: '127.0.0.1',
        ipport: s.managers[0]!.port,
        username: spec.username,
        password: spec.password,
        cipher: 3,
        stonith_status_sleep: '0.05',
      };
      if (s.managers[1]) {
        b.ip2 = '127.0.0.1';
        b.ipport2 = s.managers[1].port;
      }
      return b;
    },
  };
}
