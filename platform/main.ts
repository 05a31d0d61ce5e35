import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { readSettings } from './settings.ts';
import { setUp } from './setup/set-up.ts';
import { createPlatform } from './platform.ts';
import { wireApps } from './wiring.ts';
import { createApi } from './api/server.ts';
import { startRouter } from './router-process.ts';
import { releasesRepo } from './release/releases-repo.ts';
import { builders } from './build/builders.ts';
import { attachLogStream } from './api/routes/logs.ts';
import { attachRunStream } from './api/routes/run.ts';

/** `npm start`: the platform in the foreground until SIGINT/SIGTERM. */
async function main() {
  const settings = readSettings();
  await setUp(settings.dataDir);
  const p = createPlatform(settings);
  wireApps(p);

  const router = await startRouter(settings.dataDir, (line) => p.logs.router(line), (version) => p.routes.applied(version));
  let ready = false;
  const api = createApi(p, { ready: () => ready });
  const server = serve({ fetch: api.fetch, port: settings.apiPort, hostname: settings.bind });
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  attachLogStream(p, server);
  attachRunStream(p, server);
  const apiPort = (server.address() as AddressInfo).port;
  const httpPort = await router.port;
  p.ports = { api: apiPort, http: httpPort };
  await p.docker.ping();
  await p.logs.start();
  releasesRepo(p.db).failAbandoned();
  void builders.sweep(p);
  const stopSupervising = await p.runner.supervise();
  fs.writeFileSync(path.join(settings.dataDir, 'ports.json'), JSON.stringify({ api: apiPort, http: httpPort }) + '\n');
  ready = true;

  // Since the process started, module loading included.
  console.log(`-----> paas is up (${process.uptime().toFixed(1)} s)`);
  console.log(`       Dashboard:   http://${settings.bind}:${apiPort}/`);
  console.log(`       API:         http://${settings.bind}:${apiPort}/api   (PAAS_API_URL)`);
  console.log(`       Router:      http://APP.${settings.domain}:${httpPort}/`);
  console.log(`       Admin token: ${p.adminToken}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`-----> ${signal}: stopping (app containers keep running and are adopted on the next start)`);
    stopSupervising();
    server.close();
    await router.stop();
    p.logs.close();
    p.db.$client.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(` !     ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
