import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { PlatformError } from '../errors.ts';
import { releaseService, type RunnableRelease } from '../release/release-service.ts';
import { appsRepo } from '../apps/apps-repo.ts';
import { formationRepo } from './formation-repo.ts';
import { waitForPort } from './health.ts';
import type { Instance, InstanceSpec } from './scheduler.ts';

export const APP_PORT = 5000;
const DEFAULT_MEMORY_MB = 512;

export interface RunnerOptions {
  bootTimeoutMs: number;
  stopGraceSeconds: number;
}

/** Keeps what runs equal to what was asked for: the current release × the formation. */
export function createRunner(p: Platform, opts: RunnerOptions) {
  const { scheduler, routes } = p;

  const specsFor = (app: App, r: RunnableRelease): InstanceSpec[] => {
    const formation = formationRepo(p.db).forApp(app.id);
    const specs: InstanceSpec[] = [];
    for (const [type, { quantity, memoryMb }] of Object.entries(formation)) {
      if (!(type in r.processTypes) || type === 'release') continue;
      for (let i = 1; i <= quantity; i++) {
        const dyno = `${type}.${i}`;
        specs.push({
          app: app.name,
          release: r.version,
          type,
          dyno,
          image: r.digest,
          command: r.processTypes[type],
          env: { ...r.config, PORT: String(APP_PORT), DYNO: dyno },
          memoryMb: memoryMb ?? DEFAULT_MEMORY_MB,
        });
      }
    }
    return specs;
  };

  const isGone = (id: string) => async () => !(await scheduler.list()).some((i) => i.id === id && i.running);

  const routeTo = (app: App, instances: Instance[]) =>
    routes.set(app.name, instances.filter((i) => i.type === 'web' && i.ip).map((i) => ({ dyno: i.dyno, host: i.ip!, port: APP_PORT })));

  const stopInBackground = (instances: Instance[]) => {
    for (const i of instances) {
      scheduler.stop(i.id, opts.stopGraceSeconds).catch((err) => console.error(`stopping ${i.dyno} failed:`, err));
    }
  };

  /** Starts instances and waits until every web one accepts connections; on failure none is left. */
  const startHealthy = async (specs: InstanceSpec[]): Promise<Instance[]> => {
    const started: Instance[] = [];
    try {
      await Promise.all(specs.map(async (spec) => started.push(await scheduler.start(spec))));
      await Promise.all(started.filter((i) => i.type === 'web').map(async (inst) => {
        const up = inst.ip !== undefined && (await waitForPort(inst.ip, APP_PORT, opts.bootTimeoutMs, isGone(inst.id)));
        if (up) return;
        const tail = (await scheduler.recentOutput(inst.id, 20).catch(() => '')).trim();
        throw new PlatformError(422, 'boot_failed', [
          `${inst.dyno} did not accept connections on $PORT (${APP_PORT}) within ${opts.bootTimeoutMs / 1000} s, or exited; the previous processes keep running`,
          ...(tail ? ['Its last output:', ...tail.split('\n').map((l) => `  ${l}`)] : []),
        ].join('\n'));
      }));
    } catch (err) {
      await Promise.all(started.map((inst) => scheduler.stop(inst.id, 0)));
      throw err;
    }
    return started;
  };

  /** Replaces `old` by `specs` without a gap: start, check, switch the router, then stop. */
  const replace = async (app: App, specs: InstanceSpec[], old: Instance[], keep: Instance[]) => {
    const started = await startHealthy(specs);
    routeTo(app, [...keep, ...started]);
    await routes.settled();
    stopInBackground(old);
    return started;
  };

  const currentRelease = (app: App) => {
    const release = releaseService(p).current(app);
    return release?.imageDigest ? releaseService(p).runnable(release) : undefined;
  };

  return {
    /** Moves every process of the app onto `release`; if anything fails the old ones keep serving. */
    async deploy(app: App, release: Release, out: (line: string) => void): Promise<void> {
      const r = releaseService(p).runnable(release);
      formationRepo(p.db).addTypes(app.id, Object.keys(r.processTypes).filter((t) => t !== 'release'));
      const specs = specsFor(app, r);
      await replace(app, specs, await scheduler.list(app.name), []);
      out(`       ${specs.length ? specs.map((s) => s.dyno).join(', ') : 'no processes (scale with paas ps:scale)'} up on v${r.version}`);
    },

    /** Brings the current release's instances to the formation: starts the missing, stops the extra. */
    async scale(app: App): Promise<void> {
      const r = currentRelease(app);
      if (!r) return;
      const specs = specsFor(app, r);
      const running = (await scheduler.list(app.name)).filter((i) => i.running && i.release === r.version);
      const wanted = new Set(specs.map((s) => s.dyno));
      const extra = running.filter((i) => !wanted.has(i.dyno));
      const missing = specs.filter((s) => !running.some((i) => i.dyno === s.dyno));
      await replace(app, missing, extra, running.filter((i) => wanted.has(i.dyno)));
    },

    /** Replaces the matching processes (all, a type, or one dyno) with fresh ones, web without a gap. */
    async restart(app: App, match: (i: { type: string; dyno: string }) => boolean): Promise<string[]> {
      const r = currentRelease(app);
      if (!r) return [];
      const all = await scheduler.list(app.name);
      const old = all.filter(match);
      const specs = specsFor(app, r).filter(match);
      await replace(app, specs, old, all.filter((i) => !match(i) && i.running && i.release === r.version));
      return specs.map((s) => s.dyno);
    },

    /** What runs, with Heroku's states: up (serving), starting, crashed. */
    async dynos(app: App) {
      const r = currentRelease(app);
      const routed = new Set(routes.get(app.name).map((b) => b.host));
      return (await scheduler.list(app.name)).map((i) => ({
        ...i,
        state: !i.running ? 'crashed' : i.type !== 'web' || (i.ip && routed.has(i.ip)) ? 'up' : 'starting',
        command: r?.processTypes[i.type] ?? null,
      }));
    },

    /** At start: route to what already runs for each app's current release; stop what belongs to none. */
    async adopt(): Promise<void> {
      const all = await scheduler.list();
      for (const app of appsRepo(p.db).all()) {
        const current = releaseService(p).current(app);
        const mine = all.filter((i) => i.app === app.name);
        const keep = mine.filter((i) => i.running && i.release === current?.version);
        routeTo(app, keep);
        stopInBackground(mine.filter((i) => !keep.includes(i)));
      }
      const known = new Set(appsRepo(p.db).all().map((a) => a.name));
      stopInBackground(all.filter((i) => !known.has(i.app)));
    },

    async teardown(app: App): Promise<string[]> {
      routes.delete(app.name);
      return scheduler.removeApp(app.name);
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
