// The journal's WAL is copied into the database by a thread of its own (atcad's setting), not
// inside a commit on the way from a trap to its command. Real SQLite files: the database file
// grows only when a checkpoint copies pages into it, and the commits here never checkpoint
// below 10,000 WAL pages.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { until } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'journal-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fill(j: Journal, n: number): void {
  for (let i = 0; i < n; i++) {
    j.appendEvent({
      at: Date.now(),
      source: 'test',
      kind: 'hotswap',
      understood: true,
      body: { i, pad: 'x'.repeat(200) },
    });
    if (i % 1000 === 999) j.flush();
  }
  j.flush();
}

describe('journal checkpoints', () => {
  it('are made in the background: the database file takes the rows without a commit checkpointing', async () => {
    const path = join(dir, 'bg.sqlite');
    const errors: Error[] = [];
    const j = new Journal(path, { backgroundCheckpoint: true, onError: (e) => errors.push(e) }).open();
    try {
      const empty = statSync(path).size;
      // Past 1000 WAL pages (4 KiB each): where a commit would checkpoint by default.
      fill(j, 20_000);
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(4_096_000);
      await until('a background checkpoint', () => statSync(path).size > empty + 500_000, 10_000);
      expect(errors).toEqual([]);
      expect(j.read.counts().events).toBe(20_000);
    } finally {
      j.close();
    }
    // Closed: everything is in the database file, readable by a new journal.
    const again = new Journal(path).open();
    expect(again.read.counts().events).toBe(20_000);
    again.close();
  });

  it('without the thread, commits checkpoint as SQLite does by default', async () => {
    const path = join(dir, 'fg.sqlite');
    const j = new Journal(path).open();
    try {
      const empty = statSync(path).size;
      fill(j, 20_000);
      // More than 1000 pages were committed: a commit checkpointed on its own.
      expect(statSync(path).size).toBeGreaterThan(empty + 500_000);
    } finally {
      j.close();
    }
  });
});
