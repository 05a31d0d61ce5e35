import type net from 'node:net';

/**
 * The writes of one event-loop turn leave together: a socket written to is corked until the
 * turn's check phase (setImmediate), when every socket corked in the turn is uncorked. The
 * router then reads and parses whatever the turn's poll returned before its writes wake the
 * client and the app, instead of being preempted by them after every write (−10–15% CPU per
 * request, docs/BENCHMARKS.md "Router"). Order and backpressure stay the stream's own (a corked
 * write returns false past the high-water mark; `end()` uncorks at once).
 */
const corked: net.Socket[] = [];

function uncorkAll(): void {
  // Uncorking runs no caller code synchronously (write callbacks and errors come on the next tick).
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}

/** Cork `socket` until the end of this event-loop turn (no-op if it already is). */
export function corkForTurn(socket: net.Socket): void {
  if (socket.writableCorked) return;
  socket.cork();
  if (corked.push(socket) === 1) setImmediate(uncorkAll);
}

/** Send what `socket` holds corked now (before destroying it: what was written still goes out). */
export function flushCorked(socket: net.Socket): void {
  while (socket.writableCorked) socket.uncork();
}
