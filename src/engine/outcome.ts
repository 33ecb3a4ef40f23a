import type { ActionStatus } from '../journal/schema.js';
import type { ActionResult, FenceHistoryEntry } from '../pacemaker/actuator.js';
import type { ActionOutcome, FencerView } from '../policy/types.js';

/**
 * What an action's result proves. A fence that timed out, or whose client was killed, is
 * uncertain — the fencer carries on without its client — so it counts until the fencer's
 * history settles it. Only a command that provably never reached the cluster (it could not
 * be executed, or the daemon was unreachable: Pacemaker's exit 102) did not start.
 */
export function outcomeOf(r: ActionResult): { readonly outcome: ActionOutcome; readonly status: ActionStatus } {
  if (r.ok) return { outcome: 'ok', status: 'succeeded' };
  const code = r.error?.code;
  if (code === 'ATCA_ERR_PCMK_TIMEOUT' || r.exitCode === 124) return { outcome: 'uncertain', status: 'uncertain' };
  // Exit 102 is also what a client gets when the fencer drops it mid-operation: only "could
  // not connect" proves the request never reached it.
  if (code === 'ATCA_ERR_PCMK_UNREACHABLE') {
    return /Could not connect|Connection to cluster failed/i.test(`${r.error?.detail ?? ''} ${r.stderr}`)
      ? { outcome: 'not-started', status: 'not-started' }
      : { outcome: 'uncertain', status: 'uncertain' };
  }
  if (r.exitCode === null) {
    // Never exited by itself: either it never ran (could not be executed, a bad argument
    // caught before running: no command), or it was killed from outside while running.
    return r.command.length === 0 || /cannot run|empty command/.test(r.error?.detail ?? '')
      ? { outcome: 'not-started', status: 'not-started' }
      : { outcome: 'uncertain', status: 'uncertain' };
  }
  return { outcome: 'failed', status: 'failed' };
}

/** An unfencing (`on`) powers a node up: it is no fence. */
function isFence(h: FenceHistoryEntry): boolean {
  return h.action !== 'on';
}

/**
 * The fencer's history of a node, as the guard before a fence reads it: a fence pending now,
 * or one that succeeded since `since` (the start of the fault episode, less a margin for a
 * fence that caused the very fault atcad saw). `ownFenceEnds`: when atcad's own fences of the
 * node ended (ms), to tell them apart within the history's whole seconds.
 */
export function fencerView(
  all: readonly FenceHistoryEntry[],
  since: number,
  ownFenceEnds: readonly number[] = [],
): FencerView {
  const history = all.filter(isFence);
  if (history.some((h) => h.status === 'pending')) return 'fencing';
  // A node unfenced (powered on by the cluster) after its fence is back in service: that
  // fence is of an episode that is over, however recent. Only a later completion supersedes
  // (same second: the fence stands — the safe reading).
  const unfencedAt = Math.max(
    -Infinity,
    ...all
      .filter((h) => h.action === 'on' && h.status === 'success' && h.completed !== undefined)
      .map((h) => Date.parse(h.completed!)),
  );
  // Completion times are whole seconds: a fence "completed at 12:00:05" may have completed
  // until 12:00:05.999, so it counts if that could be after `since` (the safe reading).
  // atcad's own fences, known to the millisecond (when its stonith_admin returned): an entry
  // stamped in the second one of them ended in (or the second before), where that one ended
  // before `since`, is that fence — of the episode that ended when the slot was healthy again —
  // not a fence of this one that the whole-second stamp merely cannot rule out.
  const ours = (t: number) => ownFenceEnds.some((e) => e < since && t <= e && e - t < 2000);
  const recent = history.some((h) => {
    if (h.status !== 'success' || h.completed === undefined) return false;
    const t = Date.parse(h.completed);
    return t + 1000 > since && !(unfencedAt > t) && !(t < since && ours(t));
  });
  return recent ? 'fenced-recently' : 'none';
}

/**
 * How the fencer's history settles a fence atcad started at `startedAt`: done, failed, still
 * pending, or no record of it at all. Completion times are whole seconds: a second of slack.
 */
export function settledBy(
  all: readonly FenceHistoryEntry[],
  startedAt: number,
): 'done' | 'failed' | 'pending' | 'no-record' {
  const history = all.filter(isFence);
  const after = history.filter((h) => h.completed !== undefined && Date.parse(h.completed) >= startedAt - 1000);
  if (after.some((h) => h.status === 'success')) return 'done';
  if (history.some((h) => h.status === 'pending')) return 'pending';
  if (after.some((h) => h.status === 'failed')) return 'failed';
  return 'no-record';
}
