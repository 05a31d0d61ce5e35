import type { Platform } from './platform.ts';
import type { App } from './store/schema.ts';
import { rollOut } from './release/roll-out.ts';
import { repoPath } from './git/repos.ts';
import { openSource } from './build/source.ts';
import { buildSource } from './build/build-service.ts';
import { releaseService } from './release/release-service.ts';
import { readAppJson } from './release/app-json.ts';
import { builders } from './build/builders.ts';

/**
 * One `git push`, top to bottom: read the commit, build it, pin a release, roll it out.
 * Any throw rejects the push and leaves the running release as it was. The build's builder
 * container is recycled only at the end, so that it does not compete with the new release's start.
 */
export async function deployPush(p: Platform, app: App, commit: string, gitEnv: Record<string, string>, user: string, out: (text: string) => void) {
  const line = (text: string) => out(text + '\n');
  line(`-----> Building ${app.name} from ${commit.slice(0, 7)}`);
  // A new app's network and spare sandboxes are made while it builds, not when its web starts.
  p.scheduler.prepare(app.name);
  try {
    const source = await openSource(repoPath(p.settings.dataDir, app.name), commit, gitEnv);
    const health = await readAppJson(source);
    const built = await buildSource(p, app, source, user, out);
    const release = releaseService(p).create(app, {
      image: built.image,
      digest: built.digest,
      processTypes: built.processTypes,
      health,
      buildId: built.build.id,
      description: `Deploy ${commit.slice(0, 7)}`,
      user,
    });
    await rollOut(p, app, release, line);
    line(`       Released v${release.version}`);
    line(`       http://${app.name}.${p.settings.domain}:${p.ports.http}/ deployed`);
  } finally {
    builders.recycle(p, app);
  }
}
