import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

const APP = 'rel-env';

/** Config vars, releases, rollback, the release phase and scaling, through the real CLI. */
describe('config and releases', () => {
  let platform: RunningPlatform;
  const cli = (...args: string[]) => paas(platform, [...args, '-a', APP]);
  const env = async (key: string) => (await routerGet(platform, `${APP}.localhost`, `/env/${encodeURIComponent(key)}`)).body;
  const versions = async () => JSON.parse((await cli('releases', '--json')).stdout).map((r: { version: number }) => r.version) as number[];

  beforeAll(async () => {
    platform = await startPlatform();
    const dir = fixtureRepo('env-app');
    expect((await paas(platform, ['apps:create', APP])).code).toBe(0);
    addRemote(dir, platform, APP);
    const pushed = await push(dir);
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).toContain('release phase ran with RELEASE_MARKER=');
  });
  afterAll(async () => {
    await paas(platform, ['apps:destroy', APP, '--confirm', APP]);
    await platform?.stop();
  });

  it('config:set makes a new release that the running web process sees', async () => {
    const before = await versions();
    const set = await cli('config:set', 'GREETING=hi there', 'RELEASE_MARKER=m1');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('release phase ran with RELEASE_MARKER=m1');
    expect(await versions()).toEqual([before[0] + 1, ...before]);
    expect(await env('GREETING')).toBe('hi there');
    const releases = JSON.parse((await cli('releases', '--json')).stdout);
    expect(releases[0]).toMatchObject({ description: 'Set GREETING, RELEASE_MARKER config vars', status: 'succeeded', user: 'admin' });
  });

  it('keeps any bytes an environment variable can hold', async () => {
    const value = 'line one\nline "two" = \'2\'\nünïcødé ✓';
    const set = await paas(platform, ['config:set', '--stdin', 'MULTI', '-a', APP], { input: value });
    expect(set.code, set.stderr).toBe(0);
    expect((await cli('config:get', 'MULTI')).stdout).toBe(value + '\n');
    expect(await env('MULTI')).toBe(value);
    expect((await cli('config:set', 'EQ=a=b=c')).code).toBe(0);
    expect(await env('EQ')).toBe('a=b=c');
  });

  it('config:unset removes a var in a new release', async () => {
    const unset = await cli('config:unset', 'EQ');
    expect(unset.code, unset.stderr).toBe(0);
    expect(await env('EQ')).toBe('');
    expect(JSON.parse((await cli('releases', '--json')).stdout)[0].description).toBe('Remove EQ config vars');
  });

  it('refuses bad input with a clear message and creates no release', async () => {
    const before = await versions();
    const cases: [string[], RegExp][] = [
      [['config:set', 'NOEQUALS'], /not KEY=VALUE/],
      [['config:set', '1BAD=x'], /invalid config key "1BAD"/],
      [['config:set', 'BAD-KEY=x'], /invalid config key/],
      [['config:set', 'PORT=1'], /PORT is set by the platform/],
      [['config:set', `BIG=${'x'.repeat(33 * 1024)}`], /limit is 32768 bytes/],
      [['config:unset', 'NOT_THERE'], /NOT_THERE is not set/],
      [['rollback', 'v999'], /release v999 of rel-env not found/],
    ];
    for (const [args, message] of cases) {
      const res = await cli(...args);
      expect(res.code, args.join(' ')).not.toBe(0);
      expect(res.stderr, args.join(' ')).toMatch(message);
    }
    expect(await versions()).toEqual(before);
  });

  it('rollback makes a new release with the old config and image', async () => {
    const target = JSON.parse((await cli('releases', '--json')).stdout).find((r: { description: string }) => r.description.startsWith('Set GREETING'));
    expect((await cli('config:set', 'GREETING=changed')).code).toBe(0);
    expect(await env('GREETING')).toBe('changed');
    const rollback = await cli('rollback', `v${target.version}`);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await env('GREETING')).toBe('hi there');
    const [newest] = JSON.parse((await cli('releases', '--json')).stdout);
    expect(newest.description).toBe(`Rollback to v${target.version}`);
    expect(newest.image_digest).toBe(target.image_digest);
    const info = JSON.parse((await cli('releases:info', `v${newest.version}`, '--json')).stdout);
    expect(info.config_keys).toEqual(['GREETING', 'RELEASE_MARKER']);
    const diff = JSON.parse((await cli('releases:diff', `v${newest.version - 1}`, `v${newest.version}`, '--json')).stdout);
    expect(diff).toMatchObject({ changed: ['GREETING'], image_changed: false });
  });

  it('a failing release phase blocks the release and the old one keeps answering', async () => {
    const before = await versions();
    const res = await cli('config:set', 'FAIL_RELEASE=3', 'GREETING=never');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/Release command exited with 3/);
    const [newest] = JSON.parse((await cli('releases', '--json')).stdout);
    expect(newest).toMatchObject({ version: before[0] + 1, status: 'failed' });
    expect(await env('GREETING')).toBe('hi there');
    expect((await cli('rollback', `v${newest.version}`)).stderr).toMatch(/failed/);

    // As on Heroku, the config change itself stands; the next release carries it once it passes.
    const fixed = await cli('config:unset', 'FAIL_RELEASE');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(await env('GREETING')).toBe('never');
  });

  it('keeps versions gap-free under 20 concurrent config:set calls', async () => {
    const before = (await versions())[0];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cli('config:set', `PARALLEL_${i}=${i}`)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const after = await versions();
    expect(after.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => before + 20 - i));
    const config = JSON.parse((await cli('config', '--json')).stdout);
    for (let i = 0; i < 20; i++) expect(config[`PARALLEL_${i}`]).toBe(String(i));
  });

  it('never writes a config value into the database file', async () => {
    const canary = 'canary-7f3a9c1e-secret';
    expect((await cli('config:set', `CANARY=${canary}`)).code).toBe(0);
    for (const file of fs.readdirSync(platform.dataDir).filter((f) => f.startsWith('paas.db'))) {
      expect(fs.readFileSync(path.join(platform.dataDir, file)).includes(canary), file).toBe(false);
    }
    expect(JSON.stringify(JSON.parse((await cli('releases', '--json')).stdout))).not.toContain(canary);
    const logs = await cli('logs', '-n', '1000');
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('Set CANARY config vars');
    expect(logs.stdout).not.toContain(canary);
  });

  it('refuses a rollback to a release whose image is gone, before anything changes', async () => {
    const dir = fixtureRepo('env-app');
    fs.appendFileSync(path.join(dir, 'server.py'), '\n# a new build, so a new image\n');
    commitAll(dir, 'new image');
    addRemote(dir, platform, APP);
    const pushed = await push(dir, ['paas', 'main', '--force']);
    expect(pushed.code, pushed.output).toBe(0);
    const releases = JSON.parse((await cli('releases', '--json')).stdout);
    const old = releases.find((r: { image_digest: string; status: string }) => r.status === 'succeeded' && r.image_digest !== releases[0].image_digest);
    // Once the previous release's containers have stopped, its image can go.
    await waitFor(async () => {
      try {
        execFileSync('docker', ['rmi', '-f', old.image_digest], { stdio: 'ignore' });
        return true;
      } catch {
        return undefined;
      }
    }, 60_000);
    const before = await versions();
    const res = await cli('rollback', `v${old.version}`);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(new RegExp(`image of v${old.version} no longer exists`));
    expect(await versions()).toEqual(before);
  });

  it('scales process types and shows the dynos', async () => {
    const scaled = await cli('ps:scale', 'web=3', 'worker=1');
    expect(scaled.code, scaled.stderr).toBe(0);
    const dynos = JSON.parse((await cli('ps', '--json')).stdout);
    expect(dynos.map((d: { dyno: string }) => d.dyno).sort()).toEqual(['web.1', 'web.2', 'web.3', 'worker.1']);
    expect(dynos.every((d: { state: string }) => d.state === 'up')).toBe(true);
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 3; i++) seen.add((await routerGet(platform, `${APP}.localhost`)).body);
    expect(seen).toEqual(new Set(['hello from env-app on web.1', 'hello from env-app on web.2', 'hello from env-app on web.3']));

    for (const [args, message] of [[['ps:scale', 'web=-1'], /whole number/], [['ps:scale', 'web=abc'], /whole number/], [['ps:scale', 'nope=1'], /unknown process type "nope"/], [['ps:scale', 'web=1000'], /at most 20/]] as [string[], RegExp][]) {
      const res = await cli(...args);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(message);
    }
    expect((await cli('ps:scale', 'web=1', 'worker=0')).code).toBe(0);
    expect(JSON.parse((await cli('ps', '--json')).stdout).map((d: { dyno: string }) => d.dyno)).toEqual(['web.1']);
  });
});
