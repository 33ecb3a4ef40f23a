// Entry of the thread that spawns atcad's Pacemaker commands (bundled as
// dist/command-worker.mjs, next to dist/atcad.mjs). See worker-runner.ts for why.
import { parentPort } from 'node:worker_threads';
import { type RunOptions, runCommandFrom } from './command-runner.js';
import { WarmSpawner } from './warm-spawn.js';

export interface RunRequest {
  readonly id: number;
  readonly argv: readonly string[];
  readonly opts: RunOptions;
}

const warm = new WarmSpawner();
const run = runCommandFrom(warm);

parentPort?.on('message', (m: RunRequest | 'close') => {
  if (m === 'close') {
    warm.close();
    parentPort?.postMessage('closed');
    return;
  }
  void run(m.argv, m.opts).then((r) => {
    // An AtcaError does not survive structured cloning as one: send its code and detail.
    const { error, ...rest } = r;
    parentPort?.postMessage({ id: m.id, result: rest, error: error && { code: error.code, detail: error.detail } });
  });
});
