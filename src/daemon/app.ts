import { readSecret } from '../config/load.js';
import type { AtcadConfig } from '../config/schema.js';
import type { DomainEvent } from '../domain/events.js';
import { DEFAULT_RULES } from '../domain/faults.js';
import { hexByte } from '../ipmi/ipmitool-argv.js';
import { PollLimiter } from '../ipmi/poll-limiter.js';
import type { SelRecord } from '../ipmi/sel.js';
import { ShelfPoller } from '../ipmi/shelf-poller.js';
import { Journal } from '../journal/journal.js';
import type { Logger } from '../log.js';
import type { ActionResult, ClusterActuator } from '../pacemaker/actuator.js';
import { createActuator } from '../pacemaker/create.js';
import { decide, newSlotState } from '../policy/decide.js';
import type { Decision, Evidence, PolicyConfig, PolicyInput, PolicyState } from '../policy/types.js';
import { classify } from '../shelf/classify.js';
import { confirms } from '../shelf/confirm.js';
import { isSensorFault } from '../shelf/fault-sensors.js';
import { type ModelView, slotView } from '../shelf/model.js';
import { type ReceivedTrap, TrapReceiver } from '../snmp/trap-receiver.js';

export interface AppDeps {
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly actuator?: ClusterActuator;
  readonly now?: () => number;
  /** Called for each decision after it is journaled (tests, the event stream). */
  readonly onDecision?: (d: Decision) => void;
}

export interface App {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly journal: Journal;
  readonly trapPort: number | undefined;
  readonly trapCounters: TrapReceiver['counters'] | undefined;
  policyState(): PolicyState;
  /** The live model: shelves, slots, sensors, health and its reasons. */
  model(): ModelView;
}

const TICK_MS = 100;
const PRUNE_EVERY_MS = 3_600_000;
const NODES_REFRESH_MS = 10_000;

const slotKey = (shelf: string, slot: number) => `${shelf}/${slot}`;

/**
 * Wires the daemon — no I/O of its own: traps and polls become domain events, events become
 * observations, the pure policy turns them into decisions, and only the actuator acts. Every
 * event, decision and action is journaled before anything is acted on.
 */
