// Pure: what an action's result proves, and how the fencer's history reads for the guard and
// for settling an uncertain fence. Histories are as `stonith_admin --history --verbose
// --output-as=xml` gives them (parsed): completion in whole seconds, pending with none.
import { describe, expect, it } from 'vitest';
import { fencerView, outcomeOf, settledBy } from '../../src/engine/outcome.js';
import { AtcaError } from '../../src/errors.js';
import type { ActionResult, FenceHistoryEntry } from '../../src/pacemaker/actuator.js';

const T = Date.parse('2026-12-01T10:00:05Z');
const done = (action: string, completed: string, status: 'success' | 'failed' = 'success'): FenceHistoryEntry => ({
  action,
  target: 'node2',
  status,
  completed,
});
const pending = (action = 'reboot'): FenceHistoryEntry => ({ action, target: 'node2', status: 'pending' });
const result = (over: Partial<ActionResult>): ActionResult => ({
  ok: false,
  command: ['/usr/sbin/stonith_admin', '--reboot', 'node2'],
  exitCode: 1,
  durationMs: 10,
  stdout: '',
  stderr: '',
  ...over,
});

describe('outcomeOf', () => {
  it.each([
    ['done', result({ ok: true, exitCode: 0 }), 'ok'],
    ['exit 1 (the fencer tried and failed)', result({ error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'x') }), 'failed'],
    ['exit 124', result({ exitCode: 124, error: new AtcaError('ATCA_ERR_PCMK_TIMEOUT', 'x') }), 'uncertain'],
    [
      'killed at our timeout',
      result({ exitCode: null, error: new AtcaError('ATCA_ERR_PCMK_TIMEOUT', 'x') }),
      'uncertain',
    ],
    [
      'killed by someone',
      result({ exitCode: null, error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'stonith_admin was killed by SIGKILL') }),
      'uncertain',
    ],
    [
      'fencer unreachable (102, could not connect)',
      result({
        exitCode: 102,
        error: new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'stonith_admin exited 102: Could not connect to fencer'),
      }),
      'not-started',
    ],
    [
      'fencer lost mid-way (102 after connecting)',
      result({
        exitCode: 102,
        error: new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'stonith_admin exited 102: Not connected'),
      }),
      'uncertain',
    ],
    [
      'not executable',
      result({
        exitCode: null,
        error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'cannot run /usr/sbin/stonith_admin: ENOENT'),
      }),
      'not-started',
    ],
    [
      'a bad node name, caught before running',
      result({ command: [], exitCode: null, error: new AtcaError('ATCA_ERR_BAD_OPTION', 'x') }),
      'not-started',
    ],
  ])('%s → %s', (_what, r, want) => {
    expect(outcomeOf(r).outcome).toBe(want);
  });
});

describe('fencerView', () => {
  it('a fence pending is the cluster fencing the node', () => {
    expect(fencerView([pending()], T)).toBe('fencing');
  });
  it('a fence completed since the cutoff, counting the whole second it is stamped with', () => {
    // Stamped 10:00:05: it may have completed at 10:00:05.999, after a cutoff of 10:00:05.000.
    expect(fencerView([done('off', '2026-12-01T10:00:05Z')], T)).toBe('fenced-recently');
    expect(fencerView([done('reboot', '2026-12-01T10:00:04Z')], T)).toBe('none');
  });
  it('an unfencing (on) is no fence, done or pending; a failed fence is no fence either', () => {
    expect(fencerView([done('on', '2026-12-01T10:00:09Z'), pending('on')], T)).toBe('none');
    expect(fencerView([done('reboot', '2026-12-01T10:00:09Z', 'failed')], T)).toBe('none');
  });
  it('a fence the cluster has since undone (the node unfenced after it) is of an episode that is over', () => {
    const off = done('off', '2026-12-01T10:00:06Z');
    expect(fencerView([off, done('on', '2026-12-01T10:00:08Z')], T)).toBe('none');
    // Stamped in the same second, the order is not known: the fence stands.
    expect(fencerView([off, done('on', '2026-12-01T10:00:06Z')], T)).toBe('fenced-recently');
    // An unfencing before the fence, or one that failed, undoes nothing.
    expect(fencerView([done('on', '2026-12-01T10:00:05Z'), off], T)).toBe('fenced-recently');
    expect(fencerView([off, done('on', '2026-12-01T10:00:08Z', 'failed')], T)).toBe('fenced-recently');
  });
});

describe("fencerView with atcad's own fences", () => {
  it("atcad's own fence, ended before the slot was healthy again, is not this episode's, though stamped in the same second", () => {
    const own = done('reboot', '2026-12-01T10:00:05Z');
    // atcad's stonith_admin returned at 10:00:05.300; the slot was healthy again at 10:00:05.800.
    expect(fencerView([own], T + 800, [T + 300])).toBe('none');
    // Without that knowledge the whole second counts (the safe reading).
    expect(fencerView([own], T + 800)).toBe('fenced-recently');
    // One that ended after the cutoff is still this episode's.
    expect(fencerView([own], T + 800, [T + 900])).toBe('fenced-recently');
    // A fence of a later second is never explained by an earlier one of ours.
    expect(fencerView([done('reboot', '2026-12-01T10:00:06Z')], T + 800, [T + 300])).toBe('fenced-recently');
  });
});

describe('settledBy', () => {
  it('done, failed, still pending, or no record at all', () => {
    expect(settledBy([done('reboot', '2026-12-01T10:00:05Z')], T)).toBe('done');
    expect(settledBy([done('reboot', '2026-12-01T10:00:09Z', 'failed')], T)).toBe('failed');
    expect(settledBy([pending()], T)).toBe('pending');
    expect(settledBy([done('reboot', '2026-12-01T09:00:00Z')], T)).toBe('no-record');
    expect(settledBy([done('on', '2026-12-01T10:00:09Z')], T)).toBe('no-record');
  });
});
