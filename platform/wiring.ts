import type { Platform } from './platform.ts';
import { createRepo, removeRepo } from './git/repos.ts';

/** What creating and destroying an app touches, in order. */
export function wireApps(p: Platform): void {
  p.appSetups.push((app) => createRepo(p.settings.dataDir, app));
  p.teardowns.push((app) => removeRepo(p.settings.dataDir, app));
}
