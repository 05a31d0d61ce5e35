import type net from 'node:net';
import type { AccessFields } from './access-log.ts';
import type { BackendConnection, ExchangeHooks } from './backend-connection.ts';
import type { ClientRequest, RequestOwner } from './client-connection.ts';
import { backendFailure, begin, forwardHead, now, writeLine, type RouterContext } from './context.ts';
import type { Expiring } from './deadlines.ts';
import { ChunkedReader, chunk, withHead, type ResponseHead } from './http1.ts';
import { constantPage, pages, rawResponse, type Page } from './pages.ts';
import type { AppRoute } from './route-table.ts';
import { CONNECT_TIMEOUT, type Upstream } from './upstreams.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
// Failures where the backend cannot have seen the request (or, for a reset, where
// replaying an idempotent request is safe): worth one more try elsewhere.
const RETRIABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', CONNECT_TIMEOUT]);
/**
 * A handshake with a local backend takes well under a millisecond, even on a busy machine (the
 * kernel answers the SYN, not the app). One still pending after this long lost its SYN, most
 * often to an app whose listen queue is full, and the kernel would send it again only after 1 s
 * (then 3 s, 7 s): an idempotent request tries again at once, on another dyno if there is one.
 */
const SLOW_CONNECT_MS = 250;
/** Tries after stalled handshakes, each with a fresh SYN: at most four SYNs in the kernel's first second. */
const STALL_RETRIES = 3;
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
  /** Fires when the handshake takes too long (SLOW_CONNECT_MS). */
  slowConnect?: NodeJS.Timeout;
  responded: boolean;
  /** Abandoned (failed, timed out, client gone) or complete: late events from it are ignored. */
  dead: boolean;
}

/**
 * Route, forward and log one HTTP request. Policy lives here (which backend, when to retry,
 * when to give up, what to log); backend-connection.ts and client-connection.ts move the bytes.
 */
export function handleRequest(ctx: RouterContext, req: ClientRequest, forceClose = false): void {
  new WebRequest(ctx, req, forceClose).start();
}

/**
 * The state of one request, with the hooks every party calls as methods (the backend exchange,
 * the client connection, the timeout sweep): one object per request rather than a dozen closures.
 */
class WebRequest implements ExchangeHooks, RequestOwner, Expiring {
  private readonly route: AppRoute | undefined;
  private readonly requestId: string;
  private readonly fwd: string;
  private readonly line: AccessFields;
  private readonly startedAt: number;
  private readonly clientKeepAlive: boolean;
  private readonly socket: net.Socket;
  private attempt: Attempt | undefined;
  private retried = false;
  private stalls = 0;
  private logged = false;
  private canRetry = false;
  private forward = '';
  // How the current response is framed for this client.
  private respHead: string | undefined;
  private dechunk: ChunkedReader | undefined;
  private rechunk = false;
  private keepAlive = false;
  /** The backend socket, while paused for a client slower than the app. */
  private pausedBackend: net.Socket | undefined;
  // Deadlines' links (declared here so that every WebRequest keeps one shape).
  deadlineAt = -1;
  deadlinePrev: Expiring | undefined = undefined;
  deadlineNext: Expiring | undefined = undefined;

  constructor(
    private readonly ctx: RouterContext,
    private readonly req: ClientRequest,
    forceClose: boolean,
  ) {
    this.socket = req.conn.socket;
    const b = begin(ctx, req.head, this.socket, req.conn.cache);
    this.route = b.route;
    this.requestId = b.requestId;
    this.fwd = b.fwd;
    this.line = b.line;
    this.startedAt = b.startedAt;
    this.clientKeepAlive = req.head.keepAlive && !forceClose;
  }

