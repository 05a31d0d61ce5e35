import type { Platform } from './platform.ts';
import { createRepo, removeRepo } from './git/repos.ts';
import { removeAppImages } from './build/images.ts';
import { builders } from './build/builders.ts';

/** What creating and destroying an app touches, in order. */
export function wireApps(p: Platform): void {
  p.appSetups.push((app) => createRepo(p.settings.dataDir, app));
  p.teardowns.push(
    (app) => p.runner.teardown(app),
    (app) => removeAppImages(p.docker, p.owner, app),
    (app) => builders.remove(p, app),
    (app) => removeRepo(p.settings.dataDir, app),
    (app) => p.logs.teardown(app),
  );
}
