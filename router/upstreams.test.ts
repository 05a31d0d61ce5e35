import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table.ts';
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

  it('keeps one agent per address across tables and drops agents of vanished addresses', () => {
    const p = pool();
    const t1 = new RouteTable({ version: 1, apps: { demo: { hosts: [], backends: [{ dyno: 'web.1', host: '127.0.0.1', port: 1001 }] } } });
    p.sync(t1);
    const agent = p.get(t1.apps.get('demo')!.backends[0]).agent;
    const t2 = new RouteTable({ version: 2, apps: { demo: { hosts: [], backends: [{ dyno: 'web.7', host: '127.0.0.1', port: 1001 }] } } });
    p.sync(t2);
    const same = p.get(t2.apps.get('demo')!.backends[0]);
    expect(same.agent).toBe(agent);
    expect(same.backend.dyno).toBe('web.7');
    p.sync(new RouteTable({ version: 3, apps: {} }));
    expect(p.get({ dyno: 'web.1', host: '127.0.0.1', port: 1001 }).agent).not.toBe(agent);
    p.destroy();
  });

  it('fails a connection that does not complete in time with CONNECT_TIMEOUT', async () => {
    const p = pool();
    const up = p.get({ dyno: 'web.1', host: 'never.invalid', port: 80 });
    // A lookup that never answers keeps the socket "connecting" without sending anything anywhere.
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const req = http.request({ host: 'never.invalid', port: 80, agent: up.agent, lookup: () => {} });
      req.on('error', resolve);
      req.end();
    });
    expect(err.code).toBe(CONNECT_TIMEOUT);
    p.destroy();
  });
});
