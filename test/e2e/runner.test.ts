import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';
import { cpuSetsOf, ENGINE_CPU_GROUP } from '../../platform/setup/cpu-group.ts';

const APP = 'run-env';

interface Dyno {
  dyno: string;
  state: string;
  restarts?: number;
}

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** The runner: crash recovery, one-off runs, hardening, adoption after a platform crash. */
describe('runner', () => {
  let platform: RunningPlatform;
  let dir: string;
  const cli = (...args: string[]) => paas(platform, [...args.slice(0, 1), '-a', APP, ...args.slice(1)]);
  const dynos = async () => JSON.parse((await cli('ps', '--json')).stdout) as Dyno[];
  const containers = () =>
    docker('ps', '-q', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.app=${APP}`, '--filter', 'label=paas.process=web').split('\n').filter(Boolean);

  beforeAll(async () => {
    platform = await startPlatform({ env: { PAAS_BOOT_TIMEOUT: '8', PAAS_STOP_GRACE: '3' } });
    dir = fixtureRepo('env-app');
    expect((await paas(platform, ['apps:create', APP])).code).toBe(0);
    addRemote(dir, platform, APP);
    const pushed = await push(dir);
    expect(pushed.code, pushed.output).toBe(0);
    expect((await cli('config:set', 'SECRET_FOR_RUN=visible-in-run')).code).toBe(0);
  });
  afterAll(async () => {
    await paas(platform, ['apps:destroy', APP, '--confirm', APP]);
    await platform?.stop();
  });

  it('paas run exits with the command’s code and sees the config', async () => {
    // Spare network sandboxes ready (the pool is topped up a few seconds after the deploy): the one-offs take them.
    const pooled = () => docker('ps', '-q', '--filter', `name=paas-pool-${platform.owner}-`).split('\n').filter(Boolean).length;
    await waitFor(async () => (pooled() >= 3 ? true : undefined), 60_000, () => platform.output());
    const exit = await cli('run', 'sh', '-c', 'exit 3');
    expect(exit.code).toBe(3);
    const env = await cli('run', 'env');
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toContain('SECRET_FOR_RUN=visible-in-run');
    expect(env.stdout).toMatch(/DYNO=run\.[0-9a-f]{4}/);
    const extra = await cli('run', '-e', 'EXTRA=1', 'echo extra=$EXTRA');
    expect(extra.stdout.trim()).toBe('extra=1');
    const empty = await cli('run', '');
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/give a command/);
    // Each one-off ran in a network sandbox taken for it; both are removed once it exits (the exit
    // code reaches the CLI first).
    const leftOver = () => {
      const oneOffs = docker('ps', '-aq', '--filter', `label=paas.owner=${platform.owner}`, '--filter', 'label=paas.process=run');
      const held = docker('ps', '-a', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.app=${APP}`, '--format', '{{.Label "paas.sandbox"}}').split('\n').filter(Boolean);
      const sandboxes = docker('ps', '-a', '--filter', `name=^paas-sandbox-${APP}-`, '--format', '{{.ID}}').split('\n').filter(Boolean);
      return { oneOffs, unheldSandboxes: sandboxes.filter((id) => !held.some((h) => h.startsWith(id))) };
    };
    await waitFor(async () => {
      const left = leftOver();
      return left.oneOffs === '' && left.unheldSandboxes.length === 0 ? true : undefined;
    }, 15_000, () => JSON.stringify(leftOver()));
  });

  it('run:detached starts a one-off that ps lists and ps:stop ends', async () => {
    const started = await cli('run:detached', 'sleep', '300');
    expect(started.code, started.stderr).toBe(0);
    const dyno = /(run\.[0-9a-f]{4})/.exec(started.stdout)![1];
    expect((await dynos()).map((d) => d.dyno)).toContain(dyno);
    const stopped = await cli('ps:stop', dyno);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await dynos()).map((d) => d.dyno)).not.toContain(dyno);
    expect((await cli('ps:stop', 'nope')).stderr).toMatch(/no process nope is running/);
  });

  it('replaces a killed web process while the others keep answering', async () => {
    expect((await cli('ps:scale', 'web=2')).code).toBe(0);
    const [victim] = containers();
    docker('kill', victim);
    for (let i = 0; i < 10; i++) expect((await routerGet(platform, `${APP}.localhost`)).status).toBe(200);
    await waitFor(async () => {
      const now = containers();
      return now.length === 2 && !now.some((c) => victim.startsWith(c)) ? true : undefined;
    }, 60_000, () => `${containers().join(',')} (killed ${victim})\n${platform.output()}`);
    const ps = await dynos();
    expect(ps.filter((d) => d.dyno.startsWith('web.')).map((d) => d.state)).toEqual(['up', 'up']);
    expect((await cli('ps:scale', 'web=1')).code).toBe(0);
  });

  it('scaled to 0 and straight back to 1, starts a fresh web instead of keeping the one still draining', async () => {
    const [before] = containers();
    expect((await cli('ps:scale', 'web=0')).code).toBe(0);
    expect((await cli('ps:scale', 'web=1')).code).toBe(0);
    // From here on the app answers, while the old one drains, stops and goes, and after.
    const statuses = new Set<number>();
    let after = 0;
    while (after < 20) {
      statuses.add((await routerGet(platform, `${APP}.localhost`)).status);
      if (docker('ps', '-aq', '--filter', `id=${before}`) === '') after++;
      await sleep(100);
    }
    expect([...statuses]).toEqual([200]);
    expect(containers()).toHaveLength(1);
  });

  it('restarts a crashing process with backoff, visible in ps', async () => {
    expect((await cli('ps:scale', 'crasher=1')).code).toBe(0);
    // The dyno is up for a moment after each restart: ps shows the backoff between those moments.
    // (waitFor fails the test when ps never shows it: both the JSON and the text, at one moment)
    await waitFor(async () => {
      const d = (await dynos()).find((x) => x.dyno === 'crasher.1');
      if (!(d && d.state === 'crashed' && (d.restarts ?? 0) >= 2)) return undefined;
      return /crasher\.1: crashed .*restart/.test((await cli('ps')).stdout) ? true : undefined;
    }, 90_000, () => platform.output());
    expect((await cli('ps:scale', 'crasher=0')).code).toBe(0);
  });

  it('runs every container hardened, its network sandbox too', async () => {
    const inspect = (id: string) => JSON.parse(docker('inspect', id))[0];
    const hardened = (info: { Config: { User: string }; HostConfig: Record<string, unknown>; Mounts: unknown[] }, memoryMb: number) => {
      expect(info.Config.User).toBe('1000:1000');
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.CapDrop).toEqual(['ALL']);
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(info.HostConfig.Memory).toBe(memoryMb * 1024 * 1024);
      expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(info.HostConfig.Binds ?? []).toEqual([]);
      expect(info.Mounts).toEqual([]);
    };
    // The platform keeps network sandboxes started; a restart's new web process takes one.
    await waitFor(async () => (docker('ps', '-q', '--filter', `name=paas-pool-${platform.owner}-`) ? true : undefined), 30_000, () => platform.output());
    expect((await cli('ps:restart', 'web')).code).toBe(0);
    // Each on the app's own network: directly, or through the sandbox holding its network namespace.
    let sandboxed = 0;
    for (const id of containers()) {
      const info = inspect(id);
      hardened(info, 512);
      for (const label of ['paas.app', 'paas.release', 'paas.process', 'paas.dyno']) expect(info.Config.Labels[label]).toBeTruthy();
      const sandbox = info.Config.Labels['paas.sandbox'];
      if (!sandbox) {
        expect(info.HostConfig.NetworkMode).toBe(`paas-app-${APP}`);
        continue;
      }
      sandboxed++;
      expect(info.HostConfig.NetworkMode).toBe(`container:${sandbox}`);
      const held = inspect(sandbox);
      hardened(held, 16);
      // Taken from the pool: moved onto the app's network, and off the pool's.
      expect(Object.keys(held.NetworkSettings.Networks)).toEqual([`paas-app-${APP}`]);
      expect(held.Name).toMatch(new RegExp(`^/paas-sandbox-${APP}-[0-9a-f]{8}$`));
    }
    expect(sandboxed).toBeGreaterThan(0);
  });

  it('starts a process on the engine’s CPUs and gives it every CPU once up; its sandbox keeps the engine’s', async () => {
    const cpus = cpuSetsOf(ENGINE_CPU_GROUP);
    // The set-up keeps the engine off the first CPU wherever there are two or more.
    if (os.availableParallelism() > 1) expect(cpus).toBeDefined();
    // The restart's old process is gone after its drain: the one left is the new one.
    await waitFor(async () => (containers().length === 1 ? true : undefined), 30_000, () => platform.output());
    const info = JSON.parse(docker('inspect', containers()[0]))[0];
    expect(info.HostConfig.CpusetCpus).toBe(cpus?.all ?? '');
    const sandbox = JSON.parse(docker('inspect', info.Config.Labels['paas.sandbox']))[0];
    expect(sandbox.HostConfig.CpusetCpus).toBe(cpus?.engine ?? '');
  });

  it('replaces a web process whose network sandbox was killed', async () => {
    const id = containers().find((c) => JSON.parse(docker('inspect', c))[0].Config.Labels['paas.sandbox']);
    expect(id).toBeTruthy();
    docker('kill', JSON.parse(docker('inspect', id!))[0].Config.Labels['paas.sandbox']);
    await waitFor(async () => {
      const now = containers();
      return now.length === 1 && !now.some((c) => id!.startsWith(c)) && (await routerGet(platform, `${APP}.localhost`)).status === 200 ? true : undefined;
    }, 60_000, () => `${containers().join(',')} (sandbox of ${id} killed)\n${platform.output()}`);
    expect((await routerGet(platform, `${APP}.localhost`)).body).toContain('hello from env-app');
  });

  it('fails a deploy whose web never binds $PORT within the app’s boot timeout and keeps the previous release', async () => {
    fs.writeFileSync(path.join(dir, 'Procfile'), 'web: python3 -c "import time; time.sleep(600)"\n');
    fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify({ paas: { boot_timeout: 3 } }));
    commitAll(dir, 'never binds');
    const res = await push(dir);
    expect(res.code).not.toBe(0);
    expect(res.output).toMatch(/web\.1 did not accept connections on \$PORT \(5000\) within 3 s/);
    expect((await routerGet(platform, `${APP}.localhost`)).body).toContain('hello from env-app');
    execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: dir });
  });

  it('honours app.json healthchecks: a web that never answers 2xx on the path fails the deploy, one that does goes live', async () => {
    const server = path.join(dir, 'server.py');
    const original = fs.readFileSync(server, 'utf8');
    fs.writeFileSync(server, original.replace('self.send_response(200)', "self.send_response(503 if self.path == '/health' else 200)"));
    fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify({ healthchecks: { web: [{ type: 'startup', path: '/health', attempts: 2, timeout: 2, wait: 1 }] } }));
    commitAll(dir, 'health path answers 503');
    const failed = await push(dir);
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/web\.1 failed its health check 2 times \(last: GET \/health answered 503\); the previous processes keep running/);
    const before = (await routerGet(platform, `${APP}.localhost`, '/health')).status;
    expect(before).toBe(200);

    fs.writeFileSync(server, original);
    fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify({ healthchecks: { web: [{ type: 'startup', path: '/env/DYNO', content: 'web.' }] } }));
    commitAll(dir, 'health path answers 200');
    const ok = await push(dir);
    expect(ok.code, ok.output).toBe(0);
    expect((await routerGet(platform, `${APP}.localhost`)).body).toContain('hello from env-app');
    const info = JSON.parse((await cli('releases', '--json')).stdout)[0];
    expect(info.status).toBe('succeeded');

    fs.writeFileSync(path.join(dir, 'app.json'), '{"healthchecks": {"web": [{"path": "/", "attempts": 0}]}}');
    commitAll(dir, 'malformed app.json');
    const refused = await push(dir);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/healthchecks\.web\[0\]\.attempts must be a whole number/);
    fs.rmSync(path.join(dir, 'app.json'));
    commitAll(dir, 'no app.json');
    expect((await push(dir)).code).toBe(0);
  });

  it('resizes a process type: checked, applied on a restart of that type, shown in ps', async () => {
    const before = containers();
    const resized = await cli('ps:resize', 'web=1024');
    expect(resized.code, resized.stderr).toBe(0);
    expect(resized.stdout).toMatch(/web\s+1\s+1024 MB/);
    // The old process drains and stops in the background.
    const after = await waitFor(async () => {
      const now = containers();
      return now.length === 1 && !before.includes(now[0]) ? now : undefined;
    }, 60_000, () => containers().join(','));
    expect(JSON.parse(docker('inspect', after[0]))[0].HostConfig.Memory).toBe(1024 * 1024 * 1024);
    expect((await cli('ps')).stdout).toMatch(/web \(1 × 1024 MB\)/);
    expect((await routerGet(platform, `${APP}.localhost`)).status).toBe(200);
    for (const [arg, message] of [['web=10', /from 64 to 16384/], ['nope=512', /unknown process type "nope"/], ['web=lots', /is not TYPE=MB/]] as const) {
      const res = await cli('ps:resize', arg);
      expect(res.code, arg).not.toBe(0);
      expect(res.stderr).toMatch(message);
    }
    expect(containers()).toEqual(after);
    expect((await cli('ps:resize', 'web=512')).code).toBe(0);
    await waitFor(async () => (containers().length === 1 && containers()[0] !== after[0] ? true : undefined), 60_000, () => containers().join(','));
  });

  it('recovers from a platform killed mid-deploy: the old release serves, nothing is duplicated', async () => {
    const before = containers().sort();
    const current = JSON.parse((await cli('releases', '--json')).stdout)[0].version as number;
    fs.appendFileSync(path.join(dir, 'server.py'), '\n# killed mid-deploy\n');
    commitAll(dir, 'a deploy that is cut short');
    const pushing = push(dir);
    await waitFor(async () => (docker('ps', '-aq', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.release=${current + 1}`) ? true : undefined), 120_000);
    await platform.kill();
    expect((await pushing).code).not.toBe(0);
    platform = await startPlatform({ dataDir: platform.dataDir, env: { PAAS_BOOT_TIMEOUT: '8', PAAS_STOP_GRACE: '3' } });
    await waitFor(async () => (docker('ps', '-q', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.release=${current + 1}`) === '' ? true : undefined), 60_000);
    expect(containers().sort()).toEqual(before);
    expect((await routerGet(platform, `${APP}.localhost`)).body).toContain('hello from env-app');
    const [abandoned] = JSON.parse((await cli('releases', '--json')).stdout);
    expect(abandoned).toMatchObject({ version: current + 1, status: 'failed' });
    // The builder the cut push held is gone; only the app's standby for the next push is left.
    await waitFor(async () => {
      const builders = docker('ps', '-a', '--format', '{{.Names}}', '--filter', `label=paas.owner=${platform.owner}`, '--filter', 'label=paas.role=build').split('\n').filter(Boolean);
      return builders.every((name) => name.startsWith('paas-builder-')) ? true : undefined;
    }, 30_000);
    execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: dir });
  });

  it('adopts a web process that was still booting: routed once it listens, then given every CPU', async () => {
    const cpus = cpuSetsOf(ENGINE_CPU_GROUP);
    expect((await cli('config:set', 'BOOT_DELAY=6')).code).toBe(0);
    const scaling = cli('ps:scale', 'web=2');
    const dyno = (d: string) => docker('ps', '-q', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.dyno=${d}`);
    const web2 = await waitFor(async () => dyno('web.2') || undefined, 30_000, () => platform.output());
    const cpusOf = (id: string) => JSON.parse(docker('inspect', id))[0].HostConfig.CpusetCpus;
    // Booting (six seconds before it binds $PORT): still on the engine's CPUs when the platform dies.
    expect(cpusOf(web2)).toBe(cpus?.engine ?? '');
    await platform.kill();
    await scaling;
    platform = await startPlatform({ dataDir: platform.dataDir, env: { PAAS_BOOT_TIMEOUT: '8', PAAS_STOP_GRACE: '3' } });
    // The router is not sent to it before it listens (read in that order: routed, then not yet listening, is too early).
    const routedDynos = () => JSON.parse(fs.readFileSync(path.join(platform.dataDir, 'routes.json'), 'utf8')).apps[APP].backends.map((b: { dyno: string }) => b.dyno);
    const listening = () => execFileSync('docker', ['logs', web2], { encoding: 'utf8' }).includes('listening');
    let routedEarly = false;
    await waitFor(async () => {
      const routed = routedDynos().includes('web.2');
      if (routed && !listening()) routedEarly = true;
      return routed ? true : undefined;
    }, 30_000, () => platform.output());
    expect(routedEarly).toBe(false);
    await waitFor(async () => (cpusOf(web2) === (cpus?.all ?? '') ? true : undefined), 30_000, () => platform.output());
    expect(dyno('web.2')).toBe(web2);
    expect((await cli('ps:scale', 'web=1')).code).toBe(0);
    expect((await cli('config:unset', 'BOOT_DELAY')).code).toBe(0);
  });

  it('adopts running containers after the platform is killed, without duplicates', async () => {
    const before = containers().sort();
    await platform.kill();
    platform = await startPlatform({ dataDir: platform.dataDir, env: { PAAS_BOOT_TIMEOUT: '8', PAAS_STOP_GRACE: '3' } });
    expect((await routerGet(platform, `${APP}.localhost`)).body).toContain('hello from env-app');
    expect(containers().sort()).toEqual(before);
    expect((await dynos()).map((d) => d.dyno)).toEqual(['web.1']);
  });
});
