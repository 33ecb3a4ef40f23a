// Everything a benchmark starts is registered here and stopped in reverse order at the end,
// pass or fail, and on Ctrl-C / SIGTERM: no peer outlives the run.

type Task = { readonly what: string; readonly run: () => Promise<unknown> | unknown };
const tasks: Task[] = [];
let running: Promise<void> | undefined;
let signalled = false;

/** Whether a signal started the clean-up: errors from the run are its consequence, not news. */
export function interrupted(): boolean {
  return signalled;
}

/** Registers a stop step; returns a function that runs it now (and only once). */
export function onCleanup(what: string, run: () => Promise<unknown> | unknown): () => Promise<void> {
  const task: Task = { what, run };
  tasks.push(task);
  return async () => {
    const i = tasks.indexOf(task);
    if (i < 0) return;
    tasks.splice(i, 1);
    await task.run();
  };
}

/** Runs every registered step, newest first; a failing step is reported and the rest still run. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const t = tasks.pop()!;
      try {
        await t.run();
      } catch (e) {
        console.error(`cleanup: stopping ${t.what} failed: ${(e as Error).message}`);
      }
    }
  })();
  return running;
}

/** On SIGINT/SIGTERM: clean up, then exit 130/143. A second signal exits at once. */
export function cleanupOnSignals(): void {
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      if (running) process.exit(code);
      signalled = true;
      console.error(`\n${sig}: stopping everything this benchmark started…`);
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}

/** Kills a process by its PID: `signal`, then SIGKILL after `graceMs` if it is still there. */
export async function killPid(
  pid: number | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (pid === undefined) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, signal);
  const by = Date.now() + graceMs;
  while (alive() && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
  if (alive()) process.kill(pid, 'SIGKILL');
}
