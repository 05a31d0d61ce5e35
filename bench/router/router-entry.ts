/**
 * A router child for the benchmark: one app ("bench.localhost") over the given
 * backend ports, the chosen engine, access lines on stdout as in production.
 * Usage: tsx bench/router/router-entry.ts ENGINE PORT[,PORT…]
 */
import { createHttpProxyEngine } from '../../router/engine-http-proxy.ts';
import { createNodeEngine } from '../../router/engine-node.ts';
import { createRouter } from '../../router/proxy.ts';
import { staticRoutes } from '../../router/route-table.ts';

const [engineName = 'http-proxy', ports = ''] = process.argv.slice(2);
const engines = { 'http-proxy': createHttpProxyEngine, node: createNodeEngine } as const;
const makeEngine = engines[engineName as keyof typeof engines];
if (!makeEngine) {
  process.stderr.write(`unknown engine ${engineName}; one of ${Object.keys(engines).join(', ')}\n`);
  process.exit(2);
}
const backends = ports.split(',').filter(Boolean).map((p, i) => ({ dyno: `web.${i + 1}`, host: '127.0.0.1', port: Number(p) }));
const router = createRouter({
  routes: staticRoutes({ version: 1, apps: { bench: { hosts: ['bench.localhost'], backends } } }),
  engine: makeEngine(),
});
const port = await router.listen(0, '127.0.0.1');
process.send?.({ type: 'listening', port });
process.on('SIGTERM', () => router.close(1_000).then(() => process.exit(0)));
