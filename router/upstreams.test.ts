import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table.ts';
import { connectBackend, type BackendConnection } from './backend-connection.ts';
import { CONNECT_TIMEOUT, UpstreamPool } from './upstreams.ts';

const route = (ports: number[]) =>
  new RouteTable({ version: 1, apps: { demo: { hosts: ['demo.localhost'], backends: ports.map((port, i) => ({ dyno: `web.${i + 1}`, host: '127.0.0.1', port })) } } }).apps.get('demo')!;

describe('UpstreamPool', () => {
  const pool = () => new UpstreamPool({ connectTimeoutMs: 100, idleSocketMs: 1_000, maxSocketsPerBackend: 8 });

  it('rotates through idle backends and prefers the least busy one', () => {
    const p = pool();
    const r = route([1001, 1002, 1003]);
    expect([0, 1, 2, 3].map(() => p.pick(r)!.backend.port)).toEqual([1001, 1002, 1003, 1001]);
    p.get(r.backends[1]).outstanding = 2;
    p.get(r.backends[2]).outstanding = 1;
    expect(p.pick(r)!.backend.port).toBe(1001);
    p.get(r.backends[0]).outstanding = 5;
    expect(p.pick(r)!.backend.port).toBe(1003);
    p.destroy();
  });

  it('avoids the backend that just failed when there is another', () => {
    const p = pool();
    const two = route([1001, 1002]);
    const first = p.get(two.backends[0]);
    for (let i = 0; i < 4; i++) expect(p.pick(two, first)!.backend.port).toBe(1002);
    const one = route([1001]);
    expect(p.pick(one, first)!.backend.port).toBe(1001);
    expect(p.pick(route([]))).toBeUndefined();
    p.destroy();
  });

  it('keeps one pool per address across tables and drops pools of vanished addresses', () => {
    const p = pool();
    const t1 = new RouteTable({ version: 1, apps: { demo: { hosts: [], backends: [{ dyno: 'web.1', host: '127.0.0.1', port: 1001 }] } } });
    p.sync(t1);
    const up = p.get(t1.apps.get('demo')!.backends[0]);
    const t2 = new RouteTable({ version: 2, apps: { demo: { hosts: [], backends: [{ dyno: 'web.7', host: '127.0.0.1', port: 1001 }] } } });
    p.sync(t2);
    const same = p.get(t2.apps.get('demo')!.backends[0]);
    expect(same).toBe(up);
    expect(same.backend.dyno).toBe('web.7');
    p.sync(new RouteTable({ version: 3, apps: {} }));
    expect(up.retired).toBe(true);
    expect(p.get({ dyno: 'web.1', host: '127.0.0.1', port: 1001 })).not.toBe(up);
    p.destroy();
  });

  it('reuses a connection after a complete exchange and queues attempts at the connection limit', async () => {
    const server = net.createServer((s) => s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const p = new UpstreamPool({ connectTimeoutMs: 1_000, idleSocketMs: 1_000, maxSocketsPerBackend: 1 });
    const up = p.get({ dyno: 'web.1', host: '127.0.0.1', port });
    const exchange = (conn: BackendConnection) =>
      new Promise<string>((resolve, reject) => {
        let body = '';
        conn.send('GET', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { onResponse: () => {}, onBody: (d) => (body += d), onEnd: () => resolve(body), onError: reject }, true);
      });
    const conns: BackendConnection[] = [];
    const results = await Promise.all(
      [0, 1, 2].map(() => new Promise<string>((resolve) => p.acquire(up, (conn) => (conns.push(conn), resolve(exchange(conn)))))),
    );
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(new Set(conns).size).toBe(1);
    expect(up.open).toBe(1);
    expect(up.idle).toHaveLength(1);
    p.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails a connection that does not complete in time with CONNECT_TIMEOUT', async () => {
    // A lookup that never answers keeps the socket "connecting" without sending anything anywhere.
    const socket = connectBackend('never.invalid', 80, 100, () => {});
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => socket.on('error', resolve));
    expect(err.code).toBe(CONNECT_TIMEOUT);
  });
});
