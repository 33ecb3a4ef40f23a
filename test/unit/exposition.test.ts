// The Prometheus text format of the model's snapshot: pure, so tested on its own; the whole
// output goes through `promtool check metrics` in test/integration/operators-view.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeLabel, labels, render } from '../../src/api/exposition.js';

describe('Prometheus exposition', () => {
  it('escapes backslash, double quote and newline in label values, and nothing else', () => {
    expect(escapeLabel('Temp "CPU"\\1\nx')).toBe('Temp \\"CPU\\"\\\\1\\nx');
    expect(escapeLabel('plain °C')).toBe('plain °C');
  });

  it('renders families with HELP, TYPE, labels and special values', () => {
    const text = render([
      {
        name: 'atca_x',
        help: 'a help\nline',
        type: 'gauge',
        samples: [
          { labels: labels({ shelf: 's1', slot: '2' }), value: 3.5 },
          { labels: '', value: Number.NaN },
        ],
      },
    ]);
    expect(text).toBe(
      '# HELP atca_x a help\\nline\n# TYPE atca_x gauge\natca_x{shelf="s1",slot="2"} 3.5\natca_x NaN\n',
    );
    expect(labels({ b: '2' }, 'a="1"')).toBe('a="1",b="2"');
  });

  it('any label value round-trips: one line per sample, quotes balanced', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const line = render([
          { name: 'm', help: 'h', type: 'gauge', samples: [{ labels: labels({ l: v }), value: 1 }] },
        ])
          .split('\n')
          .filter((x) => x.startsWith('m{'));
        expect(line).toHaveLength(1);
        const inner = line[0]!.slice('m{l="'.length, line[0]!.lastIndexOf('"} 1'));
        const back = inner.replace(/\\(["\\n\\])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        expect(back).toBe(v);
      }),
    );
  });
});

describe('FreshCache', () => {
  it('serves one build for maxAgeMs; a build that throws, at once or later, is not kept', async () => {
    const { FreshCache } = await import('../../src/api/fresh-cache.js');
    let t = 0;
    let n = 0;
    let fail: 'sync' | 'async' | undefined = 'sync';
    const c = new FreshCache(
      () => {
        n++;
        if (fail === 'sync') throw new Error('boom');
        if (fail === 'async') return Promise.reject(new Error('later'));
        return n;
      },
      100,
      () => t,
    );
    await expect(c.get()).rejects.toThrow('boom');
    fail = 'async';
    await expect(c.get()).rejects.toThrow('later');
    fail = undefined;
    expect(await c.get()).toBe(3);
    t = 50;
    expect(await c.get()).toBe(3);
    t = 150;
    expect(await c.get()).toBe(4);
  });
});
