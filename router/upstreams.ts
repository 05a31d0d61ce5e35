import http from 'node:http';
import type net from 'node:net';
import type { AppRoute, Backend, RouteTable } from './route-table.ts';

/** Error code of a backend connection that did not complete within connectTimeoutMs (Heroku H19). */
export const CONNECT_TIMEOUT = 'ECONNECT_TIMEOUT';

/**
 * http.Agent whose new connections fail with CONNECT_TIMEOUT if the TCP
 * handshake takes too long. Done here rather than per request so that it only
 * applies to the handshake, never to a reused keep-alive socket or to a slow
 * response.
 */
class UpstreamAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly connectTimeoutMs: number,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: any) => void) {
    const socket = super.createConnection(options, callback) as net.Socket;
    if (socket && socket.connecting) {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect timeout after ${this.connectTimeoutMs}ms`), { code: CONNECT_TIMEOUT });
        socket.destroy(err);
      }, this.connectTimeoutMs);
      timer.unref();
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    }
    return socket;
  }
}

export interface Upstream {
  readonly key: string;
  readonly backend: Backend;
  readonly agent: http.Agent;
  /** Requests (and open websockets) currently using this backend. */
  outstanding: number;
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this long (below the usual 5 s server keep-alive). */
  idleSocketMs: number;
  maxSocketsPerBackend: number;
}

const keyOf = (b: Backend) => `${b.host}:${b.port}`;

/**
 * One keep-alive agent per backend address, kept across route reloads as long
 * as the address stays in the table, plus the load-balancing choice.
 */
export class UpstreamPool {
  private readonly upstreams = new Map<string, Upstream>();
  private readonly cursor = new Map<string, number>();
  private table: RouteTable | undefined;
  /** Websocket upgrades get a connection of their own; pooling them would only hold sockets hostage. */
  readonly wsAgent: http.Agent;

  constructor(private readonly opts: PoolOptions) {
    this.wsAgent = new UpstreamAgent({ keepAlive: false }, opts.connectTimeoutMs);
  }

  /** Retire agents of backends that left the table. Cheap when the table did not change. */
  sync(table: RouteTable): void {
    if (table === this.table) return;
    this.table = table;
    const live = new Set<string>();
    for (const route of table.apps.values()) for (const b of route.backends) live.add(keyOf(b));
    for (const [key, up] of this.upstreams) {
      if (live.has(key)) continue;
      this.upstreams.delete(key);
      retire(up.agent);
    }
    for (const app of this.cursor.keys()) if (!table.apps.has(app)) this.cursor.delete(app);
  }

  get(backend: Backend): Upstream {
    const key = keyOf(backend);
    let up = this.upstreams.get(key);
    if (!up) {
      const agent = new UpstreamAgent(
        {
          keepAlive: true,
          maxSockets: this.opts.maxSocketsPerBackend,
          maxFreeSockets: this.opts.maxSocketsPerBackend,
          timeout: this.opts.idleSocketMs,
          scheduling: 'lifo',
        },
        this.opts.connectTimeoutMs,
      );
      up = { key, backend, agent, outstanding: 0 };
      this.upstreams.set(key, up);
    } else if (up.backend.dyno !== backend.dyno) {
      // Same address, new dyno name (container replaced on a reused IP): keep the agent, log the new name.
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
    const start = (this.cursor.get(route.app) ?? 0) % n;
    this.cursor.set(route.app, start + 1);
    let best: Upstream | undefined;
    for (let i = 0; i < n; i++) {
      const up = this.get(route.backends[(start + i) % n]);
      if (avoid && up.key === avoid.key && n > 1) continue;
      if (!best || up.outstanding < best.outstanding) best = up;
    }
    return best;
  }

  destroy(): void {
    for (const up of this.upstreams.values()) up.agent.destroy();
    this.upstreams.clear();
    this.wsAgent.destroy();
  }
}

/** Stop pooling on an agent without cutting requests still in flight on it. */
function retire(agent: http.Agent): void {
  (agent as http.Agent & { keepAlive: boolean }).keepAlive = false; // sockets released from now on are destroyed instead of pooled
  for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
}
