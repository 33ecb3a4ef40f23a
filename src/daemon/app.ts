import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Metrics } from '../api/metrics.js';
import { SensorHistory } from '../api/sensor-history.js';
import { buildApi } from '../api/server.js';
import { parseTokens } from '../api/tokens.js';
import { isLoopback } from '../api/values.js';
import { readSecret } from '../config/load.js';
import type { AtcadConfig } from '../config/schema.js';
import type { DomainEvent } from '../domain/events.js';
import { DEFAULT_RULES } from '../domain/faults.js';
import { Engine, type EngineStats } from '../engine/engine.js';
import { AtcaError } from '../errors.js';
import { hexByte } from '../ipmi/ipmitool-argv.js';
import { PollLimiter } from '../ipmi/poll-limiter.js';
import type { SelRecord } from '../ipmi/sel.js';
import { ShelfPoller } from '../ipmi/shelf-poller.js';
import { Journal, type JournalHealth } from '../journal/journal.js';
import type { Logger } from '../log.js';
import type { ClusterActuator } from '../pacemaker/actuator.js';
import { createActuator } from '../pacemaker/create.js';
import type { Decision, PolicyConfig, PolicyState } from '../policy/types.js';
import { type ModelView, slotView } from '../shelf/model.js';
import { type ReceivedTrap, TrapReceiver } from '../snmp/trap-receiver.js';
import { apiBackend, type PollCycle } from './api-backend.js';
import { pollerReader } from './slot-reader.js';

export interface AppDeps {
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly actuator?: ClusterActuator;
  readonly now?: () => number;
  /** Called for each decision after it is journaled (tests, the event stream). */
  readonly onDecision?: (d: Decision) => void;
}

export interface AppStatus {
  readonly traps: TrapReceiver['counters'] | undefined;
  readonly engine: EngineStats;
  readonly journal: JournalHealth;
}

export interface App {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly journal: Journal;
  readonly trapPort: number | undefined;
  readonly trapCounters: TrapReceiver['counters'] | undefined;
  policyState(): PolicyState;
  status(): AppStatus;
  /** The live model: shelves, slots, sensors, health and its reasons. */
  model(): ModelView;
  /** Where the API listens once started (undefined: disabled, or not started). */
  readonly apiAddress: { readonly address: string; readonly port: number; readonly tls: boolean } | undefined;
  readonly metrics: Metrics;
}

/** Retention and the event cap are applied this often: a storm is bounded within a minute. */
const PRUNE_EVERY_MS = 60_000;

const slotKey = (shelf: string, slot: number) => `${shelf}/${slot}`;

export function policyConfig(cfg: AtcadConfig): PolicyConfig {
  return {
    rules: { ...DEFAULT_RULES, ...cfg.policy.rules },
    sustainMs: cfg.policy.sustainMs,
    debounceMs: cfg.policy.debounceMs,
    recoveryMs: cfg.policy.recoveryMs,
    releaseStandbyOnRecovery: cfg.policy.releaseStandbyOnRecovery,
    deadMemberGraceMs: cfg.policy.deadMemberGraceMs,
    maxFences: cfg.safety.maxFences,
    fenceWindowMs: cfg.safety.fenceWindowSec * 1000,
    minVotersAfterFence: cfg.safety.minNodesAfterFence,
    confirmRetryMs: 500,
    confirmRetryMaxMs: 30_000,
  };
}

/**
 * Wires the daemon and does no I/O: traps and polls become domain events, the engine turns
 * them into decisions through the pure core, journals them and only then acts through the
 * actuator. start() opens the journal, reads the secrets, binds the trap socket and starts
 * polling; stop() undoes it, waiting for actions under way.
 */
