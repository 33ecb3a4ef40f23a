import type { FaultClass } from '../domain/faults.js';
import type { AtcaError } from '../errors.js';
import type { ActionResultRow, DecisionRow, Durability, Journal } from '../journal/journal.js';
import type { ActionStatus } from '../journal/schema.js';
import type { Logger } from '../log.js';
import type { ActionResult, ClusterActuator } from '../pacemaker/actuator.js';
import { newSlotState, worseHealth } from '../policy/decide.js';
import type {
  ActionOutcome,
  ClusterView,
  Decision,
  Evidence,
  FenceRecord,
  FencerView,
  Health,
  PolicyConfig,
  PolicyState,
  SlotPolicyState,
} from '../policy/types.js';
import { mayRaise } from '../shelf/classify.js';
import type { Confirmation } from '../shelf/confirm.js';
import { InputQueue } from './input-queue.js';
import { fencerView, outcomeOf, settledBy } from './outcome.js';
import { type CoreInput, type CoreState, step } from './step.js';

/** Reads a slot afresh and says what the reading shows of a fault. Never rejects. */
export interface SlotReader {
  confirm(slot: string, fault: FaultClass): Promise<Confirmation>;
}

export interface EngineSlot {
  readonly key: string;
  readonly node: string | undefined;
  readonly maintenance: boolean;
}

export interface EngineOptions {
  readonly policy: PolicyConfig;
  readonly slots: readonly EngineSlot[];
  readonly journal: Journal;
  readonly actuator: ClusterActuator;
  readonly reader: SlotReader;
  readonly log: Logger;
  readonly now?: () => number;
  /** Called for each decision once it is journaled (tests, the event stream). */
  readonly onDecision?: (d: Decision) => void;
  /** Called once per step whose decisions were journaled, with its input (metrics: trap → decision). */
  readonly onStep?: (input: CoreInput, decisions: readonly Decision[], at: number) => void;
  /** Called when an action's outcome is known (metrics). */
  readonly onActionDone?: (kind: 'health' | 'standby' | 'fence', status: string) => void;
  /** Inputs about this shelf were dropped (queue full): its poller should read levels again. */
  readonly onLoss?: (shelf: string) => void;
  /** Bound of the input queue (default 10,000). */
  readonly maxQueued?: number;
  readonly tickMs?: number;
  /** A fence of the node by the cluster this long before the fault began belongs to its episode (default 30 s). */
  readonly recentFenceMs?: number;
  /** First look at the fencer's history after a fence's outcome became uncertain. */
  readonly reconcileMs?: number;
  /** A fence the fencer has no record of this long after it started is settled as failed. */
  readonly giveUpMs?: number;
}

export interface EngineStats {
  readonly queued: number;
  /** Inputs dropped because the queue was full (events only; polling re-reads what they said). */
  readonly dropped: number;
  readonly steps: number;
  /** Steps whose decisions could not be journaled, and so were neither adopted nor carried out. */
  readonly journalFailures: number;
  /** The decision queue waits for the journal: since when, or undefined. */
  readonly blockedSince: number | undefined;
  /** Action outcomes not yet written to the journal (retried). */
  readonly unsavedResults: number;
}

const ACTION_OF: Partial<Record<Decision['kind'], 'health' | 'standby' | 'fence'>> = {
  'set-health': 'health',
  'set-standby': 'standby',
  fence: 'fence',
};

/** A fresh reading older than this when its turn comes (the journal was failing) is not acted on. */
const STALE_CONFIRMATION_MS = 5000;
/** How long the decision queue runs before it lets the event loop read sockets again. */
const SLICE_MS = 10;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
const RECONCILE_MAX_MS = 30_000;
/** A journal that keeps failing is reported at most this often. */
const REPORT_EVERY_MS = 10_000;

function durabilityOf(decisions: readonly Decision[]): Durability {
  return decisions.some((d) => d.kind === 'fence' || d.kind === 'set-standby') ? 'fsync' : 'os';
}

