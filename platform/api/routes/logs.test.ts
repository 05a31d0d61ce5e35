import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApi } from '../server.ts';
import { TEST_TOKEN, tempPlatform } from '../../../test/helpers/temp-platform.ts';
import type { Platform } from '../../platform.ts';
import { attachLogStream } from './logs.ts';

describe('logs and drains API', () => {
  let p: Platform;
  let api: ReturnType<typeof createApi>;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  beforeEach(async () => {
    p = tempPlatform();
    api = createApi(p);
    const res = await api.request('/api/apps', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'demo' }) });
    expect(res.status).toBe(201);
  });
  afterEach(() => p.logs.close());

  it('serves the history as text or JSON lines, with filters', async () => {
    p.logs.write('demo', 'app', 'web.1', 'hello', '2026-01-01T00:00:00.000001Z');
    p.logs.write('demo', 'router', 'web.1', 'at=info method=GET');
    p.logs.write('demo', 'app', 'worker.1', 'working');
    const text = await (await api.request('/api/apps/demo/logs?source=app', { headers: auth })).text();
    expect(text).toBe('2026-01-01T00:00:00.000001+00:00 app[web.1]: hello\n' + text.split('\n')[1] + '\n');
    expect(text.split('\n')[1]).toMatch(/^\S+ app\[worker\.1\]: working$/);
    const json = await (await api.request('/api/apps/demo/logs?ps=web&format=json&lines=1', { headers: auth })).text();
    const rows = json.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toEqual([expect.objectContaining({ source: 'router', dyno: 'web.1', text: 'at=info method=GET' })]);
    // The app's own creation is a platform event in its stream.
    expect(await (await api.request('/api/apps/demo/logs?source=paas', { headers: auth })).text()).toMatch(/paas\[api\]: Created app demo by admin/);
  });

  it('refuses bad queries and unknown apps', async () => {
    for (const q of ['lines=abc', 'lines=-1', 'source=kernel', 'ps=web;rm', 'after=x']) {
      const res = await api.request(`/api/apps/demo/logs?${q}`, { headers: auth });
      expect(res.status, q).toBe(422);
    }
    expect((await api.request('/api/apps/nope/logs', { headers: auth })).status).toBe(404);
    expect((await api.request('/api/apps/demo/logs')).status).toBe(401);
  });

  it('adds, lists and removes drains; a bad URL is a 422', async () => {
    const add = (url: unknown) => api.request('/api/apps/demo/drains', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
    const bad = await add('ftp://x');
    expect(bad.status).toBe(422);
    expect((await bad.json()).message).toMatch(/unsupported drain scheme/);
    expect((await add(42)).status).toBe(422);
    const ok = await add('syslog+tls://logs.example.com:6514');
    expect(ok.status).toBe(201);
    expect((await add('syslog+tls://logs.example.com:6514')).status).toBe(409);
    const list = await (await api.request('/api/apps/demo/drains', { headers: auth })).json();
    expect(list).toEqual([expect.objectContaining({ url: 'syslog+tls://logs.example.com:6514', stats: expect.objectContaining({ dropped: 0 }) })]);
    const del = await api.request(`/api/apps/demo/drains/${encodeURIComponent('syslog+tls://logs.example.com:6514')}`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(200);
    expect(await (await api.request('/api/apps/demo/drains', { headers: auth })).json()).toEqual([]);
  });

  it('streams history then live lines over a websocket, and resumes after an id', async () => {
    const server = http.createServer(getRequestListener(api.fetch));
    attachLogStream(p, server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      p.logs.write('demo', 'app', 'web.1', 'old');
      const got: { id: number; line: string }[] = [];
      // Each message: a batch, {"ids": […], "lines": […]}.
      const unbatch = (d: WebSocket.RawData) => {
        const m = JSON.parse(d.toString()) as { ids: number[]; lines: string[] };
        expect(m.ids).toHaveLength(m.lines.length);
        return m.lines.map((line, i) => ({ id: m.ids[i], line }));
      };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/apps/demo/logs/stream?tail=1&source=app`, { headers: auth });
      ws.on('message', (d) => got.push(...unbatch(d)));
      await new Promise((r) => ws.once('open', r));
      await until(() => got.length >= 1);
      p.logs.write('demo', 'router', 'web.1', 'filtered out');
      p.logs.write('demo', 'app', 'web.1', 'new');
      await until(() => got.length >= 2);
      expect(got.map((g) => g.line.replace(/^\S+ /, ''))).toEqual(['app[web.1]: old', 'app[web.1]: new']);
      ws.close();

      // Browsers pass the token in the query; `after` resumes without repeating.
      const resumed: { line: string }[] = [];
      const again = new WebSocket(`ws://127.0.0.1:${port}/api/apps/demo/logs/stream?source=app&after=${got[0].id}&token=${TEST_TOKEN}`);
      again.on('message', (d) => resumed.push(...unbatch(d)));
      await new Promise((r) => again.once('close', r));
      expect(resumed.map((g) => g.line.replace(/^\S+ /, ''))).toEqual(['app[web.1]: new']);

      // Lines written together reach every follower with the same filters as one message (encoded once).
      const a: string[] = [];
      const b: string[] = [];
      const wa = new WebSocket(`ws://127.0.0.1:${port}/api/apps/demo/logs/stream?tail=1&lines=0&ps=web`, { headers: auth });
      const wb = new WebSocket(`ws://127.0.0.1:${port}/api/apps/demo/logs/stream?tail=1&lines=0&ps=web`, { headers: auth });
      wa.on('message', (d) => a.push(d.toString()));
      wb.on('message', (d) => b.push(d.toString()));
      await Promise.all([wa, wb].map((w) => new Promise((r) => w.once('open', r))));
      await new Promise((r) => setTimeout(r, 50));
      p.logs.write('demo', 'app', 'web.1', 'b1');
      p.logs.writeMany('demo', 'app', 'web.2', ['b2', 'b3'], ['2026-01-01T00:00:00.000000001Z', '2026-01-01T00:00:00.000000002Z']);
      p.logs.write('demo', 'app', 'worker.1', 'not web');
      await until(() => a.length >= 1 && b.length >= 1);
      expect(a).toEqual(b);
      expect(JSON.parse(a[0]).lines.map((l: string) => l.replace(/^\S+ /, ''))).toEqual(['app[web.1]: b1', 'app[web.2]: b2', 'app[web.2]: b3']);
      wa.close();
      wb.close();

      const refused = new WebSocket(`ws://127.0.0.1:${port}/api/apps/demo/logs/stream?token=wrong`);
      const status = await new Promise<number>((r) => refused.on('unexpected-response', (_q, res) => r(res.statusCode ?? 0)).on('error', () => {}));
      expect(status).toBe(401);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

async function until(probe: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
