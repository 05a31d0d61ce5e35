/**
 * The router process: `tsx router/main.ts`, spawned by the platform with its
 * environment (and usually an IPC channel). It must keep serving while the
 * platform restarts, so it reads its routes from `$PAAS_DATA_DIR/routes.json`
 * rather than from the platform.
 *
 * stdout: one JSON access line per request (see access-log.ts).
 * stderr: diagnostics, including `router listening on http://BIND:PORT`.
 * IPC out: {type:'listening', port} once, {type:'routes', version} per loaded table.
 * IPC in:  {type:'shutdown'} behaves like SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readSettings } from '../platform/settings.ts';
import { stdoutSink } from './access-log.ts';
import { createRouter } from './proxy.ts';
import { watchRouteFile } from './route-table.ts';

const DRAIN_MS = 10_000;

// A vanished parent turns our pipes into EPIPE; that must not take the router down.
process.stderr.on('error', () => {});
const log = (msg: string) => process.stderr.write(`router: ${msg}\n`);
const tell = (msg: object) => {
  if (process.send && process.connected) process.send(msg, undefined, undefined, () => {});
};

const settings = readSettings();
fs.mkdirSync(settings.dataDir, { recursive: true });
let listening = false;
const routes = watchRouteFile(path.join(settings.dataDir, 'routes.json'), {
  log,
  onLoad: (table) => listening && tell({ type: 'routes', version: table.version }),
});
const accessLog = stdoutSink();
const router = createRouter({ routes, accessLog, log });

let port: number;
try {
  port = await router.listen(settings.httpPort, settings.bind);
} catch (e) {
  log(`cannot listen on ${settings.bind}:${settings.httpPort}: ${(e as Error).message}`);
  process.exit(1);
}
const urlHost = settings.bind.includes(':') ? `[${settings.bind}]` : settings.bind;
process.stderr.write(`router listening on http://${urlHost}:${port}\n`);
listening = true;
tell({ type: 'listening', port });
tell({ type: 'routes', version: routes.current().version });

let stopping = false;
function stop(reason: string) {
  if (stopping) {
    log(`${reason} again: exiting without waiting`);
    process.exit(1);
  }
  stopping = true;
  log(`${reason}: draining (at most ${DRAIN_MS / 1000}s)`);
  router.close(DRAIN_MS).then(
    () => {
      routes.close();
      accessLog.flush();
      process.exit(0);
    },
    (e) => {
      log(`shutdown failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('message', (msg) => {
  if (msg && typeof msg === 'object' && (msg as { type?: unknown }).type === 'shutdown') stop('shutdown requested');
});
// The platform may restart without us: keep serving the last table.
process.on('disconnect', () => log('platform disconnected; still serving'));
// One broken request must not take every app offline; log loudly and carry on.
process.on('uncaughtException', (err) => log(`uncaught exception: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
