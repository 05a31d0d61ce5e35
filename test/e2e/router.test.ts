import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

/** The router in front of a real app on the real engine: headers, websockets, error pages, independence from the platform. */
describe('router', () => {
  const app = 'route-env';
  const host = `${app}.localhost`;
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
    expect((await paas(platform, ['apps:create', app])).code).toBe(0);
    const dir = fixtureRepo('env-app');
    addRemote(dir, platform, app);
    const pushed = await push(dir);
    expect(pushed.code, pushed.output).toBe(0);
  });
  afterAll(async () => {
    if (!platform) return;
    await paas(platform, ['apps:destroy', app, '--confirm', app]);
    await platform.stop();
  });

  const get = (headers: Record<string, string>, path = '/') => routerGet(platform, host, path, headers);

  it('passes X-Request-Id (kept when sent, else made) and X-Forwarded-* to the app, returns it, and logs it', async () => {
    const sent = 'e2e-request-id-0123456789abcdef';
    const res = await get({ 'x-request-id': sent }, '/headers');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(sent);
    expect(res.body).toContain(`x-request-id: ${sent}\n`);
    expect(res.body).toContain('x-forwarded-for: 127.0.0.1\n');
    expect(res.body).toContain('x-forwarded-proto: http\n');
    expect(res.body).toContain(`x-forwarded-port: ${platform.httpPort}\n`);
    expect(res.body).toContain(`x-forwarded-host: ${host}\n`);
    const made = await get({}, '/headers');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.body).toContain(`x-request-id: ${made.headers['x-request-id']}\n`);
    const line = await waitFor(async () => {
      const logs = await paas(platform, ['logs', '-a', app, '-s', 'router', '-n', '100']);
      return logs.stdout.split('\n').find((l) => l.includes(`request_id=${sent}`));
    }, 10_000);
    expect(line).toMatch(/router\[web\.1\]: at=info method=GET path="\/headers" host=route-env\.localhost .*dyno=web\.1 connect=\d+ms service=\d+ms status=200/);
  });

  it('proxies a websocket both ways and closes it cleanly', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${platform.httpPort}/ws`, { headers: { host } });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoes: string[] = [];
    ws.on('message', (m) => echoes.push(m.toString()));
    ws.send('hello through the router');
    ws.send('x'.repeat(1000));
    await waitFor(async () => (echoes.length === 2 ? true : undefined), 10_000);
    expect(echoes).toEqual(['hello through the router', 'x'.repeat(1000)]);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(1000);
    expect(await closed).toBe(1000);
  });

  it('answers 503 with the application error page while no web process runs', async () => {
    expect((await paas(platform, ['ps:scale', 'web=0', '-a', app])).code).toBe(0);
    const down = await waitFor(async () => {
      const res = await routerGet(platform, host);
      return res.status === 503 ? res : undefined;
    }, 10_000);
    expect(down.body).toContain('Application error');
    expect((await paas(platform, ['ps:scale', 'web=1', '-a', app])).code).toBe(0);
    await waitFor(async () => ((await routerGet(platform, host)).status === 200 ? true : undefined), 30_000);
  });

  it('keeps serving while the platform process is gone, and after it comes back', async () => {
    await platform.kill();
    for (let i = 0; i < 5; i++) {
      const res = await routerGet(platform, host);
      expect(res.status).toBe(200);
      expect(res.body).toContain('hello from env-app');
    }
    platform = await startPlatform({ dataDir: platform.dataDir });
    expect((await routerGet(platform, host)).status).toBe(200);
  });
});
