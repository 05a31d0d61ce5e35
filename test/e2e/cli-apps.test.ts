import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, type RunningPlatform } from '../helpers/platform-process.ts';

describe('paas CLI against a real platform process', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('creates an app and lists it as JSON', async () => {
    const created = await paas(platform, ['apps:create', 'demo']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Creating demo... done');
    const list = await paas(platform, ['apps', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((a: { name: string }) => a.name)).toContain('demo');
  });

  it('refuses an invalid name with a message naming the rule', async () => {
    const res = await paas(platform, ['apps:create', '../x']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/invalid app name "..\/x": app names are 3-30 characters/);
    const list = await paas(platform, ['apps', '--json']);
    expect(JSON.parse(list.stdout).map((a: { name: string }) => a.name)).not.toContain('../x');
  });

  it('fails without a token', async () => {
    const res = await paas(platform, ['apps'], { env: { PAAS_TOKEN: 'nope' } });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/invalid API token/);
    expect((await fetch(`${platform.apiUrl}/api/apps`)).status).toBe(401);
  });

  it('adds the paas remote inside a git repo and finds the app from it', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-cli-repo-'));
    execFileSync('git', ['init', '-q', repo]);
    const created = await paas(platform, ['apps:create', 'remote-app'], { cwd: repo });
    expect(created.code).toBe(0);
    const url = execFileSync('git', ['remote', 'get-url', 'paas'], { cwd: repo, encoding: 'utf8' }).trim();
    expect(url).toMatch(/\/git\/remote-app\.git$/);
    const info = await paas(platform, ['apps:info', '--json'], { cwd: repo });
    expect(JSON.parse(info.stdout).name).toBe('remote-app');
  });

  it('needs --confirm to destroy, then says what it removed', async () => {
    await paas(platform, ['apps:create', 'doomed']);
    const refused = await paas(platform, ['apps:destroy', 'doomed']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--confirm doomed/);
    const done = await paas(platform, ['apps:destroy', 'doomed', '--confirm', 'doomed']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/removed git repository/);
    const info = await paas(platform, ['apps:info', '-a', 'doomed']);
    expect(info.code).not.toBe(0);
    expect(info.stderr).toMatch(/not found/);
  });

  it('prints help for every command', async () => {
    for (const cmd of ['login', 'apps', 'apps:create', 'apps:info', 'apps:destroy', 'git:remote']) {
      const res = await paas(platform, [cmd, '--help']);
      expect(res.code, cmd).toBe(0);
      expect(res.stdout, cmd).toContain(`Usage: paas ${cmd}`);
    }
  });

  it('logs in, saving the token for the CLI and a netrc entry for git', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-home-'));
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), PAAS_TOKEN: '' };
    const login = await paas(platform, ['login'], { env, input: platform.token + '\n' });
    expect(login.code).toBe(0);
    expect(fs.readFileSync(path.join(home, '.netrc'), 'utf8')).toContain('machine 127.0.0.1 login paas password');
    expect(fs.statSync(path.join(home, '.netrc')).mode & 0o777).toBe(0o600);
    const apps = await paas(platform, ['apps', '--json'], { env });
    expect(apps.code).toBe(0);
  });
});
