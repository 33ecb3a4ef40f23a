// Pure: which faults a domain event raises or clears, given what the slot's earlier events
// said. No peer: classify() does no I/O.
import { describe, expect, it } from 'vitest';
import type { DomainEvent, EventSource } from '../../src/domain/events.js';
import { classify, type Finding, NO_MEMORY, type SlotMemory } from '../../src/shelf/classify.js';

const base = { shelf: 's1', at: 0, source: 'poll' as const, ipmb: 0x82, fru: 0 };
const hs = (state: number, previous?: number, cause?: number, source: EventSource = 'trap'): DomainEvent =>
  ({
    kind: 'hotswap',
    ...base,
    source,
    state,
    ...(previous === undefined ? {} : { previous }),
    ...(cause === undefined ? {} : { cause }),
  }) as DomainEvent;
const show = (f: Finding) =>
  f.kind === 'fault'
    ? `${f.fault}:${f.asserted ? '+' : '-'}`
    : f.kind === 'note'
      ? 'note'
      : f.kind === 'swept'
        ? 'swept'
        : `M${f.state}`;
const faults = (e: DomainEvent, m: SlotMemory = NO_MEMORY) =>
  classify(m, e)
    .findings.filter((f) => f.kind === 'fault')
    .map(show);
/** Feeds events in order; every finding, in order, as text. */
function sequence(events: DomainEvent[]): string[] {
  let m = NO_MEMORY;
  const out: string[] = [];
  for (const e of events) {
    const c = classify(m, e);
    m = c.memory;
    out.push(...c.findings.filter((f) => f.kind !== 'hotswap').map(show));
  }
  return out;
}

/** A raised fault to fence for: 'deactivating' (leaving service, at most standby) is not one. */
const isFault = (x: string) => x.endsWith('+') && x !== 'deactivating:+';

