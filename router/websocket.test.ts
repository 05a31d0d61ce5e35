import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { deadPort, startBackend, startRouter, table, waitFor, type Backend, type TestRouter } from './test-helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface WsBackend extends Backend {
  wss: WebSocketServer;
  sockets: WebSocket[];
  closes: { code: number; reason: string }[];
  upgradeHeaders: Record<string, string | string[] | undefined>[];
}

/** An HTTP backend that also echoes websocket messages back, prefixed with its name. */
async function wsBackend(name: string): Promise<WsBackend> {
  const b = (await startBackend(name)) as WsBackend;
  b.wss = new WebSocketServer({ server: b.server });
  b.sockets = [];
  b.closes = [];
  b.upgradeHeaders = [];
  b.wss.on('connection', (ws, req) => {
    b.sockets.push(ws);
    b.upgradeHeaders.push(req.headers);
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${data.toString()}`, { binary: isBinary }));
    ws.on('close', (code, reason) => b.closes.push({ code, reason: reason.toString() }));
  });
  cleanups.push(async () => {
    for (const ws of b.wss.clients) ws.terminate();
    b.wss.close();
    await b.close();
  });
  return b;
}

async function router(...[routes, options]: Parameters<typeof startRouter>): Promise<TestRouter> {
  const r = await startRouter(routes, options);
  cleanups.push(() => r.close());
  return r;
}

function connect(port: number, host = 'demo.localhost', path = '/socket'): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } });
  ws.on('error', () => {}); // asserted through events below
  cleanups.push(() => ws.terminate());
  return ws;
}
const opened = (ws: WebSocket) =>
  new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
/** One websocket app (`a`) behind a router, and a client socket opened to it through the router. */
async function openedThroughRouter() {
  const b = await wsBackend('a');
  const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: b.port }] } }));
  const ws = connect(r.port);
  await opened(ws);
  return { b, r, ws };
}
const nextMessage = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
const rejectedWith = (ws: WebSocket) =>
  new Promise<{ status: number; body: string }>((resolve) =>
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }),
  );

describe('router', () => {
  describe('websockets through the router', () => {
    it('echoes messages both ways, text and binary, with forwarded headers', async () => {
      const { b, r, ws } = await openedThroughRouter();
      ws.send('hello');
      expect(await nextMessage(ws)).toBe('a:hello');
      const bin = Buffer.from([0, 1, 2, 255]);
      const gotBin = new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer)));
      ws.send(bin);
      expect(Buffer.compare(await gotBin, bin)).toBe(0);
      expect(b.upgradeHeaders[0]['x-forwarded-for']).toBe('127.0.0.1');
      expect(b.upgradeHeaders[0]['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(b.upgradeHeaders[0].host).toBe('demo.localhost');
      await waitFor(() => r.access.length === 1);
      expect(r.access[0]).toMatchObject({ app: 'demo', dyno: 'web.1' });
      expect(r.access[0].text).toMatch(/^at=info method=GET path="\/socket" .*status=101 /);
    });

    it('closes cleanly when the client closes', async () => {
      const { b, ws } = await openedThroughRouter();
      const done = closed(ws);
      ws.close(1000, 'bye');
      expect(await done).toEqual({ code: 1000, reason: 'bye' });
      await waitFor(() => b.closes.length === 1);
      expect(b.closes[0]).toEqual({ code: 1000, reason: 'bye' });
    });

    it('closes cleanly when the app closes', async () => {
      const { b, ws } = await openedThroughRouter();
      await waitFor(() => b.sockets.length === 1);
      const done = closed(ws);
      b.sockets[0].close(1001, 'going away');
      expect(await done).toEqual({ code: 1001, reason: 'going away' });
    });

    it('tears the backend side down when the client vanishes without a close frame', async () => {
      const { b, ws } = await openedThroughRouter();
      await waitFor(() => b.sockets.length === 1);
      ws.terminate();
      await waitFor(() => b.closes.length === 1, 5_000, 'backend close');
      expect(b.closes[0].code).toBe(1006);
    });

    it('tears the client side down when the app process dies', async () => {
      const { b, ws } = await openedThroughRouter();
      await waitFor(() => b.sockets.length === 1);
      const done = closed(ws);
      b.sockets[0].terminate();
      expect((await done).code).toBe(1006);
    });

    it('spreads websocket connections over backends', async () => {
      const a = await wsBackend('a');
      const b = await wsBackend('b');
      const r = await router(
        table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }, { dyno: 'web.2', port: b.port }] } }),
      );
      const names: string[] = [];
      for (let i = 0; i < 4; i++) {
        const ws = connect(r.port);
        await opened(ws);
        ws.send('who');
        names.push((await nextMessage(ws)).split(':')[0]);
      }
      expect(names.sort()).toEqual(['a', 'a', 'b', 'b']);
    });

    it('answers an upgrade for an unknown host with 404 and one for a dead app with 503', async () => {
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: await deadPort() }] } }));
      const unknown = await rejectedWith(connect(r.port, 'nope.localhost'));
      expect(unknown.status).toBe(404);
      expect(unknown.body).toContain('No such app');
      const dead = await rejectedWith(connect(r.port));
      expect(dead.status).toBe(503);
      expect(dead.body).toContain('Application error');
      await waitFor(() => r.access.length === 2);
      expect(r.access[0].app).toBeNull();
      expect(r.access[1].text).toMatch(/^at=error code=H10 .*status=503/);
    });

    it('relays a plain answer when the app declines the upgrade', async () => {
      const plain = await startBackend('plain', (req, res) => {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('no sockets here');
      });
      cleanups.push(() => plain.close());
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: plain.port }] } }));
      const reply = await rejectedWith(connect(r.port));
      expect(reply).toEqual({ status: 403, body: 'no sockets here' });
    });

    it('ends open websockets on shutdown', async () => {
      const b = await wsBackend('a');
      const r = await startRouter(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: b.port }] } }));
      const ws = connect(r.port);
      await opened(ws);
      const done = closed(ws);
      await r.router.close(5_000);
      await done;
      await waitFor(() => b.closes.length === 1, 5_000, 'backend close');
    });
  });
});
