import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import { formatAccess, type AccessFields, type AccessSink } from './access-log.ts';
import type { ProxyEngine } from './engine.ts';
import { normalizeHost, type AppRoute, type RouteSource } from './route-table.ts';
import { CONNECT_TIMEOUT, type UpstreamPool } from './upstreams.ts';

/** Settings and shared parts every request handler of one router sees. */
export interface RouterContext {
  routes: RouteSource;
  engine: ProxyEngine;
  pool: UpstreamPool;
  access: AccessSink;
  log: (msg: string) => void;
  responseTimeoutMs: number;
  maxBodyBytes: number;
  /** Set once close() starts: answers carry Connection: close, new upgrades are refused. */
  shuttingDown: boolean;
  /** Open upgraded (websocket) client sockets, ended on shutdown. */
  upgraded: Set<net.Socket>;
}

// Heroku's rule for a client-supplied X-Request-Id.
const SANE_REQUEST_ID = /^[A-Za-z0-9+/=-]{20,200}$/;
const HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'te', 'trailer', 'expect'];

export const now = () => performance.now();
export const clientIp = (socket: net.Socket) => (socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/** Everything needed to route one request and describe it in its access line. */
export function begin(ctx: RouterContext, req: http.IncomingMessage) {
  const table = ctx.routes.current();
  ctx.pool.sync(table);
  const route = table.lookup(req.headers.host);
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
  const prior = req.headers['x-forwarded-for'];
  const ip = clientIp(req.socket);
  const fwd = prior ? `${prior}, ${ip}` : ip;
  const line: AccessFields = {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    host: normalizeHost(req.headers.host),
    requestId,
    fwd,
    dyno: null,
    status: 0,
    bytes: 0,
    protocol: 'http',
  };
  return { route, requestId, fwd, line, startedAt: now() };
}

export function writeLine(ctx: RouterContext, route: AppRoute | undefined, line: AccessFields) {
  try {
    ctx.access({ app: route?.app ?? null, dyno: line.dyno, text: formatAccess(line) });
  } catch (e) {
    ctx.log(`access log failed: ${(e as Error).message}`);
  }
}

// Headers forwardHeaders sets itself, and hop-by-hop ones; names listed in Connection go too.
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'connection', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-host', 'x-request-id', 'x-request-start']);
const NEVER_NOMINATED = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * The request head for the backend as a flat [name, value, …] list, from the client's raw
 * headers (their case and order kept): hop-by-hop out, X-Forwarded-* and X-Request-Id in.
 */
export function forwardHeaders(req: http.IncomingMessage, requestId: string, fwd: string): string[] {
  const connection = req.headers.connection;
  let nominated: Set<string> | undefined;
  if (connection) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !NEVER_NOMINATED.has(name)) (nominated ??= new Set()).add(name);
    }
  }
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!NOT_FORWARDED.has(name) && !nominated?.has(name)) out.push(raw[i], raw[i + 1]);
  }
  out.push(
    'X-Forwarded-For', fwd,
    'X-Forwarded-Proto', 'http',
    'X-Forwarded-Port', String(req.socket.localPort ?? ''),
    'X-Forwarded-Host', req.headers.host ?? '',
    'X-Request-Id', requestId,
    'X-Request-Start', String(Date.now()),
  );
  return out;
}

/** Rewrite the request head of an upgrade for the backend: hop-by-hop out, X-Forwarded-* and X-Request-Id in. */
export function prepareUpgradeHeaders(req: http.IncomingMessage, requestId: string, fwd: string) {
  const h = req.headers;
  const connection = h.connection;
  if (connection) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !['upgrade', 'host', 'content-length', 'transfer-encoding'].includes(name)) delete h[name];
    }
  }
  for (const name of HOP_BY_HOP) delete h[name];
  h.connection = 'Upgrade';
  h['x-forwarded-for'] = fwd;
  h['x-forwarded-proto'] = 'http';
  h['x-forwarded-port'] = String(req.socket.localPort ?? '');
  h['x-forwarded-host'] = req.headers.host ?? '';
  h['x-request-id'] = requestId;
  h['x-request-start'] = String(Date.now());
}

/** Heroku error code for a backend that failed before sending response headers. */
export function backendFailure(err: NodeJS.ErrnoException): { code: string; desc: string } {
  switch (err.code) {
    case CONNECT_TIMEOUT:
      return { code: 'H19', desc: 'Backend connection timeout' };
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 'H10', desc: 'App crashed' };
    default:
      return { code: 'H13', desc: 'Connection closed without response' };
  }
}
