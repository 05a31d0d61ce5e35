import net from 'node:net';
import { stdoutSink, type AccessSink } from './access-log.ts';
import { ClientConnection, type ClientRequest } from './client-connection.ts';
import { clientIp, writeLine, type RouterContext } from './context.ts';
import { Deadlines } from './deadlines.ts';
import type { HeadError } from './http1.ts';
import { pages, rawResponse } from './pages.ts';
import type { RouteSource } from './route-table.ts';
import { handleUpgrade } from './upgrade.ts';
import { UpstreamPool } from './upstreams.ts';
import { handleRequest } from './web.ts';

export interface RouterOptions {
  routes: RouteSource;
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
  /** Client-side keep-alive: idle client connections are closed after this. */
  keepAliveTimeoutMs?: number;
  /** A client that takes longer than this to send a request head is answered 408. */
  headersTimeoutMs?: number;
  /** Where access lines go; stdout JSON lines unless given. */
  accessLog?: AccessSink;
  /** Diagnostics; stderr unless given. */
  log?: (msg: string) => void;
}

export interface Router {
  readonly server: net.Server;
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
  headersTimeoutMs: 60_000,
};

/** The router's HTTP server: host → app → backend, with websockets, limits and a graceful close. */
export function createRouter(options: RouterOptions): Router {
  const opts = { ...DEFAULTS, ...options };
  const ctx: RouterContext = {
    routes: options.routes,
    pool: new UpstreamPool(opts),
    access: options.accessLog ?? stdoutSink(),
    log: options.log ?? ((msg: string) => process.stderr.write(`router: ${msg}\n`)),
    responseTimeouts: new Deadlines(opts.responseTimeoutMs),
    maxBodyBytes: opts.maxBodyBytes,
    shuttingDown: false,
    upgraded: new Set(),
  };

  const connections = new Set<ClientConnection>();
  const handler = {
    request(req: ClientRequest) {
      const h = req.head;
      if (h.upgrade !== undefined && h.connection.includes('upgrade')) handleUpgrade(ctx, req);
      else handleRequest(ctx, req);
    },
    malformed: (conn: ClientConnection, err: HeadError) => answerMalformed(ctx, conn.socket, err),
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    const conn = new ClientConnection(socket, opts, handler);
    connections.add(conn);
    socket.once('close', () => connections.delete(conn));
    if (ctx.shuttingDown) socket.destroy();
  });
  server.on('error', (err) => ctx.log(`server error: ${err.message}`));

  // Idle keep-alive connections and slow request heads, checked by one timer for all connections.
  const sweep = () => {
    const t = performance.now();
    for (const conn of connections) {
      if (conn.idle && t - conn.lastActive > opts.keepAliveTimeoutMs) conn.socket.destroy();
      else if (conn.partial && t - conn.lastActive > opts.headersTimeoutMs) {
        conn.stop();
        answerMalformed(ctx, conn.socket, 'timeout');
      }
    }
  };
  const sweeper = setInterval(sweep, Math.max(10, Math.min(1_000, opts.keepAliveTimeoutMs / 4)));
  sweeper.unref();
  const closeIdle = () => {
    for (const conn of connections) if (conn.idle) conn.socket.destroy();
  };

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
        for (const conn of connections) conn.draining = true;
        closeIdle();
        for (const socket of ctx.upgraded) socket.end();
        // Keep-alive connections become idle as their in-flight responses finish.
        const drain = setInterval(closeIdle, 50);
        let deadline: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (deadline = setTimeout(resolve, graceMs)))]);
        clearInterval(drain);
        clearInterval(sweeper);
        clearTimeout(deadline);
        for (const conn of connections) conn.socket.destroy();
        for (const socket of ctx.upgraded) socket.destroy();
        ctx.pool.destroy();
        ctx.responseTimeouts.close();
      })();
      return closing;
    },
  };
}

/** Unparseable requests, oversized heads, idle clients: answer if the socket can still take it, then close. */
function answerMalformed(ctx: RouterContext, socket: net.Socket, err: HeadError | 'timeout') {
  const [page, code, desc] =
    err === 'timeout'
      ? [pages.requestTimeout(), 'H28', 'Client Connection Idle']
      : err.status === 431
        ? [pages.headersTooLarge(), 'H25', 'HTTP restriction: header fields too large']
        : err.status === 400
          ? [pages.badRequest(), 'H25', 'HTTP restriction: bad request']
          : [{ ...pages.badRequest(), status: err.status }, 'H25', `HTTP restriction: ${err.message}`];
  const raw = Buffer.from(rawResponse(page));
  socket.end(raw);
  // Lingering close: keep reading (and discarding) whatever the client is still
  // sending for a moment, so the kernel does not answer it with a RST that could
  // wipe our response out of the client's receive buffer before it reads it.
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  if (socket.isPaused()) socket.resume();
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
    bytes: raw.length,
    protocol: 'http',
  });
}
