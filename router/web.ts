import type { BackendConnection } from './backend-connection.ts';
import type { ClientRequest } from './client-connection.ts';
import { backendFailure, begin, forwardHead, now, writeLine, type RouterContext } from './context.ts';
import { ChunkedReader, chunk, withHead, type ResponseHead } from './http1.ts';
import { constantPage, pages, rawResponse, type Page } from './pages.ts';
import type { AppRoute } from './route-table.ts';
import { CONNECT_TIMEOUT, type Upstream } from './upstreams.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
// Failures where the backend cannot have seen the request (or, for a reset, where
// replaying an idempotent request is safe): worth one more try elsewhere.
const RETRIABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', CONNECT_TIMEOUT]);
const APP_ERROR = constantPage(pages.applicationError());
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

// Response headers that describe the backend connection, or that the router sets itself.
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'x-request-id', 'transfer-encoding']);
const REASON: Record<number, string> = { 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified', 404: 'Not Found' };

/** One try at one backend. */
interface Attempt {
  up: Upstream;
  startedAt: number;
  connectedAt?: number;
  conn?: BackendConnection;
  cancelWait?: () => void;
  responded: boolean;
  /** Abandoned (failed, timed out, client gone): late events from it are ignored. */
  dead: boolean;
}

/**
 * Route, forward and log one HTTP request. Policy lives here (which backend, when to retry,
 * when to give up, what to log); backend-connection.ts and client-connection.ts move the bytes.
 */
export function handleRequest(ctx: RouterContext, req: ClientRequest, forceClose = false): void {
  const head = req.head;
  const socket = req.conn.socket;
  const { route, requestId, fwd, line, startedAt } = begin(ctx, head, socket);
  const clientKeepAlive = head.keepAlive && !forceClose;

  let attempt: Attempt | undefined;
  let retried = false;
  let logged = false;
  // H12 fires when the app sends no response headers for responseTimeoutMs after the
  // request reached it; while a body is still uploading, only a stalled upload counts.
  const timeout = () => fail('H12', 'Request timeout', APP_ERROR);

  const log = () => {
    if (logged) return;
    logged = true;
    ctx.responseTimeouts.disarm(timeout);
    line.bytes = req.bytesWritten;
    if (attempt?.connectedAt !== undefined) line.connect = attempt.connectedAt - attempt.startedAt;
    if (line.dyno) line.service = now() - startedAt - (line.connect ?? 0);
    writeLine(ctx, route, line);
  };

  const abandon = (a: Attempt) => {
    if (a.dead) return;
    a.dead = true;
    a.up.outstanding--;
    a.cancelWait?.();
    a.conn?.destroy();
    req.unpipeBody();
  };

  const sendPage = (page: Page) => {
    line.status = page.status;
    if (req.bytesWritten > 0) {
      // Mid-response there is no room for a page: cut the client off.
      log();
      socket.destroy();
      return;
    }
    // An unread request body (or a draining router) means this connection cannot carry another request.
    const keepAlive = clientKeepAlive && req.bodyComplete && !ctx.shuttingDown;
    const raw = rawResponse(page, { 'X-Request-Id': requestId, Connection: keepAlive ? 'keep-alive' : 'close' }, head.method === 'HEAD');
    req.write(Buffer.from(raw));
    log();
    req.finish(keepAlive);
  };

  const fail = (code: string | undefined, desc: string | undefined, page: Page) => {
    if (logged) return;
    if (code) {
      line.code = code;
      line.desc = desc;
    }
    ctx.responseTimeouts.disarm(timeout);
    if (attempt) abandon(attempt);
    sendPage(page);
  };

  req.onAbort = () => {
    if (attempt) abandon(attempt);
    if (logged) return;
    if (!line.code) {
      line.code = 'H27';
      line.desc = 'Client Request Interrupted';
      line.status = 499;
    }
    log();
  };

  if (!route) return fail(undefined, undefined, pages.noSuchApp(line.host));
  if (head.contentLength > ctx.maxBodyBytes) return fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(ctx.maxBodyBytes));
  req.onBodyError = (tooLarge) =>
    tooLarge
      ? fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(ctx.maxBodyBytes))
      : fail('H25', 'HTTP restriction: bad request', pages.badRequest());
  const canRetry = IDEMPOTENT.has(head.method) && !req.hasBody;
  const forward = forwardHead(head, socket, requestId, fwd);
  if (head.expectContinue && head.minor === 1 && req.hasBody) socket.write(CONTINUE);

  const dispatch = (avoid?: Upstream) => {
    // A retry looks the host up again: the table may have moved the app to new backends since
    // (a deploy switched routes while this request was on its way to the old one).
    const target = avoid ? retryRoute(ctx, head.host, route) : route;
    const up = ctx.pool.pick(target, avoid);
    if (!up) return fail('H14', 'No web processes running', APP_ERROR);
    up.outstanding++;
    const a: Attempt = { up, startedAt: now(), responded: false, dead: false };
    attempt = a;
    line.dyno = up.backend.dyno;
    a.cancelWait = ctx.pool.acquire(up, (conn) => exchange(a, conn));
  };

  const exchange = (a: Attempt, conn: BackendConnection) => {
    a.cancelWait = undefined;
    if (a.dead) return void conn.destroy();
    a.conn = conn;
    if (!conn.connecting) a.connectedAt = a.startedAt;
    else conn.socket.once('connect', () => (a.connectedAt = now()));
    // Framing of the response for this client.
    let respHead: string | undefined;
    let dechunk: ChunkedReader | undefined;
    let rechunk = false;
    let keepAlive = clientKeepAlive;

    conn.send(
      head.method,
      forward,
      {
        onResponse(res: ResponseHead, bodiless: boolean) {
          ctx.responseTimeouts.disarm(timeout);
          a.responded = true;
          a.connectedAt ??= now();
          line.status = res.status;
          keepAlive = keepAlive && !ctx.shuttingDown && req.bodyComplete;
          let out = `HTTP/1.1 ${res.status} ${res.reason || REASON[res.status] || ''}\r\n`;
          let nominated: string[] | undefined;
          for (const token of res.connection) if (token !== 'close' && token !== 'keep-alive') (nominated ??= []).push(token);
          const { names, lower, values } = res;
          for (let i = 0; i < names.length; i++) {
            const name = lower[i];
            if (RESPONSE_DROPPED.has(name) || (nominated !== undefined && nominated.includes(name))) continue;
            out += `${names[i]}: ${values[i]}\r\n`;
          }
          if (!bodiless) {
            if (res.chunked) {
              if (head.minor === 1) out += 'Transfer-Encoding: chunked\r\n';
              else {
                // An HTTP/1.0 client cannot read chunks: de-chunk, and end the body by closing.
                dechunk = new ChunkedReader();
                keepAlive = false;
              }
            } else if (res.contentLength < 0) {
              // Close-delimited from the app: chunk it for a 1.1 client so the connection survives.
              if (head.minor === 1) {
                out += 'Transfer-Encoding: chunked\r\n';
                rechunk = true;
              } else keepAlive = false;
            }
          }
          respHead = `${out}X-Request-Id: ${requestId}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
        },
        onBody(data: Buffer) {
          // `data` lives in a shared read buffer: every branch writes a copy.
          if (dechunk) {
            const parts: Buffer[] = [];
            dechunk.feed(data, 0, (d) => parts.push(d));
            data = Buffer.concat(parts);
          } else if (rechunk) data = chunk(data);
          let ok: boolean;
          if (respHead !== undefined) {
            ok = req.write(withHead(respHead, data));
            respHead = undefined;
          } else ok = req.write(dechunk || rechunk ? data : Buffer.from(data));
          if (!ok && !conn.socket.isPaused()) {
            // The client is slower than the app: stop reading from the app until it catches up.
            conn.socket.pause();
            socket.once('drain', () => conn.socket.resume());
          }
        },
        onEnd() {
          if (respHead !== undefined) req.write(respHead);
          if (rechunk) req.write('0\r\n\r\n');
          if (a.dead) return;
          a.dead = true;
          a.up.outstanding--;
          log();
          req.finish(keepAlive);
        },
        onError(err: NodeJS.ErrnoException) {
          if (a.dead || logged) return;
          if (a.responded) {
            // The app hung up mid-body: the client must see a truncated response, not a hang.
            line.code ??= 'H18';
            line.desc ??= 'Server Request Interrupted';
            abandon(a);
            log();
            socket.destroy();
            return;
          }
          abandon(a);
          if (canRetry && !retried && RETRIABLE.has(err.code ?? '')) {
            retried = true;
            return dispatch(a.up);
          }
          const { code, desc } = backendFailure(err);
          fail(code, desc, APP_ERROR);
        },
      },
      req.bodyComplete,
    );
    if (req.hasBody) {
      req.pipeBody(
        (data) => {
          if (!a.responded) ctx.responseTimeouts.arm(timeout); // an upload that keeps moving is not a timeout
          if (!conn.write(data) && !socket.isPaused()) {
            socket.pause();
            conn.socket.once('drain', () => socket.resume());
          }
        },
        () => conn.endRequest(),
      );
    }
  };

  ctx.responseTimeouts.arm(timeout);
  dispatch();
}

function retryRoute(ctx: RouterContext, host: string | undefined, route: AppRoute): AppRoute {
  const table = ctx.routes.current();
  ctx.pool.sync(table);
  const fresh = table.lookup(host);
  return fresh && fresh.app === route.app ? fresh : route;
}
