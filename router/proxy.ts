import http from 'node:http';
import type net from 'node:net';
import { stdoutSink, type AccessSink } from './access-log.ts';
import { clientIp, writeLine, type RouterContext } from './context.ts';
import type { ProxyEngine } from './engine.ts';
import { createNodeEngine } from './engine-node.ts';
import { pages, rawResponse } from './pages.ts';
import type { RouteSource } from './route-table.ts';
import { handleUpgrade } from './upgrade.ts';
import { UpstreamPool } from './upstreams.ts';
import { handleRequest } from './web.ts';

export interface RouterOptions {
  routes: RouteSource;
  /** Byte mover; the node:http engine unless given. */
  engine?: ProxyEngine;
  /** TCP connect to a backend (Heroku H19). */
  connectTimeoutMs?: number;
  /** No response headers from the backend within this → 503, H12. */
  responseTimeoutMs?: number;
  /** Larger request heads are answered 431. */
  maxHeaderSize?: number;
  /** Larger request bodies are answered 413. */
  maxBodyBytes?: number;
  /** Idle keep-alive connections to backends are closed after this. */
  idleSocketMs?: number;
  maxSocketsPerBackend?: number;
  /** Client-side keep-alive. */
  keepAliveTimeoutMs?: number;
  /** Where access lines go; stdout JSON lines unless given. */
  accessLog?: AccessSink;
  /** Diagnostics; stderr unless given. */
  log?: (msg: string) => void;
}

export interface Router {
  readonly server: http.Server;
  /** Resolves with the real port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stop accepting, let in-flight requests finish (at most graceMs), then close everything. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULTS = {
  connectTimeoutMs: 5_000,
  responseTimeoutMs: 30_000,
  maxHeaderSize: 16 * 1024,
  maxBodyBytes: 64 * 1024 * 1024,
  idleSocketMs: 4_000,
  maxSocketsPerBackend: 256,
  keepAliveTimeoutMs: 5_000,
};

/** The router's HTTP server: host → app → backend, with websockets, limits and a graceful close. */
export function createRouter(options: RouterOptions): Router {
  const opts = { ...DEFAULTS, ...options };
  const ctx: RouterContext = {
    routes: options.routes,
    engine: options.engine ?? createNodeEngine(),
    pool: new UpstreamPool(opts),
    access: options.accessLog ?? stdoutSink(),
    log: options.log ?? ((msg: string) => process.stderr.write(`router: ${msg}\n`)),
    responseTimeoutMs: opts.responseTimeoutMs,
    maxBodyBytes: opts.maxBodyBytes,
    shuttingDown: false,
    upgraded: new Set(),
  };

  const server = http.createServer({ maxHeaderSize: opts.maxHeaderSize, keepAliveTimeout: opts.keepAliveTimeoutMs });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => handleRequest(ctx, req, res));
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => handleUpgrade(ctx, req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => answerClientError(ctx, err, socket));
  server.on('error', (err) => ctx.log(`server error: ${err.message}`));

  let closing: Promise<void> | undefined;

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve((server.address() as net.AddressInfo).port);
        });
      });
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        ctx.shuttingDown = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        for (const socket of ctx.upgraded) socket.end();
        // Keep-alive connections become idle as their in-flight responses finish.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        let deadline: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (deadline = setTimeout(resolve, graceMs)))]);
        clearInterval(sweep);
        clearTimeout(deadline);
        server.closeAllConnections();
        for (const socket of ctx.upgraded) socket.destroy();
        ctx.pool.destroy();
        ctx.engine.close();
      })();
      return closing;
    },
  };
}

const answered = new WeakSet<net.Socket>();

/** Unparseable requests, oversized heads, idle clients: answer if the socket can still take it, then close. */
function answerClientError(ctx: RouterContext, err: NodeJS.ErrnoException, socket: net.Socket) {
  if (answered.has(socket)) return; // llhttp stays in its error state and repeats the error per chunk
  answered.add(socket);
  const inFlight = (socket as net.Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  // Mid-response there is no room for another status line (node:http makes the same call).
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [page, code, desc] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [pages.headersTooLarge(), 'H25', 'HTTP restriction: header fields too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [pages.requestTimeout(), 'H28', 'Client Connection Idle']
        : [pages.badRequest(), 'H25', 'HTTP restriction: bad request'];
  const raw = rawResponse(page);
  socket.end(raw);
  // Lingering close: keep reading (and discarding) whatever the client is still
  // sending for a moment, so the kernel does not answer it with a RST that could
  // wipe our response out of the client's receive buffer before it reads it.
  const linger = setTimeout(() => socket.destroy(), 2_000);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  writeLine(ctx, undefined, {
    code,
    desc,
    method: '-',
    path: '',
    host: '',
    requestId: '',
    fwd: clientIp(socket),
    dyno: null,
    status: page.status,
    bytes: Buffer.byteLength(raw),
    protocol: 'http',
  });
}
