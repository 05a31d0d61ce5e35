/** Shared fixtures for the router tests: real loopback backends, a router on port 0, raw sockets. */
import http from 'node:http';
import net from 'node:net';
import type { AccessEntry } from './access-log.ts';
import { createRouter, type Router, type RouterOptions } from './proxy.ts';
import { staticRoutes, type RoutesFile } from './route-table.ts';

export interface Backend {
  name: string;
  port: number;
  server: http.Server;
  /** TCP connections accepted so far. */
  connections: number;
  /** TCP connections currently open. */
  open: number;
  /** Requests seen so far, newest last. */
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A backend that answers JSON describing the request, unless given its own handler. */
export async function startBackend(name: string, handler?: Handler): Promise<Backend> {
  const backend = { name, connections: 0, open: 0, requests: [] as http.IncomingMessage[] } as Backend;
  const server = http.createServer((req, res) => {
    backend.requests.push(req);
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ backend: name, url: req.url, method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (socket) => {
    backend.connections++;
    backend.open++;
    socket.once('close', () => backend.open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.server = server;
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return backend;
}

/** A port on which nothing listens (connections are refused). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestRouter {
  router: Router;
  port: number;
  access: AccessEntry[];
  logs: string[];
  routes: ReturnType<typeof staticRoutes>;
  close(): Promise<void>;
}

export async function startRouter(table: RoutesFile, options: Partial<RouterOptions> = {}): Promise<TestRouter> {
  const access: AccessEntry[] = [];
  const logs: string[] = [];
  const routes = staticRoutes(table);
  const router = createRouter({ routes, accessLog: (e) => access.push(e), log: (m) => logs.push(m), ...options });
  const port = await router.listen(0, '127.0.0.1');
  return { router, port, access, logs, routes, close: () => router.close(2_000) };
}

/** routes.json content for one or more apps. */
export function table(apps: Record<string, { hosts: string[]; backends: { dyno: string; port: number }[] }>, version = 1): RoutesFile {
  const out: RoutesFile = { version, apps: {} };
  for (const [name, app] of Object.entries(apps)) {
    out.apps[name] = { hosts: app.hosts, backends: app.backends.map((b) => ({ dyno: b.dyno, host: '127.0.0.1', port: b.port })) };
  }
  return out;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = any>(): T;
}

export function request(
  port: number,
  opts: { host?: string; path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? 'demo.localhost', ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Write raw bytes, collect everything the router sends back until it closes the connection (or timeoutMs). */
export function raw(port: number, data: string | Buffer, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(data));
  });
}

/** Poll until `check` returns a truthy value (event-free conditions only); fails after timeoutMs. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
