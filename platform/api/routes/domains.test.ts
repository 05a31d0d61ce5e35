import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../server.ts';
import { TEST_TOKEN, tempPlatform } from '../../../test/helpers/temp-platform.ts';
import type { Platform } from '../../platform.ts';

describe('domains API', () => {
  let p: Platform;
  let api: ReturnType<typeof createApi>;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const add = (app: string, hostname: unknown) => api.request(`/api/apps/${app}/domains`, { method: 'POST', headers: json, body: JSON.stringify({ hostname }) });
  const list = async (app: string) => (await (await api.request(`/api/apps/${app}/domains`, { headers: auth })).json()) as Array<{ hostname: string; kind: string }>;
  const remove = (app: string, host: string) => api.request(`/api/apps/${app}/domains/${encodeURIComponent(host)}`, { method: 'DELETE', headers: auth });
  const routesFile = () => JSON.parse(fs.readFileSync(path.join(p.settings.dataDir, 'routes.json'), 'utf8'));

  beforeEach(async () => {
    p = tempPlatform();
    api = createApi(p);
    for (const name of ['demo', 'other']) {
      expect((await api.request('/api/apps', { method: 'POST', headers: json, body: JSON.stringify({ name }) })).status).toBe(201);
    }
  });

  it('lists the default hostname, adds and removes custom ones, and republishes the route table each time', async () => {
    expect(await list('demo')).toEqual([expect.objectContaining({ hostname: 'demo.localhost', kind: 'default' })]);

    const res = await add('demo', 'WWW.Example.Test');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ hostname: 'www.example.test', kind: 'custom' });
    expect((await add('demo', '*.wild.test')).status).toBe(201);
    expect((await list('demo')).map((d) => d.hostname)).toEqual(['demo.localhost', '*.wild.test', 'www.example.test']);
    expect(routesFile().apps.demo.hosts.sort()).toEqual(['*.wild.test', 'demo.localhost', 'www.example.test']);

    const removed = await remove('demo', 'www.example.test');
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ hostname: 'www.example.test' });
    expect(routesFile().apps.demo.hosts.sort()).toEqual(['*.wild.test', 'demo.localhost']);
    expect((await remove('demo', 'www.example.test')).status).toBe(404);
  });

  it('gives a host to one app only (409)', async () => {
    expect((await add('demo', 'www.example.test')).status).toBe(201);
    const again = await add('demo', 'www.example.test');
    expect(again.status).toBe(409);
    expect((await again.json()).message).toMatch(/already a domain of demo/);
    const other = await add('other', 'www.example.test');
    expect(other.status).toBe(409);
    expect((await other.json()).message).toMatch(/belongs to another app/);
    expect((await remove('other', 'www.example.test')).status).toBe(404);
    expect((await list('other')).map((d) => d.hostname)).toEqual(['other.localhost']);
  });

  it("refuses the platform's own namespace", async () => {
    const taken = await add('demo', 'other.localhost');
    expect(taken.status).toBe(409);
    expect((await taken.json()).message).toMatch(/default hostname of app "other"/);
    expect((await add('demo', 'future.localhost')).status).toBe(409);
    expect((await add('demo', 'demo.localhost')).status).toBe(409);
    expect((await add('demo', '*.localhost')).status).toBe(422);
    expect((await add('demo', 'deeper.demo.localhost')).status).toBe(201);
    const own = await remove('demo', 'demo.localhost');
    expect(own.status).toBe(422);
    expect((await own.json()).message).toMatch(/default hostname/);
  });

  it.each(['www.example.test:8000', 'http://www.example.test', 'www.example.test/x', 'a.*.test', 'bad_host.test', '127.0.0.1', 'x'.repeat(64) + '.test'])('refuses %j with 422', async (host) => {
    const res = await add('demo', host);
    expect(res.status).toBe(422);
    expect((await res.json()).id).toBe('invalid_params');
    expect(await list('demo')).toHaveLength(1);
  });

  it('answers 422 without a hostname and 404 for an unknown app', async () => {
    const res = await api.request('/api/apps/demo/domains', { method: 'POST', headers: json, body: '{}' });
    expect(res.status).toBe(422);
    expect((await res.json()).message).toMatch(/hostname is required/);
    expect((await add('nope', 'www.example.test')).status).toBe(404);
    expect((await api.request('/api/apps/nope/domains', { headers: auth })).status).toBe(404);
  });

  it('frees the hosts when the app is destroyed', async () => {
    expect((await add('demo', 'www.example.test')).status).toBe(201);
    expect((await api.request('/api/apps/demo', { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await add('other', 'www.example.test')).status).toBe(201);
  });
});
