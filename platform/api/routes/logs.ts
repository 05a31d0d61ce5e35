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
 * One websocket message of the stream: a batch of lines, `{"ids":[…],"lines":[…]}`, each line in
 * the CONTRACT.md format (`TIME SOURCE[DYNO]: text`) and its id (ascending; the last one is what
 * `after=` resumes from). Encoded once per batch, as UTF-8, and shared by every client of the batch.
 */
export function encodeBatch(lines: LogLine[]): Buffer {
  const ids: number[] = new Array(lines.length);
  const texts: string[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    ids[i] = l.id;
    texts[i] = formatLine(l);
  }
  return Buffer.from(JSON.stringify({ ids, lines: texts }));
}

/** Most lines per message (a read of a container is a few hundred). */
const BATCH_LINES = 2000;

/** A websocket follower: how many lines it missed while too far behind. */
interface Client {
  ws: WebSocket;
  skipped: number;
  /** Lines up to this id were in its history: queued for the group before it joined. */
  after: number;
}

/** Sends one encoded batch of `count` lines, or counts them as skipped for a client too far behind. */
function deliver(client: Client, data: Buffer, count: number) {
  const { ws } = client;
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > MAX_BUFFERED) {
    client.skipped += count;
    return;
  }
  if (client.skipped) {
    ws.send(JSON.stringify({ notice: `${client.skipped} lines skipped: this client reads too slowly` }));
    client.skipped = 0;
  }
  ws.send(data, { binary: false });
}

/**
 * Everyone following one app with the same filters: one hub subscription, and each batch of new
 * lines encoded once (on the next turn of the event loop, so that the reads of several containers
 * make one message) and sent to all of them.
 */
interface Group {
  clients: Set<Client>;
  queued: LogLine[];
  unsubscribe: () => void;
}

/**
 * The websocket `GET /api/apps/:app/logs/stream?lines=&ps=&source=&after=&tail=1`: the history
 * (the last `lines`, or everything after line `after` when resuming), then, with tail=1, new lines
 * as they are written. Each message is a batch (see encodeBatch); a `{"notice": …}` message when
 * this client fell too far behind and lines were skipped.
 * Auth: `Authorization: Bearer TOKEN`, or `?token=` for browsers.
 */
export function attachLogStream(p: Platform, server: EventEmitter): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const groups = new Map<string, Group>();
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
  wss.on('close', () => {
    clearInterval(pings);
    for (const g of groups.values()) g.unsubscribe();
    groups.clear();
  });

  const flush = (g: Group) => {
    const lines = g.queued;
    g.queued = [];
    for (let i = 0; i < lines.length; i += BATCH_LINES) {
      const batch = lines.length <= BATCH_LINES ? lines : lines.slice(i, i + BATCH_LINES);
      let data: Buffer | undefined;
      for (const client of g.clients) {
        if (client.after >= batch[0].id) {
          const rest = batch.filter((l) => l.id > client.after);
          if (rest.length) deliver(client, encodeBatch(rest), rest.length);
          continue;
        }
        deliver(client, (data ??= encodeBatch(batch)), batch.length);
      }
    }
  };

  /** Joins the group of (app, filters), creating it (and its subscription) for the first client. */
  const join = (app: string, filter: Filter, client: Client): (() => void) => {
    const key = `${app}\0${filter.ps ?? ''}\0${filter.source ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      const group: Group = { clients: new Set(), queued: [], unsubscribe: () => {} };
      group.unsubscribe = p.logs.subscribe(app, filter, (lines) => {
        const first = group.queued.length === 0;
        for (const l of lines) group.queued.push(l);
        if (first) setImmediate(() => flush(group));
      });
      groups.set(key, (g = group));
    }
    const group = g;
    client.after = group.queued.length ? group.queued[group.queued.length - 1].id : 0;
    group.clients.add(client);
    return () => {
      group.clients.delete(client);
      if (group.clients.size === 0 && groups.get(key) === group) {
        group.unsubscribe();
        groups.delete(key);
      }
    };
  };

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
    wss.handleUpgrade(req, socket, head, (ws) => stream(p, ws, name, q, join));
  });
  return wss;
}

function stream(p: Platform, ws: WebSocket, app: string, q: LogQuery, join: (app: string, filter: Filter, client: Client) => () => void) {
  (ws as WebSocket & { alive?: boolean }).alive = true;
  ws.on('pong', () => ((ws as WebSocket & { alive?: boolean }).alive = true));
  ws.on('error', () => {});
  const client: Client = { ws, skipped: 0, after: 0 };
  // History and joining the live group in one synchronous step: no line can fall between them
  // (lines queued for the group before this client joined were stored before the history was
  // read: they are not sent again).
  const history = p.logs.history(app, { ps: q.ps, source: q.source, afterId: q.afterId, lines: q.afterId === undefined ? q.lines : undefined });
  for (let i = 0; i < history.length; i += BATCH_LINES) deliver(client, encodeBatch(history.slice(i, i + BATCH_LINES)), Math.min(BATCH_LINES, history.length - i));
  if (!q.tail) {
    ws.close(1000, 'end of history');
    return;
  }
  const leave = join(app, { ps: q.ps, source: q.source }, client);
  ws.on('close', leave);
}
