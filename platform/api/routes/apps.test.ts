import fs from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../server.ts';
import { TEST_TOKEN, tempPlatform } from '../../../test/helpers/temp-platform.ts';
import { repoPath } from '../../git/repos.ts';
import type { Platform } from '../../platform.ts';

describe('apps API', () => {
  let p: Platform;
  let api: ReturnType<typeof createApi>;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    api.request('/api/apps', { method: 'POST', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeEach(() => {
    p = tempPlatform();
    api = createApi(p);
  });

  it('answers /healthz without a token', async () => {
    const res = await api.request('/healthz');
    expect(res.status).toBe(200);
  });

  it('refuses requests without a valid token', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: 'Basic ' + Buffer.from('x:wrong').toString('base64') }]) {
      const res = await api.request('/api/apps', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ id: 'unauthorized' });
    }
  });

  it('accepts the token as the password of HTTP Basic auth', async () => {
    const res = await api.request('/api/apps', { headers: { authorization: 'Basic ' + Buffer.from(`git:${TEST_TOKEN}`).toString('base64') } });
    expect(res.status).toBe(200);
  });

  it('creates, lists, shows and destroys an app', async () => {
    const created = await post({ name: 'demo' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'demo', web_url: expect.stringContaining('demo.localhost') });
    expect(fs.existsSync(repoPath(p.settings.dataDir, 'demo'))).toBe(true);

    const list = await (await api.request('/api/apps', { headers: auth })).json();
    expect(list.map((a: { name: string }) => a.name)).toEqual(['demo']);

    const info = await api.request('/api/apps/demo', { headers: auth });
    expect(await info.json()).toMatchObject({ name: 'demo' });

    const destroyed = await api.request('/api/apps/demo', { method: 'DELETE', headers: auth });
    expect(destroyed.status).toBe(200);
    const { removed } = await destroyed.json();
    expect(removed.join('\n')).toMatch(/git repository/);
    expect(fs.existsSync(repoPath(p.settings.dataDir, 'demo'))).toBe(false);
    expect((await api.request('/api/apps/demo', { headers: auth })).status).toBe(404);
  });

  it.each(['../x', '-rf', 'A', 'a'.repeat(31), 'ünï', 'ab', 'demo-', 'de mo', '', 'x;rm'])('refuses the invalid name %j and changes nothing', async (name) => {
    const res = await post({ name });
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.id).toBe('invalid_params');
    expect(body.message).toMatch(/lowercase letters, digits and dashes/);
    expect(await (await api.request('/api/apps', { headers: auth })).json()).toEqual([]);
  });

  it('refuses reserved names', async () => {
    const res = await post({ name: 'api' });
    expect(res.status).toBe(422);
    expect((await res.json()).message).toMatch(/reserved/);
  });

  it('refuses a duplicate name with 409', async () => {
    expect((await post({ name: 'demo' })).status).toBe(201);
    const res = await post({ name: 'demo' });
    expect(res.status).toBe(409);
    expect((await res.json()).message).toMatch(/already exists/);
  });

  it('answers 404 for unknown apps', async () => {
    const res = await api.request('/api/apps/nope', { method: 'DELETE', headers: auth });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ id: 'not_found', message: 'app "nope" not found' });
  });

  it('answers 400 for malformed JSON and 422 for a wrong shape', async () => {
    const bad = await post('{"name":');
    expect(bad.status).toBe(400);
    expect((await bad.json()).id).toBe('bad_request');
    const shape = await post({ nom: 'x' });
    expect(shape.status).toBe(422);
    expect((await shape.json()).message).toMatch(/name/);
  });

  it('refuses an oversize body with 413', async () => {
    const res = await post({ name: 'demo', pad: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(await (await api.request('/api/apps', { headers: auth })).json()).toEqual([]);
  });
});
