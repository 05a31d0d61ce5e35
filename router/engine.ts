import type http from 'node:http';
import type net from 'node:net';
import type { Readable } from 'node:stream';

/**
 * The seam between the router's policy (routing, retries, timeouts, logging,
 * all in proxy.ts) and the byte-moving engine. An engine forwards exactly one
 * attempt to one backend and reports what happened through the hooks; it never
 * retries, times out or answers on its own. Issue 6 benchmarks engines against
 * each other behind this interface.
 */
export interface Target {
  host: string;
  port: number;
  agent: http.Agent;
}

export interface WebHooks {
  /** The outgoing request exists and has a socket (use it to measure connect time or abort). */
  onProxyReq(proxyReq: http.ClientRequest): void;
  /** Response headers arrived; called before they are copied, so hooks may edit `proxyRes.headers`. */
  onResponse(proxyRes: http.IncomingMessage): void;
  /** The attempt failed (connect error, reset, client error …). May be called more than once. */
  onError(err: NodeJS.ErrnoException): void;
}

export interface WsHooks extends WebHooks {
  /** The backend switched protocols and both sockets are now piped to each other. */
  onUpgrade(proxyRes: http.IncomingMessage, proxySocket: net.Socket): void;
}

export interface ProxyEngine {
  readonly name: string;
  /**
   * Forward `req` (its headers already prepared by the router) to `target`,
   * streaming `body` (default: `req` itself) and piping the response into `res`.
   */
  web(req: http.IncomingMessage, res: http.ServerResponse, target: Target, body: Readable | undefined, hooks: WebHooks): void;
  /** Forward an upgrade request; on success the two sockets are spliced together. */
  ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, target: Target, hooks: WsHooks): void;
  close(): void;
}
