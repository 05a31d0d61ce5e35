import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { configRepo, type ConfigVars } from '../config/config-repo.ts';
import type { ProcessTypes } from '../build/build-service.ts';
import { notFound, PlatformError } from '../errors.ts';
import { releasesRepo } from './releases-repo.ts';
import type { ReleaseHealth } from './app-json.ts';

/** A release as the runner needs it: the sealed columns opened. */
export interface RunnableRelease {
  id: string;
  version: number;
  image: string;
  digest: string;
  config: ConfigVars;
  processTypes: ProcessTypes;
  /** From the pushed app.json, carried along by config changes and rollbacks. */
  health: ReleaseHealth | undefined;
}

export function releaseService(p: Platform) {
  const repo = releasesRepo(p.db);
  const config = configRepo(p.db, p.box);

  const append = (app: App, base: Pick<Release, 'image' | 'imageDigest' | 'processTypes' | 'buildId' | 'healthchecks'> | undefined, vars: ConfigVars, description: string, user: string) =>
    repo.append({
      appId: app.id,
      description,
      user,
      status: 'pending',
      buildId: base?.buildId ?? null,
      image: base?.image ?? null,
      imageDigest: base?.imageDigest ?? null,
      config: p.box.seal(JSON.stringify(vars)),
      processTypes: base?.processTypes ?? '{}',
      healthchecks: base?.healthchecks ?? null,
    });

  return {
    /** Pins a new build + the app's current config + process types as vN+1 (pending until it deploys). */
    create(app: App, fields: { image: string; digest: string; processTypes: ProcessTypes; health?: ReleaseHealth; buildId?: string; description: string; user: string }): Release {
      const base = { image: fields.image, imageDigest: fields.digest, processTypes: JSON.stringify(fields.processTypes), buildId: fields.buildId ?? null, healthchecks: fields.health ? JSON.stringify(fields.health) : null };
      return append(app, base, config.all(app.id), fields.description, fields.user);
    },

    /**
     * Changes config and pins it with the newest build as vN+1, in one transaction, so concurrent
     * changes each get their own gap-free version and none is lost.
     */
    withConfig(app: App, change: (current: ConfigVars) => ConfigVars, description: string, user: string): Release {
      return p.db.transaction(() => {
        const current = config.all(app.id);
        const next = change(current);
        config.replace(app.id, next);
        return append(app, this.latestBuilt(app), next, description, user);
      }, { behavior: 'immediate' });
    },

    /** A new release with vN's image and config snapshot; the app's config vars become vN's. */
    rollback(app: App, target: Release, user: string): Release {
      if (target.status === 'failed') throw new PlatformError(422, 'invalid_release', `v${target.version} failed; roll back to a release that deployed`);
      const vars = this.runnableConfig(target);
      return p.db.transaction(() => {
        config.replace(app.id, vars);
        return append(app, target, vars, `Rollback to v${target.version}`, user);
      }, { behavior: 'immediate' });
    },

    /** The newest release that has an image and did not fail: what a config change builds on. */
    latestBuilt(app: App): Release | undefined {
      return repo.forApp(app.id).find((r) => r.imageDigest && r.status !== 'failed');
    },
    list(app: App, limit?: number): Release[] {
      return repo.forApp(app.id, limit);
    },
    get(app: App, version: number): Release {
      const release = repo.byVersion(app.id, version);
      if (!release) throw notFound(`release v${version} of ${app.name}`);
      return release;
    },
    runnableConfig(release: Release): ConfigVars {
      return JSON.parse(p.box.open(release.config));
    },
    runnable(release: Release): RunnableRelease {
      return {
        id: release.id,
        version: release.version,
        image: release.image!,
        digest: release.imageDigest!,
        config: this.runnableConfig(release),
        processTypes: JSON.parse(release.processTypes),
        health: release.healthchecks ? JSON.parse(release.healthchecks) : undefined,
      };
    },
    current(app: App): Release | undefined {
      return repo.current(app.id);
    },
    markSucceeded(release: Release) {
      repo.setStatus(release.id, 'succeeded');
    },
    markFailed(release: Release) {
      repo.setStatus(release.id, 'failed');
    },
  };
}
