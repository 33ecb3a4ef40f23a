// The trap receiver's rate-limited log. It takes its clock as a parameter, and these tests pass a
// fake one: the 10 s window is then exact and instant, where the integration test can only show
// that a burst yields one line.
import { describe, expect, it } from 'vitest';
import { type LogLevel, RateLimitedLog } from '../../src/snmp/rate-limited-log.js';

function setup() {
  const lines: [LogLevel, string][] = [];
  let now = 1000;
  const log = new RateLimitedLog(
    (level, msg) => lines.push([level, msg]),
    10_000,
    () => now,
  );
  return {
    lines,
    log,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('RateLimitedLog', () => {
  it('writes the first line of a key and drops the rest within 10 s, counting them', () => {
    const { lines, log, advance } = setup();
    log.emit('badAuth', 'warn', 'one');
    advance(9_999);
    log.emit('badAuth', 'warn', 'two');
    log.emit('badAuth', 'warn', 'three');
    expect(lines).toEqual([['warn', 'one']]);
    expect(log.suppressed).toBe(2);
  });

  it('writes again once 10 s have passed since the last line written, saying how many were dropped', () => {
    const { lines, log, advance } = setup();
    log.emit('badAuth', 'warn', 'one');
    log.emit('badAuth', 'warn', 'two');
    advance(10_000);
    log.emit('badAuth', 'warn', 'three');
    advance(10_000);
    log.emit('badAuth', 'warn', 'four');
    expect(lines).toEqual([
      ['warn', 'one'],
      ['warn', 'three (1 similar line(s) suppressed before this one)'],
      ['warn', 'four'],
    ]);
  });

  it('limits each key on its own', () => {
    const { lines, log } = setup();
    log.emit('badAuth', 'warn', 'auth');
    log.emit('malformed', 'warn', 'malformed');
    log.emit('badAuth', 'warn', 'auth again');
    expect(lines.map(([, m]) => m)).toEqual(['auth', 'malformed']);
  });

  it('flush() reports the lines still pending per key, once', () => {
    const { lines, log } = setup();
    log.emit('badAuth', 'warn', 'auth');
    log.emit('badAuth', 'warn', 'auth');
    log.emit('badAuth', 'warn', 'auth');
    log.emit('malformed', 'info', 'm');
    log.flush();
    log.flush();
    expect(lines).toEqual([
      ['warn', 'auth'],
      ['info', 'm'],
      ['warn', '2 more "badAuth" line(s) were suppressed by rate limiting'],
    ]);
    expect(log.suppressed).toBe(2);
  });
});

describe('RateLimitedLog with a lazy message', () => {
  it('builds the line only when it is written', () => {
    const { lines, log, advance } = setup();
    let built = 0;
    const msg = () => {
      built++;
      return `line ${built}`;
    };
    log.emit('k', 'warn', msg);
    log.emit('k', 'warn', msg);
    log.emit('k', 'warn', msg);
    expect(built).toBe(1);
    advance(10_000);
    log.emit('k', 'warn', msg);
    expect(built).toBe(2);
    expect(lines).toEqual([
      ['warn', 'line 1'],
      ['warn', 'line 2 (2 similar line(s) suppressed before this one)'],
    ]);
  });
});
