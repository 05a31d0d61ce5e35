import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import tls from 'node:tls';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../store/db.ts';
import { appsRepo } from '../../apps/apps-repo.ts';
import { createLogHub } from '../hub.ts';
import { openLogStore } from '../store.ts';
import type { LogLine } from '../format.ts';
import { checkDrainUrl, createDrains } from './drains-service.ts';
import { logplexBody, octetFrame, syslogFrames, syslogMessage } from './syslog-format.ts';
import { SyslogDrain } from './syslog-drain.ts';

const line = (text: string, over: Partial<LogLine> = {}): LogLine => ({ id: 1, app: 'demo', time: '2026-01-01T00:00:00.000000+00:00', source: 'app', dyno: 'web.1', text, ...over });

/** Splits an RFC 6587 octet-counted stream into messages. */
export function unframe(data: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let i = 0;
  for (;;) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.toString('latin1', i, sp));
    if (sp + 1 + len > data.length) break;
    messages.push(data.toString('utf8', sp + 1, sp + 1 + len));
    i = sp + 1 + len;
  }
  return { messages, rest: data.subarray(i) };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const setup = () => {
  const db = openDb(':memory:');
  const app = appsRepo(db).insert('demo');
  const hub = createLogHub(openLogStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-drains-')), 'logs.db')));
  const drains = createDrains(db, hub, { noticeMs: 100 });
  cleanups.push(() => drains.close(), () => hub.close());
  return { db, app, hub, drains };
};

const until = async <T>(probe: () => T | undefined, ms = 10_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('drain formats', () => {
  it('writes RFC 5424 messages with octet counting, and Heroku HTTPS drain bodies', () => {
    const msg = syslogMessage(line('héllo', { dyno: 'web.3' }));
    expect(msg).toBe('<190>1 2026-01-01T00:00:00.000000+00:00 demo app web.3 - - héllo');
    expect(octetFrame(msg)).toBe(`${Buffer.byteLength(msg)} ${msg}`);
    const body = logplexBody([line('a'), line('b')]);
    const { messages } = unframe(Buffer.from(body));
    expect(messages.map((m) => m.slice(-2))).toEqual(['a\n', 'b\n']);
  });

  it('refuses URLs it cannot deliver to, with a reason', () => {
    expect(() => checkDrainUrl('not a url')).toThrow(/not a URL/);
    expect(() => checkDrainUrl('ftp://example.com')).toThrow(/unsupported drain scheme "ftp"/);
    expect(() => checkDrainUrl('syslog://logs.example.com')).toThrow(/needs a port/);
    expect(() => checkDrainUrl('http://example.com/logs')).toThrow(/only accepted on loopback/);
    expect(() => checkDrainUrl('syslog+tls://logs.example.com:6514')).not.toThrow();
    expect(() => checkDrainUrl('https://user:pw@logs.example.com/x')).not.toThrow();
    expect(() => checkDrainUrl('http://127.0.0.1:9999/x')).not.toThrow();
  });
});

describe('drains', () => {
  it('delivers lines in order to a syslog receiver over TCP', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((s) => s.on('data', (d) => received.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const { app, hub, drains } = setup();
    drains.add(app, `syslog://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    for (let i = 1; i <= 300; i++) hub.write('demo', 'app', 'web.1', `line ${i}`);
    hub.write('other', 'app', 'web.1', 'not this app');
    const messages = await until(() => {
      const m = unframe(Buffer.concat(received)).messages;
      return m.length >= 300 ? m : undefined;
    });
    expect(messages.map((m) => m.replace(/^.* - - /, ''))).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i + 1}`));
    expect(drains.list(app)[0].stats.sent).toBe(300);
  });

  it('posts batches to an HTTPS-style receiver, retrying after a failure', async () => {
    const bodies: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    let failFirst = true;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        bodies.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const { app, hub, drains } = setup();
    const drain = drains.add(app, `http://u:p@127.0.0.1:${(server.address() as net.AddressInfo).port}/logs`);
    for (let i = 1; i <= 20; i++) hub.write('demo', 'router', 'web.2', `req ${i}`);
    const got = await until(() => {
      const all = bodies.flatMap((b) => unframe(Buffer.from(b.body)).messages);
      return all.length >= 20 ? all : undefined;
    });
    expect(got.map((m) => m.replace(/^.* - - /, ''))).toEqual(Array.from({ length: 20 }, (_, i) => `req ${i + 1}\n`));
    expect(got[0]).toMatch(/^<190>1 \S+ demo router web\.2 - - /);
    expect(bodies[0].headers['content-type']).toBe('application/logplex-1');
    expect(Number(bodies[0].headers['logplex-msg-count'])).toBeGreaterThan(0);
    expect(bodies[0].headers['logplex-drain-token']).toBe(drain.token);
    expect(bodies[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('drops and counts lines for a stalled receiver, never blocking the writer, and says so in the stream (L10)', async () => {
    // Accepts, then never reads: the socket fills, then the drain's buffer.
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      s.pause();
      sockets.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }));
    const { app, hub, drains } = setup();
    drains.add(app, `syslog://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const text = 'x'.repeat(200);
    await until(() => {
      const started = Date.now();
      for (let i = 0; i < 2000; i++) hub.write('demo', 'app', 'web.1', text);
      expect(Date.now() - started).toBeLessThan(5000);
      return drains.list(app)[0].stats.dropped > 0 ? true : undefined;
    }, 60_000);
    const notice = await until(() => hub.history('demo', { source: 'paas' }).find((l) => l.text.startsWith('Error L10')));
    expect(notice.text).toMatch(/^Error L10 \(output buffer overflow\): \d+ messages dropped since \S+\.$/);
    expect(notice.dyno).toBe('logplex');
    expect(drains.list(app)[0].stats.buffered).toBeLessThanOrEqual(1024);
  });

  it('keeps retrying an unreachable drain without holding the others back', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const received: Buffer[] = [];
    const server = net.createServer((s) => s.on('data', (d) => received.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const { app, hub, drains } = setup();
    drains.add(app, `syslog://127.0.0.1:${deadPort}`);
    drains.add(app, `syslog://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    for (let i = 1; i <= 2000; i++) hub.write('demo', 'app', 'web.1', `line ${i}`);
    await until(() => unframe(Buffer.concat(received)).messages.length >= 1024 || undefined);
    const dead = drains.list(app).find((d) => d.url.includes(String(deadPort)))!;
    expect(dead.stats.error).toMatch(/ECONNREFUSED/);
    expect(dead.stats.dropped).toBeGreaterThan(0);
  });

  it('lists, refuses duplicates and removes by URL or token', () => {
    const { app, drains } = setup();
    const d = drains.add(app, 'syslog+tls://logs.example.com:6514');
    expect(() => drains.add(app, 'syslog+tls://logs.example.com:6514')).toThrow(/already a drain/);
    expect(drains.list(app).map((x) => x.url)).toEqual(['syslog+tls://logs.example.com:6514']);
    drains.remove(app, d.token);
    expect(drains.list(app)).toEqual([]);
    drains.add(app, 'https://logs.example.com/x');
    drains.remove(app, 'https://logs.example.com/x');
    expect(() => drains.remove(app, 'https://logs.example.com/x')).toThrow(/not found/);
  });

  it('speaks syslog over TLS, checking the certificate', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const received: Buffer[] = [];
    const server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert }, (s) => s.on('data', (d) => received.push(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const url = `syslog+tls://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    const untrusted = new SyslogDrain(url, { minBackoffMs: 50 });
    cleanups.push(() => untrusted.close());
    untrusted.start();
    untrusted.push(line('never'));
    await until(() => untrusted.stats.error ?? undefined);
    expect(untrusted.stats.error).toMatch(/self[- ]signed/i);

    const drain = new SyslogDrain(url, { ca: cert });
    cleanups.push(() => drain.close());
    drain.start();
    drain.push(line('one'));
    drain.push(line('two'));
    const messages = await until(() => {
      const m = unframe(Buffer.concat(received)).messages;
      return m.length >= 2 ? m : undefined;
    });
    expect(messages.map((m) => m.replace(/^.* - - /, ''))).toEqual(['one', 'two']);
  });

  it('a single SyslogDrain never holds more than its buffer', () => {
    const d = new SyslogDrain('syslog://127.0.0.1:1', { capacity: 10 });
    for (let i = 0; i < 100; i++) d.push(line(`l${i}`));
    expect(d.stats.dropped).toBe(90);
    expect(d.takeDrops()).toEqual({ count: 90, since: '2026-01-01T00:00:00.000000+00:00' });
    expect(d.takeDrops()).toBeUndefined();
    d.pushMany([line('a', { time: 't1' }), line('b', { time: 't2' })]);
    expect(d.takeDrops()).toEqual({ count: 2, since: 't1' });
    d.close();
    const e = new SyslogDrain('syslog://127.0.0.1:1', { capacity: 3 });
    e.pushMany([1, 2, 3, 4, 5].map((i) => line(`m${i}`, { time: `t${i}` })));
    expect(e.stats).toMatchObject({ dropped: 2, buffered: 3 });
    expect(e.takeDrops()).toEqual({ count: 2, since: 't4' });
    e.close();
  });

  it('frames a batch as the per-line messages would be, the header made once per dyno', () => {
    const lines = [line('one'), line('twö'), line('other', { dyno: 'worker.1', source: 'router' }), line('three')];
    expect(syslogFrames(lines)).toBe(lines.map((l) => octetFrame(syslogMessage(l))).join(''));
    expect(logplexBody(lines)).toBe(lines.map((l) => octetFrame(`${syslogMessage(l)}\n`)).join(''));
  });
});
