import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';
import { readSettings } from '../../platform/settings.ts';
import { ensureDockerEngine } from '../../platform/setup/docker-engine.ts';

/**
 * A Docker daemon restart (what a host reboot does to the engine): apps that were up come back,
 * stopped ones stay stopped. The platform keeps running through it.
 *
 * Restarting the engine breaks every other run using it: vitest.config.ts runs this file on its
 * own, after all the others. It only signals a dockerd that the platform's set-up started (its pid
 * in `$PAAS_DATA_DIR/dockerd.pid`, the same one as /var/run/docker.pid), by that pid; the set-up's
 * own code starts it again. On an engine shared with other runs, PAAS_TEST_DOCKERD_RESTART=0
 * leaves it alone (the test is then reported as skipped, with the reason).
 */
const ENABLED = process.env.PAAS_TEST_DOCKERD_RESTART !== '0';
const UP = 'dr-up';
const DOWN = 'dr-down';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const alive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd' && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** The dockerd our set-up started, or why it cannot be touched. */
function ourDockerd(dataDir: string): number | string {
  const read = (file: string) => {
    try {
      return Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      return NaN;
    }
  };
  const ours = read(path.join(dataDir, 'dockerd.pid'));
  const serving = read('/var/run/docker.pid');
  if (!Number.isInteger(ours) || !alive(ours)) return `no live dockerd recorded in ${path.join(dataDir, 'dockerd.pid')} (the engine was not started by the platform's set-up)`;
  if (ours !== serving) return `the engine answering (pid ${serving}) is not the one the set-up started (pid ${ours})`;
  return ours;
}

const engineDataDir = readSettings().dataDir;
const target = ENABLED ? ourDockerd(engineDataDir) : 'PAAS_TEST_DOCKERD_RESTART=0';
if (typeof target === 'string') console.warn(`Docker daemon restart test skipped: ${target}`);

describe.skipIf(typeof target === 'string')('Docker daemon restart', () => {
  let platform: RunningPlatform;
  const cli = (app: string, ...args: string[]) => paas(platform, [...args.slice(0, 1), '-a', app, ...args.slice(1)]);
  const running = (app: string) =>
    docker('ps', '-q', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.app=${app}`, '--filter', 'label=paas.dyno').split('\n').filter(Boolean);
  const dynos = async (app: string) => (JSON.parse((await cli(app, 'ps', '--json')).stdout) as Array<{ dyno: string; state: string }>)
    .map((d) => `${d.dyno}:${d.state}`).sort();

  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startPlatform({ env: { PAAS_BOOT_TIMEOUT: '30', PAAS_STOP_GRACE: '3' } });
    for (const app of [UP, DOWN]) {
      expect((await paas(platform, ['apps:create', app])).code).toBe(0);
      const dir = (dirs[app] = fixtureRepo('env-app'));
      addRemote(dir, platform, app);
      const pushed = await push(dir);
      expect(pushed.code, pushed.output).toBe(0);
    }
    expect((await cli(UP, 'ps:scale', 'web=2', 'worker=1')).code).toBe(0);
    expect((await cli(DOWN, 'ps:scale', 'web=0')).code).toBe(0);
  }, 480_000);
  afterAll(async () => {
    for (const app of [UP, DOWN]) await paas(platform, ['apps:destroy', app, '--confirm', app]).catch(() => {});
    await platform?.stop();
  });

  it('brings up what was up and leaves stopped apps stopped', async () => {
    const pid = ourDockerd(engineDataDir);
    if (typeof pid === 'string') throw new Error(`will not restart the engine: ${pid}`);
    expect(await dynos(UP)).toEqual(['web.1:up', 'web.2:up', 'worker.1:up']);
    // The scale to 0 stops the old process in the background (after its drain).
    await waitFor(async () => (running(DOWN).length === 0 ? true : undefined), 60_000, () => running(DOWN).join(','));
    const before = running(UP).sort();

    process.kill(pid, 'SIGTERM');
    await waitFor(async () => (alive(pid) ? undefined : true), 90_000, () => `dockerd ${pid} still running`);
    await ensureDockerEngine(engineDataDir);

    await waitFor(async () => {
      const ps = await dynos(UP).catch(() => []);
      return ps.join() === 'web.1:up,web.2:up,worker.1:up' && running(UP).length === 3 ? true : undefined;
    }, 180_000, () => platform.output().slice(-4000));
    expect(running(UP).sort()).not.toEqual(before);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const res = await routerGet(platform, `${UP}.localhost`);
      expect(res.status).toBe(200);
      seen.add(/on (web\.\d)/.exec(res.body)?.[1] ?? '?');
    }
    expect([...seen].sort()).toEqual(['web.1', 'web.2']);

    expect(running(DOWN)).toEqual([]);
    expect(await dynos(DOWN)).toEqual([]);
    const formation = JSON.parse((await cli(DOWN, 'ps:scale', 'web=0', '--json')).stdout);
    expect(formation.find((f: { type: string }) => f.type === 'web').quantity).toBe(0);

    // Builds still work: the app's standby builder and the namespace its builds join stopped with the engine.
    fs.appendFileSync(path.join(dirs[UP], 'server.py'), '\n# after the engine restart\n');
    commitAll(dirs[UP], 'a push after the engine restart');
    const again = await push(dirs[UP]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/Released v\d+/);
  }, 480_000);
});
