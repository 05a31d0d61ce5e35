import type http from 'node:http';
import type net from 'node:net';
import httpProxy from 'http-proxy';
import type { ProxyEngine, WebHooks, WsHooks } from './engine.ts';

// A string key: http-proxy copies per-call options with util._extend, which drops symbols.
const HOOKS = 'paasHooks';
type WithHooks<H> = httpProxy.ServerOptions & { [HOOKS]: H };

/**
 * The http-proxy (node-http-proxy 1.18) engine. The library is used for the
 * byte moving only; its gaps are covered here:
 * - 'proxyReq' only fires once a socket is assigned, and never for requests
 *   carrying `Expect` (the router strips Expect: node already answered 100-continue);
 * - a response that arrives after the router gave up (H12) would be left
 *   unread and pin the pooled socket: the router destroys it from onResponse;
 * - a websocket client that vanishes without FIN/error does not close the
 *   backend socket (pipe() only forwards 'end'): closes are linked in onUpgrade;
 * - a non-101 answer to an upgrade is re-framed by hand and keeps a
 *   Transfer-Encoding header it no longer honours: onResponse drops it.
 */
export function createHttpProxyEngine(): ProxyEngine {
  const proxy = httpProxy.createProxyServer({ xfwd: false, ws: true, prependPath: false });
  // http-proxy throws on 'error' without listeners; every call passes a callback,
  // this is only a guard against a library path that forgets it.
  proxy.on('error', () => {});

  proxy.on('proxyReq', (proxyReq, _req, _res, options) => {
    (options as WithHooks<WebHooks>)[HOOKS]?.onProxyReq(proxyReq);
  });
  proxy.on('proxyRes', (proxyRes, req) => {
    HOOKS_BY_REQ.get(req)?.onResponse(proxyRes);
  });
  proxy.on('proxyReqWs', (proxyReq, _req, _socket, options) => {
    const hooks = (options as WithHooks<WsHooks>)[HOOKS];
    if (!hooks) return;
    hooks.onProxyReq(proxyReq);
    // Registered before http-proxy's own listeners, so these run first.
    proxyReq.on('response', (proxyRes) => hooks.onResponse(proxyRes));
    proxyReq.on('upgrade', (proxyRes, proxySocket: net.Socket) => hooks.onUpgrade(proxyRes, proxySocket));
  });

  // 'proxyRes' carries no options, so the current attempt's hooks are keyed by request.
  const HOOKS_BY_REQ = new WeakMap<http.IncomingMessage, WebHooks>();

  return {
    name: 'http-proxy',
    web(req, res, target, body, hooks) {
      HOOKS_BY_REQ.set(req, hooks);
      const options: WithHooks<WebHooks> = {
        target: { host: target.host, port: target.port },
        agent: target.agent,
        buffer: body,
        [HOOKS]: hooks,
      };
      proxy.web(req, res, options, (err) => hooks.onError(err as NodeJS.ErrnoException));
    },
    ws(req, socket, head, target, hooks) {
      const options: WithHooks<WsHooks> = {
        target: { host: target.host, port: target.port },
        agent: target.agent,
        [HOOKS]: hooks,
      };
      proxy.ws(req, socket, head, options, (err) => hooks.onError(err as NodeJS.ErrnoException));
    },
    close() {
      proxy.removeAllListeners();
    },
  };
}
