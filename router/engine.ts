import type http from 'node:http';
import type net from 'node:net';
import type { Readable } from 'node:stream';

/**
 * The seam between the router's policy (routing, retries, timeouts, logging,
 * all in proxy.ts) and the byte-moving engine. An engine forwards exactly one
 * attempt to one backend and reports what happened through the hooks; it never
 * retries, times out or answers on its own. Issue 6 measured http-proxy and
 * node:http behind this interface and kept node:http (engine-node.ts).
 */
export interface Target {
  host: string;
  port: number;
  agent: http.Agent;
}

interface AttemptHooks {
  /** The outgoing request exists and has a socket (use it to measure connect time or abort). */
  onProxyReq(proxyReq: http.ClientRequest): void;
  /** The attempt failed (connect error, reset, client error …). May be called more than once. */
  onError(err: NodeJS.ErrnoException): void;
}

export interface WebHooks extends AttemptHooks {
  /**
   * Response headers arrived. Returns the router's own response headers (flat name, value, …:
   * X-Request-Id, Connection), which replace the backend's of the same name; hop-by-hop ones are
   * dropped. Called before anything is written, so it may also destroy `proxyRes`.
   */
  onResponse(proxyRes: http.IncomingMessage): string[];
}

export interface WsHooks extends AttemptHooks {
  /** The backend answered without upgrading; called before they are relayed, so hooks may edit `proxyRes.headers`. */
  onResponse(proxyRes: http.IncomingMessage): void;
  /** The backend switched protocols and both sockets are now piped to each other. */
  onUpgrade(proxyRes: http.IncomingMessage, proxySocket: net.Socket): void;
}

export interface ProxyEngine {
  readonly name: string;
  /**
   * Forward `req` to `target` with the request head `headers` (flat name, value, … as prepared
   * by the router), streaming `body` (default: `req` itself) and piping the response into `res`.
   */
  web(req: http.IncomingMessage, res: http.ServerResponse, target: Target, headers: string[], body: Readable | undefined, hooks: WebHooks): void;
  /** Forward an upgrade request; on success the two sockets are spliced together. */
  ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, target: Target, hooks: WsHooks): void;
  close(): void;
}
