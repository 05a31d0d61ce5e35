/**
 * The router's clock: performance.now(), read once per event-loop turn and cached until the
 * turn's check phase (as nginx caches its time per event cycle). Everything a turn handles
 * happened "at" the moment its I/O was polled; reading the clock for each request, connection
 * and timeout cost more than 1% of the router's CPU (docs/BENCHMARKS.md, "Router").
 */
let cached = 0;
let cachedEpoch = 0;
let valid = false;
let validEpoch = false;
let scheduled = false;
const invalidate = () => {
  valid = false;
  validEpoch = false;
  scheduled = false;
};
const schedule = () => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(invalidate);
};

/** Milliseconds, monotonic (performance.now()), as of this event-loop turn. */
export function now(): number {
  if (!valid) {
    cached = performance.now();
    valid = true;
    schedule();
  }
  return cached;
}

/** Milliseconds since the epoch (Date.now()), as of this event-loop turn. */
export function epochMs(): number {
  if (!validEpoch) {
    cachedEpoch = Date.now();
    validEpoch = true;
    schedule();
  }
  return cachedEpoch;
}
