import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

/** Pushes that must be refused whole: too large, or racing another build of the same app. */
describe('push limits', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ env: { PAAS_MAX_PUSH_MB: '1' } });
  });
  afterAll(async () => {
    for (const app of ['limit-big', 'limit-race']) await paas(platform, ['apps:destroy', app, '--confirm', app]);
    await platform?.stop();
  });

  it('refuses a push larger than PAAS_MAX_PUSH_MB and keeps nothing of it', async () => {
    const dir = fixtureRepo('static-site');
    fs.writeFileSync(path.join(dir, 'huge.bin'), crypto.randomBytes(3 * 1024 * 1024));
    commitAll(dir, 'a huge file');
    expect((await paas(platform, ['apps:create', 'limit-big'])).code).toBe(0);
    addRemote(dir, platform, 'limit-big');
    const res = await push(dir);
    expect(res.code).not.toBe(0);
    expect(res.output).toMatch(/too large|maxInputSize|exceeds/i);
    const releases = JSON.parse((await paas(platform, ['releases', '-a', 'limit-big', '--json'])).stdout);
    expect(releases).toEqual([]);
  });

  it('refuses a second push while the first is building, and the first deploys', async () => {
    const first = fixtureRepo('static-site');
    const second = fixtureRepo('static-site');
    fs.writeFileSync(path.join(second, 'index.html'), '<h1>second</h1>');
    commitAll(second, 'second');
    expect((await paas(platform, ['apps:create', 'limit-race'])).code).toBe(0);
    addRemote(first, platform, 'limit-race');
    addRemote(second, platform, 'limit-race');
    const racing = push(first);
    // The second push starts once the first one's build has begun.
    await waitFor(async () => {
      const res = await paas(platform, ['builds', '-a', 'limit-race', '--json']);
      return res.code === 0 && JSON.parse(res.stdout).length > 0 ? true : undefined;
    }, 60_000);
    const loser = await push(second, ['paas', 'main', '--force']);
    const winner = await racing;
    expect(winner.code, winner.output).toBe(0);
    expect(loser.code).not.toBe(0);
    expect(loser.output).toMatch(/a build of limit-race is already running/);
    expect((await routerGet(platform, 'limit-race.localhost')).body).toContain('hello from static');
  });
});
