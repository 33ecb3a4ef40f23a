// The simulated shelf itself, checked with a real ipmitool: what tests and benchmarks rely on.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SimulatedShelf } from '../../src/sim/shelf.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { alive } from '../helpers/wait.js';

const run = promisify(execFile);

function ipmitool(port: number, args: string[]): Promise<{ stdout: string }> {
  return run(
    'ipmitool',
    ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port), '-U', TEST_SHELF.username, '-E', '-C', '3', ...args],
    { env: { PATH: process.env.PATH, IPMITOOL_PASSWORD: TEST_SHELF.password }, timeout: 20_000 },
  );
}

describe('simulated ATCA shelf', () => {
  it('answers as an ATCA shelf manager, lists blade sensors from its SDR repository, logs events, and stops cleanly', async () => {
    const shelf = await SimulatedShelf.start(TEST_SHELF);
    const pids = shelf.managers.map((m) => m.pid!);
    try {
      const [a, b] = shelf.managers;
      expect(a!.port).not.toBe(b!.port);
      const props = await ipmitool(a!.port, ['raw', '0x2c', '0x00', '0x00']);
      expect(props.stdout.trim()).toBe('00 22 00 00'); // PICMG 2.2
      const addr = await ipmitool(a!.port, ['raw', '0x2c', '0x01', '0x00', '0x00', '0x03', '0x03', '0x00']);
      expect(addr.stdout.trim()).toBe('00 4d 9a ff 00 03 00'); // slot 3 → IPMB 0x9a
      const sdr = await ipmitool(a!.port, ['sdr', 'elist']);
      expect(sdr.stdout).toMatch(/Temp Slot3\s+\| 01h \| ok/);
      await shelf.setTemperature(3, 0x55);
      const sensors = await ipmitool(a!.port, ['sensor']);
      expect(sensors.stdout).toMatch(/Temp Slot3\s+\| 85\.000/);
      const sel = await ipmitool(a!.port, ['sel', 'elist']);
      expect(sel.stdout).toMatch(/Upper Non-critical going high/);
      await shelf.setState(3, 7);
      expect(await shelf.stateOf(3)).toBe(7);
      expect(await shelf.stateOf(3, 1)).toBe(7);
    } finally {
      await shelf.stop();
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(shelf.dir)).toBe(false);
  });
});
