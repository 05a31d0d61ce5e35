import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPort, raw, request, startBackend, startRouter, table, waitFor, type Backend, type TestRouter } from './test-helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function backend(name: string, handler?: Parameters<typeof startBackend>[1]): Promise<Backend> {
  const b = await startBackend(name, handler);
  cleanups.push(() => b.close());
  return b;
}
async function router(...[routes, options]: Parameters<typeof startRouter>): Promise<TestRouter> {
  const r = await startRouter(routes, options);
  cleanups.push(() => r.close());
  return r;
}

describe('router', () => {
  describe('routing', () => {
    it('routes by exact host and by one-label wildcard', async () => {
      const a = await backend('a');
      const b = await backend('b');
      const r = await router(
        table({
          demo: { hosts: ['demo.localhost', '*.example.org'], backends: [{ dyno: 'web.1', port: a.port }] },
          other: { hosts: ['www.example.com'], backends: [{ dyno: 'web.1', port: b.port }] },
        }),
      );
      expect((await request(r.port, { host: 'demo.localhost' })).json().backend).toBe('a');
      expect((await request(r.port, { host: 'DEMO.localhost:8000' })).json().backend).toBe('a');
      expect((await request(r.port, { host: 'shop.example.org' })).json().backend).toBe('a');
      expect((await request(r.port, { host: 'www.example.com' })).json().backend).toBe('b');
      const deep = await request(r.port, { host: 'a.b.example.org' });
      expect(deep.status).toBe(404);
    });

    it('answers an unknown host with a 404 "No such app" page and an access line without app', async () => {
      const r = await router(table({}));
      const res = await request(r.port, { host: 'nope.localhost', path: '/x' });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('No such app');
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].app).toBeNull();
      expect(r.access[0].dyno).toBeNull();
      expect(r.access[0].text).toMatch(/^at=info method=GET path="\/x" host=nope\.localhost .*status=404 /);
    });

    it('answers an app without backends with a 503 "Application error" page (H14)', async () => {
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [] } }));
      const res = await request(r.port);
      expect(res.status).toBe(503);
      expect(res.body).toContain('Application error');
      await waitFor(() => r.access.length === 1);
      expect(r.access[0]).toMatchObject({ app: 'demo', dyno: null });
      expect(r.access[0].text).toMatch(/^at=error code=H14 desc="No web processes running" .*status=503/);
    });

    it('answers HEAD on error pages without a body', async () => {
      const r = await router(table({}));
      const res = await request(r.port, { host: 'nope.localhost', method: 'HEAD' });
      expect(res.status).toBe(404);
      expect(res.body).toBe('');
    });
  });

  describe('load balancing and connection reuse', () => {
    it('spreads sequential requests round-robin across two backends', async () => {
      const a = await backend('a');
      const b = await backend('b');
      const r = await router(
        table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }, { dyno: 'web.2', port: b.port }] } }),
      );
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push((await request(r.port)).json().backend);
      expect(seen.filter((n) => n === 'a')).toHaveLength(3);
      expect(seen.filter((n) => n === 'b')).toHaveLength(3);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
      await waitFor(() => r.access.length === 6);
      expect(new Set(r.access.map((e) => e.dyno))).toEqual(new Set(['web.1', 'web.2']));
    });

    it('prefers the backend with fewer requests in flight', async () => {
      let releaseSlow: () => void = () => {};
      const slow = await backend('slow', (req, res) => {
        releaseSlow = () => res.end('slow');
      });
      const fast = await backend('fast', (req, res) => res.end('fast'));
      const r = await router(
        table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: slow.port }, { dyno: 'web.2', port: fast.port }] } }),
      );
      // Whichever backend the first request lands on, keep one request parked on the slow one.
      const parked: Promise<unknown>[] = [];
      for (let i = 0; i < 2 && slow.requests.length === 0; i++) {
        const p = request(r.port);
        parked.push(p);
        await waitFor(() => slow.requests.length + fast.requests.length === i + 1);
        if (slow.requests.length === 0) await p;
      }
      expect(slow.requests).toHaveLength(1);
      for (let i = 0; i < 4; i++) expect((await request(r.port)).body).toBe('fast');
      releaseSlow();
      await Promise.all(parked);
    });

    it('reuses keep-alive connections to a backend instead of opening one per request', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      for (let i = 0; i < 20; i++) expect((await request(r.port)).status).toBe(200);
      expect(a.requests).toHaveLength(20);
      expect(a.connections).toBeLessThan(20);
    });

    it('keeps the pool of an unchanged backend across route reloads', async () => {
      const a = await backend('a');
      const b = await backend('b');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }, 1));
      for (let i = 0; i < 5; i++) await request(r.port);
      r.routes.set(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] }, x: { hosts: ['x.localhost'], backends: [{ dyno: 'web.1', port: b.port }] } }, 2));
      for (let i = 0; i < 5; i++) await request(r.port);
      expect(a.requests).toHaveLength(10);
      expect(a.connections).toBeLessThan(10);
    });
    it('closes idle pooled connections of a backend that left the table', async () => {
      const a = await backend('a');
      const b = await backend('b');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }, 1));
      await request(r.port);
      expect(a.open).toBe(1);
      r.routes.set(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.2', port: b.port }] } }, 2));
      expect((await request(r.port)).json().backend).toBe('b');
      await waitFor(() => a.open === 0, 5_000, 'old backend connection closed');
    });
  });

  describe('request headers', () => {
    it('appends X-Forwarded-For and sets X-Forwarded-Proto/Port/Host', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const seen = (await request(r.port, { host: 'demo.localhost:1234', headers: { 'x-forwarded-for': '10.0.0.1' } })).json().headers;
      expect(seen['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
      expect(seen['x-forwarded-proto']).toBe('http');
      expect(seen['x-forwarded-port']).toBe(String(r.port));
      expect(seen['x-forwarded-host']).toBe('demo.localhost:1234');
      expect(seen.host).toBe('demo.localhost:1234');
      const plain = (await request(r.port)).json().headers;
      expect(plain['x-forwarded-for']).toBe('127.0.0.1');
    });

    it('generates an X-Request-Id, passes it to the app and returns it', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const res = await request(r.port);
      const id = res.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.json().headers['x-request-id']).toBe(id);
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toContain(`request_id=${id}`);
    });

    it('keeps a sane client X-Request-Id and replaces an insane one', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const sane = 'client-supplied-request-0001';
      const kept = await request(r.port, { headers: { 'x-request-id': sane } });
      expect(kept.headers['x-request-id']).toBe(sane);
      expect(kept.json().headers['x-request-id']).toBe(sane);
      const replaced = await request(r.port, { headers: { 'x-request-id': 'short id!' } });
      expect(replaced.headers['x-request-id']).not.toBe('short id!');
      expect(replaced.json().headers['x-request-id']).toBe(replaced.headers['x-request-id']);
    });

    it('drops hop-by-hop headers, including those named in Connection', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const seen = (await request(r.port, { headers: { connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5', 'x-end': 'kept' } })).json()
        .headers;
      expect(seen['x-hop']).toBeUndefined();
      expect(seen['x-end']).toBe('kept');
    });

    it("honours the client's Connection: close and HTTP/1.0, whatever the pooled backend connection does", async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      // raw() resolves when the router closes the connection; the generous timeout is only a backstop.
      const closeReply = await raw(r.port, 'GET / HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n', 10_000);
      expect(closeReply).toMatch(/^HTTP\/1\.1 200 /);
      expect(closeReply.toLowerCase()).toContain('connection: close');
      const http10 = await raw(r.port, 'GET / HTTP/1.0\r\nHost: demo.localhost\r\n\r\n', 10_000);
      expect(http10).toMatch(/^HTTP\/1\.1 200 /);
      expect(http10).toContain('"backend":"a"');
      // Both went over one pooled backend connection.
      expect(a.connections).toBe(1);
    });

    it('serves a non-websocket upgrade (h2c from curl --http2) as a plain request', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const reply = await raw(
        r.port,
        'GET /h2 HTTP/1.1\r\nHost: demo.localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
        10_000,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      const seen = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
      expect(seen.url).toBe('/h2');
      expect(seen.headers.upgrade).toBeUndefined();
      expect(seen.headers['http2-settings']).toBeUndefined();
      expect(reply.toLowerCase()).toContain('connection: close');
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/^at=info method=GET path="\/h2" .*status=200 /);
    });

    it('handles Expect: 100-continue itself and forwards the body', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }), { responseTimeoutMs: 5_000 });
      const reply = await new Promise<any>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: r.port, method: 'POST', agent: false, headers: { host: 'demo.localhost', expect: '100-continue', 'content-length': 4 } },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(JSON.parse(text)));
          },
        );
        req.on('error', reject);
        req.on('continue', () => req.end('body'));
      });
      expect(reply.body).toBe('body');
      expect(reply.headers.expect).toBeUndefined();
    });

    it('streams request bodies (length-delimited and chunked) to the app', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      expect((await request(r.port, { method: 'POST', body: 'hello' })).json().body).toBe('hello');
      const chunked = await request(r.port, { method: 'POST', body: 'chunky', headers: { 'transfer-encoding': 'chunked' } });
      expect(chunked.json().body).toBe('chunky');
    });
  });

  describe('access lines', () => {
    it('writes one Heroku-format line per proxied request', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const res = await request(r.port, { path: '/hello?x="1"' });
      await waitFor(() => r.access.length === 1);
      const line = r.access[0];
      expect(line.app).toBe('demo');
      expect(line.dyno).toBe('web.1');
      expect(line.text).toMatch(
        new RegExp(
          `^at=info method=GET path="/hello\\?x=\\\\"1\\\\"" host=demo\\.localhost request_id=${res.headers['x-request-id']} ` +
            `fwd="127\\.0\\.0\\.1" dyno=web\\.1 connect=\\d+ms service=\\d+ms status=200 bytes=\\d+ protocol=http$`,
        ),
      );
      expect(Number(/bytes=(\d+)/.exec(line.text)![1])).toBeGreaterThan(res.body.length);
    });
  });

  describe('failures and retries', () => {
    it('retries an idempotent request on another backend when the connection is refused', async () => {
      const live = await backend('live');
      const r = await router(
        table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: await deadPort() }, { dyno: 'web.2', port: live.port }] } }),
      );
      for (let i = 0; i < 10; i++) expect((await request(r.port)).status).toBe(200);
      await waitFor(() => r.access.length === 10);
      expect(r.access.every((e) => e.dyno === 'web.2' && e.text.includes('status=200'))).toBe(true);
    });

    it('tries another backend at once when a handshake stalls (a SYN lost to a full listen queue), instead of waiting for the kernel to resend it', async () => {
      // A server whose process is stopped: the kernel completes handshakes until its accept queue
      // is full, then drops every SYN (as for an app too busy to accept).
      const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
      cleanups.push(async () => void child.kill('SIGKILL'));
      const stalledPort = Number(await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim()))));
      process.kill(child.pid!, 'SIGSTOP');
      const fillers: net.Socket[] = [];
      cleanups.push(async () => fillers.forEach((f) => f.destroy()));
      for (let full = false; !full && fillers.length < 20; ) {
        const f = net.connect(stalledPort, '127.0.0.1');
        fillers.push(f);
        full = await new Promise<boolean>((resolve) => {
          f.once('connect', () => resolve(false));
          setTimeout(() => resolve(true), 500);
        });
      }
      const live = await backend('live');
      // A connect timeout far beyond the test's own: only the early second try can answer in time.
      const r = await router(
        table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: stalledPort }, { dyno: 'web.2', port: live.port }] } }),
        { connectTimeoutMs: 120_000 },
      );
      for (let i = 0; i < 4; i++) expect((await request(r.port)).status).toBe(200);
      await waitFor(() => r.access.length === 4);
      expect(r.access.every((e) => e.dyno === 'web.2' && e.text.includes('status=200'))).toBe(true);
    }, 20_000);

    it('retries on the current table: a request cut off by a deploy reaches the new backend', async () => {
      const fresh = await backend('fresh');
      let r: TestRouter | undefined;
      // The old backend takes the connection, the table moves the app, then the old one goes away.
      const old = net.createServer((socket) => {
        r!.routes.set(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.2', port: fresh.port }] } }, 2));
        socket.destroy();
      });
      await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => old.close(() => resolve())));
      const oldPort = (old.address() as net.AddressInfo).port;
      r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: oldPort }] } }));
      const res = await request(r.port);
      expect(res.status).toBe(200);
      await waitFor(() => r!.access.length === 1);
      expect(r.access[0].dyno).toBe('web.2');
    });

    it('does not replay a request with a body; answers 503 H10 when the app refuses connections', async () => {
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: await deadPort() }] } }));
      const post = await request(r.port, { method: 'POST', body: 'x' });
      expect(post.status).toBe(503);
      expect(post.body).toContain('Application error');
      const get = await request(r.port);
      expect(get.status).toBe(503);
      await waitFor(() => r.access.length === 2);
      for (const e of r.access) expect(e.text).toMatch(/^at=error code=H10 desc="App crashed" .*dyno=web\.1 .*status=503/);
    });

    it('answers 503 H12 when the app sends no response headers in time, and aborts the backend request', async () => {
      let backendSawClose = false;
      const hung = await backend('hung', (req) => req.socket.once('close', () => (backendSawClose = true)));
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: hung.port }] } }), {
        responseTimeoutMs: 150,
      });
      const res = await request(r.port);
      expect(res.status).toBe(503);
      expect(res.body).toContain('Application error');
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/^at=error code=H12 desc="Request timeout" .*dyno=web\.1 .*status=503/);
      await waitFor(() => backendSawClose, 5_000, 'backend connection closed');
    });

    it('lets slow answers, idle streams and slow-but-steady uploads through', async () => {
      const slow = await backend('slow', (req, res) => {
        if (req.url === '/stream') {
          res.writeHead(200);
          res.write('a');
          setTimeout(() => res.end('b'), 400);
          return;
        }
        let body = 0;
        req.on('data', (c: Buffer) => (body += c.length));
        req.on('end', () => setTimeout(() => res.end(`got ${body}`), 400));
      });
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: slow.port }] } }), {
        idleSocketMs: 100, // shorter than the app's pauses: must only affect idle pooled sockets
        responseTimeoutMs: 1_500,
      });
      expect((await request(r.port)).body).toBe('got 0');
      expect((await request(r.port, { path: '/stream' })).body).toBe('ab');
      // 2 s of upload in 100 ms steps: longer than responseTimeoutMs, but never stalled.
      const upload = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: r.port, method: 'POST', headers: { host: 'demo.localhost' }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        });
        req.on('error', reject);
        let sent = 0;
        const tick = setInterval(() => {
          req.write('x'.repeat(100));
          if (++sent === 20) {
            clearInterval(tick);
            req.end();
          }
        }, 100);
      });
      expect(upload).toBe('200 got 2000');
    });

    it('answers 503 H13 when the app closes the connection without a response', async () => {
      const rude = await backend('rude', (req) => req.socket.destroy());
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: rude.port }] } }));
      const res = await request(r.port);
      expect(res.status).toBe(503);
      expect(rude.requests).toHaveLength(2); // the GET was retried once
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/^at=error code=H13 desc="Connection closed without response" .*status=503/);
    });

    it('cuts the client off and logs H18 when the app dies mid-response', async () => {
      const dying = await backend('dying', (req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 20);
      });
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: dying.port }] } }));
      await expect(request(r.port)).rejects.toThrow();
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/^at=error code=H18 desc="Server Request Interrupted" .*status=200/);
    });

    it('logs H27 and aborts the backend request when the client goes away first', async () => {
      let backendSawClose = false;
      const hung = await backend('hung', (req) => req.socket.once('close', () => (backendSawClose = true)));
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: hung.port }] } }));
      const socket = net.connect(r.port, '127.0.0.1');
      socket.write('GET / HTTP/1.1\r\nHost: demo.localhost\r\n\r\n');
      await waitFor(() => hung.requests.length === 1);
      socket.destroy();
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/^at=error code=H27 desc="Client Request Interrupted" .*status=499/);
      await waitFor(() => backendSawClose, 5_000, 'backend connection closed');
    });
  });

  describe('HTTP/1.1 framing (the router parses and frames messages itself)', () => {
    /** A backend that writes `reply` raw to every request, whatever it was. */
    async function rawBackend(reply: (head: string) => string | Buffer): Promise<number> {
      const server = net.createServer((socket) => {
        let buf = '';
        socket.on('data', (d) => {
          buf += d.toString('latin1');
          for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
            const head = buf.slice(0, end);
            buf = buf.slice(end + 4);
            const out = reply(head);
            socket.write(out);
            if (/connection: close/i.test(typeof out === 'string' ? out : out.toString('latin1'))) socket.end();
          }
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      return (server.address() as net.AddressInfo).port;
    }
    const demo = (port: number) => table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port }] } });
    const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: demo.localhost\r\n${extra}\r\n`;

    it('answers pipelined requests in order on one connection', async () => {
      const a = await backend('a');
      const r = await router(demo(a.port));
      const reply = await raw(r.port, get('/1') + get('/2') + get('/3', 'Connection: close\r\n'));
      const urls = [...reply.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
      expect(urls).toEqual(['/1', '/2', '/3']);
      expect(reply.match(/HTTP\/1\.1 200 /g)).toHaveLength(3);
      await waitFor(() => r.access.length === 3);
    });

    it('passes a chunked response through to an HTTP/1.1 client and de-chunks it for HTTP/1.0', async () => {
      const port = await rawBackend(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      const r = await router(demo(port));
      const res = await request(r.port);
      expect(res.body).toBe('hello world');
      expect(res.headers['transfer-encoding']).toBe('chunked');
      const old = await raw(r.port, 'GET / HTTP/1.0\r\nHost: demo.localhost\r\n\r\n');
      expect(old).toMatch(/\r\n\r\nhello world$/);
      expect(old.toLowerCase()).not.toContain('transfer-encoding');
      expect(old.toLowerCase()).toContain('connection: close');
    });

    it('chunks a close-delimited response for HTTP/1.1 clients and keeps their connection', async () => {
      const port = await rawBackend(() => 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
      const r = await router(demo(port));
      const reply = await raw(r.port, get('/a') + get('/b', 'Connection: close\r\n'));
      expect(reply.match(/Transfer-Encoding: chunked\r\n/g)).toHaveLength(2);
      expect(reply.match(/d\r\nuntil the end\r\n0\r\n\r\n/g)).toHaveLength(2);
    });

    it('sends no body for HEAD, 204 and 304, and skips interim 1xx answers', async () => {
      const port = await rawBackend((head) =>
        head.startsWith('HEAD')
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'
          : head.startsWith('GET /204')
            ? 'HTTP/1.1 204 No Content\r\n\r\n'
            : head.startsWith('GET /304')
              ? 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n'
              : 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      );
      const r = await router(demo(port));
      const reply = await raw(r.port, `HEAD / HTTP/1.1\r\nHost: demo.localhost\r\n\r\n${get('/204')}${get('/304')}${get('/hints', 'Connection: close\r\n')}`);
      const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
      expect(statuses).toEqual(['200', '204', '304', '200']);
      expect(reply).toMatch(/Content-Length: 1234\r\n/);
      expect(reply.endsWith('\r\n\r\nok')).toBe(true);
    });

    it('forwards a chunked request body as sent, trailers included', async () => {
      const seen: string[] = [];
      const port = await rawBackend(() => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      const spy = net.createServer((client) => {
        const upstream = net.connect(port, '127.0.0.1');
        client.on('data', (d) => seen.push(d.toString('latin1')));
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => spy.close(() => resolve())));
      const r = await router(demo((spy.address() as net.AddressInfo).port));
      const body = '3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n';
      const reply = await raw(r.port, `POST / HTTP/1.1\r\nHost: demo.localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      expect(seen.join('')).toMatch(new RegExp(`Transfer-Encoding: chunked\r\n[^]*\r\n\r\n${body.replace(/\r\n/g, '\\r\\n')}$`));
    });

    it('streams large bodies both ways intact (many reads, a slow client)', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
      const a = await backend('a', (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          const got = Buffer.concat(chunks);
          if (req.url === '/chunked') {
            res.write(got.subarray(0, 1000));
            res.end(got.subarray(1000));
          } else res.end(got);
        });
      });
      const r = await router(demo(a.port));
      for (const path of ['/length', '/chunked']) {
        const echoed = await new Promise<Buffer>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: r.port, path, method: 'POST', headers: { host: 'demo.localhost' }, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.pause();
            setTimeout(() => res.resume(), 200); // let the router's buffers fill up first
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
          });
          req.on('error', reject);
          req.end(big);
        });
        expect(echoed.equals(big)).toBe(true);
      }
    });

    it('answers 400 to broken chunked framing', async () => {
      const a = await backend('a');
      const r = await router(demo(a.port));
      const reply = await raw(r.port, 'POST / HTTP/1.1\r\nHost: demo.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n');
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('survives clients that leave early: mid-head, mid-body, before the response', async () => {
      let release: () => void = () => {};
      const a = await backend('a', (req, res) => {
        req.resume();
        if (req.url === '/after') res.end('after');
        else release = () => res.end('late');
      });
      const r = await router(demo(a.port));
      await raw(r.port, 'GET / HTTP/1.1\r\nHost: demo.loc', 200);
      await raw(r.port, 'POST / HTTP/1.1\r\nHost: demo.localhost\r\nContent-Length: 100\r\n\r\nonly a bit', 300);
      await waitFor(() => r.access.length === 1);
      expect(r.access[0].text).toMatch(/code=H27 .*status=499/);
      release();
      expect((await request(r.port, { path: '/after' })).status).toBe(200);
    });
  });

  describe('limits and malformed input', () => {
    it('answers 431 (not a reset) to oversized request headers, then keeps serving', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      const reply = await raw(r.port, `GET / HTTP/1.1\r\nHost: demo.localhost\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
      expect(reply).toMatch(/^HTTP\/1\.1 431 /);
      const viaHttp = await request(r.port, { headers: { 'x-big': 'b'.repeat(20_000) } }).catch((e: Error) => e);
      expect(viaHttp).toMatchObject({ status: 431 });
      expect((await request(r.port)).status).toBe(200);
    });

    it('answers 413 to a declared body over the limit without bothering the app', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }), { maxBodyBytes: 1024 });
      const reply = await raw(r.port, 'POST / HTTP/1.1\r\nHost: demo.localhost\r\nContent-Length: 1000000\r\n\r\n');
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
      expect(a.requests).toHaveLength(0);
      expect((await request(r.port, { method: 'POST', body: 'x'.repeat(1024) })).status).toBe(200);
      await waitFor(() => r.access.length === 2);
      expect(r.access[0].text).toMatch(/^at=error code=H25 .*status=413/);
    });

    it('answers 413 to a chunked body that grows over the limit', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }), { maxBodyBytes: 1024 });
      const res = await request(r.port, { method: 'POST', body: 'y'.repeat(5000), headers: { 'transfer-encoding': 'chunked' } });
      expect(res.status).toBe(413);
      expect((await request(r.port)).status).toBe(200);
    });

    it('answers 408 (once) to a request head that does not complete in time, and closes idle keep-alive connections', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }), {
        headersTimeoutMs: 200,
        keepAliveTimeoutMs: 200,
      });
      const slow = await raw(r.port, 'GET / HTTP/1.1\r\nHost: demo.loc', 3_000);
      expect(slow).toMatch(/^HTTP\/1\.1 408 /);
      const idle = await raw(r.port, 'GET / HTTP/1.1\r\nHost: demo.localhost\r\n\r\n', 3_000);
      expect(idle).toMatch(/^HTTP\/1\.1 200 /); // and then closed by the router, well before the 3 s
      await waitFor(() => r.access.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.access.filter((e) => e.text.includes('code=H28'))).toHaveLength(1);
    });

    it('survives ~200 garbage requests over raw sockets and still serves', async () => {
      const a = await backend('a');
      const r = await router(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }));
      let seed = 42;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rand(256)));
      const fixed: (string | Buffer)[] = [
        'GARBAGE\r\n\r\n',
        'GET\r\n\r\n',
        'GET / HTTP/9.9\r\nHost: demo.localhost\r\n\r\n',
        'GET /\x00 HTTP/1.1\r\nHost: demo.localhost\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: demo.localhost\r\nBad\x01Header: x\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: demo.localhost\r\nX: a\x00b\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: demo.localhost\r\n: novalue\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: demo.localhost\r\n folded: header\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: demo.localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: demo.localhost\r\nContent-Length: -1\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: demo.localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        'POST / HTTP/1.1\r\nHost: demo.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: demo.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
        `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: demo.localhost\r\n\r\n`,
        `GET / HTTP/1.1\r\nHost: demo.localhost\r\n${'X-A: b\r\n'.repeat(5_000)}\r\n`,
        'GET / HTTP/1.1\r\n\r\n',
        'GET http://evil/ HTTP/1.1\r\nHost: demo.localhost\r\n\r\n',
        '\r\n\r\n\r\n',
        Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS ClientHello start
      ];
      const inputs: (string | Buffer)[] = [];
      for (let i = 0; i < 200; i++) {
        if (i < fixed.length) inputs.push(fixed[i]);
        else if (i % 3 === 0) inputs.push(Buffer.concat([randomBytes(1 + rand(200)), Buffer.from('\r\n\r\n')]));
        else if (i % 3 === 1) inputs.push(`${['GET', 'POST', 'G\tT', 'PUT'][rand(4)]} /${randomBytes(rand(30)).toString('latin1')} HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n`);
        else inputs.push(`GET / HTTP/1.1\r\nHost: demo.localhost\r\n${randomBytes(1 + rand(40)).toString('latin1')}: v\r\n\r\n`);
      }
      for (let i = 0; i < inputs.length; i += 25) {
        const replies = await Promise.all(inputs.slice(i, i + 25).map((input) => raw(r.port, input, 1_000)));
        for (const reply of replies) if (reply) expect(reply).toMatch(/^HTTP\/1\.1 \d{3} /);
      }
      const ok = await request(r.port);
      expect(ok.status).toBe(200);
      expect(ok.json().backend).toBe('a');
    });
  });

  describe('graceful shutdown', () => {
    it('finishes in-flight requests, refuses new connections, then resolves', async () => {
      const slow = await backend('slow', (req, res) => setTimeout(() => res.end('done'), 200));
      const r = await startRouter(table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: slow.port }] } }));
      const agent = new http.Agent({ keepAlive: true });
      cleanups.push(async () => agent.destroy());
      await request(r.port, { agent }); // leaves an idle keep-alive connection behind
      const inFlight = request(r.port, { agent: false });
      await waitFor(() => slow.requests.length === 2);
      const closed = r.router.close(5_000);
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.body).toBe('done');
      await closed;
      await expect(request(r.port)).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});
