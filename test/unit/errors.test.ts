// The error catalogue and docs/errors.md list the same codes, each code once.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AtcaError, ERRORS } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^\| (ATCA_ERR_[A-Z_]+) \|/gm)].map((m) => m[1]);

describe('error catalogue', () => {
  it('documents every code exactly once, and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(ERRORS).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it.each(Object.keys(ERRORS) as (keyof typeof ERRORS)[])('%s builds an error carrying its code', (code) => {
    const e = new AtcaError(code, 'slot 3');
    expect(e.code).toBe(code);
    expect(e.fence).toBe(ERRORS[code].fence);
    expect(e.message).toBe(`${ERRORS[code].message}: slot 3`);
  });
});
