// Wall-clock time in microseconds, to compare with timestamps other processes take with
// clock_gettime(CLOCK_REALTIME) (Pacemaker's alert timestamps). Date.now() has 1 ms steps;
// performance.now() is finer but drifts from the wall clock as NTP slews it. So the offset
// between the two is re-measured before each sample, at the instant Date.now() ticks over
// to the next millisecond: that instant is an exact wall-clock millisecond, seen to within
// one turn of the loop (well under 1 µs here).

let offsetMs = Date.now() - performance.now();

/** Re-measures the wall-clock offset; spins for at most ~1 ms. Returns the uncertainty in µs. */
export function calibrateWallClock(): number {
  const start = Date.now();
  let before = performance.now();
  let now = Date.now();
  const limit = before + 5;
  while (now === start && before < limit) {
    before = performance.now();
    now = Date.now();
  }
  const after = performance.now();
  offsetMs = now - (before + after) / 2;
  return ((after - before) / 2) * 1000;
}

/** Wall-clock microseconds since the Unix epoch (as a double: exact to well below 1 µs). */
export function wallUs(): number {
  return (offsetMs + performance.now()) * 1000;
}
