import http from 'node:http';
import type net from 'node:net';
import { backendFailure, begin, now, prepareUpgradeHeaders, writeLine, type RouterContext } from './context.ts';
import { pages, rawResponse, type Page } from './pages.ts';
import { handleRequest } from './web.ts';

const APP_ERROR = pages.applicationError();

/**
 * node:http hands over every request carrying `Connection: Upgrade`. Websockets
 * are spliced through to a backend; any other upgrade (`curl --http2` sends
 * `Upgrade: h2c`) is served as the plain HTTP/1.1 request it also is, which is
 * what a server that ignores Upgrade does (RFC 9110 §7.8).
 */
export function handleUpgrade(ctx: RouterContext, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  // node:http hands the socket over without an error listener; a reset must not crash us.
  socket.on('error', () => socket.destroy());
  const isWebSocket = req.method === 'GET' && /^websocket$/i.test(req.headers.upgrade ?? '');
  if (isWebSocket) return proxyWebSocket(ctx, req, socket, head);
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody) {
    // Its body is no longer parsed by node:http; refuse rather than forward half a request.
    const { route, line } = begin(ctx, req);
    line.code = 'H25';
    line.desc = 'HTTP restriction: upgrade request with a body';
    line.status = 400;
    socket.end(rawResponse(pages.badRequest()));
    return writeLine(ctx, route, line);
  }
  serveAsPlainRequest(ctx, req, socket);
}

function serveAsPlainRequest(ctx: RouterContext, req: http.IncomingMessage, socket: net.Socket) {
  // node:http no longer parses this socket: one request, then close.
  req.headers.connection = `${req.headers.connection ?? ''}, close`;
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  let closed = false;
  const emitClose = () => {
    if (closed) return;
    closed = true;
    res.emit('close');
  };
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.destroySoon();
    process.nextTick(emitClose);
  });
  socket.once('close', () => process.nextTick(emitClose));
  handleRequest(ctx, req, res);
}

function proxyWebSocket(ctx: RouterContext, req: http.IncomingMessage, socket: net.Socket, head: Buffer) {
  const { route, requestId, fwd, line, startedAt } = begin(ctx, req);
  let logged = false;
  let isOpen = false;
  let timer: NodeJS.Timeout | undefined;
  let proxyReq: http.ClientRequest | undefined;

  const writeOnce = () => {
    if (logged) return;
    logged = true;
    if (timer) clearTimeout(timer);
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
    const raw = rawResponse(page, { 'X-Request-Id': requestId });
    line.bytes = Buffer.byteLength(raw);
    proxyReq?.destroy();
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
    if (!isOpen) proxyReq?.destroy();
    if (!logged) {
      line.code = 'H27';
      line.desc = 'Client Request Interrupted';
      line.status = 499;
      writeOnce();
    }
  });

  prepareUpgradeHeaders(req, requestId, fwd);
  timer = setTimeout(() => reject('H12', 'Request timeout', APP_ERROR), ctx.responseTimeoutMs);

  ctx.engine.ws(req, socket, head, { host: up.backend.host, port: up.backend.port, agent: ctx.pool.wsAgent }, {
    onProxyReq(r) {
      proxyReq = r;
      if (logged) return void r.destroy();
      const began = now();
      r.once('socket', (s: net.Socket) => {
        if (s.connecting) s.once('connect', () => (line.connect = now() - began));
        else line.connect = 0;
      });
    },
    onResponse(proxyRes) {
      // The backend declined the upgrade and answered plainly; the engine relays it raw.
      if (logged) return void proxyRes.destroy();
      line.status = proxyRes.statusCode ?? 0;
      proxyRes.headers['x-request-id'] = requestId;
      delete proxyRes.headers['transfer-encoding'];
      proxyRes.headers.connection = 'close';
      writeOnce();
    },
    onUpgrade(_proxyRes, proxySocket) {
      if (logged) return void proxySocket.destroy();
      isOpen = true;
      line.status = 101;
      writeOnce();
      link(socket, proxySocket);
      link(proxySocket, socket);
    },
    onError(err) {
      if (isOpen || logged || socket.destroyed) return;
      const { code, desc } = backendFailure(err);
      reject(code, desc, APP_ERROR);
    },
  });
}

/** When `a` closes, finish `b` gracefully and make sure it does not outlive `a` by long. */
function link(a: net.Socket, b: net.Socket) {
  a.once('close', () => {
    if (b.destroyed) return;
    b.end();
    setTimeout(() => b.destroy(), 2_000).unref();
  });
}
