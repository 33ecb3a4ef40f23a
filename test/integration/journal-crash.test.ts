// kill -9 at any moment loses nothing acknowledged: a real child process writes the journal
// and is killed with SIGKILL mid-stream; every row it acknowledged must be there after.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'journal-crash-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(process.cwd(), 'dist', `journal-writer-${process.pid}.mjs`), { force: true });
});

describe('journal durability', () => {
  it('keeps every acknowledged event, decision and action across kill -9, fsynced or not', async () => {
    // Inside the checkout, so that the bundle resolves better-sqlite3 from node_modules.
    const bundle = join(process.cwd(), 'dist', `journal-writer-${process.pid}.mjs`);
    execFileSync('npx', [
      'esbuild',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--external:better-sqlite3',
      `--outfile=${bundle}`,
      'test/fixtures/journal/writer.ts',
    ]);
    const db = join(dir, 'j.sqlite');
    const child = spawn(process.execPath, [bundle, db], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: process.cwd(),
      env: { ...process.env, NODE_PATH: join(process.cwd(), 'node_modules') },
    });
    let acked = -1;
    let buf = '';
    const began = performance.now();
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) acked = Number(l.split(' ')[1]);
        // Past the first background checkpoints (every second), so that one may be under way.
        if (acked >= 300 && performance.now() - began > 2500 && child.exitCode === null) {
          child.kill('SIGKILL');
        }
      });
      child.once('exit', (_code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited by itself (${signal})`)),
      );
    });
    const j = new Journal(db).open();
    try {
      const c = j.read.counts();
      // Per acknowledged step: two events (one with the fsynced fence, one committed with the
      // health decision without fsync), two decisions and the starts of their two actions.
      expect(c.events).toBeGreaterThanOrEqual(2 * (acked + 1));
      expect(c.decisions).toBeGreaterThanOrEqual(2 * (acked + 1));
      expect(c.actions).toBeGreaterThanOrEqual(2 * (acked + 1));
      // Actions interrupted mid-way are there to be reconciled.
      expect(j.read.unfinishedActions().length).toBe(c.actions);
    } finally {
      j.close();
    }
  });
});
