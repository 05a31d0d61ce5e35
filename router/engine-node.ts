import http from 'node:http';
import type net from 'node:net';
import type { ProxyEngine } from './engine.ts';

// Framing and connection management are per hop: node:http re-frames the body for the client.
const RESPONSE_HOP_BY_HOP = new Set(['transfer-encoding', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
// Replaced by the router's own (WebHooks.onResponse).
const RESPONSE_DROPPED = new Set([...RESPONSE_HOP_BY_HOP, 'connection', 'x-request-id']);

function rawHead(statusLine: string, headers: http.IncomingHttpHeaders): string {
  const lines = [statusLine];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * The router's engine: node:http client requests on the per-backend keep-alive
 * agents, nothing in between. It replaced http-proxy, which did the same work
 * through more layers at ~1.5× the CPU per request (docs/BENCHMARKS.md).
 */
export function createNodeEngine(): ProxyEngine {
  return {
    name: 'node',
    web(req, res, target, headers, body, hooks) {
      // Headers as a flat array: node:http then writes the head as given, skipping a
      // validate-and-store pass per header (a measurable share of the router's CPU).
      const proxyReq = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: target.agent,
      });
      proxyReq.once('socket', () => hooks.onProxyReq(proxyReq));
      proxyReq.on('error', (err) => hooks.onError(err));
      req.on('error', (err) => hooks.onError(err));
      proxyReq.on('response', (proxyRes) => {
        const own = hooks.onResponse(proxyRes);
        if (res.headersSent || res.destroyed || proxyRes.destroyed) {
          proxyRes.destroy();
          return;
        }
        const raw = proxyRes.rawHeaders;
        const out: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          if (!RESPONSE_DROPPED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
        }
        for (const value of own) out.push(value);
        res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage || undefined, out);
        proxyRes.pipe(res);
      });
      // Most requests carry no body: end at once rather than set up a pipe that moves nothing.
      const h = req.headers;
      if (!body && h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0')) proxyReq.end();
      else (body ?? req).pipe(proxyReq);
    },
    ws(req, socket, head, target, hooks) {
      if (head.length) socket.unshift(head);
      const proxyReq = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: target.agent,
      });
      hooks.onProxyReq(proxyReq);
      const fail = (err: Error) => {
        hooks.onError(err);
        socket.end();
      };
      proxyReq.on('error', fail);
      proxyReq.on('response', (proxyRes) => {
        hooks.onResponse(proxyRes);
        if (!socket.writable) return void proxyRes.destroy();
        socket.write(rawHead(`HTTP/1.1 ${proxyRes.statusCode} ${proxyRes.statusMessage ?? ''}`, proxyRes.headers));
        proxyRes.pipe(socket);
      });
      proxyReq.on('upgrade', (proxyRes, proxySocket: net.Socket, proxyHead: Buffer) => {
        proxySocket.on('error', fail);
        socket.on('error', () => proxySocket.end());
        proxySocket.setNoDelay(true);
        socket.setNoDelay(true);
        if (proxyHead.length) proxySocket.unshift(proxyHead);
        socket.write(rawHead('HTTP/1.1 101 Switching Protocols', proxyRes.headers));
        hooks.onUpgrade(proxyRes, proxySocket);
        proxySocket.pipe(socket).pipe(proxySocket);
      });
      proxyReq.end();
    },
    close() {},
  };
}
