import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { epochMs, now } from './clock.ts';
import { formatAccess, type AccessFields, type AccessSink } from './access-log.ts';
import type { Deadlines } from './deadlines.ts';
import type { RequestHead } from './http1.ts';
import { normalizeHost, type AppRoute, type RouteSource, type RouteTable } from './route-table.ts';
import { CONNECT_TIMEOUT, type UpstreamPool } from './upstreams.ts';

/** Settings and shared parts every request handler of one router sees. */
export interface RouterContext {
  routes: RouteSource;
  pool: UpstreamPool;
  access: AccessSink;
  log: (msg: string) => void;
  /** No response head this long after the request reached the app → 503 H12. */
  responseTimeouts: Deadlines;
  maxBodyBytes: number;
  /** Set once close() starts: answers carry Connection: close, new upgrades are refused. */
  shuttingDown: boolean;
  /** Open upgraded (websocket) client sockets, ended on shutdown. */
  upgraded: Set<net.Socket>;
}

// Heroku's rule for a client-supplied X-Request-Id.
const SANE_REQUEST_ID = /^[A-Za-z0-9+/=-]{20,200}$/;

export { now } from './clock.ts';
export const clientIp = (socket: net.Socket) => {
  const ip = socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
};

/**
 * Request ids: UUID-shaped (36 characters, as Heroku's v4 UUIDs), without asking crypto for
 * random bytes per request. The first 32 characters are those of a fresh randomUUID() every
 * 65,536 ids (28 hex digits, ~106 random bits); the last 4 hex digits count within that block.
 * Unique, and unguessable apart from their neighbours in a block (a request id is a
 * correlation handle, not a secret).
 */
let idBlock = '';
let idCount = 0x10000;
export function newRequestId(): string {
  if (idCount === 0x10000) {
    const u = randomUUID(); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
    idBlock = u.slice(0, 32);
    idCount = 0;
  }
  const n = idCount++;
  return idBlock + HEX4[n];
}
const HEX4: string[] = [];
for (let i = 0; i < 0x10000; i++) HEX4.push(i.toString(16).padStart(4, '0'));

/**
 * What stays the same from one request to the next on a keep-alive client connection: the
 * client's address, and the route of the Host it last sent (for as long as the table is the same).
 */
export class ConnectionCache {
  ip: string | undefined;
  table: RouteTable | undefined;
  hostHeader: string | undefined;
  host = '';
  route: AppRoute | undefined;
  /** The X-Forwarded-* lines last sent for this connection, and what they were made of. */
  forwarded = '';
  forwardedFor: string | undefined;
  forwardedHost: string | undefined;
}

/** Everything needed to route one request and describe it in its access line. */
export function begin(ctx: RouterContext, head: RequestHead, socket: net.Socket, cache: ConnectionCache = new ConnectionCache()) {
  const table = ctx.routes.current();
  let route: AppRoute | undefined;
  let host: string;
  if (cache.table === table && cache.hostHeader === head.host && cache.hostHeader !== undefined) {
    route = cache.route;
    host = cache.host;
  } else {
    ctx.pool.sync(table);
    route = table.lookup(head.host);
    host = normalizeHost(head.host);
    cache.table = table;
    cache.hostHeader = head.host;
    cache.route = route;
    cache.host = host;
  }
  let offered: string | undefined;
  let prior: string | undefined;
  for (let i = 0; i < head.lower.length; i++) {
    const name = head.lower[i];
    if (name === 'x-request-id') offered = head.values[i];
    else if (name === 'x-forwarded-for') prior = prior === undefined ? head.values[i] : `${prior}, ${head.values[i]}`;
  }
  const requestId = offered !== undefined && SANE_REQUEST_ID.test(offered) ? offered : newRequestId();
  const ip = (cache.ip ??= clientIp(socket));
  const fwd = prior ? `${prior}, ${ip}` : ip;
  const line: AccessFields = {
    method: head.method,
    path: head.target,
    host,
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
    const app = route?.app ?? null;
    if (ctx.access.fields) ctx.access.fields(app, line);
    else ctx.access({ app, dyno: line.dyno, text: formatAccess(line) });
  } catch (e) {
    ctx.log(`access log failed: ${(e as Error).message}`);
  }
}

// Hop-by-hop headers, and those the router sets itself; names listed in Connection go too.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-host',
  'x-request-id',
  'x-request-start',
]);
// Framing headers stay whatever Connection says: the body is passed through as framed.
const NEVER_NOMINATED = new Set(['host', 'content-length', 'transfer-encoding', 'upgrade']);

/**
 * The request head for the backend as one string, from the client's headers (their case and
 * order kept): hop-by-hop out, X-Forwarded-* and X-Request-Id in. `upgrade` keeps the
 * websocket handshake's Connection/Upgrade pair.
 */
export function forwardHead(
  head: RequestHead,
  socket: net.Socket,
  requestId: string,
  fwd: string,
  upgrade = false,
  cache: ConnectionCache = new ConnectionCache(),
): string {
  let nominated: string[] | undefined;
  for (const token of head.connection) if (!NEVER_NOMINATED.has(token)) (nominated ??= []).push(token);
  let out = `${head.method} ${head.target} HTTP/1.1\r\n`;
  const { names, lower, values } = head;
  for (let i = 0; i < names.length; i++) {
    const name = lower[i];
    if (NOT_FORWARDED.has(name) || (nominated !== undefined && nominated.includes(name))) continue;
    out += `${names[i]}: ${values[i]}\r\n`;
  }
  if (upgrade) out += `Connection: Upgrade\r\nUpgrade: ${head.upgrade}\r\n`;
  // The same from one keep-alive request to the next unless the client's X-Forwarded-For or Host changes.
  if (cache.forwardedFor !== fwd || cache.forwardedHost !== head.host) {
    cache.forwardedFor = fwd;
    cache.forwardedHost = head.host;
    cache.forwarded = `X-Forwarded-For: ${fwd}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: ${socket.localPort ?? ''}\r\nX-Forwarded-Host: ${head.host ?? ''}\r\n`;
  }
  return `${out}${cache.forwarded}X-Request-Id: ${requestId}\r\nX-Request-Start: ${epochMs()}\r\n\r\n`;
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
