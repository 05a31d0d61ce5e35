import type net from 'node:net';
import { BackendConnection, connectBackend } from './backend-connection.ts';
import { now } from './clock.ts';
import type { AppRoute, Backend, RouteTable } from './route-table.ts';

export { CONNECT_TIMEOUT } from './backend-connection.ts';

export interface Upstream {
  readonly key: string;
  readonly backend: Backend;
  /** Requests (and open websockets) currently using this backend. */
  outstanding: number;
  /** Keep-alive connections waiting for a request, most recently used last. */
  readonly idle: BackendConnection[];
  /** Connections open (idle or busy). */
  open: number;
  /** Attempts waiting for a connection while `open` is at the limit. */
  readonly waiting: Array<(conn: BackendConnection) => void>;
  /** Left the route table: connections are closed once their exchange ends. */
  retired: boolean;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long (below the usual 5 s server keep-alive). */
  idleSocketMs: number;
  maxSocketsPerBackend: number;
}

const keyOf = (b: Backend) => `${b.host}:${b.port}`;

/**
 * A pool of keep-alive connections per backend address, kept across route reloads as long as
 * the address stays in the table, plus the load-balancing choice.
 */
export class UpstreamPool {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly cursor = new Map<string, number>();
  private table: RouteTable | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: PoolOptions) {
    // One timer for all idle connections rather than one per connection.
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, opts.idleSocketMs / 2)));
    this.sweeper.unref();
  }

  /** Retire backends that left the table. Cheap when the table did not change. */
  sync(table: RouteTable): void {
    if (table === this.table) return;
    this.table = table;
    const live = new Set<string>();
    for (const route of table.apps.values()) for (const b of route.backends) live.add(keyOf(b));
    for (const [key, up] of this.upstreams) {
      if (live.has(key)) continue;
      this.upstreams.delete(key);
      up.retired = true;
      for (const conn of up.idle.splice(0)) conn.destroy();
    }
    for (const app of this.cursor.keys()) if (!table.apps.has(app)) this.cursor.delete(app);
  }

  get(backend: Backend): Upstream {
    const key = keyOf(backend);
    let up = this.upstreams.get(key);
    if (!up) {
      up = { key, backend, outstanding: 0, idle: [], open: 0, waiting: [], retired: false };
      this.upstreams.set(key, up);
    } else if (up.backend.dyno !== backend.dyno) {
      // Same address, new dyno name (container replaced on a reused IP): keep the pool, log the new name.
      up = Object.assign(up, { backend });
    }
    return up;
  }

  /**
   * Least outstanding requests, ties broken round-robin.
   *
   * Why not plain round-robin: most app servers behind a PaaS are single-threaded
   * or have few workers (Node, Ruby, Python), so one slow request ties a dyno up;
   * round-robin would keep queueing behind it while another dyno sits idle.
   * Counting in-flight requests routes around slow or stuck dynos at no cost, and
   * the rotating tie-break keeps an idle-ish app spreading requests evenly (so it
   * behaves exactly like round-robin under light, sequential traffic).
   *
   * `avoid` (a backend that just refused a connection) is skipped when another exists.
   */
  pick(route: AppRoute, avoid?: Upstream): Upstream | undefined {
    const n = route.backends.length;
    if (n === 0) return undefined;
    if (n === 1) return this.get(route.backends[0]);
    const start = (this.cursor.get(route.app) ?? 0) % n;
    this.cursor.set(route.app, start + 1);
    let best: Upstream | undefined;
    for (let i = 0; i < n; i++) {
      const up = this.get(route.backends[(start + i) % n]);
      if (avoid && up.key === avoid.key) continue;
      if (!best || up.outstanding < best.outstanding) best = up;
    }
    return best;
  }

  /**
   * A connection to `up` for one exchange: the most recently used idle one, a new one, or (at
   * maxSocketsPerBackend) the next one to come free. Returns a cancel function.
   */
  acquire(up: Upstream, use: (conn: BackendConnection) => void): () => void {
    const idle = up.idle.pop();
    if (idle) {
      use(idle);
      return noop;
    }
    if (up.open < this.opts.maxSocketsPerBackend) {
      use(this.connect(up));
      return noop;
    }
    up.waiting.push(use);
    return () => {
      const i = up.waiting.indexOf(use);
      if (i !== -1) up.waiting.splice(i, 1);
    };
  }

  /** A connection of its own, never pooled (websockets). */
  dedicated(up: Upstream): net.Socket {
    return connectBackend(up.backend.host, up.backend.port, this.opts.connectTimeoutMs);
  }

  private connect(up: Upstream): BackendConnection {
    const conn = new BackendConnection(up.backend.host, up.backend.port, this.opts.connectTimeoutMs);
    up.open++;
    conn.onRelease = (c, reusable) => {
      if (reusable && !up.retired) {
        const next = up.waiting.shift();
        if (next) return next(c);
        c.idleSince = now();
        up.idle.push(c);
        return;
      }
      if (reusable) c.destroy(); // its release after close will not be reusable: counted below
      const i = up.idle.indexOf(c);
      if (i !== -1) up.idle.splice(i, 1);
      if (reusable) return;
      up.open--;
      const next = up.waiting.shift();
      if (next) next(this.connect(up));
    };
    return conn;
  }

  private sweep(): void {
    const limit = performance.now() - this.opts.idleSocketMs;
    for (const up of this.upstreams.values()) {
      while (up.idle.length && up.idle[0].idleSince < limit) up.idle.shift()!.destroy();
    }
  }

  destroy(): void {
    clearInterval(this.sweeper);
    for (const up of this.upstreams.values()) {
      up.retired = true;
      for (const conn of up.idle.splice(0)) conn.destroy();
    }
    this.upstreams.clear();
  }
}

const noop = () => {};
