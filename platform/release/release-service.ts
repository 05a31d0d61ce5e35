import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { configRepo } from '../config/config-repo.ts';
import type { ProcessTypes } from '../build/build-service.ts';
import { releasesRepo } from './releases-repo.ts';

/** A release as the runner needs it: the sealed columns opened. */
export interface RunnableRelease {
  id: string;
  version: number;
  image: string;
  digest: string;
  config: Record<string, string>;
  processTypes: ProcessTypes;
}

export function releaseService(p: Platform) {
  const repo = releasesRepo(p.db);
  return {
    /** Pins image + the app's current config + process types as vN+1 (pending until it deploys). */
    create(app: App, fields: { image: string; digest: string; processTypes: ProcessTypes; buildId?: string; description: string; user: string }): Release {
      const config = configRepo(p.db, p.box).all(app.id);
      return repo.append({
        appId: app.id,
        description: fields.description,
        user: fields.user,
        status: 'pending',
        buildId: fields.buildId,
        image: fields.image,
        imageDigest: fields.digest,
        config: p.box.seal(JSON.stringify(config)),
        processTypes: JSON.stringify(fields.processTypes),
      });
    },
    runnable(release: Release): RunnableRelease {
      return {
        id: release.id,
        version: release.version,
        image: release.image!,
        digest: release.imageDigest!,
        config: JSON.parse(p.box.open(release.config)),
        processTypes: JSON.parse(release.processTypes),
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