export function buildApp(cfg: AtcadConfig, deps: AppDeps): App {
  const { log } = deps;
  const now = deps.now ?? Date.now;
  const env = deps.env ?? process.env;
  const journal = new Journal(cfg.journal.path, {
    backgroundCheckpoint: true,
    now,
    minFreeBytes: cfg.journal.minFreeMiB * 1024 * 1024,
    onSpace: (low, free) =>
      low
        ? log.error(
            `journal: ${(free / 1048576).toFixed(1)} MiB free, below journal.minFreeMiB (${cfg.journal.minFreeMiB}): events are not journaled (kept up to a bound, then dropped, counted); decisions and action outcomes still are`,
          )
        : log.info(
            `journal: ${Number.isFinite(free) ? `${(free / 1048576).toFixed(1)} MiB` : 'room'} free again: events are journaled again`,
          ),
    onLost: (n, why) => log.error(`journal: ${n} events were never written (${why}); they are counted as dropped`),
    onError: (e) =>
      log.error(`journal: ${e.message} (events are kept, up to a bound, and written when it works again)`),
  });
  const actuator = deps.actuator ?? createActuator(cfg.pacemaker);

  const secrets = new Map<string, string>();
  const secret = (where: string): string => {
    const v = secrets.get(where);
    if (v === undefined) throw new Error(`internal: secret ${where} read before start()`);
    return v;
  };

  /** The last cycle of each shelf's polling loops, by shelf and loop: for /status. */
  const polls = new Map<string, PollCycle>();
  let lastDecisionAt: number | undefined;
  let startedAt = now();
  const limiter = new PollLimiter(cfg.polling.concurrency);
  const pollers = new Map(
    cfg.shelves.map((s, i) => [
      s.name,
      new ShelfPoller(
        s,
        () => secret(`shelves.${i}.ipmi.password`),
        {
          intervalMs: cfg.polling.hotswapIntervalMs,
          sensorIntervalMs: cfg.polling.sensorIntervalMs,
          selIntervalMs: cfg.polling.selIntervalMs,
          requestTimeoutMs: cfg.polling.requestTimeoutMs,
          backoffMaxMs: cfg.polling.backoffMaxMs,
          limiter,
        },
        {
          emit: (e) => onEvent(e, undefined),
          unparsedSel: (shelf, r) => onUnparsedSel(shelf, r),
          cycle: (shelf, what, ok, seconds) => {
            polls.set(`${shelf} ${what}`, { shelf, cycle: what, lastSeconds: seconds, lastAt: now(), ok });
            metrics.poll(shelf, what, ok, seconds);
          },
        },
        log,
      ),
    ]),
  );

  const engine = new Engine({
    policy: policyConfig(cfg),
    slots: cfg.shelves.flatMap((s) =>
      Object.entries(s.slots).map(([n, v]) => ({
        key: slotKey(s.name, Number(n)),
        node: v.node,
        maintenance: v.maintenance,
      })),
    ),
    journal,
    actuator,
    reader: pollerReader(pollers),
    log,
    now,
    onDecision: (d) => {
      metrics.decision(d.kind);
      deps.onDecision?.(d);
    },
    onStep: (input, _decisions, at) => {
      lastDecisionAt = at;
      if (input.kind === 'event' && input.event.source === 'trap')
        metrics.trapToDecision(Math.max(0, at - input.event.at) / 1000);
    },
    onActionDone: (kind, status) => metrics.action(kind, status),
    onLoss: (shelf) => pollers.get(shelf)?.relevel(),
    giveUpMs: 2 * cfg.pacemaker.fenceTimeoutSec * 1000 + 60_000,
  });

  let receiver: TrapReceiver | undefined;

  /** An info line at most every 10 s per key, with how many were left out: a storm must not become a log storm. */
  const quietUntil = new Map<string, { until: number; left: number }>();
  function sometimes(key: string, msg: string): void {
    const t = now();
    const q = quietUntil.get(key);
    if (q && t < q.until) {
      q.left++;
      return;
    }
    log.info(q?.left ? `${msg} (and ${q.left} more like it in the last 10 s)` : msg);
    quietUntil.set(key, { until: t + 10_000, left: 0 });
  }

  function onTrap(t: ReceivedTrap): void {
    const at = now();
    if (t.duplicate) {
      // A resend or a replay: kept, not acted on a second time.
      journal.appendEvent({ at, shelf: t.shelf, source: 'trap', kind: 'duplicate', understood: true, body: t });
      return;
    }
    if (!t.event) {
      journal.appendEvent({ at, shelf: t.shelf, source: 'trap', kind: 'not-understood', understood: false, body: t });
      return;
    }
    onEvent(t.event, t);
  }

  function onUnparsedSel(shelf: string, r: SelRecord): void {
    journal.appendEvent({
      at: now(),
      shelf,
      source: 'sel',
      kind: 'not-understood',
      understood: false,
      body: { record: r.raw.map((b) => b.toString(16).padStart(2, '0')).join(' '), id: r.id, type: r.type },
    });
  }

  function onEvent(e: DomainEvent, trap: ReceivedTrap | undefined): void {
    const poller = pollers.get(e.shelf);
    const ipmb = 'ipmb' in e ? e.ipmb : undefined;
    const slot = ipmb === undefined ? undefined : poller?.slotOfIpmb(ipmb);
    poller?.claim(e);
    // A sweep is news only to the policy (after a restart); the journal has its readings' events.
    if (e.kind !== 'swept')
      journal.appendEvent({
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
    const shelf = cfg.shelves.find((s) => s.name === e.shelf);
    const slots =
      e.kind === 'shmc'
        ? Object.keys(shelf?.slots ?? {}).map((n) => slotKey(e.shelf, Number(n)))
        : slot === undefined
          ? []
          : [slotKey(e.shelf, slot)];
    if (slot === undefined && e.kind !== 'shmc') {
      const from = ipmb === undefined ? '?' : hexByte(ipmb);
      if (e.kind === 'hotswap' && e.source !== 'poll') {
        // Typically the shelf manager (0x20) reporting on a FRU's behalf — an IPMC that fell
        // silent — and nothing in the trap names the slot. Polling can: all slots, now, rather
        // than at the next interval. What it finds is acted on as any poll is.
        sometimes(
          `unmapped-hotswap ${e.shelf}`,
          `${e.shelf}: hot-swap event from IPMB ${from} names no configured slot: polling the shelf now`,
        );
        poller?.pollNow();
      } else {
        sometimes(
          `unmapped ${e.shelf}`,
          `${e.shelf}: ${e.kind} event for IPMB ${from} maps to no configured slot: recorded only`,
        );
      }
      return;
    }
    engine.submit({ kind: 'event', event: e, slots });
  }

  /** Configured nodes the cluster does not know (undefined until the cluster was read). */
  let unknownNodes: Set<string> | undefined;

  /**
   * The cluster's nodes, read every membershipIntervalMs: a node that (re)joins gets its health
   * again (the policy decides), and a configured node the cluster does not know is reported.
   * The guard before a fence reads the cluster afresh; this is not it.
   */
  let reading: Promise<void> | undefined;
  function refreshNodes(): Promise<void> {
    // One reading at a time: a slow crm_mon must not pile readings up.
    reading ??= readNodes().finally(() => {
      reading = undefined;
    });
    return reading;
  }

  async function readNodes(): Promise<void> {
    try {
      const nodes = await actuator.nodes();
      const online = nodes.filter((n) => n.online && !n.unclean).map((n) => n.name);
      const health = Object.fromEntries(nodes.flatMap((n) => (n.health ? [[n.name, n.health] as const] : [])));
      engine.submit({ kind: 'membership', at: now(), online, health });
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
      // Read every second: said once per 10 s, with how many more failed meanwhile.
      sometimes('nodes-unreadable', `cannot read the cluster's nodes: ${(e as Error).message}`);
    }
  }

  function readSecrets(): void {
    cfg.shelves.forEach((s, i) => {
      const where = `shelves.${i}.ipmi.password`;
      secrets.set(where, readSecret(s.ipmi.password, where, env));
    });
  }

  function makeReceiver(): TrapReceiver {
    const sources = new Map<string, string>();
    for (const s of cfg.shelves) for (const a of s.trapSources) sources.set(a, s.name);
    return new TrapReceiver({
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
      log: (level: string, msg: string) =>
        level === 'error' ? log.error(msg) : level === 'info' ? log.info(msg) : log.warn(msg),
      onTrap,
    } as ConstructorParameters<typeof TrapReceiver>[0]);
  }

  let nodesTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  function prune(): void {
    try {
      const n = journal.prune(cfg.journal.retentionDays, now(), cfg.journal.maxEvents);
      if (n > 0)
        log.info(
          `journal: ${n} rows pruned (older than ${cfg.journal.retentionDays} days, or events beyond ${cfg.journal.maxEvents})`,
        );
    } catch (e) {
      log.error(`journal: pruning failed: ${(e as Error).message}`);
    }
  }

  async function stopOnce(): Promise<void> {
    // The API first: no operator request lands on a daemon half stopped.
    await api?.close().catch((e: unknown) => log.error(`api: close: ${(e as Error).message}`));
    apiAddress = undefined;
    clearInterval(historyTimer);
    if (nodesTimer) clearInterval(nodesTimer);
    // A reading under way lands before the engine stops (and then finds it stopping).
    await reading;
    if (pruneTimer) clearInterval(pruneTimer);
    await receiver?.stop();
    await Promise.all([...pollers.values()].map((p) => p.stop()));
    if (started) await engine.stop();
    journal.close();
  }

  function model(): ModelView {
    return {
      shelves: cfg.shelves.map((s) => {
        const poller = pollers.get(s.name)!;
        return {
          name: s.name,
          shelfManager: poller.shelfManager,
          slots: Object.entries(s.slots).map(([n, v]) => {
            const slot = Number(n);
            const policy = engine.policy.slots.get(slotKey(s.name, slot));
            return slotView(
              v.node,
              policy?.maintenance ?? v.maintenance,
              unknownNodes === undefined ? undefined : !unknownNodes.has(v.node),
              {
                slot,
                ipmb: poller.ipmbOf(slot),
                reading: poller.lastReading(slot),
                sensors: poller.sensorStates(slot),
                policy,
              },
            );
          }),
        };
      }),
    };
  }

  const history = new SensorHistory();
  let historyTimer: NodeJS.Timeout | undefined;
  const backend = apiBackend({
    cfg,
    now,
    startedAt: () => startedAt,
    engine,
    journal,
    pollers,
    receiver: () => receiver,
    model,
    metrics: () => metrics,
    polls,
    lastDecisionAt: () => lastDecisionAt,
    history,
  });
  const metrics = new Metrics({ model, status: () => backend.status(), now });
  let api: FastifyInstance | undefined;
  let apiAddress: App['apiAddress'];

  /** Reads the API's token file and TLS files, builds it and listens. ATCA_ERR_API_CONFIG if it cannot. */
  async function startApi(): Promise<void> {
    const a = cfg.api;
    if (!a.enabled) return;
    const tokens = a.tokens ? parseTokens(readSecret(a.tokens, 'api.tokens', env, true)) : { tokens: [], problems: [] };
    if (tokens.problems.length > 0)
      throw new AtcaError('ATCA_ERR_API_CONFIG', `api.tokens: ${tokens.problems.join('; ')}`);
    let https: { cert: string; key: string } | undefined;
    if (a.tls) {
      // A certificate is public: only the key must be private (read by the secret rule).
      let cert: string;
      try {
        cert = readFileSync(a.tls.cert, 'utf8');
      } catch (e) {
        throw new AtcaError('ATCA_ERR_API_CONFIG', `api.tls.cert: ${(e as Error).message}`);
      }
      https = { cert, key: readSecret(a.tls.key, 'api.tls.key', env, true) };
    }
    try {
      // A key or certificate that does not parse fails here (node's TLS), not at the first request.
      api = buildApi({ backend, tokens: tokens.tokens, https, log: (m) => log.error(m) });
    } catch (e) {
      throw new AtcaError('ATCA_ERR_API_CONFIG', `api.tls: ${(e as Error).message}`);
    }
    try {
      await api.listen({ host: a.address, port: a.port });
    } catch (e) {
      throw new AtcaError('ATCA_ERR_API_CONFIG', `cannot listen on ${a.address}:${a.port}: ${(e as Error).message}`);
    }
    if (!https && !isLoopback(a.address))
      log.warn(
        `api: listening on ${a.address} without TLS: the journal can be read by anyone who reaches it, and tokens cross the network in clear (set api.tls, or listen on 127.0.0.1)`,
      );
    const addr = api.server.address() as AddressInfo;
    apiAddress = { address: addr.address, port: addr.port, tls: https !== undefined };
    log.info(
      `api: listening on ${https ? 'https' : 'http'}://${addr.address}:${addr.port} (${tokens.tokens.length} tokens)`,
    );
  }

  return {
    journal,
    get trapPort() {
      return receiver ? cfg.traps.port : undefined;
    },
    get trapCounters() {
      return receiver?.counters;
    },
    policyState: () => engine.policy,
    status: () => ({ traps: receiver?.counters, engine: engine.stats, journal: journal.health }),
    model,
    metrics,
    get apiAddress() {
      return apiAddress;
    },
    async start() {
      try {
        readSecrets();
        if (cfg.traps.enabled) receiver = makeReceiver();
        journal.open();
        engine.start();
        started = true;
        startedAt = now();
        await startApi();
        historyTimer = setInterval(() => history.sample(model()), 1000);
        historyTimer.unref();
        prune();
        pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
        pruneTimer.unref();
        await refreshNodes();
        nodesTimer = setInterval(() => void refreshNodes(), cfg.pacemaker.membershipIntervalMs);
        for (const p of pollers.values()) p.start();
        await receiver?.start();
      } catch (e) {
        stopping ??= stopOnce();
        await stopping.catch(() => undefined);
        throw e;
      }
    },
    stop() {
      // Idempotent: a signal handler and a test's afterAll may both ask.
      stopping ??= stopOnce();
      return stopping;
    },
  };
}
