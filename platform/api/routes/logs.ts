import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Platform } from '../../platform.ts';
import { appsService } from '../../apps/apps-service.ts';
import { appsRepo } from '../../apps/apps-repo.ts';
import { PlatformError, invalid } from '../../errors.ts';
import { authenticate } from '../auth.ts';
import { refuseUpgrade as refuse } from '../refuse-upgrade.ts';
import type { ApiEnv } from '../api-env.ts';
import { formatLine, SOURCES, type Filter, type LogLine, type Source } from '../../logs/format.ts';

const PS = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)?$/i;
/** A websocket client this far behind loses lines (counted, and told) rather than growing memory. */
const MAX_BUFFERED = 8 * 1024 * 1024;

export interface LogQuery extends Filter {
  lines: number;
  afterId?: number;
  tail: boolean;
  json: boolean;
}

/** `lines`, `ps`, `source`, `after`, `tail`, `format` from a query string; bad values are a 422. */
export function parseLogQuery(q: URLSearchParams, retention: number): LogQuery {
  const lines = q.get('lines') ?? q.get('num') ?? '100';
  const n = Number(lines);
  if (!Number.isInteger(n) || n < 0) throw invalid(`lines must be a whole number from 0 to ${retention}, got "${lines}"`);
  const ps = q.get('ps') || q.get('dyno') || undefined;
  if (ps && !PS.test(ps)) throw invalid(`ps must be a process type or dyno (web, web.2), got "${ps}"`);
  const source = q.get('source') || undefined;
  if (source && !SOURCES.includes(source as Source)) throw invalid(`source must be one of ${SOURCES.join(', ')}, got "${source}"`);
  const after = q.get('after');
  const afterId = after === null || after === '' ? undefined : Number(after);
  if (afterId !== undefined && !(Number.isInteger(afterId) && afterId >= 0)) throw invalid(`after must be a line id, got "${after}"`);
  const tail = ['1', 'true', 'yes'].includes(q.get('tail') ?? '');
  return { lines: Math.min(n, retention), ps, source: source as Source | undefined, afterId, tail, json: q.get('format') === 'json' };
}

export const lineView = (l: LogLine) => ({ id: l.id, time: l.time, source: l.source, dyno: l.dyno, text: l.text, line: formatLine(l) });

/** GET /api/apps/:app/logs: the history, as text (one line each) or JSON lines (`?format=json`). */
export function logsRoutes(p: Platform) {
  const apps = appsService(p);
  return new Hono<ApiEnv>()
    .get('/:app/logs', (c) => {
      const app = apps.get(c.req.param('app'));
      const q = parseLogQuery(new URL(c.req.url).searchParams, p.logs.retention);
      const json = q.json || (c.req.header('accept') ?? '').includes('application/x-ndjson');
      const lines = p.logs.history(app.name, { ...q, lines: q.afterId === undefined ? q.lines : undefined });
      if (json) return c.body(lines.map((l) => JSON.stringify(lineView(l)) + '\n').join(''), 200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
      return c.text(lines.map((l) => formatLine(l) + '\n').join(''));
    })
    .get('/:app/logs/stream', (c) => {
      apps.get(c.req.param('app'));
      throw new PlatformError(400, 'bad_request', 'this is a websocket: connect with Upgrade: websocket (paas logs -t)');
    });
}

/**
 * The websocket `GET /api/apps/:app/logs/stream?lines=&ps=&source=&after=&tail=1`: the history
 * (the last `lines`, or everything after line `after` when resuming), then, with tail=1, each new
 * line as it is written. One JSON object per message ({id, time, source, dyno, text, line}); a
 * `{"notice": …}` message when this client fell too far behind and lines were skipped.
 * Auth: `Authorization: Bearer TOKEN`, or `?token=` for browsers.
 */
export function attachLogStream(p: Platform, server: EventEmitter): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const pings = setInterval(() => {
    for (const ws of wss.clients) {
      const alive = ws as WebSocket & { alive?: boolean };
      if (alive.alive === false) ws.terminate();
      else {
        alive.alive = false;
        ws.ping();
      }
    }
  }, 30_000).unref();
  wss.on('close', () => clearInterval(pings));

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/api\/apps\/([^/]+)\/logs\/stream\/?$/.exec(url.pathname);
    if (!m) {
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, `no websocket at ${url.pathname}`);
      return;
    }
    socket.on('error', () => {});
    const token = url.searchParams.get('token');
    const user = authenticate(p, req.headers.authorization ?? (token ? `Bearer ${token}` : undefined));
    if (!user) return refuse(socket, 401, 'missing or invalid API token (run `paas login`, or set PAAS_TOKEN)');
    const name = decodeURIComponent(m[1]);
    if (!appsRepo(p.db).byName(name)) return refuse(socket, 404, `app "${name}" not found`);
    let q: LogQuery;
    try {
      q = parseLogQuery(url.searchParams, p.logs.retention);
    } catch (err) {
      return refuse(socket, 422, (err as Error).message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => stream(p, ws, name, q));
  });
  return wss;
}

function stream(p: Platform, ws: WebSocket, app: string, q: LogQuery) {
  (ws as WebSocket & { alive?: boolean }).alive = true;
  ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
  ws.on('error', () => {});
  let skipped = 0;
  const send = (l: LogLine) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      skipped++;
      return;
    }
    if (skipped) {
      ws.send(JSON.stringify({ notice: `${skipped} lines skipped: this client reads too slowly` }));
      skipped = 0;
    }
    ws.send(JSON.stringify(lineView(l)));
  };
  // Many frames per socket write (ws's own socket, corked): one write per line costs more than the rest of a line's path.
  const sendAll = (lines: LogLine[]) => {
    const socket = (ws as WebSocket & { _socket?: Duplex })._socket;
    socket?.cork();
    for (const l of lines) send(l);
    socket?.uncork();
  };
  let queued: LogLine[] = [];
  const queue = (l: LogLine) => {
    if (queued.push(l) > 1) return;
    setImmediate(() => {
      const lines = queued;
      queued = [];
      sendAll(lines);
    });
  };
  // History and subscription in one synchronous step: no line can fall between them.
  const history = p.logs.history(app, { ps: q.ps, source: q.source, afterId: q.afterId, lines: q.afterId === undefined ? q.lines : undefined });
  sendAll(history);
  if (!q.tail) {
    ws.close(1000, 'end of history');
    return;
  }
  const unsubscribe = p.logs.subscribe(app, { ps: q.ps, source: q.source }, queue);
  ws.on('close', unsubscribe);
}
