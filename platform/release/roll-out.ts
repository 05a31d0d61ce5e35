import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { PlatformError } from '../errors.ts';
import { APP_PORT } from '../runner/runner.ts';
import { releaseService } from './release-service.ts';
import { serialized } from '../runner/app-queue.ts';

/**
 * Puts a release into service: the release phase (Procfile `release:`) first, in a one-off
 * container of the new image with the new config, then the runner's deploy. Any failure marks
 * the release failed and leaves the running one untouched.
 */
export function rollOut(p: Platform, app: App, release: Release, line: (text: string) => void): Promise<void> {
  return serialized(app.id, async () => {
    const releases = releaseService(p);
    try {
      if (release.imageDigest) {
        // What the new processes need is made ready while the release phase runs.
        p.scheduler.prepare(app.name);
        await releasePhase(p, app, release, line);
        line('-----> Launching...');
        await p.runner.deploy(app, release, line);
      }
    } catch (err) {
      releases.markFailed(release);
      p.events.record(app.name, 'release.failed', release.user, `v${release.version} failed: ${release.description}`);
      throw err;
    }
    releases.markSucceeded(release);
    p.events.record(app.name, 'release.deployed', release.user, `Deployed v${release.version}: ${release.description}`);
  });
}

async function releasePhase(p: Platform, app: App, release: Release, line: (text: string) => void) {
  const r = releaseService(p).runnable(release);
  const command = r.processTypes.release;
  if (!command) return;
  line(`-----> Running release command: ${command}`);
  const code = await p.scheduler.runOnce({
    app: app.name,
    release: r.version,
    type: 'release',
    dyno: 'release.1',
    image: r.digest,
    command,
    env: { ...r.config, PORT: String(APP_PORT), DYNO: 'release.1' },
    memoryMb: 512,
    background: true,
  }, (text) => (line(`       ${text}`), p.logs.write(app.name, 'app', 'release.1', text)), p.settings.releaseTimeoutMs);
  if (code !== 0) {
    const why = code === null ? `timed out after ${p.settings.releaseTimeoutMs / 1000} s` : `exited with ${code}`;
    throw new PlatformError(422, 'release_failed', `Release command ${why}: v${r.version} failed and the running release is unchanged`);
  }
}
