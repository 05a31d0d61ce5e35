import { beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../platform/api/server.ts';
import { TEST_TOKEN, tempPlatform } from '../test/helpers/temp-platform.ts';
import type { Platform } from '../platform/platform.ts';
import { summary } from './dashboard.tsx';

/** Sessions and CSRF through the public surface (`api.request`); the browser flow is in test/e2e/dashboard.test.ts. */
describe('dashboard sessions', () => {
  let p: Platform;
  let api: ReturnType<typeof createApi>;

  const signIn = async (token = TEST_TOKEN) => {
    const res = await api.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => !c.endsWith('='));
    return { res, cookie };
  };
  const csrfOf = async (cookie: string) => /name="csrf-token" content="([^"]+)"/.exec(await (await api.request('/', { headers: { cookie } })).text())![1];

  beforeEach(() => {
    p = tempPlatform();
    api = createApi(p);
  });

  it('sends pages to sign-in without a session, and refuses a wrong token', async () => {
    const home = await api.request('/');
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/login');
    const { res, cookie } = await signIn('wrong');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('not valid');
    expect(cookie).toBeUndefined();
  });

  it('signs in with an HttpOnly, SameSite=Strict cookie that holds no token', async () => {
    const { res, cookie } = await signIn();
    expect(res.status).toBe(303);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('paas_session=') && !c.startsWith('paas_session=;'))!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toContain(TEST_TOKEN);
    const page = await (await api.request('/', { headers: { cookie: cookie! } })).text();
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toContain(TEST_TOKEN);
  });

  it('forwards to the API with session + CSRF token, and refuses state changes without either', async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie!);
    const create = (headers: Record<string, string>) =>
      api.request('/ui/api/apps', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'demo' }) });

    expect((await create({})).status).toBe(403);
    expect((await create({ 'x-csrf-token': csrf })).status).toBe(403);
    expect((await create({ cookie: cookie! })).status).toBe(403);
    expect((await create({ cookie: cookie!, 'x-csrf-token': 'nope' })).status).toBe(403);
    expect((await create({ cookie: cookie!, 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await api.request('/ui/state', { headers: { cookie: cookie! } })).status).toBe(200);
    expect(await (await api.request('/ui/state', { headers: { cookie: cookie! } })).json()).toEqual([]);

    const ok = await create({ cookie: cookie!, 'x-csrf-token': csrf, origin: 'http://localhost' });
    expect(ok.status).toBe(201);
    const [app] = await (await api.request('/ui/state', { headers: { cookie: cookie! } })).json();
    expect(app).toMatchObject({ name: 'demo', state: 'no release', release: null });
  });

  it('destroys an app only with a typed confirmation', async () => {
    const { cookie } = await signIn();
    const headers = { cookie: cookie!, 'x-csrf-token': await csrfOf(cookie!) };
    await api.request('/ui/api/apps', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"name":"demo"}' });
    const unconfirmed = await api.request('/ui/api/apps/demo', { method: 'DELETE', headers });
    expect(unconfirmed.status).toBe(422);
    expect((await unconfirmed.json()).message).toMatch(/type the app name/);
    expect((await api.request('/ui/api/apps/demo?confirm=demo', { method: 'DELETE', headers })).status).toBe(200);
  });

  it('signs out with the CSRF token only, and the session ends', async () => {
    const { cookie } = await signIn();
    const csrf = await csrfOf(cookie!);
    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { cookie: cookie!, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    expect((await api.request('/logout', form({}))).status).toBe(403);
    expect((await api.request('/logout', form({ csrf: 'nope' }))).status).toBe(403);
    const out = await api.request('/logout', form({ csrf }));
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await api.request('/ui/state', { headers: { cookie: cookie! } })).status).toBe(401);
  });
});

describe('app state in the apps list', () => {
  const app = { name: 'demo', web_url: 'http://demo.localhost:8000/', git_url: 'x', created_at: '2026-01-01T00:00:00Z' };
  const release = (version: number, status: string, image = true) => ({ version, status, description: '', image_digest: image ? 'sha256:x' : null, created_at: '' });
  const build = (status: string) => ({ id: 'b', status, created_at: '' });
  const dyno = (n: number, state: string, type = 'web') => ({ dyno: `${type}.${n}`, type, state, release: 2 });
  const v2 = [release(2, 'succeeded'), release(1, 'succeeded')];

  it.each([
    ['no release', [], [], []],
    ['no release', [release(1, 'succeeded', false)], [], []],
    ['deploying', [], [build('pending')], []],
    ['deploying', [release(3, 'pending'), ...v2], [build('succeeded')], [dyno(1, 'up')]],
    ['deploying', v2, [build('succeeded')], [dyno(1, 'starting')]],
    ['crashed', v2, [build('succeeded')], [dyno(1, 'up'), dyno(2, 'crashed')]],
    ['idle', v2, [build('succeeded')], []],
    ['up', v2, [build('failed')], [dyno(1, 'up'), dyno(1, 'up', 'worker')]],
    ['unknown', v2, [build('succeeded')], null],
  ] as const)('%s', (state, releases, builds, dynos) => {
    expect(summary(app, [...releases], [...builds], dynos ? [...dynos] : null).state).toBe(state);
  });

  it('counts running dynos per type and names the running release', () => {
    const s = summary(app, [release(3, 'failed'), ...v2], [], [dyno(1, 'up'), dyno(2, 'crashed'), dyno(1, 'up', 'worker')]);
    expect(s.release).toBe(2);
    expect(s.dyno_counts).toEqual({ web: 1, worker: 1 });
  });
});
