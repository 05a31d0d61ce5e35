import http from 'node:http';
import type net from 'node:net';
import type { ProxyEngine } from './engine.ts';

// Framing and connection management are per hop: node:http re-frames the body for the client.
const RESPONSE_HOP_BY_HOP = new Set(['transfer-encoding', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function rawHead(statusLine: string, headers: http.IncomingHttpHeaders): string {
  const lines = [statusLine];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A dependency-free engine on node:http, the same contract as the http-proxy
 * one (engine.ts). Kept as the comparison point for issue 6's benchmarks and
 * as the fallback should http-proxy (unmaintained since 2020) become a liability.
 */
export function createNodeEngine(): ProxyEngine {
  return {
    name: 'node',
    web(req, res, target, body, hooks) {
      const proxyReq = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: target.agent,
      });
      proxyReq.once('socket', () => hooks.onProxyReq(proxyReq));
      proxyReq.on('error', (err) => hooks.onError(err));
      req.on('error', (err) => hooks.onError(err));
      proxyReq.on('response', (proxyRes) => {
        hooks.onResponse(proxyRes);
        if (res.headersSent || res.destroyed) {
          proxyRes.destroy();
          return;
        }
        res.statusCode = proxyRes.statusCode ?? 502;
        if (proxyRes.statusMessage) res.statusMessage = proxyRes.statusMessage;
        for (const [key, value] of Object.entries(proxyRes.headers)) {
          if (value !== undefined && !RESPONSE_HOP_BY_HOP.has(key)) res.setHeader(key, value);
        }
        proxyRes.pipe(res);
      });
      (body ?? req).pipe(proxyReq);
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
