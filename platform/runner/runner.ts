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

  return {
    /**
     * Starts the release's instances, waits until every web one accepts connections, switches the
     * router, then stops the old ones. If anything fails, the new ones go and the old keep serving.
     */
    async deploy(app: App, release: Release, out: (line: string) => void): Promise<void> {
      const r = releaseService(p).runnable(release);
      formationRepo(p.db).addTypes(app.id, Object.keys(r.processTypes).filter((t) => t !== 'release'));
      const old = await scheduler.list(app.name);
      const specs = specsFor(app, r);
      const started: Instance[] = [];
      try {
        await Promise.all(specs.map(async (spec) => started.push(await scheduler.start(spec))));
        for (const inst of started.filter((i) => i.type === 'web')) {
          const up = inst.ip !== undefined && (await waitForPort(inst.ip, APP_PORT, opts.bootTimeoutMs, isGone(inst.id)));
          if (!up) {
            const tail = (await scheduler.recentOutput(inst.id, 20).catch(() => '')).trim();
            throw new PlatformError(422, 'boot_failed', [
              `${inst.dyno} did not accept connections on $PORT (${APP_PORT}) within ${opts.bootTimeoutMs / 1000} s, or exited; the previous release keeps running`,
              ...(tail ? ['Its last output:', ...tail.split('\n').map((l) => `  ${l}`)] : []),
            ].join('\n'));
          }
        }
      } catch (err) {
        for (const inst of started) await scheduler.stop(inst.id, 0);
        throw err;
      }
      routeTo(app, started);
      stopInBackground(old);
      out(`       ${specs.length ? specs.map((s) => s.dyno).join(', ') : 'no processes (scale with paas ps:scale)'} up on v${r.version}`);
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