export function buildApp(cfg: AtcadConfig, deps: AppDeps): App {
  const { log } = deps;
  const now = deps.now ?? Date.now;
  const env = deps.env ?? process.env;
  const journal = new Journal(cfg.journal.path, { backgroundCheckpoint: true });
  journal.onFlushError = (e) => log.error(`journal: ${e.message} (events kept for the next write)`);
  journal.onCheckpointError = (e) => log.warn(`journal: ${e.message}`);
  const actuator = deps.actuator ?? createActuator(cfg.pacemaker);
  const nodeCount = cfg.shelves.reduce((n, s) => n + Object.keys(s.slots).length, 0);
  const policyCfg: PolicyConfig = {
    rules: { ...DEFAULT_RULES, ...cfg.policy.rules },
    sustainMs: cfg.policy.sustainMs,
    debounceMs: cfg.policy.debounceMs,
    recoveryMs: cfg.policy.recoveryMs,
    releaseStandbyOnRecovery: cfg.policy.releaseStandbyOnRecovery,
    maxFences: cfg.safety.maxFences,
    fenceWindowMs: cfg.safety.fenceWindowSec * 1000,
    minNodesAfterFence: cfg.safety.minNodesAfterFence ?? Math.floor(nodeCount / 2) + 1,
  };
  const slots = new Map(
    cfg.shelves.flatMap((s) =>
      Object.entries(s.slots).map(([n, v]) => {
        const key = slotKey(s.name, Number(n));
        return [key, newSlotState(key, v.node, v.maintenance)] as const;
      }),
    ),
  );
  let state: PolicyState = {
    slots,
    fences: journal.fenceTimesSince(now() - policyCfg.fenceWindowMs),
    nodesOnline: undefined,
  };

  const limiter = new PollLimiter(cfg.polling.concurrency);
  const pollers = new Map(
    cfg.shelves.map((s) => [
      s.name,
      new ShelfPoller(
        s,
        readSecret(s.ipmi.password, `shelves.${s.name}.ipmi.password`, env),
        {
          intervalMs: cfg.polling.hotswapIntervalMs,
          sensorIntervalMs: cfg.polling.sensorIntervalMs,
          selIntervalMs: cfg.polling.selIntervalMs,
          requestTimeoutMs: cfg.polling.requestTimeoutMs,
          backoffMaxMs: cfg.polling.backoffMaxMs,
          limiter,
        },
        { emit: (e) => onEvent(e, undefined), unparsedSel: (shelf, r) => onUnparsedSel(shelf, r) },
        log,
      ),
    ]),
  );

  let receiver: TrapReceiver | undefined;
  if (cfg.traps.enabled) {
    const sources = new Map<string, string>();
    for (const s of cfg.shelves) for (const a of s.trapSources) sources.set(a, s.name);
    receiver = new TrapReceiver({
      address: cfg.traps.address,
      port: cfg.traps.port,
      communities: cfg.traps.communities.map((c, i) => readSecret(c, `traps.communities.${i}`, env)),
      v3Users: cfg.traps.v3Users.map((u, i) => ({
        name: u.name,
        authProtocol: u.authProtocol,
        authKey: readSecret(u.authKey, `traps.v3Users.${i}.authKey`, env),
        privProtocol: u.privProtocol,
        privKey: readSecret(u.privKey, `traps.v3Users.${i}.privKey`, env),
      })),
      sources,
      log: (level: string, msg: string) => (level === 'error' ? log.error(msg) : log.warn(msg)),
      onTrap: (t) => onTrap(t),
    } as ConstructorParameters<typeof TrapReceiver>[0]);
  }

  let queue: Promise<void> = Promise.resolve();
  /** Every input to the policy goes through one queue: decisions are made one at a time. */
  function feed(input: PolicyInput): void {
    queue = queue.then(() => step(input)).catch((e) => log.error(`policy step failed: ${(e as Error).message}`));
  }

  async function step(input: PolicyInput): Promise<void> {
    const r = decide(state, input, policyCfg);
    state = r.state;
    for (const d of r.decisions) carryOut(d);
  }

  function slotOf(shelf: string, ipmb: number | undefined): number | undefined {
    return ipmb === undefined ? undefined : pollers.get(shelf)?.slotOfIpmb(ipmb);
  }

  function onTrap(t: ReceivedTrap): void {
    const at = now();
    const e = t.event;
    if (t.duplicate) {
      // A resend or a replay: kept, not acted on a second time.
      journal.queueEvent({ at, shelf: t.shelf, source: 'trap', kind: 'duplicate', understood: true, body: t });
      return;
    }
    if (!e) {
      journal.queueEvent({ at, shelf: t.shelf, source: 'trap', kind: 'not-understood', understood: false, body: t });
      return;
    }
    onEvent(e, t);
  }

  function onUnparsedSel(shelf: string, r: SelRecord): void {
    journal.queueEvent({
      at: now(),
      shelf,
      source: 'sel',
      kind: 'not-understood',
      understood: false,
      body: { record: r.raw.map((b) => b.toString(16).padStart(2, '0')).join(' '), id: r.id, type: r.type },
    });
  }

  function onEvent(e: DomainEvent, trap: ReceivedTrap | undefined): void {
    const ipmb = 'ipmb' in e ? e.ipmb : undefined;
    const slot = slotOf(e.shelf, ipmb);
    pollers.get(e.shelf)?.claim(e);
    journal.queueEvent({
      at: e.at,
      shelf: e.shelf,
      slot,
      source: e.source,
      kind: e.kind,
      understood: true,
      body: trap ? { event: e, trap: { from: trap.from, version: trap.version, specific: trap.specific } } : e,
    });
    // A shelf manager's silence concerns every slot it watches (rule shmc-unreachable, default
    // record: visibility is lost, not a blade).
    const targets =
      e.kind === 'shmc'
        ? Object.keys(cfg.shelves.find((s) => s.name === e.shelf)?.slots ?? {}).map(Number)
        : slot === undefined
          ? []
          : [slot];
    if (slot === undefined && e.kind !== 'shmc') {
      const from = ipmb === undefined ? '?' : hexByte(ipmb);
      if (e.kind === 'hotswap' && e.source !== 'poll') {
        // Typically the shelf manager (0x20) reporting on a FRU's behalf — an IPMC that fell
        // silent — and nothing in the trap names the slot. Polling can: all slots, now, rather
        // than at the next interval. What it finds is acted on as any poll is.
        log.info(`${e.shelf}: hot-swap event from IPMB ${from} names no configured slot: polling the shelf now`);
        pollers.get(e.shelf)?.pollNow();
      } else {
        log.info(`${e.shelf}: ${e.kind} event for IPMB ${from} maps to no configured slot: recorded only`);
      }
    }
    for (const s of targets) {
      for (const o of classify(e)) {
        const evidence: Evidence = { source: e.source, at: e.at, summary: o.summary };
        feed({ kind: 'observation', slot: slotKey(e.shelf, s), fault: o.fault, asserted: o.asserted, evidence });
      }
    }
  }

  async function confirmFault(d: Extract<Decision, { kind: 'confirm' }>): Promise<void> {
    const [shelf, n] = d.slot.split('/') as [string, string];
    const poller = pollers.get(shelf)!;
    const hotswap = await poller.read(Number(n));
    // Sensors are read only where the fault is a sensor's and the blade is up to be read.
    const sensors =
      isSensorFault(d.fault) && typeof hotswap === 'number'
        ? await poller.readSensors(Number(n)).catch(() => undefined)
        : undefined;
    const v = confirms(d.fault, { hotswap, sensors });
    feed({
      kind: 'confirmation',
      slot: d.slot,
      fault: d.fault,
      confirmed: v.confirmed,
      evidence: { source: 'confirm', at: now(), summary: v.summary },
    });
  }

  /** Runs an action whose start the decision's transaction already journaled (a crash leaves it 'started'). */
  async function act(
    d: Decision,
    actionId: number,
    run: () => Promise<ActionResult>,
    kind: 'fence' | 'standby' | 'health',
  ): Promise<void> {
    const node = 'node' in d ? d.node : undefined;
    const r = await run();
    journal.finishAction(
      actionId,
      {
        status: r.ok ? 'succeeded' : 'failed',
        at: now(),
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        stdout: r.stdout,
        stderr: r.stderr,
        command: r.command,
        note: `${r.command.join(' ')}${r.error ? ` — ${r.error.message} [${r.error.code}]` : ''}`,
      },
      kind !== 'health',
    );
    if (!r.ok) log.error(`${kind} of ${node} failed: ${r.error?.message ?? `exit ${r.exitCode}`}`);
    if (kind !== 'health') {
      feed({
        kind: 'action-done',
        slot: d.slot,
        action: kind,
        ok: r.ok,
        evidence: { source: 'action', at: now(), summary: `${r.command.join(' ')} → ${r.exitCode}` },
      });
    }
  }

  const ACTION_OF: Partial<Record<Decision['kind'], 'fence' | 'standby' | 'health'>> = {
    'set-health': 'health',
    'set-standby': 'standby',
    fence: 'fence',
  };

  /**
   * Actions run outside the decision queue, so a fence that takes seconds does not hold up
   * decisions about other slots; actions on one node run in order (a red then a green must
   * not land green then red). The policy itself allows one action per slot at a time.
   */
  const nodeChains = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  function perNode(node: string, f: () => Promise<void>): void {
    const next = (nodeChains.get(node) ?? Promise.resolve())
      .then(f)
      .catch((e) => log.error(`action on ${node} failed: ${(e as Error).message}`));
    nodeChains.set(node, next);
    running.add(next);
    void next.finally(() => {
      running.delete(next);
      if (nodeChains.get(node) === next) nodeChains.delete(node);
    });
  }

  function carryOut(d: Decision): void {
    const node = 'node' in d ? d.node : undefined;
    const at = now();
    const kind = ACTION_OF[d.kind];
    // One transaction: the events that led here, the decision and the start of its action.
    // fsynced before anything irreversible; health and records are kill -9-safe (see Journal).
    const { actionId } = journal.recordDecision(
      { at, slot: d.slot, kind: d.kind, node, reason: d.reason, evidence: d.evidence, body: d },
      kind ? { kind, node, at, command: [] } : undefined,
      d.kind === 'fence' || d.kind === 'set-standby',
    );
    deps.onDecision?.(d);
    switch (d.kind) {
      case 'set-health':
        perNode(d.node, () => act(d, actionId!, () => actuator.setHealth(d.node, d.value), 'health'));
        break;
      case 'set-standby':
        perNode(d.node, () => act(d, actionId!, () => actuator.setStandby(d.node, d.on), 'standby'));
        break;
      case 'fence':
        perNode(d.node, () => act(d, actionId!, () => actuator.fence(d.node), 'fence'));
        break;
      case 'confirm':
        void confirmFault(d).catch((e) => log.error(`confirmation of ${d.slot} failed: ${(e as Error).message}`));
        break;
      case 'record':
      case 'blocked':
        log.info(`${d.slot}: ${d.kind}: ${d.reason}`);
        break;
    }
  }

  /** Configured nodes the cluster does not know (undefined until the cluster was read). */
  let unknownNodes: Set<string> | undefined;

  async function refreshNodes(): Promise<void> {
    try {
      const nodes = await actuator.nodes();
      feed({ kind: 'nodes-online', count: nodes.filter((n) => n.online && !n.unclean).length, at: now() });
      // attrd_updater accepts a health value for a node the cluster does not know (exit 0) and
      // it never reaches the scheduler: a misspelt node name would silently do nothing.
      const known = new Set(nodes.map((n) => n.name));
      const missing = new Set(
        cfg.shelves.flatMap((s) => Object.values(s.slots).map((v) => v.node)).filter((n) => !known.has(n)),
      );
      for (const n of missing) {
        if (!unknownNodes?.has(n))
          log.warn(
            `node '${n}' (in the configuration) is not a node of this cluster: health and standby for it have no effect`,
          );
      }
      unknownNodes = missing;
    } catch (e) {
      feed({ kind: 'nodes-online', count: undefined, at: now() });
      log.warn(`cannot read the cluster's nodes: ${(e as Error).message}`);
    }
  }

  /** Actions a crash interrupted: a fence is never repeated blindly; the fencer's history decides. */
  async function reconcile(): Promise<void> {
    for (const a of journal.unfinishedActions()) {
      if (a.kind === 'fence' && a.node) {
        const history = await actuator.fenceHistory(a.node).catch(() => []);
        const done = history.some(
          (h) => h.status === 'success' && h.completed !== undefined && Date.parse(h.completed) >= a.startedAt - 1000,
        );
        if (done) {
          // The fence happened: the slot must not be fenced again for what led to it.
          const slot = state.slots.get(a.slot);
          if (slot) state = { ...state, slots: new Map(state.slots).set(a.slot, { ...slot, fencedAt: a.startedAt }) };
        }
        journal.finishAction(a.id, {
          status: done ? 'reconciled-done' : 'abandoned',
          at: now(),
          note: done
            ? 'the fencer reports the fence completed'
            : 'interrupted by a restart; not repeated: decided afresh from new readings',
        });
      } else {
        journal.finishAction(a.id, {
          status: 'abandoned',
          at: now(),
          note: 'interrupted by a restart; idempotent, decided afresh',
        });
      }
    }
  }

  let ticker: NodeJS.Timeout | undefined;
  let nodesTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  function prune(): void {
    try {
      const n = journal.prune(cfg.journal.retentionDays, now());
      if (n > 0) log.info(`journal: ${n} rows older than ${cfg.journal.retentionDays} days removed`);
    } catch (e) {
      log.error(`journal: pruning failed: ${(e as Error).message}`);
    }
  }

  async function stopOnce(): Promise<void> {
    if (ticker) clearInterval(ticker);
    if (nodesTimer) clearInterval(nodesTimer);
    if (pruneTimer) clearInterval(pruneTimer);
    await receiver?.stop();
    await Promise.all([...pollers.values()].map((p) => p.stop()));
    // Actions report back through the queue, which may decide more: drain both until still.
    for (;;) {
      await queue;
      if (running.size === 0) break;
      await Promise.all([...running]);
    }
    journal.close();
  }

  return {
    journal,
    get trapPort() {
      return receiver ? cfg.traps.port : undefined;
    },
    get trapCounters() {
      return receiver?.counters;
    },
    policyState: () => state,
    model: () => ({
      shelves: cfg.shelves.map((s) => {
        const poller = pollers.get(s.name)!;
        return {
          name: s.name,
          shelfManager: poller.shelfManager,
          slots: Object.entries(s.slots).map(([n, v]) => {
            const slot = Number(n);
            return slotView(v.node, v.maintenance, unknownNodes === undefined ? undefined : !unknownNodes.has(v.node), {
              slot,
              ipmb: poller.ipmbOf(slot),
              reading: poller.lastReading(slot),
              sensors: poller.sensorStates(slot),
              policy: state.slots.get(slotKey(s.name, slot)),
            });
          }),
        };
      }),
    }),
    async start() {
      await reconcile();
      prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
      await refreshNodes();
      for (const p of pollers.values()) p.start();
      await receiver?.start();
      ticker = setInterval(() => feed({ kind: 'tick', at: now() }), TICK_MS);
      nodesTimer = setInterval(() => void refreshNodes(), NODES_REFRESH_MS);
    },
    stop() {
      // Idempotent: a signal handler and a test's afterAll may both ask.
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