describe('classify', () => {
  it.each([
    [hs(7, 4, 0xf), ['hotswap-lost:+']],
    [hs(7), ['hotswap-lost:+']],
    [hs(0, 1, 6), ['hotswap-removed:+']],
    [hs(1, 6, 9), ['unexpected-deactivation:+']],
    [hs(6, 4, 9), ['unexpected-deactivation:+']],
    [hs(1, 4, 6), ['unexpected-deactivation:+']],
    // Cause 0 on the step leaving M4, and every cause that is not a surprise: no fault to
    // fence for — the blade is leaving service ('deactivating', at most standby).
    [hs(6, 4, 0), ['deactivating:+']],
    [hs(6, 4, 1), ['deactivating:+']],
    [hs(5, 4, 2), ['deactivating:+']],
    [hs(1, 4, 3), ['deactivating:+']],
    [hs(6, 4, 0xf), ['deactivating:+']],
    [hs(1), []],
    [hs(0), []],
    [hs(3, 2), []],
    [hs(0, 4), ['hotswap-removed:+']],
    [
      hs(4, 3),
      ['hotswap-lost:-', 'hotswap-removed:-', 'unexpected-deactivation:-', 'deactivating:-', 'ipmc-unreachable:-'],
    ],
  ])('hot-swap %j → %j', (e, want) => {
    expect(faults(e)).toEqual(want);
  });

  describe('a deactivation is judged by the cause of its first step', () => {
    it('the shelf manager commands it (clia deactivate, fence_atca off, a Pacemaker fence): M4→M6 cause 1, M6→M1 cause 0', () => {
      expect(sequence([hs(4, undefined, undefined, 'poll'), hs(6, 4, 1), hs(1, 6, 0)])).toEqual([
        'hotswap-lost:-',
        'hotswap-removed:-',
        'unexpected-deactivation:-',
        'deactivating:-',
        'ipmc-unreachable:-',
        'note',
        'deactivating:+',
        'note',
      ]);
    });

    it('the operator opens the handle: M4→M5 cause 2, M5→M6 cause 0, M6→M1 cause 0: no fault', () => {
      const f = sequence([hs(4, 3), hs(5, 4, 2), hs(6, 5, 0), hs(1, 6, 0)]).filter((x) => x !== 'note');
      expect(f.filter(isFault)).toEqual([]);
      expect(f).toContain('deactivating:+');
    });

    it('seen first by a poll (no cause): unknown, not a fault; nor is the closing step that follows', () => {
      expect(sequence([hs(4, undefined, undefined, 'poll'), hs(1, 4, undefined, 'poll')]).filter(isFault)).toEqual([]);
      expect(
        sequence([hs(4, 3, undefined, 'poll'), hs(6, undefined, undefined, 'poll'), hs(1, 6, 0)]).filter(isFault),
      ).toEqual([]);
    });

    it('the SEL record of the first step, read after the poll saw M1, still decides: cause 9 is a fault', () => {
      expect(
        sequence([hs(4, 3, undefined, 'poll'), hs(1, undefined, undefined, 'poll'), hs(1, 4, 9, 'sel')]),
      ).toContain('unexpected-deactivation:+');
    });

    it('a surprise cause on a later step counts even when the first step was missed', () => {
      expect(sequence([hs(4, 3), hs(6, undefined, undefined, 'poll'), hs(1, 6, 9)])).toContain(
        'unexpected-deactivation:+',
      );
    });

    it('a board pulled out after a commanded deactivation is not a fault; pulled while active, it is', () => {
      expect(sequence([hs(4, 3), hs(6, 4, 2), hs(1, 6, 0), hs(0, 1)]).filter(isFault)).toEqual([]);
      expect(sequence([hs(4, 3), hs(0, 4, undefined, 'poll')])).toContain('hotswap-removed:+');
      expect(sequence([hs(4, 3), hs(6, 4, 1), hs(0, 6, 0)]).filter(isFault)).toEqual([]);
    });

    it('an AMC or RTM (FRU ≠ 0) changing state is recorded, not taken as the board', () => {
      const amc = { ...hs(0, 4, 6), fru: 1 } as DomainEvent;
      expect(faults(amc)).toEqual([]);
      expect(classify(NO_MEMORY, amc).findings.map(show)).toEqual(['note']);
      const back = { ...hs(4, 3), fru: 1 } as DomainEvent;
      expect(faults(back)).toEqual([]);
    });

    it('the memory of a deactivation ends when the slot is active again', () => {
      let m = NO_MEMORY;
      for (const e of [hs(4, 3), hs(6, 4, 1), hs(1, 6, 0), hs(2, 1), hs(3, 2), hs(4, 3)]) m = classify(m, e).memory;
      expect(m).toEqual({ state: 4, deactivation: undefined });
      expect(faults(hs(1, 6, 0), m)).toEqual([]);
    });
  });

  it('maps thresholds by sensor type and the threshold crossed, and deassertions clear', () => {
    const t = (sensorType: number, offset: number, asserted = true, severity = 'critical') =>
      ({ kind: 'threshold', ...base, sensorNumber: 1, sensorType, offset, asserted, severity }) as DomainEvent;
    expect(faults(t(0x01, 0x09))).toEqual(['temperature-critical:+']);
    expect(faults(t(0x02, 0x0b))).toEqual(['voltage-nonrecoverable:+']);
    expect(faults(t(0x04, 0x07, false, 'info'))).toEqual(['fan-noncritical:-']);
    expect(faults(t(0x09, 0x09))).toEqual([]);
  });

  it('a deassertion clears its own threshold, though it reports a milder severity (UC gone ≠ UNC gone)', () => {
    const uc = { kind: 'threshold', ...base, sensorNumber: 1, sensorType: 0x01, offset: 0x09 } as const;
    expect(faults({ ...uc, asserted: false, severity: 'noncritical' } as DomainEvent)).toEqual([
      'temperature-critical:-',
    ]);
  });

  it('maps processor IERR, watchdog and power-supply failure; ignores other offsets', () => {
    const d = (sensorType: number, offset: number) =>
      ({
        kind: 'discrete',
        ...base,
        sensorNumber: 2,
        sensorType,
        offset,
        asserted: true,
        severity: 'critical',
      }) as DomainEvent;
    expect(faults(d(0x07, 0))).toEqual(['processor-ierr:+']);
    expect(faults(d(0x23, 1))).toEqual(['watchdog-expired:+']);
    expect(faults(d(0x08, 1))).toEqual(['power-supply-failure:+']);
    expect(faults(d(0x08, 2))).toEqual([]);
    expect(faults(d(0x07, 7))).toEqual([]);
  });

  it('IPMC and shelf-manager reachability raise and clear their faults', () => {
    expect(faults({ kind: 'ipmc', ...base, reachable: false })).toEqual(['ipmc-unreachable:+']);
    expect(faults({ kind: 'shmc', shelf: 's1', at: 0, source: 'poll', endpoint: 'a', reachable: true })).toEqual([
      'shmc-unreachable:-',
    ]);
  });
});