  start(): void {
    const { ctx, req, line } = this;
    const head = req.head;
    req.owner = this;
    if (!this.route) return this.fail(undefined, undefined, pages.noSuchApp(line.host));
    if (head.contentLength > ctx.maxBodyBytes) return this.fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(ctx.maxBodyBytes));
    this.canRetry = IDEMPOTENT.has(head.method) && !req.hasBody;
    this.forward = forwardHead(head, this.socket, this.requestId, this.fwd, false, this.req.conn.cache);
    if (head.expectContinue && head.minor === 1 && req.hasBody) this.socket.write(CONTINUE);
    // H12 fires when the app sends no response headers for responseTimeoutMs after the
    // request reached it; while a body is still uploading, only a stalled upload counts.
    ctx.responseTimeouts.arm(this);
    this.dispatch(undefined);
  }

  /** The response timeout (Deadlines). */
  expire(): void {
    this.fail('H12', 'Request timeout', APP_ERROR);
  }

  /** The client went away before the response was complete. */
  aborted(): void {
    if (this.attempt) this.abandon(this.attempt);
    if (this.logged) return;
    if (!this.line.code) {
      this.line.code = 'H27';
      this.line.desc = 'Client Request Interrupted';
      this.line.status = 499;
    }
    this.log();
  }

  bodyError(tooLarge: boolean): void {
    if (tooLarge) this.fail('H25', 'HTTP restriction: body too large', pages.payloadTooLarge(this.ctx.maxBodyBytes));
    else this.fail('H25', 'HTTP restriction: bad request', pages.badRequest());
  }

  private dispatch(avoid: Upstream | undefined): void {
    const { ctx, route } = this;
    // A retry looks the host up again: the table may have moved the app to new backends since
    // (a deploy switched routes while this request was on its way to the old one).
    const target = avoid ? retryRoute(ctx, this.req.head.host, route!) : route!;
    const up = ctx.pool.pick(target, avoid);
    if (!up) return this.fail('H14', 'No web processes running', APP_ERROR);
    up.outstanding++;
    const a: Attempt = { up, startedAt: now(), responded: false, dead: false };
    this.attempt = a;
    this.line.dyno = up.backend.dyno;
    a.cancelWait = ctx.pool.acquire(up, (conn) => this.exchange(a, conn));
  }

  private exchange(a: Attempt, conn: BackendConnection): void {
    a.cancelWait = undefined;
    if (a.dead) return void conn.destroy();
    a.conn = conn;
    if (!conn.connecting) a.connectedAt = a.startedAt;
    else {
      conn.socket.once('connect', () => {
        a.connectedAt = now();
        clearTimeout(a.slowConnect);
      });
      if (this.canRetry && this.stalls < STALL_RETRIES) a.slowConnect = setTimeout(() => this.connectStalled(a), SLOW_CONNECT_MS);
    }
    this.respHead = undefined;
    this.dechunk = undefined;
    this.rechunk = false;
    this.keepAlive = this.clientKeepAlive;
    const req = this.req;
    conn.send(req.head.method, this.forward, this, req.bodyComplete);
    if (req.hasBody) req.pipeBody(this);
  }

  /** Request body bytes for the backend. */
  bodyData(data: Buffer): void {
    const a = this.attempt!;
    if (!a.responded) this.ctx.responseTimeouts.arm(this); // an upload that keeps moving is not a timeout
    if (!a.conn!.write(data) && !this.socket.isPaused()) {
      this.socket.pause();
      a.conn!.socket.once('drain', () => this.socket.resume());
    }
  }

  bodyEnd(): void {
    this.attempt?.conn?.endRequest();
  }

  onResponse(res: ResponseHead, bodiless: boolean): void {
    const { ctx, req } = this;
    const a = this.attempt!;
    ctx.responseTimeouts.disarm(this);
    a.responded = true;
    a.connectedAt ??= now();
    this.line.status = res.status;
    let keepAlive = this.keepAlive && !ctx.shuttingDown && req.bodyComplete;
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
        if (req.head.minor === 1) out += 'Transfer-Encoding: chunked\r\n';
        else {
          // An HTTP/1.0 client cannot read chunks: de-chunk, and end the body by closing.
          this.dechunk = new ChunkedReader();
          keepAlive = false;
        }
      } else if (res.contentLength < 0) {
        // Close-delimited from the app: chunk it for a 1.1 client so the connection survives.
        if (req.head.minor === 1) {
          out += 'Transfer-Encoding: chunked\r\n';
          this.rechunk = true;
        } else keepAlive = false;
      }
    }
    this.keepAlive = keepAlive;
    this.respHead = `${out}X-Request-Id: ${this.requestId}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  }

  onBody(data: Buffer): void {
    // `data` lives in a shared read buffer: every branch writes a copy.
    const { dechunk, rechunk, req } = this;
    if (dechunk) {
      const parts: Buffer[] = [];
      dechunk.feed(data, 0, (d) => parts.push(d));
      data = Buffer.concat(parts);
    } else if (rechunk) data = chunk(data);
    let ok: boolean;
    if (this.respHead !== undefined) {
      ok = req.write(withHead(this.respHead, data));
      this.respHead = undefined;
    } else ok = req.write(dechunk || rechunk ? data : Buffer.from(data));
    if (!ok && !this.pausedBackend) {
      // The client is slower than the app: stop reading from the app until it catches up.
      const backend = this.attempt!.conn!.socket;
      this.pausedBackend = backend;
      backend.pause();
      this.socket.once('drain', () => this.resumeBackend());
    }
  }

  /** The client caught up, or the response is complete (its connection must go back to the pool reading). */
  private resumeBackend(): void {
    const backend = this.pausedBackend;
    this.pausedBackend = undefined;
    backend?.resume();
  }

  onEnd(): void {
    const { req } = this;
    if (this.respHead !== undefined) req.write(this.respHead);
    if (this.rechunk) req.write('0\r\n\r\n');
    this.resumeBackend();
    const a = this.attempt!;
    if (a.dead) return;
    a.dead = true;
    a.up.outstanding--;
    this.log();
    req.finish(this.keepAlive);
  }

  onError(err: NodeJS.ErrnoException): void {
    const a = this.attempt!;
    if (a.dead || this.logged) return;
    if (a.responded) {
      // The app hung up mid-body: the client must see a truncated response, not a hang.
      this.line.code ??= 'H18';
      this.line.desc ??= 'Server Request Interrupted';
      this.abandon(a);
      this.log();
      this.req.conn.cut();
      return;
    }
    this.abandon(a);
    if (this.canRetry && !this.retried && RETRIABLE.has(err.code ?? '')) {
      this.retried = true;
      return this.dispatch(a.up);
    }
    const { code, desc } = backendFailure(err);
    this.fail(code, desc, APP_ERROR);
  }

  /** The handshake is taking too long: its SYN was lost. Try again now rather than in a second. */
  private connectStalled(a: Attempt): void {
    if (a.dead || this.logged || !a.conn?.connecting) return;
    this.abandon(a);
    this.stalls++;
    this.dispatch(a.up);
  }

  private log(): void {
    if (this.logged) return;
    this.logged = true;
    this.ctx.responseTimeouts.disarm(this);
    const { line, attempt } = this;
    line.bytes = this.req.bytesWritten;
    if (attempt?.connectedAt !== undefined) line.connect = attempt.connectedAt - attempt.startedAt;
    if (line.dyno) line.service = now() - this.startedAt - (line.connect ?? 0);
    writeLine(this.ctx, this.route, line);
  }

  private abandon(a: Attempt): void {
    if (a.dead) return;
    a.dead = true;
    a.up.outstanding--;
    clearTimeout(a.slowConnect);
    a.cancelWait?.();
    a.conn?.destroy();
    this.req.unpipeBody();
  }

  private fail(code: string | undefined, desc: string | undefined, page: Page): void {
    if (this.logged) return;
    if (code) {
      this.line.code = code;
      this.line.desc = desc;
    }
    this.ctx.responseTimeouts.disarm(this);
    if (this.attempt) this.abandon(this.attempt);
    this.sendPage(page);
  }

  private sendPage(page: Page): void {
    const { req, ctx } = this;
    this.line.status = page.status;
    if (req.bytesWritten > 0) {
      // Mid-response there is no room for a page: cut the client off.
      this.log();
      this.req.conn.cut();
      return;
    }
    // An unread request body (or a draining router) means this connection cannot carry another request.
    const keepAlive = this.clientKeepAlive && req.bodyComplete && !ctx.shuttingDown;
    const raw = rawResponse(page, { 'X-Request-Id': this.requestId, Connection: keepAlive ? 'keep-alive' : 'close' }, req.head.method === 'HEAD');
    req.write(Buffer.from(raw));
    this.log();
    req.finish(keepAlive);
  }
}

function retryRoute(ctx: RouterContext, host: string | undefined, route: AppRoute): AppRoute {
  const table = ctx.routes.current();
  ctx.pool.sync(table);
  const fresh = table.lookup(host);
  return fresh && fresh.app === route.app ? fresh : route;
}
