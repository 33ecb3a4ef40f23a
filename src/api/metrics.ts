import { Counter, Histogram, Registry } from 'prom-client';
import type { ModelView } from '../shelf/model.js';
import { TRAP_OUTCOMES } from '../snmp/trap-receiver.js';
import type { StatusView } from './backend.js';
import { type Family, labels, render, type Sample } from './exposition.js';

/**
 * atcad's Prometheus metrics (docs/metrics.md), by Prometheus conventions: base units as
 * suffixes, `_total` for counters, the sensor families named as prometheus-community's
 * ipmi_exporter names them (temperature_celsius, fan_speed_rpm, voltage_volts, …) under
 * `atca_`. What the live model and status hold is rendered at scrape time from memory (a
 * scrape never touches a shelf manager); what atcad counts as it goes (decisions, actions,
 * trap → decision, poll durations) lives in prom-client.
 */
export interface MetricsSource {
  model(): ModelView;
  status(): StatusView;
  now(): number;
}

const HEALTHS = ['green', 'yellow', 'red'] as const;

interface SensorFamily {
  readonly name: string;
  readonly help: string;
}

const SENSOR_FAMILIES: Readonly<Record<string, SensorFamily>> = {
  '°C': { name: 'atca_temperature_celsius', help: 'Temperature sensor reading.' },
  RPM: { name: 'atca_fan_speed_rpm', help: 'Fan speed sensor reading.' },
  V: { name: 'atca_voltage_volts', help: 'Voltage sensor reading.' },
  A: { name: 'atca_current_amperes', help: 'Current sensor reading.' },
  W: { name: 'atca_power_watts', help: 'Power sensor reading.' },
};
const OTHER_SENSOR: SensorFamily = {
  name: 'atca_sensor_value',
  help: 'Reading of a sensor of another unit (the raw reading for discrete sensors).',
};

function sensorFamily(unit: string | undefined): SensorFamily {
  if (unit !== undefined && SENSOR_FAMILIES[unit]) return SENSOR_FAMILIES[unit]!;
  // A temperature sensor without a linear conversion reads raw: not in °C.
  return OTHER_SENSOR;
}

