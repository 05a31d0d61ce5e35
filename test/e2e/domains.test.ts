import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

/** Custom domains through the real CLI, platform, Docker engine and router. */
describe('custom domains', () => {
  const app = 'dom-static';
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    if (!platform) return;
    await paas(platform, ['apps:destroy', app, '--confirm', app]);
    await platform.stop();
  });

  /** The router reloads routes.json within a second of a change; allow some slack. */
  const statusOf = (host: string, want: number) =>
    waitFor(async () => {
      const res = await routerGet(platform, host);
      return res.status === want ? res : undefined;
    }, 3_000, () => `${host} never answered ${want}`);

  it('routes custom and wildcard hosts to the app, and stops when they are removed', async () => {
    const dir = fixtureRepo('static-site');
    expect((await paas(platform, ['apps:create', app])).code).toBe(0);
    addRemote(dir, platform, app);
    const pushed = await push(dir);
    expect(pushed.code, pushed.output).toBe(0);

    expect((await routerGet(platform, 'www.example.test')).status).toBe(404);
    const added = await paas(platform, ['domains:add', 'www.example.test', '-a', app]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('Adding www.example.test to dom-static... done');
    expect((await paas(platform, ['domains:add', '*.wild.test', '-a', app])).code).toBe(0);

    expect((await statusOf('www.example.test', 200)).body).toContain('hello from static');
    expect((await statusOf('anything.wild.test:8000', 200)).body).toContain('hello from static');
    expect((await routerGet(platform, 'a.b.wild.test')).status).toBe(404);

    const listed = await paas(platform, ['domains', '-a', app]);
    expect(listed.stdout).toMatch(/dom-static\.localhost[\s\S]*\*\.wild\.test[\s\S]*www\.example\.test/);
    const json = JSON.parse((await paas(platform, ['domains', '-a', app, '--json'])).stdout);
    expect(json.map((d: { hostname: string }) => d.hostname)).toEqual(['dom-static.localhost', '*.wild.test', 'www.example.test']);

    const refused = await paas(platform, ['domains:add', 'www.example.test:8000', '-a', app]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/port/);

    const removed = await paas(platform, ['domains:remove', 'www.example.test', '-a', app]);
    expect(removed.code, removed.stderr).toBe(0);
    await statusOf('www.example.test', 404);
    expect((await routerGet(platform, 'x.wild.test')).status).toBe(200);
    expect((await routerGet(platform, `${app}.localhost`)).status).toBe(200);
  });
});
