import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { Hono } from 'hono';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { authenticate } from '../auth.ts';
import { refuseUpgrade } from '../refuse-upgrade.ts';
import { oneOffSpec } from '../../runner/one-off.ts';
import { PlatformError } from '../../errors.ts';
import type { ApiEnv } from '../api-env.ts';
import { jsonBody } from '../body.ts';
import { FrameSplitter } from '../../container-io.ts';

const Run = z.object({
  command: z.array(z.string()).min(1, 'give a command to run'),
  env: z.record(z.string(), z.string()).default({}),
});

/** `paas run:detached`: output goes to the log stream; the container goes when it exits. */
export function runRoutes(p: Platform) {
  const apps = appsService(p);
  return new Hono<ApiEnv>().post('/:app/dynos', async (c) => {
    const app = apps.get(c.req.param('app'));
    const { command, env } = await jsonBody(c, Run);
    const inst = await p.scheduler.start({ ...oneOffSpec(p, app, command, env), background: true });
    p.events.record(app.name, 'run.started', c.var.user.name, `Started ${inst.dyno}: ${command.join(' ')}`);
    return c.json({ dyno: inst.dyno, release: inst.release }, 201);
  });
}

const Start = Run.extend({ tty: z.boolean().default(false), cols: z.number().int().positive().optional(), rows: z.number().int().positive().optional() });
const Control = z.object({ type: z.literal('resize'), cols: z.number().int().positive(), rows: z.number().int().positive() });

/**
 * `paas run` over a websocket at /api/apps/:app/run. The client's first message is JSON
 * {command, env, tty, cols, rows}; then binary messages are stdin and the server's binary
 * messages are output (with a TTY: raw bytes; without: the first byte says 1 = stdout, 2 = stderr).
 * Text messages are control: {type:'resize',cols,rows} from the client, {type:'exit',code} or
 * {type:'error',message} from the server, which then closes.
 */
export function attachRunStream(p: Platform, server: EventEmitter): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/api\/apps\/([^/]+)\/run\/?$/.exec(url.pathname);
    if (!m) return;
    socket.on('error', () => {});
    const user = authenticate(p, req.headers.authorization);
    if (!user) return refuseUpgrade(socket, 401, 'missing or invalid API token (run `paas login`, or set PAAS_TOKEN)');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('message', (data) => void session(p, ws, decodeURIComponent(m[1]), data.toString(), user.name));
    });
  });
}

async function session(p: Platform, ws: WebSocket, appName: string, first: string, user: string) {
  const fail = (message: string) => {
    ws.send(JSON.stringify({ type: 'error', message }));
    ws.close();
  };
  let start: z.infer<typeof Start>;
  try {
    start = Start.parse(JSON.parse(first));
  } catch {
    return fail('the first message must be {"command": [...], "tty": bool}');
  }
  let proc;
  try {
    const app = appsService(p).get(appName);
    const spec = oneOffSpec(p, app, start.command, start.env);
    proc = await p.scheduler.attach(spec, start.tty);
    p.events.record(app.name, 'run.started', user, `Started ${spec.dyno}: ${start.command.join(' ')}`);
  } catch (err) {
    return fail(err instanceof PlatformError ? err.message : `could not start: ${(err as Error).message}`);
  }
  if (start.tty && start.cols && start.rows) await proc.resize(start.cols, start.rows);
  const { stream } = proc;
  const frames = new FrameSplitter();
  stream.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (start.tty) ws.send(chunk);
    else for (const f of frames.push(chunk)) ws.send(Buffer.concat([Buffer.from([f.stream]), f.payload]));
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      stream.write(data as Buffer);
      return;
    }
    const control = Control.safeParse(JSON.parse(data.toString()));
    if (control.success) void proc.resize(control.data.cols, control.data.rows);
  });
  ws.on('close', () => void proc.remove());
  const code = await proc.exited;
  // Let the last output frames through before the exit message.
  await new Promise((r) => setTimeout(r, 100));
  if (ws.readyState === ws.OPEN) {
    ws.send(JSON.stringify({ type: 'exit', code }));
    ws.close();
  }
  await proc.remove();
}