/** The families of the model and status, as they are now. Pure. */
export function snapshotFamilies(m: ModelView, st: StatusView, now: number): Family[] {
  const sensors = new Map<string, Sample[]>();
  const sensorState: Sample[] = [];
  const hotswap: Sample[] = [];
  const known: Sample[] = [];
  const health: Sample[] = [];
  const maintenance: Sample[] = [];
  const standby: Sample[] = [];
  const faults: Sample[] = [];
  for (const s of m.shelves) {
    for (const v of s.slots) {
      const l = labels({ shelf: s.name, slot: String(v.slot), node: v.node });
      const isKnown = /^M[0-7]$/.test(v.hotswap);
      known.push({ labels: l, value: isKnown ? 1 : 0 });
      if (isKnown) hotswap.push({ labels: l, value: Number(v.hotswap.slice(1)) });
      for (const h of HEALTHS) health.push({ labels: labels({ health: h }, l), value: v.health === h ? 1 : 0 });
      maintenance.push({ labels: l, value: v.maintenance ? 1 : 0 });
      standby.push({ labels: l, value: v.standby ? 1 : 0 });
      for (const x of v.reasons)
        faults.push({ labels: labels({ fault: x.fault, confirmed: String(x.confirmed) }, l), value: 1 });
      for (const sn of v.sensors) {
        const sl = labels({ sensor: sn.name, id: String(sn.number) }, l);
        const f = sensorFamily(sn.unit);
        if (sn.value !== undefined && sn.error === undefined) {
          const list = sensors.get(f.name) ?? [];
          if (list.length === 0) sensors.set(f.name, list);
          list.push({ labels: sl, value: sn.value });
        }
        const crit = sn.status.some((x) => !['LNC', 'UNC', 'present'].includes(x));
        const warn = sn.status.some((x) => x === 'LNC' || x === 'UNC');
        sensorState.push({ labels: sl, value: sn.error !== undefined ? Number.NaN : crit ? 2 : warn ? 1 : 0 });
      }
    }
  }
  const families: Family[] = [];
  for (const f of [...Object.values(SENSOR_FAMILIES), OTHER_SENSOR])
    families.push({ name: f.name, help: f.help, type: 'gauge', samples: sensors.get(f.name) ?? [] });
  const gauge = (name: string, help: string, samples: Sample[]) =>
    families.push({ name, help, type: 'gauge', samples });
  const counter = (name: string, help: string, samples: Sample[]) =>
    families.push({ name, help, type: 'counter', samples });
  gauge(
    'atca_sensor_state',
    'Sensor state: 0 nominal, 1 warning (a non-critical threshold), 2 critical (critical, non-recoverable, or an asserted discrete state), NaN unreadable.',
    sensorState,
  );
  gauge(
    'atca_slot_hotswap_state',
    "The slot's FRU hot-swap state M0–M7 as atcad last read it; absent while it is unknown.",
    hotswap,
  );
  gauge(
    'atca_slot_hotswap_known',
    "1 if the slot's hot-swap state is known; 0 if not (IPMC or shelf manager silent, not read yet).",
    known,
  );
  gauge(
    'atca_slot_health',
    'The health atcad applied to the slot: 1 for its current value of the health label.',
    health,
  );
  gauge('atca_slot_maintenance', '1 if the slot is in maintenance.', maintenance);
  gauge('atca_slot_standby', '1 if atcad holds the node in standby.', standby);
  gauge(
    'atca_slot_active_faults',
    'Active faults on the slot, by class; confirmed by a reading of atcad or not.',
    faults,
  );
  gauge(
    'atca_shelf_manager_up',
    '1 if a shelf manager of the shelf answers atcad, 0 if none does; absent until first asked.',
    st.shelfManagers.flatMap((s) =>
      s.up === null ? [] : [{ labels: labels({ shelf: s.shelf }), value: s.up ? 1 : 0 }],
    ),
  );
  gauge(
    'atca_shelf_manager_answering',
    'Each configured shelf manager as atcad last saw it: 1 answering (or answered last), 0 failed; absent until tried. atcad talks to one at a time.',
    m.shelves.flatMap((s) =>
      (s.shelfManager.managers ?? []).flatMap((x) =>
        x.state === 'not tried'
          ? []
          : [{ labels: labels({ shelf: s.name, manager: x.name }), value: x.state === 'failed' ? 0 : 1 }],
      ),
    ),
  );
  const t = st.traps;
  counter(
    'atcad_traps_received_total',
    'Datagrams on the trap port, by outcome.',
    t ? TRAP_OUTCOMES.map((k) => ({ labels: labels({ outcome: k }), value: t[k] ?? 0 })) : [],
  );
  counter(
    'atcad_trap_kernel_drops_total',
    'Datagrams the kernel dropped on the trap socket (receive buffer full).',
    t?.kernelDrops === undefined ? [] : [{ labels: '', value: t.kernelDrops }],
  );
  const j = st.journal;
  counter('atcad_journal_write_errors_total', 'Journal writes that failed.', [{ labels: '', value: j.writeErrors }]);
  counter('atcad_journal_dropped_events_total', 'Events never journaled (queue bound, low disk).', [
    { labels: '', value: j.droppedEvents },
  ]);
  gauge('atcad_journal_queued_events', 'Events waiting for the journal.', [{ labels: '', value: j.queuedEvents }]);
  gauge('atcad_journal_open', '1 if the journal is open.', [{ labels: '', value: j.open ? 1 : 0 }]);
  gauge(
    'atcad_journal_last_write_timestamp_seconds',
    'When the journal was last written.',
    j.lastWriteAt === null ? [] : [{ labels: '', value: j.lastWriteAt / 1000 }],
  );
  gauge(
    'atcad_journal_size_bytes',
    'The journal file, its WAL included.',
    j.sizeBytes === null ? [] : [{ labels: '', value: j.sizeBytes }],
  );
  const e = st.engine;
  gauge(
    'atcad_last_decision_timestamp_seconds',
    'When atcad last took a decision (records included).',
    e.lastDecisionAt === null ? [] : [{ labels: '', value: e.lastDecisionAt / 1000 }],
  );
  gauge('atcad_engine_queued_inputs', 'Inputs waiting for the policy.', [{ labels: '', value: e.queued }]);
  counter('atcad_engine_dropped_inputs_total', 'Inputs dropped because the decision queue was full.', [
    { labels: '', value: e.dropped },
  ]);
  gauge('atcad_engine_blocked_seconds', 'How long the decision queue has waited for the journal (0: it does not).', [
    { labels: '', value: e.blockedSince === null ? 0 : Math.max(0, (now - e.blockedSince) / 1000) },
  ]);
  gauge('atcad_start_time_seconds', 'When atcad started.', [
    { labels: labels({ version: st.version, mode: st.mode }), value: st.startedAt / 1000 },
  ]);
  return families;
}

export class Metrics {
  /** What atcad counts as it goes. */
  readonly registry = new Registry();
  readonly #src: MetricsSource;
  readonly #decisions: Counter<'kind'>;
  readonly #actions: Counter<'kind' | 'result'>;
  readonly #trapToDecision: Histogram;
  readonly #poll: Histogram<'shelf' | 'cycle' | 'result'>;

  constructor(src: MetricsSource) {
    this.#src = src;
    const registers = [this.registry];
    this.#decisions = new Counter({
      name: 'atcad_decisions_total',
      help: 'Decisions taken, by kind (records and confirmations included).',
      labelNames: ['kind'],
      registers,
    });
    this.#actions = new Counter({
      name: 'atcad_actions_total',
      help: 'Actions carried out (health, standby, fence), by outcome.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.#trapToDecision = new Histogram({
      name: 'atcad_trap_to_decision_seconds',
      help: "From a trap's arrival to the decisions it led to being journaled.",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.#poll = new Histogram({
      name: 'atcad_poll_duration_seconds',
      help: 'One polling cycle of a shelf (hot-swap, sensor, SEL), by result.',
      labelNames: ['shelf', 'cycle', 'result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  decision(kind: string): void {
    this.#decisions.inc({ kind });
  }

  action(kind: string, result: string): void {
    this.#actions.inc({ kind, result });
  }

  trapToDecision(seconds: number): void {
    this.#trapToDecision.observe(seconds);
  }

  poll(shelf: string, cycle: string, ok: boolean, seconds: number): void {
    this.#poll.observe({ shelf, cycle, result: ok ? 'ok' : 'failed' }, seconds);
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    const snapshot = render(snapshotFamilies(this.#src.model(), this.#src.status(), this.#src.now()));
    const counted = await this.registry.metrics();
    return { contentType: this.registry.contentType, body: `${snapshot}${counted}` };
  }
}
