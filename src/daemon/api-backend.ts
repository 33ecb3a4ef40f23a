import { statSync } from 'node:fs';
import type { AlarmView, ApiBackend, StatusView } from '../api/backend.js';
import type { Metrics } from '../api/metrics.js';
import type { SensorHistory } from '../api/sensor-history.js';
import { nullish } from '../api/values.js';
import type { AtcadConfig } from '../config/schema.js';
import type { FaultClass } from '../domain/faults.js';
import type { Engine } from '../engine/engine.js';
import type { ShelfPoller } from '../ipmi/shelf-poller.js';
import type { Journal } from '../journal/journal.js';
import type { ModelView } from '../shelf/model.js';
import type { TrapReceiver } from '../snmp/trap-receiver.js';
import { VERSION } from '../version.js';

/** The last cycle of one shelf's polling loop (hot-swap, sensor, SEL). */
export interface PollCycle {
  readonly shelf: string;
  readonly cycle: string;
  readonly lastSeconds: number;
  readonly lastAt: number;
  readonly ok: boolean;
}

/** What atcad's parts give the API (app.ts fills it in). */
export interface BackendParts {
  readonly cfg: AtcadConfig;
  readonly now: () => number;
  readonly startedAt: () => number;
  readonly engine: Engine;
  readonly journal: Journal;
  readonly pollers: ReadonlyMap<string, ShelfPoller>;
  readonly receiver: () => TrapReceiver | undefined;
  readonly model: () => ModelView;
  readonly metrics: () => Metrics;
  readonly polls: ReadonlyMap<string, PollCycle>;
  readonly lastDecisionAt: () => number | undefined;
  readonly history: SensorHistory;
}

const key = (shelf: string, slot: number) => `${shelf}/${slot}`;

function fileSize(path: string): number | null {
  let n = 0;
  let any = false;
  for (const p of [path, `${path}-wal`]) {
    try {
      n += statSync(p).size;
      any = true;
    } catch {
      // No WAL (checkpointed, or not open): nothing to add.
    }
  }
  return any ? n : null;
}

export function apiBackend(p: BackendParts): ApiBackend {
  const { cfg, engine } = p;
  const slotOf = (shelf: string, slot: number) =>
    cfg.shelves.find((s) => s.name === shelf)?.slots[String(slot)] === undefined ? undefined : key(shelf, slot);

  function alarms(): AlarmView[] {
    const out: AlarmView[] = [];
    for (const s of cfg.shelves) {
      for (const [n, v] of Object.entries(s.slots)) {
        const st = engine.policy.slots.get(key(s.name, Number(n)));
        for (const [fault, a] of st?.active ?? []) {
          out.push({
            id: `${s.name}:${n}:${fault}`,
            shelf: s.name,
            slot: Number(n),
            node: v.node,
            fault,
            since: a.since,
            confirmed: a.confirmed,
            acknowledged: a.ack ? { ...a.ack } : null,
          });
        }
      }
    }
    return out.sort((a, b) => a.since - b.since);
  }

  function status(): StatusView {
    const now = p.now();
    const e = engine.stats;
    const j = p.journal.health;
    const receiver = p.receiver();
    const counters = receiver?.counters;
    // Where /proc does not tell the kernel's drops, they are not shown as 0: they are unknown.
    const traps = counters
      ? Object.fromEntries(
          Object.entries(counters).filter(([k]) => k !== 'kernelDrops' || receiver!.kernelDropsAvailable),
        )
      : undefined;
    return {
      version: VERSION,
      startedAt: p.startedAt(),
      uptimeSeconds: Math.max(0, (now - p.startedAt()) / 1000),
      mode: cfg.pacemaker.mode,
      traps: traps ?? null,
      shelfManagers: [...p.pollers.values()].map((x) => ({
        shelf: x.name,
        up: nullish(x.shelfManager.up),
        peer: nullish(x.shelfManager.peer),
      })),
      polls: [...p.polls.values()],
      engine: {
        queued: e.queued,
        dropped: e.dropped,
        steps: e.steps,
        journalFailures: e.journalFailures,
        blockedSince: nullish(e.blockedSince),
        unsavedResults: e.unsavedResults,
        lastDecisionAt: nullish(p.lastDecisionAt()),
      },
      journal: {
        open: j.open,
        path: cfg.journal.path,
        sizeBytes: fileSize(cfg.journal.path),
        queuedEvents: j.queuedEvents,
        droppedEvents: j.droppedEvents,
        writeErrors: j.writeErrors,
        lastWriteAt: nullish(j.lastWriteAt),
        lastError: nullish(j.lastError),
        failingSince: nullish(j.failingSince),
        lowSpaceSince: nullish(j.lowSpaceSince),
      },
    };
  }

  return {
    version: VERSION,
    now: p.now,
    model: p.model,
    status,
    journal: () => (p.journal.isOpen ? p.journal.read : undefined),
    slotOfNode(node) {
      for (const s of cfg.shelves)
        for (const [n, v] of Object.entries(s.slots)) if (v.node === node) return { shelf: s.name, slot: Number(n) };
      return undefined;
    },
    alarms,
    setMaintenance(shelf, slot, on, by, reason) {
      const k = slotOf(shelf, slot);
      if (!k) return 'no-slot';
      if (!on && cfg.shelves.find((s) => s.name === shelf)?.slots[String(slot)]?.maintenance) return 'configured';
      // Always to the policy, in order: what it holds now may be about to change (a switch
      // still queued), and a switch that changes nothing is simply not journaled.
      engine.submit({
        kind: 'maintenance',
        slot: k,
        on,
        evidence: { source: 'operator', at: p.now(), summary: `maintenance ${on ? 'on' : 'off'} by ${by}: ${reason}` },
      });
      return 'accepted';
    },
    pollNow(shelf, by, reason) {
      const poller = p.pollers.get(shelf);
      if (!poller) return false;
      p.journal.appendEvent({
        at: p.now(),
        shelf,
        source: 'operator',
        kind: 'poll',
        understood: true,
        body: { by, ...(reason ? { reason } : {}) },
      });
      poller.relevel();
      return true;
    },
    ack(shelf, slot, fault: FaultClass, by, reason) {
      const k = slotOf(shelf, slot);
      if (!k || !engine.policy.slots.get(k)?.active.has(fault)) return false;
      engine.submit({
        kind: 'ack',
        slot: k,
        fault,
        by,
        reason,
        evidence: { source: 'operator', at: p.now(), summary: `alarm ${fault} acknowledged by ${by}: ${reason}` },
      });
      return true;
    },
    readiness() {
      const problems: string[] = [];
      if (!p.journal.isOpen) problems.push('the journal is not open');
      else if (p.journal.health.failingSince !== undefined) problems.push('journal writes are failing');
      const up = [...p.pollers.values()].filter((x) => x.shelfManager.up === true).length;
      if (up === 0) problems.push('no shelf manager has answered yet');
      return problems;
    },
    metrics: () => p.metrics().scrape(),
    sensorHistory: (shelf, slot, sensor) => p.history.of(shelf, slot, sensor),
  };
}
