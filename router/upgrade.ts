import type net from 'node:net';
import type { ClientRequest } from './client-connection.ts';
import { backendFailure, begin, forwardHead, now, writeLine, type RouterContext } from './context.ts';
import { headEnd, parseResponseHead, type ResponseHead } from './http1.ts';
import { constantPage, pages, rawResponse, type Page } from './pages.ts';
import { handleRequest } from './web.ts';

const APP_ERROR = constantPage(pages.applicationError());
const MAX_RESPONSE_HEAD = 64 * 1024;
const DECLINED_DROPPED = new Set(['connection', 'keep-alive', 'x-request-id']);

/**
 * A request carrying `Connection: Upgrade`. Websockets are spliced through to a backend; any
 * other upgrade (`curl --http2` sends `Upgrade: h2c`) is served as the plain HTTP/1.1 request it
 * also is, then the connection closes, which is what a server that ignores Upgrade does (RFC 9110 §7.8).
 */
export function handleUpgrade(ctx: RouterContext, req: ClientRequest): void {
  const head = req.head;
  if (head.method === 'GET' && /^websocket$/i.test(head.upgrade ?? '')) return proxyWebSocket(ctx, req);
  handleRequest(ctx, req, true);
}

function proxyWebSocket(ctx: RouterContext, req: ClientRequest) {
  const head = req.head;
  const socket = req.conn.socket;
  const { route, requestId, fwd, line, startedAt } = begin(ctx, head, socket, req.conn.cache);
  // From here on the socket is ours: no more HTTP parsing on it.
  const early = req.conn.detach();
  let logged = false;
  let isOpen = false;
  let backend: net.Socket | undefined;

  const timeout = { expire: () => reject('H12', 'Request timeout', APP_ERROR) };
  const writeOnce = () => {
    if (logged) return;
    logged = true;
    ctx.responseTimeouts.disarm(timeout);
    if (line.dyno) line.service = now() - startedAt - (line.connect ?? 0);
    writeLine(ctx, route, line);
  };
  const reject = (code: string | undefined, desc: string | undefined, page: Page) => {
    if (logged) return;
    if (code) {
      line.code = code;
      line.desc = desc;
    }
    line.status = page.status;
    const raw = Buffer.from(rawResponse(page, { 'X-Request-Id': requestId }));
    line.bytes = raw.length;
    backend?.destroy();
    if (socket.writable) socket.end(raw);
    else socket.destroy();
    writeOnce();
  };

  if (!route) return reject(undefined, undefined, pages.noSuchApp(line.host));
  if (ctx.shuttingDown) return reject('H14', 'No web processes running', APP_ERROR);
  const up = ctx.pool.pick(route);
  if (!up) return reject('H14', 'No web processes running', APP_ERROR);
  // An open websocket counts as outstanding work on its backend for as long as it lives,
  // so new sockets (and requests) spread away from backends holding many.
  up.outstanding++;
  line.dyno = up.backend.dyno;
  ctx.upgraded.add(socket);
  socket.once('close', () => {
    ctx.upgraded.delete(socket);
    up.outstanding--;
    if (!isOpen) backend?.destroy();
    if (!logged) {
      line.code = 'H27';
      line.desc = 'Client Request Interrupted';
      line.status = 499;
      writeOnce();
    }
  });

  ctx.responseTimeouts.arm(timeout);
  const began = now();
  const b = ctx.pool.dedicated(up);
  backend = b;
  b.once('connect', () => (line.connect = now() - began));
  b.on('error', (err: NodeJS.ErrnoException) => {
    if (isOpen || logged || socket.destroyed) return;
    const { code, desc } = backendFailure(err);
    reject(code, desc, APP_ERROR);
  });
  b.once('close', () => {
    if (!isOpen && !logged) reject('H13', 'Connection closed without response', APP_ERROR);
  });
  b.write(forwardHead(head, socket, requestId, fwd, true), 'latin1');
  if (early.length) b.write(early);

  let buf: Buffer | undefined;
  const onHead = (d: Buffer) => {
    buf = buf ? Buffer.concat([buf, d]) : d;
    const end = headEnd(buf);
    if (end === -1) {
      if (buf.length > MAX_RESPONSE_HEAD) reject('H13', 'Connection closed without response', APP_ERROR);
      return;
    }
    let res: ResponseHead;
    try {
      res = parseResponseHead(buf.toString('latin1', 0, end - 4));
    } catch {
      return reject('H13', 'Connection closed without response', APP_ERROR);
    }
    b.off('data', onHead);
    const rest = buf.subarray(end);
    line.status = res.status;
    if (res.status === 101) {
      isOpen = true;
      line.bytes = end;
      writeOnce();
      socket.write(buf.subarray(0, end));
      if (rest.length) socket.write(rest);
      splice(socket, b);
      return;
    }
    // The app declined the upgrade and answered plainly: relay that answer, then close.
    let out = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
    for (let i = 0; i < res.names.length; i++) if (!DECLINED_DROPPED.has(res.lower[i])) out += `${res.names[i]}: ${res.values[i]}\r\n`;
    out += `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`;
    line.bytes = out.length;
    writeOnce();
    socket.write(out, 'latin1');
    if (rest.length) socket.write(rest);
    b.pipe(socket);
    socket.resume(); // whatever the client still sends is dropped; its close is noticed
  };
  b.on('data', onHead);
}

/** Bytes both ways; when either side closes, finish the other gracefully, and soon for good. */
function splice(client: net.Socket, backend: net.Socket) {
  client.on('error', () => client.destroy());
  backend.pipe(client);
  client.pipe(backend);
  if (client.isPaused()) client.resume();
  link(client, backend);
  link(backend, client);
}

function link(a: net.Socket, b: net.Socket) {
  a.once('close', () => {
    if (b.destroyed) return;
    b.end();
    setTimeout(() => b.destroy(), 2_000).unref();
  });
}
