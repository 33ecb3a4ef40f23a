// Entry of the helper process that spawns atcad's Pacemaker commands (bundled as
// dist/command-worker.mjs, next to dist/atcad.mjs). See worker-runner.ts for why.
import { type RunOptions, runCommandFrom } from './command-runner.js';
import { WarmSpawner } from './warm-spawn.js';

export interface RunRequest {
  readonly id: number;
  readonly argv: readonly string[];
  readonly opts: RunOptions;
}

const warm = new WarmSpawner();
const run = runCommandFrom(warm);

process.on('message', (m: RunRequest | 'close') => {
  if (m === 'close') {
    warm.close();
    process.send?.('closed');
    return;
  }
  void run(m.argv, m.opts).then((r) => {
    // An AtcaError does not survive serialisation as one: send its code and detail.
    const { error, ...rest } = r;
    process.send?.({ id: m.id, result: rest, error: error && { code: error.code, detail: error.detail } });
  });
});
// atcad is gone (or closed us): end the idle trampolines and go. Commands under way run on
// in their own process groups; nobody is left to want their results.
process.on('disconnect', () => {
  warm.close();
  process.exit(0);
});
