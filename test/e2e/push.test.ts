import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

/** git push of each kind of app, through the real receiver, builder, Docker engine and router. */
describe('git push to a live app', () => {
  let platform: RunningPlatform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    for (const app of ['push-node', 'push-node-2', 'push-python', 'push-static', 'push-docker', 'push-rules', 'push-broken']) {
      await paas(platform, ['apps:destroy', app, '--confirm', app]);
    }
    await platform?.stop();
  });

  const deploy = async (fixture: string, app: string) => {
    const dir = fixtureRepo(fixture);
    expect((await paas(platform, ['apps:create', app])).code).toBe(0);
    addRemote(dir, platform, app);
    return { dir, result: await push(dir) };
  };

  it('deploys a Dockerfile app', async () => {
    const { result } = await deploy('dockerfile-app', 'push-docker');
    expect(result.output).toContain('Released v1');
    expect(result.code, result.output).toBe(0);
    expect((await routerGet(platform, 'push-docker.localhost')).body).toContain('hello from dockerfile');
  });

  it('deploys a static site, and one whose files are too big to come back with the build verdict', async () => {
    const { dir, result } = await deploy('static-site', 'push-static');
    expect(result.code, result.output).toBe(0);
    const res = await routerGet(platform, 'push-static.localhost');
    expect(res.status).toBe(200);
    expect(res.body).toContain('hello from static');

    // Over driver.sh's 4 MiB: the top layer is read out of the builder instead.
    const big = crypto.randomBytes(3 * 1024 * 1024).toString('hex');
    fs.writeFileSync(path.join(dir, 'big.txt'), big);
    commitAll(dir, 'a big file');
    const again = await push(dir);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/app: [6-9]\.\dM/);
    expect((await routerGet(platform, 'push-static.localhost', '/big.txt')).body === big).toBe(true);
  });

  it('deploys a Python app', async () => {
    const { result } = await deploy('python-app', 'push-python');
    expect(result.code, result.output).toBe(0);
    expect((await routerGet(platform, 'push-python.localhost')).body).toContain('hello from python');
  });

  it('deploys a Node app with an npm dependency and engines.node, and reuses the cache on the next push', async () => {
    const { dir, result } = await deploy('node-app', 'push-node');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Resolving node version 20\.x/i);
    expect((await routerGet(platform, 'push-node.localhost')).body).toContain('hello from node');

    fs.writeFileSync(path.join(dir, 'server.js'), fs.readFileSync(path.join(dir, 'server.js'), 'utf8').replace('hello from node', 'hello again from node'));
    commitAll(dir, 'change only app code');
    const second = await push(dir);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/Using cached node_modules/);
    // The node runtime's image layer is reused, not copied again.
    expect(second.output).toMatch(/\.heroku: unchanged, reusing its layer/);
    expect(second.output).toContain('Released v2');
    expect((await routerGet(platform, 'push-node.localhost')).body).toContain('hello again from node');

    // Another app with the same runtime and lockfile gets the first one's layers, once their files are compared.
    const other = await deploy('node-app', 'push-node-2');
    expect(other.result.code, other.result.output).toBe(0);
    expect(other.result.output).toMatch(/\.heroku: the same files as an earlier layer, reusing it/);
    expect(other.result.output).toMatch(/node_modules: the same files as an earlier layer, reusing it/);
    // Builds join a network namespace the app keeps (held by a container of its own)...
    const ofApp = (app: string) => execFileSync('docker', ['ps', '-a', '--format', '{{.Names}}', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.app=${app}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(ofApp('push-node')).toContain(`paas-buildnet-${platform.owner}-push-node`);
    // ... and keeps them when the first app goes, which leaves no container of its own behind.
    expect((await paas(platform, ['apps:destroy', 'push-node', '--confirm', 'push-node'])).code).toBe(0);
    expect(ofApp('push-node')).toEqual([]);
    expect((await paas(platform, ['ps:restart', '-a', 'push-node-2'])).code).toBe(0);
    expect((await routerGet(platform, 'push-node-2.localhost')).body).toContain('hello from node');
  });

  it('rejects a failing build and keeps the previous release answering', async () => {
    const { dir, result } = await deploy('dockerfile-app', 'push-broken');
    expect(result.code, result.output).toBe(0);
    fs.appendFileSync(path.join(dir, 'Dockerfile'), '\nRUN exit 3\n');
    commitAll(dir, 'break the build');
    const broken = await push(dir);
    expect(broken.code).not.toBe(0);
    expect(broken.output).toMatch(/pre-receive hook declined/);
    expect(broken.output).toMatch(/image build failed/);
    expect((await routerGet(platform, 'push-broken.localhost')).body).toContain('hello from dockerfile');
    const builds = JSON.parse((await paas(platform, ['builds', '-a', 'push-broken', '--json'])).stdout);
    expect(builds.map((b: { status: string }) => b.status)).toEqual(['failed', 'succeeded']);
    const output = await paas(platform, ['builds:output', builds[0].id, '-a', 'push-broken']);
    expect(output.stdout).toMatch(/image build failed/);
  });

  it('refuses what must not deploy, with a message, and changes nothing', async () => {
    const { dir, result } = await deploy('static-site', 'push-rules');
    expect(result.code, result.output).toBe(0);

    const branch = await push(dir, ['paas', 'main:feature']);
    expect(branch.code).not.toBe(0);
    expect(branch.output).toMatch(/only main or master deploy/);

    fs.writeFileSync(path.join(dir, 'Procfile'), 'web python3 -m http.server\n');
    commitAll(dir, 'malformed Procfile');
    const procfile = await push(dir);
    expect(procfile.code).not.toBe(0);
    expect(procfile.output).toMatch(/Procfile line 1 is not "type: command"/);
    fs.rmSync(path.join(dir, 'Procfile'));

    fs.symlinkSync('../../../etc/passwd', path.join(dir, 'escape'));
    commitAll(dir, 'symlink out of the tree');
    const symlink = await push(dir);
    expect(symlink.code).not.toBe(0);
    expect(symlink.output).toMatch(/symlink escape points outside the repository/);

    const weird = await push(dir, ['paas', 'HEAD:refs/heads/--upload-pack=x']);
    expect(weird.code).not.toBe(0);

    expect((await routerGet(platform, 'push-rules.localhost')).body).toContain('hello from static');
  });

  it('answers 404 for an unknown host', async () => {
    const res = await routerGet(platform, 'no-such-app.localhost');
    expect(res.status).toBe(404);
  });
});
