import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SENSOR_TYPE } from '../domain/sensor-types.js';
import type { ModelView } from '../shelf/model.js';
import type { StatusView } from './backend.js';

/**
 * atcad's Prometheus metrics (docs/metrics.md), by Prometheus conventions: base units as
 * suffixes, `_total` for counters, the sensor families named as prometheus-community's
 * ipmi_exporter names them (temperature_celsius, fan_speed_rpm, voltage_volts, …) under
 * `atca_`. Gauges are filled from the live model and status at scrape time: a scrape never
 * touches a shelf manager. Counters and histograms are fed as things happen.
 */
export interface MetricsSource {
  model(): ModelView;
  status(): StatusView;
  now(): number;
}

const HEALTHS = ['green', 'yellow', 'red'] as const;

/** Sensor families by unit: what ipmi_exporter calls them. */
function family(type: number, unit: string | undefined): { name: string; help: string } | undefined {
  if (unit === '°C' || type === SENSOR_TYPE.temperature)
    return { name: 'atca_temperature_celsius', help: 'Temperature sensor reading.' };
  if (unit === 'RPM') return { name: 'atca_fan_speed_rpm', help: 'Fan speed sensor reading.' };
  if (unit === 'V') return { name: 'atca_voltage_volts', help: 'Voltage sensor reading.' };
  if (unit === 'A') return { name: 'atca_current_amperes', help: 'Current sensor reading.' };
  if (unit === 'W') return { name: 'atca_power_watts', help: 'Power sensor reading.' };
  return undefined;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #decisions: Counter<'kind'>;
  readonly #actions: Counter<'kind' | 'result'>;
  readonly #trapToDecision: Histogram;
  readonly #poll: Histogram<'shelf' | 'cycle' | 'result'>;

  constructor(src: MetricsSource) {
    const r = [this.registry];
    const slotLabels = ['shelf', 'slot', 'node'] as const;
    const sensorLabels = ['shelf', 'slot', 'node', 'sensor', 'id'] as const;
    const sensorGauges = new Map<string, Gauge<(typeof sensorLabels)[number]>>();
    for (const f of [
      family(SENSOR_TYPE.temperature, '°C'),
      family(0, 'RPM'),
      family(0, 'V'),
      family(0, 'A'),
      family(0, 'W'),
      { name: 'atca_sensor_value', help: 'Reading of a sensor of another unit (raw for discrete sensors).' },
    ])
      sensorGauges.set(f!.name, new Gauge({ name: f!.name, help: f!.help, labelNames: sensorLabels, registers: r }));
    const sensorState = new Gauge({
      name: 'atca_sensor_state',
      help: 'Sensor state: 0 nominal, 1 warning (a non-critical threshold), 2 critical (critical, non-recoverable or an asserted discrete state), NaN unreadable.',
      labelNames: sensorLabels,
      registers: r,
    });
    const hotswap = new Gauge({
      name: 'atca_slot_hotswap_state',
      help: 'The FRU hot-swap state M0–M7 of the slot, as atcad last read it; absent while it is unknown.',
      labelNames: slotLabels,
      registers: r,
    });
    const readable = new Gauge({
      name: 'atca_slot_hotswap_known',
      help: '1 if the slot’s hot-swap state is known, 0 if not (IPMC or shelf manager silent, not read yet).',
      labelNames: slotLabels,
      registers: r,
    });
    const health = new Gauge({
      name: 'atca_slot_health',
      help: 'The slot health atcad applied: 1 for the current value of the health label.',
      labelNames: [...slotLabels, 'health'],
      registers: r,
    });
    const maintenance = new Gauge({
      name: 'atca_slot_maintenance',
      help: '1 if the slot is in maintenance.',
      labelNames: slotLabels,
      registers: r,
    });
    const standby = new Gauge({
      name: 'atca_slot_standby',
      help: '1 if atcad holds the node in standby.',
      labelNames: slotLabels,
      registers: r,
    });
    const faults = new Gauge({
      name: 'atca_slot_active_faults',
      help: 'Active faults on the slot, by class.',
      labelNames: [...slotLabels, 'fault', 'confirmed'],
      registers: r,
    });
    const shmUp = new Gauge({
      name: 'atca_shelf_manager_up',
      help: '1 if the shelf manager answers, 0 if not; absent until first asked.',
      labelNames: ['shelf'],
      registers: r,
    });
    const traps = new Counter({
      name: 'atcad_traps_received_total',
      help: 'Datagrams on the trap port, by outcome.',
      labelNames: ['outcome'],
      registers: r,
    });
    const drops = new Counter({
      name: 'atcad_trap_kernel_drops_total',
      help: 'Datagrams the kernel dropped on the trap socket (receive buffer full).',
      registers: r,
    });
    const jw = new Counter({
      name: 'atcad_journal_write_errors_total',
      help: 'Journal writes that failed.',
      registers: r,
    });
    const jd = new Counter({
      name: 'atcad_journal_dropped_events_total',
      help: 'Events never journaled (queue bound, low disk).',
      registers: r,
    });
    const jq = new Gauge({
      name: 'atcad_journal_queued_events',
      help: 'Events waiting for the journal.',
      registers: r,
    });
    const jOpen = new Gauge({ name: 'atcad_journal_open', help: '1 if the journal is open.', registers: r });
    const jLast = new Gauge({
      name: 'atcad_journal_last_write_timestamp_seconds',
      help: 'When the journal was last written.',
      registers: r,
    });
    const jSize = new Gauge({
      name: 'atcad_journal_size_bytes',
      help: 'The journal file, WAL included.',
      registers: r,
    });
    const lastDecision = new Gauge({
      name: 'atcad_last_decision_timestamp_seconds',
      help: 'When atcad last took a decision (any kind, records included).',
      registers: r,
    });
    const queued = new Gauge({
      name: 'atcad_engine_queued_inputs',
      help: 'Inputs waiting for the policy.',
      registers: r,
    });
    const engineDropped = new Counter({
      name: 'atcad_engine_dropped_inputs_total',
      help: 'Inputs dropped because the decision queue was full.',
      registers: r,
    });
    const blocked = new Gauge({
      name: 'atcad_engine_blocked_seconds',
      help: 'How long the decision queue has waited for the journal (0: it does not).',
      registers: r,
    });
    const up = new Gauge({
      name: 'atcad_start_time_seconds',
      help: 'When atcad started.',
      labelNames: ['version', 'mode'],
      registers: r,
    });

    const collect = () => {
      const m = src.model();
      const st = src.status();
      for (const g of [...sensorGauges.values(), sensorState, hotswap, readable, health, maintenance, standby, faults])
        g.reset();
      for (const s of m.shelves) {
        for (const v of s.slots) {
          const l = { shelf: s.name, slot: String(v.slot), node: v.node };
          const known = /^M[0-7]$/.test(v.hotswap);
          readable.set(l, known ? 1 : 0);
          if (known) hotswap.set(l, Number(v.hotswap.slice(1)));
          for (const h of HEALTHS) health.set({ ...l, health: h }, v.health === h ? 1 : 0);
          maintenance.set(l, v.maintenance ? 1 : 0);
          standby.set(l, v.standby ? 1 : 0);
          for (const x of v.reasons) faults.inc({ ...l, fault: x.fault, confirmed: String(x.confirmed) });
          for (const sn of v.sensors) {
            const sl = { ...l, sensor: sn.name, id: String(sn.number) };
            const f = family(sn.type, sn.unit);
            if (sn.value !== undefined && sn.error === undefined)
              sensorGauges.get(f?.name ?? 'atca_sensor_value')!.set(sl, sn.value);
            const crit = sn.status.some((x) => !['LNC', 'UNC', 'present'].includes(x));
            const warn = sn.status.some((x) => x === 'LNC' || x === 'UNC');
            sensorState.set(sl, sn.error !== undefined ? Number.NaN : crit ? 2 : warn ? 1 : 0);
          }
        }
      }
      shmUp.reset();
      for (const s of st.shelfManagers) if (s.up !== null) shmUp.set({ shelf: s.shelf }, s.up ? 1 : 0);
      // Counts kept by the receiver, the journal and the engine: shown as counters (they only
      // grow while atcad runs), set to their value at each scrape.
      const setCount = (c: Counter, n: number, labels?: Record<string, string>) => {
        if (labels) c.remove(labels);
        else c.reset();
        if (labels) c.inc(labels, n);
        else c.inc(n);
      };
      const t = st.traps;
      if (t) {
        for (const [k, n] of Object.entries(t))
          if (!['received', 'kernelDrops', 'keysRefused'].includes(k) && !k.startsWith('repl'))
            setCount(traps, n, { outcome: k });
        setCount(drops, t.kernelDrops ?? 0);
      }
      setCount(jw, st.journal.writeErrors);
      setCount(jd, st.journal.droppedEvents);
      jq.set(st.journal.queuedEvents);
      jOpen.set(st.journal.open ? 1 : 0);
      if (st.journal.lastWriteAt !== null) jLast.set(st.journal.lastWriteAt / 1000);
      if (st.journal.sizeBytes !== null) jSize.set(st.journal.sizeBytes);
      if (st.engine.lastDecisionAt !== null) lastDecision.set(st.engine.lastDecisionAt / 1000);
      queued.set(st.engine.queued);
      blocked.set(st.engine.blockedSince === null ? 0 : Math.max(0, (src.now() - st.engine.blockedSince) / 1000));
      setCount(engineDropped, st.engine.dropped);
      up.reset();
      up.set({ version: st.version, mode: st.mode }, st.startedAt / 1000);
    };
    this.#collect = collect;

    this.#decisions = new Counter({
      name: 'atcad_decisions_total',
      help: 'Decisions taken, by kind (records and confirmations included).',
      labelNames: ['kind'],
      registers: r,
    });
    this.#actions = new Counter({
      name: 'atcad_actions_total',
      help: 'Actions carried out (health, standby, fence), by outcome.',
      labelNames: ['kind', 'result'],
      registers: r,
    });
    this.#trapToDecision = new Histogram({
      name: 'atcad_trap_to_decision_seconds',
      help: 'From a trap’s arrival to the decisions it led to being journaled.',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    });
    this.#poll = new Histogram({
      name: 'atcad_poll_duration_seconds',
      help: 'One polling cycle of a shelf (hot-swap, sensor, SEL), by result.',
      labelNames: ['shelf', 'cycle', 'result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
  }

  readonly #collect: () => void;

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
    // The gauges are filled from the model and status now, then read.
    this.#collect();
    const body = await this.registry.metrics();
    return { contentType: this.registry.contentType, body };
  }
}