function rowOf(d: Decision, at: number): DecisionRow {
  const kind = ACTION_OF[d.kind];
  const node = 'node' in d ? d.node : undefined;
  const value = d.kind === 'set-health' ? d.value : d.kind === 'set-standby' ? (d.on ? 'on' : 'off') : undefined;
  return {
    at,
    slot: d.slot,
    kind: d.kind,
    node,
    reason: d.reason,
    evidence: d.evidence,
    body: d,
    ...(kind ? { action: { kind, node, ...(value === undefined ? {} : { value }) } } : {}),
  };
}

function fenceStatusOf(s: ActionStatus): FenceRecord['status'] {
  if (s === 'succeeded' || s === 'reconciled-done') return 'done';
  if (s === 'failed' || s === 'reconciled-failed' || s === 'abandoned') return 'failed';
  return 'uncertain';
}

/**
 * atcad's runtime: one queue of inputs, each turned by the pure core (step.ts) into decisions
 * that are journaled before the new state is adopted or anything is carried out — a step whose
 * journal write fails is not adopted, its input stays at the head of the queue, and the queue
 * waits (bounded: the oldest events go first, and the shelf is read again) until the journal
 * takes writes again. It runs confirmations (a fresh reading, and for a fence the cluster and
 * the fencer's history), carries out actions (one node's in order, nodes in parallel), and
 * settles every fence whose outcome is uncertain through the fencer's history — at once, and
 * after a restart. Construction does no I/O; start() reads the journal.
 */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class Engine {
  readonly #o: EngineOptions;
  readonly #now: () => number;
  readonly #queue: InputQueue<CoreInput>;
  #state: CoreState;
  #scheduled = false;
  #blockedSince: number | undefined;
  #retryMs = RETRY_FIRST_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #reportedAt = Number.NEGATIVE_INFINITY;
  #steps = 0;
  #journalFailures = 0;
  #ticker: NodeJS.Timeout | undefined;
  #stopped = false;
  #stopping = false;
  readonly #running = new Set<Promise<unknown>>();
  readonly #nodeChains = new Map<string, Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #unsaved: { id: number; row: ActionResultRow; durability: Durability }[] = [];
  #unsavedError: string | undefined;
  #unsavedTimer: NodeJS.Timeout | undefined;
  readonly #lossReported = new Map<string, number>();
  readonly #lostShelves = new Set<string>();

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#queue = new InputQueue<CoreInput>(o.maxQueued ?? 10_000, (i) =>
      i.kind === 'event' ? (mayRaise(i.event) ? 2 : 1) : i.kind === 'tick' ? 1 : 0,
    );
    const slots = new Map(o.slots.map((s) => [s.key, newSlotState(s.key, s.node, s.maintenance)] as const));
    this.#state = { memory: new Map(), policy: { slots, fences: [] } };
  }

  get policy(): PolicyState {
    return this.#state.policy;
  }

  get stats(): EngineStats {
    return {
      queued: this.#queue.size,
      dropped: this.#queue.dropped,
      steps: this.#steps,
      journalFailures: this.#journalFailures,
      blockedSince: this.#blockedSince,
      unsavedResults: this.#unsaved.length,
    };
  }

  /**
   * Restores what must survive a restart from the journal — every fence still counting
   * against the budget, fences whose outcome a crash left open (settled through the fencer's
   * history, never repeated), the health and standby last applied — then starts ticking.
   * Throws ATCA_ERR_JOURNAL if the journal cannot be read or written.
   */
  start(): void {
    this.#restore();
    this.#ticker = setInterval(() => this.#tick(), this.#o.tickMs ?? 100);
  }

  #restore(): void {
    const j = this.#o.journal;
    const now = this.#now();
    const slots = new Map(this.#state.policy.slots);
    const reconcile: { id: number; node: string; slot: string; startedAt: number }[] = [];
    for (const a of j.read.unfinishedActions()) {
      if (a.kind === 'fence') {
        if (a.status === 'started') {
          j.completeAction(
            a.id,
            {
              status: 'uncertain',
              at: now,
              note: "interrupted by a restart: not repeated; counts against the budget until the fencer's history settles it",
            },
            'fsync',
          );
        }
        const s = slots.get(a.slot);
        if (s) slots.set(a.slot, { ...s, inFlight: 'fence' });
        if (a.node) reconcile.push({ id: a.id, node: a.node, slot: a.slot, startedAt: a.startedAt });
      } else {
        j.completeAction(
          a.id,
          { status: 'abandoned', at: now, note: 'interrupted by a restart; idempotent, decided afresh' },
          'os',
        );
      }
    }
    const fences: FenceRecord[] = j.read
      .fencesSince(now - this.#o.policy.fenceWindowMs)
      .map((a) => ({ slot: a.slot, node: a.node ?? '', at: a.startedAt, status: fenceStatusOf(a.status) }));
    for (const [key, s] of slots) {
      // Nothing is known of the slot until it is read again: no recovery before that.
      // An operator's maintenance switch outlives a restart; the configuration's `maintenance:
      // true` is a floor no switch lowers.
      let next: SlotPolicyState = {
        ...s,
        unread: true,
        maintenance: s.maintenance || (j.read.lastMaintenance(key) ?? false),
      };
      // A fault episode the last run fenced goes on until the slot is seen active and clear.
      const fence = j.read.lastFence(key);
      if (fence && (fence.status === 'succeeded' || fence.status === 'reconciled-done')) {
        if (!j.read.decidedSince(key, 'episode-end', fence.startedAt)) next = { ...next, fencedInEpisode: true };
      }
      if (s.node) {
        // What the last run applied, and what it may have applied: an action a restart cut
        // short (or that failed) may or may not have taken effect, so the worse of the two is
        // taken as applied and asked for again.
        const health = (j.read.lastValue('health', s.node) ?? 'green') as Health;
        const lastHealth = j.read.lastAction('health', s.node);
        const healthOpen = lastHealth !== undefined && lastHealth.status !== 'succeeded';
        const standbyOn = j.read.lastValue('standby', s.node) === 'on';
        const lastStandby = j.read.lastAction('standby', s.node);
        const standbyOpen = lastStandby !== undefined && lastStandby.status !== 'succeeded';
        const wantStandby = standbyOn || (standbyOpen && lastStandby.value === 'on');
        next = {
          ...next,
          health: healthOpen ? worseHealth(health, (lastHealth.value ?? 'green') as Health) : health,
          healthRetryAt: healthOpen ? now : undefined,
          standby: wantStandby,
          standbyRetry: standbyOpen ? { on: wantStandby, at: now } : undefined,
        };
      }
      slots.set(key, next);
    }
    this.#state = { ...this.#state, policy: { slots, fences } };
    for (const r of reconcile) this.#reconcileLater(r.id, r.node, r.slot, r.startedAt, 0);
  }

  /** Queues an input; decisions follow in order, one input at a time. */
  submit(input: CoreInput): void {
    if (this.#stopped) return;
    const gone = this.#queue.push(input);
    if (gone?.kind === 'event') this.#lost(gone.event.shelf);
    this.#schedule();
  }

  /**
   * Events of `shelf` were dropped: once the queue has drained (not now, when what the shelf is
   * read for would be dropped too), its slots are read again as they are.
   */
  #lost(shelf: string): void {
    const now = this.#now();
    if (!this.#lostShelves.has(shelf) && now - (this.#lossReported.get(shelf) ?? Number.NEGATIVE_INFINITY) >= 1000) {
      this.#lossReported.set(shelf, now);
      this.#o.log.warn(
        `decision queue full (${this.#queue.size} inputs, ${this.#queue.dropped} dropped so far): events of shelf ${shelf} were dropped; its slots are read again once the queue drains`,
      );
    }
    this.#lostShelves.add(shelf);
  }

  #tick(): void {
    if (this.#queue.some((i) => i.kind === 'tick')) return;
    this.submit({ kind: 'tick', at: this.#now() });
  }

  #schedule(): void {
    if (this.#scheduled || this.#blockedSince !== undefined) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const until = performance.now() + SLICE_MS;
    for (;;) {
      const input = this.#ready(this.#queue.peek());
      if (input === undefined && this.#lostShelves.size > 0) {
        const lost = [...this.#lostShelves];
        this.#lostShelves.clear();
        for (const shelf of lost) this.#o.onLoss?.(shelf);
      }
      if (input === undefined || this.#blockedSince !== undefined) return;
      const r = step(this.#state, input, this.#o.policy);
      let ids: { actionIds: (number | undefined)[] } | undefined;
      if (r.decisions.length > 0) {
        const at = this.#now();
        try {
          ids = this.#o.journal.commit(
            r.decisions.map((d) => rowOf(d, at)),
            durabilityOf(r.decisions),
          );
        } catch (e) {
          this.#journalFailed(e as AtcaError, r.decisions);
          return;
        }
        this.#journalWorks();
      }
      this.#state = r.state;
      this.#queue.shift();
      this.#steps++;
      if (ids) {
        // An observer (metrics) must never keep a decided action from being carried out.
        this.#observe(() => this.#o.onStep?.(input, r.decisions, this.#now()));
        this.#carryOut(r.decisions, ids.actionIds);
      }
      if (performance.now() > until) {
        this.#schedule();
        return;
      }
    }
  }

  /**
   * The input as it may be stepped now: while stopping, no new confirmation is acted on and
   * nothing is confirmed (a stop must not start a fence); a confirmation older than
   * STALE_CONFIRMATION_MS (it waited for the journal) is read again, not acted on.
   */
  #ready(input: CoreInput | undefined): CoreInput | undefined {
    if (input === undefined) return undefined;
    if (this.#stopping && (input.kind === 'confirmation' || input.kind === 'tick')) {
      this.#queue.shift();
      if (input.kind === 'confirmation') {
        this.#o.log.warn(`${input.slot}: stopping: the confirmation of ${input.fault} is not acted on`);
      }
      return this.#ready(this.#queue.peek());
    }
    if (input.kind === 'confirmation') {
      const age = this.#now() - input.at;
      if (age > STALE_CONFIRMATION_MS) {
        // Read again, not acted on: nothing of what was read then (the blade off, the cluster's
        // membership, the fencer's history) is taken as true now.
        const { payloadOff: _off, cluster: _cluster, fencer: _fencer, ...rest } = input;
        const stale: CoreInput = {
          ...rest,
          verdict: 'unknown',
          at: this.#now(),
          evidence: [
            ...input.evidence,
            {
              source: 'confirm',
              at: this.#now(),
              summary: `that reading is ${Math.round(age / 1000)} s old (decisions waited): it is read again, not acted on`,
            },
          ],
        };
        return stale;
      }
    }
    return input;
  }

  /** Journal first: the step is not adopted, nothing is done, and the queue waits for the journal. */
  #journalFailed(e: AtcaError, decisions: readonly Decision[]): void {
    this.#journalFailures++;
    const now = this.#now();
    this.#blockedSince ??= now;
    if (now - this.#reportedAt >= REPORT_EVERY_MS) {
      this.#reportedAt = now;
      const what = decisions.map((d) => `${d.kind} ${d.slot}`).join(', ');
      this.#o.log.error(
        `journal write failed, so nothing is carried out and decisions wait (${what}): ${e.message}; retrying every ${Math.round(this.#retryMs / 1000)} s`,
      );
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#blockedSince = undefined;
      this.#schedule();
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  #journalWorks(): void {
    if (this.#retryMs === RETRY_FIRST_MS) return;
    this.#o.log.warn('journal writes again: decisions resume');
    this.#retryMs = RETRY_FIRST_MS;
    this.#reportedAt = Number.NEGATIVE_INFINITY;
  }

  #carryOut(decisions: readonly Decision[], actionIds: readonly (number | undefined)[]): void {
    decisions.forEach((d, i) => {
      this.#o.onDecision?.(d);
      const id = actionIds[i];
      switch (d.kind) {
        case 'set-health':
          this.#perNode(d.node, () => this.#act(d, id!, 'health', () => this.#o.actuator.setHealth(d.node, d.value)));
          break;
        case 'set-standby':
          this.#perNode(d.node, () => this.#act(d, id!, 'standby', () => this.#o.actuator.setStandby(d.node, d.on)));
          break;
        case 'fence':
          this.#perNode(d.node, () => this.#act(d, id!, 'fence', () => this.#o.actuator.fence(d.node)));
          break;
        case 'confirm':
          this.#track(this.#confirm(d));
          break;
        case 'record':
        case 'episode-end':
        case 'blocked':
        case 'maintenance':
        case 'ack':
          this.#o.log.info(`${d.slot}: ${d.kind}: ${d.reason}`);
          break;
      }
    });
  }

  #observe(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#o.log.error(`internal: an observer failed: ${(e as Error).stack ?? e}`);
    }
  }

  #track<T>(p: Promise<T>): void {
    const q = p.catch((e) => this.#o.log.error(`internal: ${(e as Error).stack ?? e}`));
    this.#running.add(q);
    void q.finally(() => this.#running.delete(q));
  }

  /**
   * Actions run outside the decision queue, so a fence that takes seconds does not hold up
   * decisions about other slots; actions on one node run in order (a red then a green must
   * not land green then red).
   */
  #perNode(node: string, f: () => Promise<void>): void {
    const next = (this.#nodeChains.get(node) ?? Promise.resolve()).then(f);
    const tail = next.catch((e) => this.#o.log.error(`action on ${node}: internal: ${(e as Error).stack ?? e}`));
    this.#nodeChains.set(node, tail);
    this.#track(tail);
    void tail.finally(() => {
      if (this.#nodeChains.get(node) === tail) this.#nodeChains.delete(node);
    });
  }

  async #act(
    d: Decision,
    actionId: number,
    kind: 'health' | 'standby' | 'fence',
    run: () => Promise<ActionResult>,
  ): Promise<void> {
    const node = 'node' in d ? d.node : '';
    const startedAt = this.#now();
    const r = await run();
    const { outcome, status } =
      kind === 'fence' ? outcomeOf(r) : r.ok ? outcomeOf(r) : { outcome: 'failed' as const, status: 'failed' as const };
    const said = `${r.command.join(' ')}${r.error ? ` — ${r.error.message} [${r.error.code}]` : ''}`;
    this.#complete(
      actionId,
      {
        status,
        at: this.#now(),
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        stdout: r.stdout,
        stderr: r.stderr,
        command: r.command,
        note: outcome === 'uncertain' ? `${said}; outcome uncertain: settled through the fencer's history` : said,
      },
      kind === 'health' ? 'os' : 'fsync',
    );
    // An observer must never keep the outcome from reaching the policy (the slot would stay in flight).
    this.#observe(() => this.#o.onActionDone?.(kind, status));
    if (!r.ok) this.#o.log.error(`${kind} of ${node}: ${outcome}: ${r.error?.message ?? `exit ${r.exitCode}`}`);
    const evidence: Evidence = {
      source: 'action',
      at: this.#now(),
      summary: `${r.command.join(' ') || kind} → ${r.exitCode ?? outcome}`,
    };
    this.submit({ kind: 'action-done', slot: d.slot, action: kind, outcome, evidence });
    if (kind === 'fence' && outcome === 'uncertain')
      this.#reconcileLater(actionId, node, d.slot, startedAt, this.#o.reconcileMs ?? 1000);
  }

  /**
   * An action's outcome, written now or, if the journal fails, kept and written later — in
   * order: an outcome never overtakes an older one still waiting, and a newer outcome of the
   * same action (a reconciled fence after its "uncertain") replaces the waiting one, so a late
   * retry can never write an outcome over a newer one.
   */
  #complete(id: number, row: ActionResultRow, durability: Durability): void {
    if (this.#unsaved.length > 0) {
      const same = this.#unsaved.findIndex((u) => u.id === id);
      // The newer outcome wins, keeping what only the older one knew (the command, its output).
      const older = same >= 0 ? this.#unsaved.splice(same, 1)[0]!.row : undefined;
      this.#unsaved.push({ id, row: older ? { ...older, ...stripUndefined(row) } : row, durability });
      this.#saveUnsaved();
      return;
    }
    try {
      this.#o.journal.completeAction(id, row, durability);
    } catch (e) {
      this.#o.log.error(
        `journal: the outcome of action ${id} (${row.status}) cannot be written yet: ${(e as Error).message}`,
      );
      this.#unsaved.push({ id, row, durability });
      this.#saveLater();
    }
  }

  /** Writes the waiting outcomes, oldest first, until one fails. Whether all were written. */
  #saveUnsaved(): boolean {
    while (this.#unsaved.length > 0) {
      const u = this.#unsaved[0]!;
      try {
        this.#o.journal.completeAction(u.id, u.row, u.durability);
      } catch (e) {
        this.#unsavedError = (e as Error).message;
        this.#saveLater();
        return false;
      }
      this.#unsaved.shift();
    }
    this.#unsavedError = undefined;
    return true;
  }

  #saveLater(): void {
    if (this.#unsavedTimer || this.#stopped) return;
    this.#unsavedTimer = setTimeout(() => {
      this.#unsavedTimer = undefined;
      this.#saveUnsaved();
    }, RETRY_MAX_MS / 2);
  }

  async #confirm(d: Extract<Decision, { kind: 'confirm' }>): Promise<void> {
    if (this.#stopping) return;
    try {
      await this.#confirmNow(d);
    } catch (e) {
      // A bug of ours must not leave the slot waiting for an answer for ever.
      this.#o.log.error(`${d.slot}: confirmation failed internally: ${(e as Error).stack ?? e}`);
      this.submit({
        kind: 'confirmation',
        slot: d.slot,
        fault: d.fault,
        token: d.token,
        verdict: 'unknown',
        at: this.#now(),
        evidence: [{ source: 'confirm', at: this.#now(), summary: `internal error: ${(e as Error).message}` }],
      });
    }
  }

  /**
   * When atcad's last fence of `slot` ended (ms), if it completed: the one whose whole-second
   * stamp in the fencer's history could be mistaken for this episode's. None if unreadable.
   */
  #ownFenceEnds(slot: string): number[] {
    try {
      const f = this.#o.journal.read.lastFence(slot);
      return f && (f.status === 'succeeded' || f.status === 'reconciled-done') && f.endedAt !== null ? [f.endedAt] : [];
    } catch {
      // Unreadable: every fence in the whole second counts (the safe reading).
      return [];
    }
  }

  async #confirmNow(d: Extract<Decision, { kind: 'confirm' }>): Promise<void> {
    // A cluster fence belongs to this episode if it completed since the slot was last seen
    // healthy — or, when it never was (atcad started with the slot already faulty), shortly
    // before the fault began (the fence may have caused what atcad saw) or after.
    const cutoff = d.healthyAt ?? d.since - (this.#o.recentFenceMs ?? 30_000);
    const [hw, cluster, history] = await Promise.allSettled([
      this.#o.reader.confirm(d.slot, d.fault),
      d.readCluster ? this.#o.actuator.cluster() : Promise.resolve(undefined),
      d.readFencer ? this.#o.actuator.fenceHistory(d.node) : Promise.resolve([]),
    ]);
    const at = this.#now();
    const hardware: Confirmation =
      hw.status === 'fulfilled'
        ? hw.value
        : { verdict: 'unknown', summary: `fresh reading failed: ${(hw.reason as Error).message}` };
    const evidence: Evidence[] = [{ source: 'confirm', at, summary: `${hardware.summary} → ${hardware.verdict}` }];
    let view: ClusterView | undefined;
    let fencer: FencerView | undefined;
    if (d.readCluster) {
      view = cluster.status === 'fulfilled' ? cluster.value : undefined;
      evidence.push({
        source: 'cluster',
        at,
        summary: view
          ? `cluster: ${view.withQuorum ? 'quorate' : 'NOT quorate'}, voting members online ${view.votersOnline.join(', ') || 'none'} of ${view.votersTotal}${view.quorum === undefined ? '' : `, quorum ${view.quorum} votes`}`
          : `cluster membership unreadable: ${(cluster as PromiseRejectedResult).reason?.message ?? ''}`,
      });
    }
    if (d.readFencer) {
      fencer =
        history.status === 'fulfilled' ? fencerView(history.value, cutoff, this.#ownFenceEnds(d.slot)) : 'unknown';
      evidence.push({
        source: 'cluster',
        at,
        summary:
          history.status === 'fulfilled'
            ? `fencer history of ${d.node}: ${fencer}`
            : `fencer history of ${d.node} unreadable: ${(history.reason as Error).message}`,
      });
    }
    this.submit({
      kind: 'confirmation',
      slot: d.slot,
      fault: d.fault,
      token: d.token,
      verdict: hardware.verdict,
      evidence,
      at,
      cluster: view,
      fencer,
      ...(hardware.payloadOff === undefined ? {} : { payloadOff: hardware.payloadOff }),
    });
  }

  /** Settles an uncertain fence through the fencer's history: done, failed, or (still pending) later. */
  #reconcileLater(actionId: number, node: string, slot: string, startedAt: number, delay: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#track(this.#reconcile(actionId, node, slot, startedAt, delay));
    }, delay);
    this.#timers.add(timer);
  }

  async #reconcile(actionId: number, node: string, slot: string, startedAt: number, delay: number): Promise<void> {
    const again = () =>
      this.#reconcileLater(actionId, node, slot, startedAt, Math.min(RECONCILE_MAX_MS, Math.max(1000, delay * 2)));
    let settled: ReturnType<typeof settledBy>;
    try {
      settled = settledBy(await this.#o.actuator.fenceHistory(node), startedAt);
    } catch (e) {
      this.#o.log.warn(
        `fence of ${node} (action ${actionId}) still uncertain: the fencer's history is unreadable: ${(e as Error).message}`,
      );
      again();
      return;
    }
    const giveUp = this.#o.giveUpMs ?? 300_000;
    if (settled === 'pending' || (settled === 'no-record' && this.#now() - startedAt < giveUp)) {
      again();
      return;
    }
    const outcome: ActionOutcome = settled === 'done' ? 'ok' : 'failed';
    const note =
      settled === 'done'
        ? "the fencer's history shows the fence completed"
        : settled === 'failed'
          ? "the fencer's history shows the fence failed"
          : `the fencer has no record of it ${Math.round(giveUp / 1000)} s after it started: taken as not done (it still counts against the budget)`;
    this.#complete(
      actionId,
      { status: settled === 'done' ? 'reconciled-done' : 'reconciled-failed', at: this.#now(), note },
      'fsync',
    );
    this.submit({
      kind: 'action-done',
      slot,
      action: 'fence',
      outcome,
      evidence: { source: 'cluster', at: this.#now(), summary: note },
    });
  }

  /** Stops ticking and reconciling; waits for the queue, confirmations and actions under way. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#ticker) clearInterval(this.#ticker);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (;;) {
      while (this.#queue.size > 0 && this.#blockedSince === undefined) {
        this.#drain();
        await new Promise((r) => setImmediate(r));
      }
      if (this.#running.size === 0) break;
      await Promise.all([...this.#running]);
    }
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const t of this.#timers) clearTimeout(t);
    if (this.#unsavedTimer) clearTimeout(this.#unsavedTimer);
    this.#unsavedTimer = undefined;
    // A last try; what still cannot be written is taken up at the next start (those actions
    // read "started" there: a fence is then settled through the fencer, never repeated blindly).
    // (#saveLater schedules nothing once stopped.)
    if (this.#unsaved.length > 0 && !this.#saveUnsaved()) {
      this.#o.log.error(
        `journal: ${this.#unsaved.length} action outcomes could not be written before stopping (${this.#unsavedError}); the next start settles those actions afresh`,
      );
    }
  }

  /** For tests: the slot's policy state. */
  slot(key: string): SlotPolicyState | undefined {
    return this.#state.policy.slots.get(key);
  }
}
