import type http from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { backendFailure, begin, forwardHeaders, now, writeLine, type RouterContext } from './context.ts';
import { pages, renderPage, type Page } from './pages.ts';
import { CONNECT_TIMEOUT, type Upstream } from './upstreams.ts';
import type { AppRoute } from './route-table.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
// Failures where the backend cannot have seen the request (or, for a reset, where
// replaying an idempotent request is safe): worth one more try elsewhere.
const RETRIABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', CONNECT_TIMEOUT]);
const APP_ERROR = pages.applicationError();

class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.seen += chunk.length;
    if (this.seen > this.max) cb(Object.assign(new Error('request body too large'), { code: 'EBODYLIMIT' }));
    else cb(null, chunk);
  }
}

/** One try at one backend. */
interface Attempt {
  up: Upstream;
  startedAt: number;
  connectedAt?: number;
  proxyReq?: http.ClientRequest;
  responded: boolean;
  /** The response body arrived in full; the pooled socket is back in the pool and must not be touched. */
  complete: boolean;
  /** Abandoned (failed, timed out, client gone): late events from it are ignored. */
  dead: boolean;
  released: boolean;
}

/**
 * Route, forward and log one HTTP request. Policy lives here (which backend,
 * when to retry, when to give up, what to log); the engine only moves bytes.
 */
export function handleRequest(ctx: RouterContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const { route, requestId, fwd, line, startedAt } = begin(ctx, req);
  const socket = req.socket;
  const bytesBefore = socket.bytesWritten;

  let attempt: Attempt | undefined;
  let retried = false;
  let timer: NodeJS.Timeout | undefined;
  let logged = false;

  const release = (a: Attempt) => {
    if (a.released) return;
    a.released = true;
    a.up.outstanding--;
  };
  const abandon = (a: Attempt) => {
    a.dead = true;
    release(a);
    if (!a.complete) a.proxyReq?.destroy();
  };

  const sendPage = (page: Page) => {
    line.status = page.status;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const html = renderPage(page);
    const headers: http.OutgoingHttpHeaders = {
      'X-Request-Id': requestId,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(html),
      'Cache-Control': 'no-store',
    };
    // An unread request body (or a draining router) means this connection cannot carry another request.
    if (!req.complete || ctx.shuttingDown) headers.Connection = 'close';
    res.writeHead(page.status, headers);
    res.end(req.method === 'HEAD' ? undefined : html);
  };

  const fail = (code: string | undefined, desc: string | undefined, page: Page) => {
    if (logged || line.code) return;
    if (code) {
      line.code = code;
      line.desc = desc;
    }
    if (timer) clearTimeout(timer);
    if (attempt) abandon(attempt);
    sendPage(page);
  };

  res.once('finish', () => {
    line.bytes = Math.max(0, socket.bytesWritten - bytesBefore);
  });
  res.once('close', () => {
    if (timer) clearTimeout(timer);
    if (attempt) abandon(attempt);
    if (logged) return;
    logged = true;
    if (!res.writableFinished && !line.code) {
      line.code = 'H27';
      line.desc = 'Client Request Interrupted';
      line.status = 499;
    }
    if (!line.status) line.status = res.statusCode;
    if (attempt?.connectedAt !== undefined) line.connect = attempt.connectedAt - attempt.startedAt;
    if (line.dyno) line.service = now() - startedAt - (line.connect ?? 0);
    writeLine(ctx, route, line);
  });

  if (!route) return fail(undefined, undefined, pages.noSuchApp(line.host));

  const length = Number(req.headers['content-length'] ?? 0);
  if (length > ctx.maxBodyBytes) return fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(ctx.maxBodyBytes));
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const canRetry = IDEMPOTENT.has(line.method) && !chunked && !(length > 0);

  let body: Readable | undefined;
  if (chunked) {
    const limit = new BodyLimit(ctx.maxBodyBytes);
    limit.on('error', () => fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(ctx.maxBodyBytes)));
    body = req.pipe(limit);
  }

  // Hop-by-hop: the client's Connection header describes its connection to us, the
  // backend's describes the pooled one. Remember what the client asked for before
  // it is dropped from the forwarded head, and answer for our connection ourselves.
  const conn = req.headers.connection ?? '';
  const clientClose = req.httpVersion === '1.0' ? !/keep-alive/i.test(conn) : /close/i.test(conn);
  const headers = forwardHeaders(req, requestId, fwd);

  const dispatch = (avoid?: Upstream) => {
    // A retry looks the host up again: the table may have moved the app to new backends since
    // (a deploy switched routes while this request was on its way to the old one).
    const target = avoid ? retryRoute(ctx, req, route) : route;
    const up = ctx.pool.pick(target, avoid);
    if (!up) return fail('H14', 'No web processes running', APP_ERROR);
    up.outstanding++;
    const a: Attempt = { up, startedAt: now(), responded: false, complete: false, dead: false, released: false };
    attempt = a;
    line.dyno = up.backend.dyno;
    ctx.engine.web(req, res, { host: up.backend.host, port: up.backend.port, agent: up.agent }, headers, body, {
      onProxyReq(proxyReq) {
        a.proxyReq = proxyReq;
        if (a.dead) return void proxyReq.destroy();
        // The 30 s are for the app to answer a request it has received in full.
        proxyReq.once('finish', rearm);
        const s = proxyReq.socket;
        if (s && s.connecting) s.once('connect', () => (a.connectedAt = now()));
        else a.connectedAt = now();
      },
      onResponse(proxyRes) {
        if (a.dead) {
          proxyRes.destroy();
          return [];
        }
        if (timer) clearTimeout(timer);
        a.responded = true;
        a.connectedAt ??= now();
        line.status = proxyRes.statusCode ?? 0;
        proxyRes.once('end', () => (a.complete = true));
        proxyRes.once('close', () => {
          if (proxyRes.complete || a.dead) return;
          // The backend hung up mid-body: the client must see a truncated response, not a hang.
          line.code ??= 'H18';
          line.desc ??= 'Server Request Interrupted';
          a.dead = true;
          res.destroy();
        });
        return ['X-Request-Id', requestId, 'Connection', ctx.shuttingDown || clientClose || !req.complete ? 'close' : 'keep-alive'];
      },
      onError(err) {
        if (a.dead || logged) return;
        if (res.destroyed || socket.destroyed) return abandon(a); // client gone: 'close' logs H27
        if (a.responded) {
          line.code ??= 'H18';
          line.desc ??= 'Server Request Interrupted';
          abandon(a);
          res.destroy();
          return;
        }
        abandon(a);
        if (canRetry && !retried && RETRIABLE.has(err.code ?? '')) {
          retried = true;
          return dispatch(up);
        }
        const { code, desc } = backendFailure(err);
        fail(code, desc, APP_ERROR);
      },
    });
  };

  // H12 fires when the app sends no response headers for responseTimeoutMs after the
  // request reached it; while a body is still uploading, only a stalled upload counts.
  const rearm = () => {
    if (timer && !logged && !line.code && !attempt?.responded) timer.refresh();
  };
  timer = setTimeout(() => fail('H12', 'Request timeout', APP_ERROR), ctx.responseTimeoutMs);
  if (length > 0 || chunked) req.on('data', rearm);
  dispatch();
}

function retryRoute(ctx: RouterContext, req: http.IncomingMessage, route: AppRoute): AppRoute {
  const table = ctx.routes.current();
  ctx.pool.sync(table);
  const fresh = table.lookup(req.headers.host);
  return fresh && fresh.app === route.app ? fresh : route;
}
