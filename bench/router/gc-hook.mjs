// Bench only (bench/router/run.ts preloads it into the router with --expose-gc): on SIGUSR2,
// collect garbage and report the live heap on stderr, so the websocket rounds can tell a leak
// from V8 keeping freed pages.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.stderr.write(`bench-heap ${JSON.stringify({ heapUsed, external, arrayBuffers })}\n`);
});
