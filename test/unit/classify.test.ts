// Pure: which faults a domain event raises or clears. No peer: classify() does no I/O.
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import { classify } from '../../src/shelf/classify.js';

const base = { shelf: 's1', at: 0, source: 'poll' as const, ipmb: 0x82, fru: 0 };
const hs = (state: number, previous?: number, cause?: number): DomainEvent =>
  ({
    kind: 'hotswap',
    ...base,
    state,
    ...(previous === undefined ? {} : { previous }),
    ...(cause === undefined ? {} : { cause }),
  }) as DomainEvent;
const faults = (e: DomainEvent) => classify(e).map((o) => `${o.fault}:${o.asserted ? '+' : '-'}`);

describe('classify', () => {
  it.each([
    [hs(7, 4, 0xf), ['hotswap-lost:+']],
    [hs(7), ['hotswap-lost:+']],
    [hs(0, 1, 6), ['hotswap-removed:+']],
    [hs(1, 6, 9), ['unexpected-deactivation:+']],
    [hs(6, 4, 0), ['unexpected-deactivation:+']],
    [hs(6, 4, 1), []],
    [hs(1), []],
    [hs(0), []],
    [hs(3, 2), []],
    [hs(4, 3), ['hotswap-lost:-', 'hotswap-removed:-', 'unexpected-deactivation:-', 'ipmc-unreachable:-']],
  ])('hot-swap %j → %j', (e, want) => {
    expect(faults(e)).toEqual(want);
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
